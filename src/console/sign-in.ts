// Operators sign in to the console through nixa itself, as to any service:
// authorization code + PKCE (S256) + state + nonce with openid-client, asking for
// acr_values=high and resource=<issuer>/admin/api. The callback checks the ID
// token (signature, nonce, acr high) and keeps the access token in the encrypted
// session cookie. nixa's session makes a later sign-in silent while it is still high.
import type { Context } from 'koa';
import * as oidc from 'openid-client';

import { acrFor } from '../assurance/index.js';
import { ConsoleSignInError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { ConsoleClient } from './registration.js';
import { CONSOLE_PATH } from './registration.js';
import type { ConsoleSession, SessionCookies } from './session.js';

const DISCOVERY_SECONDS = 300;

/** Pages an operator may be sent back to after signing in: console paths only, never elsewhere. */
export function safeReturn(path: unknown): string {
  return typeof path === 'string' && /^\/console(\/[A-Za-z0-9._~%/-]*)?(\?[A-Za-z0-9._~%&=+-]*)?$/.test(path) && !path.includes('//') ? path : CONSOLE_PATH;
}

/**
 * The console reads nixa's discovery over HTTP at the issuer URL, as any service
 * does; from this server that URL did not answer (its host name does not resolve
 * here, the proxy in front refuses, …). Nothing the operator did: the page says
 * which address and why, and citizens' sign-ins are unaffected.
 */
export class IssuerUnreachableError extends Error {
  constructor(
    readonly issuer: string,
    /** A few words on why, safe to show an operator: no URL query, no secret. */
    readonly why: string,
  ) {
    super(`nixa's discovery at ${issuer} could not be read: ${why}`);
  }
}

/** Why a discovery request failed, in a few words: the system error code down the chain of causes, when there is one. */
function unreachableBecause(err: unknown): string {
  const chain: (Error & { code?: unknown })[] = [];
  for (let e = err as (Error & { cause?: unknown }) | undefined; e && typeof e === 'object' && chain.length < 5; e = e.cause as typeof e) chain.push(e);
  const code = chain.map((e) => e.code).find((c): c is string => typeof c === 'string' && /^E[A-Z_]{2,40}$/.test(c));
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name does not resolve from this server (${code})`;
  if (code === 'ECONNREFUSED') return 'the connection was refused (ECONNREFUSED)';
  if (code) return code;
  if (chain.some((e) => e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  return 'the answer was not a discovery document nixa could read';
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
    try {
      this.#config = await oidc.discovery(new URL(this.issuer), this.client.clientId, undefined, oidc.ClientSecretBasic(this.client.clientSecret), {
        ...(this.issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 10,
      });
    } catch (err) {
      const why = unreachableBecause(err);
      this.logger.warn({ issuer: this.issuer, why, err: { name: (err as Error).name, message: (err as Error).message } }, 'console: nixa unreachable at its issuer');
      throw new IssuerUnreachableError(this.issuer, why);
    }
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
   * nixa's answer. Returns where to go next, or throws a ConsoleSignInError
   * (NIXA-CON-expired | refused | level | invalid). The transient sign-in cookie
   * is cleared first, whatever happens next: one attempt per sign-in.
   */
  async callback(ctx: Context): Promise<{ returnTo: string }> {
    const pending = this.cookies.readSignIn(ctx);
    this.cookies.clearSignIn(ctx);
    if (!pending) throw new ConsoleSignInError('expired', 'no sign-in in progress in this browser (used, expired, lost or altered cookie)');
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
        // Only a well-formed OAuth error code is kept (and shown); anything else is "refused" alone.
        const code = /^[a-z_]{1,64}$/.test(err.error) ? err.error : undefined;
        throw new ConsoleSignInError('refused', `the authorization endpoint answered ${code ?? 'an unrecognised error'}`, code);
      }
      this.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'console: sign-in result refused');
      throw new ConsoleSignInError('invalid', `the callback did not verify (${(err as Error).name})`);
    }
    const claims = tokens.claims()!;
    // nixa was asked for high and the console is registered with minimum high; check anyway.
    if (claims.acr !== acrFor('high')) {
      this.logger.warn({ acr: claims.acr }, 'console: sign-in below level high refused');
      throw new ConsoleSignInError('level', 'the ID token is below level high');
    }
    const session: Omit<ConsoleSession, 'sid'> = {
      accessToken: tokens.access_token,
      exp: Math.floor(Date.now() / 1000) + Math.max(30, (tokens.expires_in ?? 600) - 15),
      accountId: String(claims.sub),
      name: typeof claims.name === 'string' ? claims.name : String(claims.sub),
    };
    this.cookies.write(ctx, session);
    return { returnTo: pending.returnTo };
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
