// The citizen signs in to their own account through nixa itself, as to any
// service: nixa is a relying party of itself (client `nixa-account`, registered
// at every start like the console), with authorization code + PKCE (S256) +
// state + nonce through openid-client. Level low unless an account action needs
// more: "sign in again at a higher level" is the same path with acr_values.
// Going through nixa's own authorization endpoint is what creates (or raises)
// nixa's sign-in session, which the /account pages then find by its cookie.
//
//   GET /account/sign-in[?level=substantial|high][&return=/account/…]   → nixa's /auth
//   GET /account/callback                                               → /account (or the page asked for)
//
// The sign-in in progress lives in a signed cookie, scoped to the callback's
// path and ten minutes long; the callback takes it whatever happens next.
//
// Every way it can fail is an AccountSignInError with a stable code
// (NIXA-ACC-<reason>, errors/account-sign-in.ts) and ends on one page: the words
// for that code (errors/pages.ts), "sign in again" to a fresh sign-in at the same
// level and page, and a language switch that shows the same page again at
// /error/<code> (never the spent callback). Nothing is left half done: the
// sign-in's cookie is cleared, no session is touched, and neither the code nor
// a token is logged.
import type { Context } from 'koa';
import * as oidc from 'openid-client';

import { acrFor, atLeast, LEVELS, levelOfAcr, type Level } from '../assurance/index.js';
import { clientsOptions, ensureClient } from '../clients/index.js';
import type { Config } from '../config/index.js';
import { accountAuthorizationFailure, AccountSignInError, NIXA_PAGE_WORDS, type AccountSignInFailure } from '../errors/index.js';
import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { errorPageUrl, languageReturnsTo, renderPage, termsWhereUsed } from '../pages/index.js';
import type { Database } from '../storage/index.js';
import { ACCOUNT_PATH } from './paths.js';

export const ACCOUNT_CLIENT_ID = 'nixa-account';
export const SIGN_IN_PATH = `${ACCOUNT_PATH}/sign-in`;
export const ACCOUNT_CALLBACK_PATH = `${ACCOUNT_PATH}/callback`;

const PENDING_COOKIE = 'nixa_account_tx';
const PENDING_SECONDS = 10 * 60;
const DISCOVERY_SECONDS = 300;

export interface AccountClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
}

export function accountClient(config: Config, cipher: Cipher): AccountClient {
  return {
    clientId: ACCOUNT_CLIENT_ID,
    // Derived from the master key, as the console's: every instance knows it, none stores it.
    clientSecret: cipher.derive('account-client-secret').toString('base64url'),
    redirectUri: `${config.issuer}${ACCOUNT_CALLBACK_PATH}`,
    postLogoutRedirectUri: `${config.issuer}/`,
  };
}

/** Registers (or brings up to date) the account's client; at every start, in production too. */
export async function registerAccountClient(db: Database, config: Config, cipher: Cipher, logger: Logger): Promise<AccountClient> {
  const c = accountClient(config, cipher);
  const done = await ensureClient(
    db,
    {
      client_id: c.clientId,
      name: 'Tài khoản nixa (Your nixa account)',
      redirect_uris: [c.redirectUri],
      post_logout_redirect_uris: [c.postLogoutRedirectUri],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // Only who the citizen is: nixa shares nothing with itself, so no consent page.
      scope: 'openid',
      // The callback checks that the ID token's sub is the session's account id.
      subject_type: 'public',
    },
    c.clientSecret,
    'system:account',
    clientsOptions(config),
    'nixa registers the citizen’s own account pages at start-up',
  );
  if (done.added || done.updated.length || done.secretSet) logger.info({ clientId: c.clientId, ...done }, 'account client registered');
  if (done.disabled) logger.warn({ clientId: c.clientId }, 'the account client is disabled: citizens cannot sign in to their account from nixa’s home page');
  return c;
}

/** Account pages a citizen may be sent back to after signing in: /account paths only. */
export function safeAccountReturn(path: unknown): string {
  return typeof path === 'string' && /^\/account(\/[a-z0-9-]{1,64}){0,3}$/.test(path) && path !== SIGN_IN_PATH && path !== ACCOUNT_CALLBACK_PATH ? path : ACCOUNT_PATH;
}

/** The link that starts a sign-in to the account, at a level when an action needs one. */
export function signInHref(o: { level?: Level; returnTo?: string } = {}): string {
  const q = new URLSearchParams();
  if (o.level && o.level !== 'low') q.set('level', o.level);
  const back = o.returnTo === undefined ? ACCOUNT_PATH : safeAccountReturn(o.returnTo);
  if (back !== ACCOUNT_PATH) q.set('return', back);
  const s = q.toString();
  return s ? `${SIGN_IN_PATH}?${s}` : SIGN_IN_PATH;
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  level: Level | undefined;
  returnTo: string;
  exp: number;
}

/** Where "sign in again" goes: the level and page of the sign-in that failed, when known. */
interface Again {
  level?: Level | undefined;
  returnTo?: string | undefined;
}

/** What is safe to log of an error thrown by openid-client: its kind and OAuth error, never a response body. */
function described(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; error?: unknown; message?: unknown; cause?: { code?: unknown } };
  const parts = [typeof e.name === 'string' ? e.name : 'Error'];
  if (typeof e.code === 'string' && /^[A-Z_]{1,64}$/.test(e.code)) parts.push(e.code);
  if (typeof e.error === 'string' && /^[a-z_]{1,64}$/.test(e.error)) parts.push(e.error);
  if (typeof e.cause?.code === 'string' && /^[A-Z_]{1,64}$/.test(e.cause.code)) parts.push(e.cause.code);
  // openid-client's own messages are fixed sentences; a token endpoint's error_description is nixa's own.
  const message = typeof e.message === 'string' ? e.message.replace(/[^\p{L}\p{N} .,:;'"()_/-]/gu, '').slice(0, 160) : '';
  return `${parts.join(' ')}${message ? `: ${message}` : ''}`;
}

const PENDING_COOKIE_OPTIONS = { signed: true, httpOnly: true, sameSite: 'lax', path: ACCOUNT_CALLBACK_PATH, overwrite: true } as const;

export class AccountSignIn {
  #config: oidc.Configuration | undefined;
  #fetchedAt = 0;

  constructor(
    private readonly issuer: string,
    private readonly client: AccountClient,
    private readonly logger: Logger,
  ) {}

  /** nixa's discovery document, read over HTTP as any service reads it, kept a few minutes. */
  async configuration(): Promise<oidc.Configuration> {
    if (this.#config && Date.now() - this.#fetchedAt < DISCOVERY_SECONDS * 1000) return this.#config;
    this.#config = await oidc.discovery(new URL(this.issuer), this.client.clientId, undefined, oidc.ClientSecretBasic(this.client.clientSecret), {
      ...(this.issuer.startsWith('http://') ? { execute: [oidc.allowInsecureRequests] } : {}),
      timeout: 10,
    });
    this.#fetchedAt = Date.now();
    return this.#config;
  }

  /** The configuration, or the typed failure when nixa's own issuer does not answer. */
  async #reachIssuer(): Promise<oidc.Configuration> {
    try {
      return await this.configuration();
    } catch (err) {
      throw new AccountSignInError('issuer-unavailable', `discovery failed: ${described(err)}`);
    }
  }

  /** GET /account/sign-in: off to nixa's authorization endpoint. */
  async start(ctx: Context): Promise<void> {
    const asked = String(ctx.query.level ?? '');
    const level = (LEVELS as readonly string[]).includes(asked) && asked !== 'low' ? (asked as Level) : undefined;
    const returnTo = safeAccountReturn(ctx.query.return);
    let config: oidc.Configuration;
    try {
      config = await this.#reachIssuer();
    } catch (err) {
      if (!(err instanceof AccountSignInError)) throw err;
      // No sign-in starts: an older one of this browser is not left behind either.
      this.#clear(ctx);
      return this.#failed(ctx, err, { level, returnTo });
    }
    const pending: Pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      level,
      returnTo,
      exp: Math.floor(Date.now() / 1000) + PENDING_SECONDS,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.client.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ui_locales: 'vi en',
      ...(level ? { acr_values: acrFor(level) } : {}),
    });
    ctx.cookies.set(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), { ...PENDING_COOKIE_OPTIONS, maxAge: PENDING_SECONDS * 1000 });
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  #clear(ctx: Context): void {
    ctx.cookies.set(PENDING_COOKIE, null, PENDING_COOKIE_OPTIONS);
  }

  #take(ctx: Context): Pending | undefined {
    const raw = ctx.cookies.get(PENDING_COOKIE, { signed: true });
    // One attempt per sign-in, whatever happens next.
    this.#clear(ctx);
    if (!raw || raw.length > 4096) return undefined;
    try {
      const p = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Pending;
      return typeof p.state === 'string' && typeof p.exp === 'number' && p.exp > Date.now() / 1000 ? p : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * GET /account/callback. `sessionAccount` reads nixa's session cookie: the
   * sign-in just made it, and the ID token must name the same account.
   */
  async callback(ctx: Context, sessionAccount: () => Promise<string | undefined>): Promise<void> {
    const pending = this.#take(ctx);
    let next: string;
    try {
      next = await this.#finish(ctx, pending, sessionAccount);
    } catch (err) {
      if (!(err instanceof AccountSignInError)) throw err;
      return this.#failed(ctx, err, pending ?? {});
    }
    ctx.status = 303;
    ctx.redirect(next);
  }

  /** The callback's checks, in order; the page to go to, or an AccountSignInError. */
  async #finish(ctx: Context, pending: Pending | undefined, sessionAccount: () => Promise<string | undefined>): Promise<string> {
    if (!pending) throw new AccountSignInError('expired', 'no sign-in in progress in this browser (used, expired, lost or altered cookie)');
    // The state names the sign-in this browser started: another one is a forged or crossed callback.
    if (ctx.query.state !== pending.state) throw new AccountSignInError('state-mismatch', 'a state this browser did not start');
    if (ctx.query.error !== undefined) {
      // Only a well-formed OAuth error code is read (and logged); anything else is "refused".
      const error = typeof ctx.query.error === 'string' && /^[a-z_]{1,64}$/.test(ctx.query.error) ? ctx.query.error : undefined;
      throw new AccountSignInError(error ? accountAuthorizationFailure(error) : 'refused', `the authorization endpoint answered ${error ?? 'an unrecognised error'}`);
    }
    const config = await this.#reachIssuer();
    const current = new URL(this.client.redirectUri);
    current.search = ctx.querystring;
    let claims: oidc.IDToken;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims()!;
    } catch (err) {
      throw new AccountSignInError('token-exchange', described(err));
    }
    // The tokens are for one account, the browser's nixa session must be the same one (not another, not gone).
    if ((await sessionAccount()) !== claims.sub) throw new AccountSignInError('account-mismatch', 'the ID token’s sub is not the browser’s nixa session’s account');
    const reached = levelOfAcr(String(claims.acr ?? '')) ?? 'low';
    if (pending.level && !atLeast(reached, pending.level)) throw new AccountSignInError('insufficient-level', `reached ${reached}, ${pending.level} asked`);
    return pending.returnTo;
  }

  /** The failure page, from the error's code alone; one log line, with the reason and what is safe of the detail. */
  #failed(ctx: Context, err: AccountSignInError, again: Again): void {
    const quiet: readonly AccountSignInFailure[] = ['cancelled', 'expired'];
    this.logger[quiet.includes(err.reason) ? 'info' : 'warn']({ reason: err.reason, errorCode: err.code, detail: err.detail }, 'account: sign-in failed');
    const words = NIXA_PAGE_WORDS[err.code]!;
    // The switch must not replay the callback (its state is spent) nor the start: the
    // same page again, from its code.
    languageReturnsTo(ctx, errorPageUrl(err.code));
    ctx.status = err.status;
    ctx.type = 'html';
    ctx.body = renderPage('account-sign-in-failed', {
      title: words.heading.vi,
      headingVi: words.heading.vi,
      headingEn: words.heading.en,
      messageVi: words.message.vi,
      messageEn: words.message.en,
      code: err.code,
      signIn: signInHref({ ...(again.level ? { level: again.level } : {}), ...(again.returnTo ? { returnTo: again.returnTo } : {}) }),
      terms: termsWhereUsed(words.heading.vi, words.message.vi),
    });
  }
}
