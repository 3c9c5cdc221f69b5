// Operators sign in to the console through nixa itself, as to any service:
// authorization code + PKCE (S256) + state + nonce with openid-client, asking for
// acr_values=high and resource=<issuer>/admin/api. The callback checks the ID
// token (signature, nonce, acr high) and keeps the access token in the encrypted
// session cookie. nixa's session makes a later sign-in silent while it is still high.
import type { Context } from 'koa';
import * as oidc from 'openid-client';

import { acrFor } from '../assurance/index.js';
import type { Logger } from '../logging/index.js';
import type { ConsoleClient } from './registration.js';
import { CONSOLE_PATH } from './registration.js';
import type { ConsoleSession, SessionCookies } from './session.js';

const DISCOVERY_SECONDS = 300;

/** Pages an operator may be sent back to after signing in: console paths only, never elsewhere. */
export function safeReturn(path: unknown): string {
  return typeof path === 'string' && /^\/console(\/[A-Za-z0-9._~%/-]*)?(\?[A-Za-z0-9._~%&=+-]*)?$/.test(path) && !path.includes('//') ? path : CONSOLE_PATH;
}

export class ConsoleSignIn {
  #config: oidc.Configuration | undefined;
  #fetchedAt = 0;

  constructor(
    private readonly issuer: string,
    private readonly client: ConsoleClient,
    private readonly cookies: SessionCookies,
    private readonly logger: Logger,
  ) {}

  /**
   * nixa's discovery document, read over HTTP as any service reads it and kept for
   * a few minutes (it is configuration, not session state).
   */
  async configuration(): Promise<oidc.Configuration> {
    if (this.#config && Date.now() - this.#fetchedAt < DISCOVERY_SECONDS * 1000) return this.#config;
    this.#config = await oidc.discovery(new URL(this.issuer), this.client.clientId, undefined, oidc.ClientSecretBasic(this.client.clientSecret), {
      ...(this.issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : {}),
      timeout: 10,
    });
    this.#fetchedAt = Date.now();
    return this.#config;
  }

  async start(ctx: Context, returnTo: string): Promise<void> {
    const config = await this.configuration();
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), returnTo: safeReturn(returnTo) };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.client.redirectUri,
      scope: 'openid profile',
      acr_values: acrFor('high'),
      resource: this.client.apiResource,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ui_locales: 'vi en',
    });
    this.cookies.writeSignIn(ctx, pending);
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  /**
   * nixa's answer. Returns where to go next, or why the sign-in was refused
   * ('expired' | 'refused' | 'level' | 'invalid').
   */
  async callback(ctx: Context): Promise<{ ok: true; returnTo: string } | { ok: false; why: 'expired' | 'refused' | 'level' | 'invalid'; code?: string }> {
    const pending = this.cookies.readSignIn(ctx);
    this.cookies.clearSignIn(ctx); // one attempt per sign-in, whatever happens next
    if (!pending) return { ok: false, why: 'expired' };
    const config = await this.configuration();
    const current = new URL(this.client.redirectUri);
    current.search = ctx.querystring;
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError) {
        const code = /^[a-z_]{1,64}$/.test(err.error) ? err.error : undefined;
        return { ok: false, why: 'refused', ...(code ? { code } : {}) };
      }
      this.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'console: sign-in result refused');
      return { ok: false, why: 'invalid' };
    }
    const claims = tokens.claims()!;
    // nixa was asked for high and the console is registered with minimum high; check anyway.
    if (claims.acr !== acrFor('high')) {
      this.logger.warn({ acr: claims.acr }, 'console: sign-in below level high refused');
      return { ok: false, why: 'level' };
    }
    const session: Omit<ConsoleSession, 'sid'> = {
      accessToken: tokens.access_token,
      exp: Math.floor(Date.now() / 1000) + Math.max(30, (tokens.expires_in ?? 600) - 15),
      accountId: String(claims.sub),
      name: typeof claims.name === 'string' ? claims.name : String(claims.sub),
    };
    this.cookies.write(ctx, session);
    return { ok: true, returnTo: pending.returnTo };
  }

  /** nixa's end-session endpoint, coming back to the console's signed-out page. */
  async endSessionUrl(): Promise<string> {
    const config = await this.configuration();
    return oidc.buildEndSessionUrl(config, {
      client_id: this.client.clientId,
      post_logout_redirect_uri: this.client.postLogoutRedirectUri,
      state: oidc.randomState(),
      ui_locales: 'vi en',
    }).href;
  }
}
