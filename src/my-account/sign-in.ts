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
import type { Context } from 'koa';
import * as oidc from 'openid-client';

import { acrFor, atLeast, LEVELS, levelOfAcr, type Level } from '../assurance/index.js';
import { clientsOptions, ensureClient } from '../clients/index.js';
import type { Config } from '../config/index.js';
import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { languageReturnsTo, renderPage } from '../pages/index.js';
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

export type SignInFailure = 'expired' | 'state' | 'refused' | 'invalid' | 'level';

const FAILURES: Record<SignInFailure, { status: number; vi: string; en: string }> = {
  expired: {
    status: 400,
    vi: 'Lượt đăng nhập này đã hết hạn hoặc không bắt đầu từ trình duyệt này, nên bạn chưa được đăng nhập. Hãy đăng nhập lại.',
    en: 'This sign-in has expired or was not started in this browser, so you are not signed in. Please sign in again.',
  },
  state: {
    vi: 'Kết quả đăng nhập này không khớp với lượt đăng nhập bạn đã bắt đầu trên trình duyệt này (có thể do một liên kết lạ, hoặc bạn đã bắt đầu đăng nhập ở một thẻ khác). Để bảo vệ bạn, nixa đã từ chối nó. Hãy đăng nhập lại.',
    en: 'This sign-in result does not match the sign-in you started in this browser (perhaps a link from elsewhere, or a sign-in started in another tab). To protect you, nixa refused it. Please sign in again.',
    status: 400,
  },
  refused: {
    status: 400,
    vi: 'Đăng nhập chưa hoàn tất (bạn đã hủy, hoặc nixa không thể xác nhận bạn). Bạn chưa được đăng nhập.',
    en: 'The sign-in was not completed (you cancelled, or nixa could not confirm who you are). You are not signed in.',
  },
  invalid: {
    status: 400,
    vi: 'Không xác minh được kết quả đăng nhập, nên bạn chưa được đăng nhập. Hãy thử lại.',
    en: 'The sign-in result could not be verified, so you are not signed in. Please try again.',
  },
  level: {
    status: 403,
    vi: 'Lần đăng nhập này chưa đạt mức độ đảm bảo cần cho việc bạn muốn làm.',
    en: 'This sign-in did not reach the assurance level needed for what you wanted to do.',
  },
};

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

  /** GET /account/sign-in: off to nixa's authorization endpoint. */
  async start(ctx: Context): Promise<void> {
    const asked = String(ctx.query.level ?? '');
    const level = (LEVELS as readonly string[]).includes(asked) && asked !== 'low' ? (asked as Level) : undefined;
    const config = await this.configuration();
    const pending: Pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      level,
      returnTo: safeAccountReturn(ctx.query.return),
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
    ctx.cookies.set(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      path: ACCOUNT_CALLBACK_PATH,
      maxAge: PENDING_SECONDS * 1000,
      overwrite: true,
    });
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  #take(ctx: Context): Pending | undefined {
    const raw = ctx.cookies.get(PENDING_COOKIE, { signed: true });
    // One attempt per sign-in, whatever happens next.
    ctx.cookies.set(PENDING_COOKIE, null, { signed: true, httpOnly: true, sameSite: 'lax', path: ACCOUNT_CALLBACK_PATH, overwrite: true });
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
    if (!pending) return this.#failed(ctx, 'expired');
    if (ctx.query.state !== pending.state) {
      // The state names the sign-in this browser started: another one is a forged or crossed callback.
      this.logger.warn('account: sign-in callback with a state this browser did not start, refused');
      return this.#failed(ctx, 'state', pending);
    }
    if (typeof ctx.query.error === 'string') {
      const code = /^[a-z_]{1,64}$/.test(ctx.query.error) ? ctx.query.error : 'error';
      this.logger.info({ error: code }, 'account: sign-in not completed');
      return this.#failed(ctx, 'refused', pending);
    }
    const config = await this.configuration();
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
      this.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'account: sign-in result refused');
      return this.#failed(ctx, 'invalid', pending);
    }
    if ((await sessionAccount()) !== claims.sub) {
      // The tokens are for one account, the browser's nixa session is not (or is gone).
      this.logger.warn('account: sign-in result does not match the browser’s nixa session');
      return this.#failed(ctx, 'invalid', pending);
    }
    const reached = levelOfAcr(String(claims.acr ?? '')) ?? 'low';
    if (pending.level && !atLeast(reached, pending.level)) return this.#failed(ctx, 'level', pending);
    ctx.status = 303;
    ctx.redirect(pending.returnTo);
  }

  #failed(ctx: Context, why: SignInFailure, pending?: Pending): void {
    const f = FAILURES[why];
    // The switch must not replay this callback (its state is spent): it comes back
    // to the account page, which offers the sign-in again.
    languageReturnsTo(ctx, ACCOUNT_PATH);
    ctx.status = f.status;
    ctx.type = 'html';
    ctx.body = renderPage('account-sign-in-failed', {
      title: 'Chưa đăng nhập được',
      messageVi: f.vi,
      messageEn: f.en,
      signIn: signInHref({ ...(pending?.level ? { level: pending.level } : {}), ...(pending ? { returnTo: pending.returnTo } : {}) }),
    });
  }
}
