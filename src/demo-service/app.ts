// The demo public service's HTTP surface: a relying party that signs citizens in
// with nixa (authorization code + PKCE S256 + state + nonce, openid-client v6)
// and shows what nixa told it.
//
// Routes:  GET /            home, or the signed-in page when there is a session
//          GET /login       starts a sign-in at nixa
//          GET /callback    nixa's answer: redeems the code, then back to / (or /records)
//          GET /records     the citizen's records (hồ sơ), read from the API below;
//                           needs level high: steps up at nixa when the API says so
//          GET /api/records the demo's API: a JWT access token at level high (records-api.ts)
//          POST /logout     ends the local session and asks nixa to end its own
//          POST /backchannel-logout  nixa's logout token (OpenID Connect Back-Channel
//                           Logout 1.0): ends the demo sessions of that nixa session (sid)
//          GET /assets/nixa.css
import { randomBytes, timingSafeEqual } from 'node:crypto';

import { bodyParser } from '@koa/bodyparser';
import Koa, { type Context } from 'koa';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';

import type { DemoCredentials } from '../app/demo.js';
import type { Logger } from '../logging/index.js';
import { STYLESHEET } from '../pages/index.js';
import { isUnreachable, type NixaClient } from './nixa-client.js';
import { actorSection, claimRows, claimsToShow, describeAcr, organisationSection, recordRows, renderDemoPage, renderPartial } from './pages.js';
import { createRecordsApi, RECORDS_PATH, type RecordsAnswer } from './records-api.js';

export interface DemoAppDeps {
  issuer: string;
  credentials: DemoCredentials;
  nixa: NixaClient;
  logger: Logger;
}

// Cookie names start with demo_: on localhost, browsers share cookies across ports,
// so nixa's cookies (_session, _interaction, …) and these travel together.
const TX_COOKIE = 'demo_tx';
const SESSION_COOKIE = 'demo_session';
const LOGOUT_COOKIE = 'demo_logout';
const TX_SECONDS = 10 * 60;
const SESSION_SECONDS = 60 * 60;
/** The event a logout token must carry (Back-Channel Logout 1.0 §2.4). */
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Ended sids kept at most (each for SESSION_SECONDS): a flood of tokens cannot grow memory without bound. */
const MAX_ENDED_SIDS = 10_000;
/** A token this recent that the API still refuses is not worth another round trip to nixa. */
const FRESH_TOKEN_SECONDS = 60;

/** Where a sign-in returns to. */
type ReturnTo = '/' | '/records';

/** A sign-in in progress: what /callback must check nixa's answer against. */
interface Transaction {
  state: string;
  nonce: string;
  verifier: string;
  exp: number;
  returnTo: ReturnTo;
  /** The acr_values asked for (a step-up), or '' for none. */
  asked: string;
  /** Names the DPoP key of this sign-in, kept on the server (dpopKeys): its tokens will be bound to it. */
  dpopRef: string;
}

/**
 * The signed-in session. DEMO ONLY: the whole session lives in a signed (not
 * encrypted) cookie holding just the claims to show. A real service keeps
 * sessions server-side. No ID token: sign-out names the service by client_id.
 */
interface Session {
  claims: Record<string, unknown>;
  /** Ties the sign-out form to this session (cross-site request forgery). */
  csrf: string;
  exp: number;
  /** Names the access token for the demo's API, kept on the server (apiTokens). */
  tokenRef?: string;
  /** When that token was obtained, and the acr_values its sign-in asked for ('' for none). */
  tokenAt?: number;
  asked?: string;
  /** nixa's session (the ID token's sid): a back-channel logout naming it ends this session. */
  sid?: string;
}

interface PendingLogout {
  state: string;
  exp: number;
}

type ErrorKind = 'cancelled' | 'state' | 'expired' | 'unavailable' | 'logout_unavailable' | 'refused' | 'token' | 'invalid' | 'level' | 'api' | 'csrf' | 'bad_request' | 'not_found' | 'server';

const ERRORS: Record<ErrorKind, { status: number; headingVi: string; headingEn: string; messageVi: string; messageEn: string }> = {
  cancelled: {
    status: 200,
    headingVi: 'Bạn đã hủy đăng nhập',
    headingEn: 'Sign-in was cancelled',
    messageVi: 'Bạn chưa đăng nhập và nixa không chia sẻ thông tin nào với dịch vụ này.',
    messageEn: 'You are not signed in, and nixa shared nothing with this service.',
  },
  state: {
    status: 400,
    headingVi: 'Không thể hoàn tất đăng nhập',
    headingEn: 'Sign-in could not be completed',
    messageVi: 'Kết quả đăng nhập không khớp với yêu cầu mà trình duyệt này đã gửi (có thể do mở một liên kết cũ hoặc từ nơi khác). Để bảo vệ bạn, dịch vụ không đăng nhập cho bạn.',
    messageEn: 'The sign-in result does not match the request this browser made (perhaps an old link, or one from elsewhere). To protect you, the service did not sign you in.',
  },
  expired: {
    status: 400,
    headingVi: 'Lượt đăng nhập đã hết hạn',
    headingEn: 'The sign-in attempt has expired',
    messageVi: 'Lượt đăng nhập này đã hết hạn hoặc không được bắt đầu từ trình duyệt này. Bạn chưa được đăng nhập.',
    messageEn: 'This sign-in attempt has expired or was not started in this browser. You are not signed in.',
  },
  unavailable: {
    status: 503,
    headingVi: 'nixa hiện không truy cập được',
    headingEn: 'nixa is unavailable right now',
    messageVi: 'Dịch vụ không kết nối được với nixa để đăng nhập. Vui lòng thử lại sau ít phút.',
    messageEn: 'The service could not reach nixa to sign you in. Please try again in a few minutes.',
  },
  logout_unavailable: {
    status: 503,
    headingVi: 'Bạn đã đăng xuất khỏi dịch vụ mẫu',
    headingEn: 'You are signed out of the sample service',
    messageVi: 'Nhưng hiện không kết nối được với nixa để kết thúc phiên đăng nhập nixa của bạn. Nếu dùng máy tính chung, hãy đóng trình duyệt.',
    messageEn: 'But nixa could not be reached to end your nixa session. On a shared computer, close the browser.',
  },
  refused: {
    status: 400,
    headingVi: 'nixa không hoàn tất đăng nhập',
    headingEn: 'nixa did not complete the sign-in',
    messageVi: 'nixa trả về lỗi thay vì kết quả đăng nhập. Bạn chưa được đăng nhập.',
    messageEn: 'nixa answered with an error instead of a sign-in. You are not signed in.',
  },
  token: {
    status: 400,
    headingVi: 'Không hoàn tất được đăng nhập',
    headingEn: 'Sign-in could not be completed',
    messageVi: 'nixa không chấp nhận mã đăng nhập (có thể đã hết hạn hoặc đã được dùng). Bạn chưa được đăng nhập.',
    messageEn: 'nixa did not accept the sign-in code (it may have expired or been used already). You are not signed in.',
  },
  invalid: {
    status: 502,
    headingVi: 'Phản hồi từ nixa không hợp lệ',
    headingEn: 'nixa’s answer failed verification',
    messageVi: 'Dịch vụ không xác minh được kết quả đăng nhập từ nixa, nên không đăng nhập cho bạn.',
    messageEn: 'The service could not verify the sign-in result from nixa, so it did not sign you in.',
  },
  level: {
    status: 403,
    headingVi: 'Chưa đạt mức độ đảm bảo cần thiết',
    headingEn: 'The assurance level needed was not reached',
    messageVi: 'Trang hồ sơ cần mức độ đảm bảo cao. nixa đã xác thực bạn nhưng chưa đạt mức này, nên dịch vụ không hiển thị hồ sơ.',
    messageEn: 'The records page needs assurance level high. nixa signed you in, but not at that level, so the service does not show your records.',
  },
  api: {
    status: 502,
    headingVi: 'Không đọc được hồ sơ',
    headingEn: 'Your records could not be read',
    messageVi: 'Máy chủ hồ sơ của dịch vụ không chấp nhận yêu cầu. Vui lòng thử lại sau.',
    messageEn: 'The service’s records server did not accept the request. Please try again later.',
  },
  csrf: {
    status: 403,
    headingVi: 'Biểu mẫu đã hết hạn',
    headingEn: 'The form has expired',
    messageVi: 'Yêu cầu không đến từ trang của dịch vụ này, hoặc phiên đã thay đổi. Hãy tải lại trang và thử lại.',
    messageEn: 'The request did not come from this service’s page, or the session changed. Reload the page and try again.',
  },
  bad_request: {
    status: 400,
    headingVi: 'Yêu cầu không hợp lệ',
    headingEn: 'The request is not valid',
    messageVi: 'Dịch vụ mẫu không hiểu yêu cầu này. Hãy quay lại trang chủ và thử lại.',
    messageEn: 'The sample service could not understand this request. Go back to the home page and try again.',
  },
  not_found: {
    status: 404,
    headingVi: 'Không tìm thấy trang',
    headingEn: 'Page not found',
    messageVi: 'Trang bạn tìm không có trên dịch vụ mẫu này.',
    messageEn: 'The page you asked for is not on this sample service.',
  },
  server: {
    status: 500,
    headingVi: 'Đã có lỗi xảy ra',
    headingEn: 'Something went wrong',
    messageVi: 'Dịch vụ mẫu gặp lỗi ngoài dự kiến. Vui lòng thử lại.',
    messageEn: 'The sample service hit an unexpected error. Please try again.',
  },
};

/** An error code from nixa, shown only if it looks like one (never reflect arbitrary input). */
function safeCode(code: unknown): string | undefined {
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : undefined;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const now = () => Math.floor(Date.now() / 1000);

export function createDemoApp({ issuer, credentials, nixa, logger }: DemoAppDeps): Koa {
  const app = new Koa();
  const recordsApi = createRecordsApi({ issuer, apiResource: credentials.apiResource, origin: credentials.origin });
  const recordsUrl = new URL(RECORDS_PATH, credentials.origin);
  /**
   * Access tokens for the API, kept on the server: DEMO ONLY in process memory
   * (gone on restart, like the sessions); the browser holds only a random reference.
   */
  const apiTokens = new Map<string, { token: string; exp: number; dpop: oidc.DPoPHandle; config: oidc.Configuration }>();
  const keepToken = (token: string, expiresIn: number | undefined, dpop: oidc.DPoPHandle, config: oidc.Configuration): string => {
    const t = now();
    for (const [ref, v] of apiTokens) if (v.exp <= t) apiTokens.delete(ref);
    if (apiTokens.size >= 10_000) apiTokens.delete(apiTokens.keys().next().value!);
    const ref = randomBytes(16).toString('base64url');
    apiTokens.set(ref, { token, exp: t + (expiresIn ?? 600), dpop, config });
    return ref;
  };
  /**
   * DPoP keys of sign-ins under way (FAPI 2.0: the tokens are bound to a key the
   * service holds, RFC 9449), by a random reference the transaction cookie carries;
   * the key itself never leaves the server. DEMO ONLY in process memory, like the tokens.
   */
  const dpopKeys = new Map<string, { keys: oidc.CryptoKeyPair; exp: number }>();
  const newDpopKey = async (): Promise<{ ref: string; keys: oidc.CryptoKeyPair }> => {
    const t = now();
    for (const [ref, v] of dpopKeys) if (v.exp <= t) dpopKeys.delete(ref);
    if (dpopKeys.size >= 10_000) dpopKeys.delete(dpopKeys.keys().next().value!);
    const ref = randomBytes(16).toString('base64url');
    const keys = await oidc.randomDPoPKeyPair('ES256');
    dpopKeys.set(ref, { keys, exp: t + TX_SECONDS });
    return { ref, keys };
  };
  /**
   * nixa sessions (sid) ended by a back-channel logout, with when the entry may go:
   * a session cookie naming one of them is signed out. DEMO ONLY in process memory,
   * like the sessions; an entry outlives every cookie that could name it (SESSION_SECONDS).
   */
  const endedSids = new Map<string, number>();
  const endSid = (sid: string): void => {
    const t = now();
    for (const [s, exp] of endedSids) if (exp <= t) endedSids.delete(s);
    endedSids.delete(sid);
    if (endedSids.size >= MAX_ENDED_SIDS) endedSids.delete(endedSids.keys().next().value!);
    endedSids.set(sid, t + SESSION_SECONDS);
  };
  /** The session cookie, unless nixa has ended the nixa session it came from. */
  const readSession = (ctx: Context): Session | undefined => {
    const session = readCookie<Session>(ctx, SESSION_COOKIE);
    if (session?.sid && (endedSids.get(session.sid) ?? 0) > now()) {
      if (session.tokenRef) apiTokens.delete(session.tokenRef);
      clearCookie(ctx, SESSION_COOKIE);
      return undefined;
    }
    return session;
  };
  /** nixa's signing keys, from the jwks_uri of its discovery document (jose caches and refreshes them). */
  let jwks: { uri: string; get: JWTVerifyGetKey } | undefined;
  app.silent = true;
  // Signed cookies with a random per-process key: sessions end when the demo restarts. Fine for a demo.
  app.keys = [randomBytes(32).toString('base64url')];

  const origin = new URL(credentials.origin);
  const nixaOrigin = new URL(issuer).origin;
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    // Signing out posts here and is then redirected to nixa; browsers check form-action on that redirect too.
    `form-action 'self' ${nixaOrigin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  // Cookies ---------------------------------------------------------------
  const cookieOptions = (maxAgeSeconds: number, path = '/') => ({
    signed: true,
    httpOnly: true,
    sameSite: 'lax' as const,
    path,
    maxAge: maxAgeSeconds * 1000,
    overwrite: true,
  });

  function readCookie<T extends { exp: number }>(ctx: Context, name: string): T | undefined {
    const raw = ctx.cookies.get(name, { signed: true });
    if (!raw) return undefined;
    try {
      const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
      return typeof value?.exp === 'number' && value.exp > now() ? value : undefined;
    } catch {
      return undefined;
    }
  }

  function writeCookie(ctx: Context, name: string, value: object, maxAgeSeconds: number, path = '/'): void {
    const encoded = Buffer.from(JSON.stringify(value)).toString('base64url');
    ctx.cookies.set(name, encoded, cookieOptions(maxAgeSeconds, path));
  }

  function clearCookie(ctx: Context, name: string, path = '/'): void {
    ctx.cookies.set(name, null, { ...cookieOptions(0, path), maxAge: undefined });
  }

  // Pages -----------------------------------------------------------------
  function page(ctx: Context, name: string, values: Record<string, unknown> & { title: string }, status = 200): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = renderDemoPage(name, values);
  }

  function errorPage(ctx: Context, kind: ErrorKind, nixaCode?: string): void {
    const e = ERRORS[kind];
    page(ctx, 'error', { title: e.headingVi, ...e, code: nixaCode ?? kind }, e.status);
  }

  // Middleware ------------------------------------------------------------
  app.use(async function securityHeaders(ctx, next) {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      if (status < 500) {
        // E.g. a form body too large for the body parser.
        errorPage(ctx, 'bad_request');
        ctx.status = status;
      } else {
        logger.error({ err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack }, path: ctx.path }, 'demo service: request failed');
        errorPage(ctx, 'server');
      }
    }
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    // Pages show personal data and carry one-time values: never cache them.
    if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
  });

  // The redirect URI names one host (localhost); cookies set under another name
  // for the same machine (127.0.0.1) would not come back to /callback.
  app.use(async function canonicalHost(ctx, next) {
    if (ctx.host && ctx.host !== origin.host) {
      ctx.status = 308;
      ctx.redirect(new URL(ctx.originalUrl, origin).toString());
      return;
    }
    return next();
  });

  // A logout token is a few hundred bytes; 16 kB leaves room for larger keys and claims.
  const parseLogoutForm = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' }) as Koa.Middleware;
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '4kb', encoding: 'utf-8' }) as Koa.Middleware;

  app.use(async function routes(ctx, next) {
    const read = ctx.method === 'GET' || ctx.method === 'HEAD';
    switch (`${read ? 'GET' : ctx.method} ${ctx.path}`) {
      case 'GET /assets/nixa.css':
        ctx.type = 'text/css; charset=utf-8';
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = STYLESHEET();
        return;
      case 'GET /':
        return home(ctx);
      case 'GET /login':
        return login(ctx);
      case 'GET /callback':
        return callback(ctx);
      case 'GET /records':
        return records(ctx);
      case `GET ${RECORDS_PATH}`:
        return recordsApi(ctx);
      case 'POST /logout':
        return parseForm(ctx, () => logout(ctx));
      case 'POST /backchannel-logout':
        return parseLogoutForm(ctx, () => backchannelLogout(ctx));
      case 'GET /logout':
        // Signing out is a form (POST); someone typing the address just goes home.
        ctx.status = 303;
        ctx.redirect('/');
        return;
      default:
        return next();
    }
  });

  app.use(async function notFound(ctx) {
    if (['/', '/login', '/callback', '/records', RECORDS_PATH, '/assets/nixa.css'].includes(ctx.path)) {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    errorPage(ctx, 'not_found');
  });

  // Handlers --------------------------------------------------------------
  async function home(ctx: Context): Promise<void> {
    const session = readSession(ctx);
    if (session) {
      const acr = describeAcr(session.claims.acr);
      page(ctx, 'signed-in', {
        title: 'Đã đăng nhập',
        acr: typeof session.claims.acr === 'string' ? session.claims.acr : '—',
        acrVi: acr.vi,
        acrEn: acr.en,
        rows: claimRows(session.claims),
        organisation: organisationSection(session.claims.organisation) + actorSection(session.claims.act, session.claims.name),
        csrf: session.csrf,
        accountUrl: `${issuer}/account`,
      });
      return;
    }
    // Back from nixa's sign-out (post_logout_redirect_uri), with the state we sent.
    let notice = '';
    const pending = readCookie<PendingLogout>(ctx, LOGOUT_COOKIE);
    if (pending) {
      const state = new URLSearchParams(ctx.querystring).get('state');
      if (state && equal(state, pending.state)) {
        notice = renderPartial('signed-out');
        clearCookie(ctx, LOGOUT_COOKIE);
      }
    }
    const available = (await nixa.get()) !== undefined;
    page(ctx, 'home', {
      title: 'Trang chủ',
      notice,
      status: renderPartial(available ? 'sign-in' : 'unavailable'),
    });
  }

  function login(ctx: Context): Promise<void> {
    return startSignIn(ctx, '/', '');
  }

  /** To nixa: a sign-in, or a step-up when acrValues is set; back at `returnTo`. */
  async function startSignIn(ctx: Context, returnTo: ReturnTo, acrValues: string): Promise<void> {
    const config = await nixa.get();
    if (!config) return errorPage(ctx, 'unavailable');
    const dpop = await newDpopKey();
    const tx: Transaction = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      exp: now() + TX_SECONDS,
      returnTo,
      asked: acrValues,
      dpopRef: dpop.ref,
    };
    const params = {
      // An access token for the demo's own API (RFC 8707), which the records page calls.
      resource: credentials.apiResource,
      ...(acrValues ? { acr_values: acrValues } : {}),
      redirect_uri: credentials.redirectUri,
      // Enough to show what nixa shares after consent; the ID number is left out on purpose.
      // representation: nixa asks whether the person acts for themselves or for a company.
      scope: 'openid profile phone representation',
      code_challenge: await oidc.calculatePKCECodeChallenge(tx.verifier),
      code_challenge_method: 'S256',
      state: tx.state,
      nonce: tx.nonce,
      ui_locales: 'vi en',
    };
    // FAPI 2.0: the request is pushed to nixa server to server (PAR, signed in with the
    // demo's key) and bound to this sign-in's DPoP key; the browser carries only request_uri.
    let url: URL;
    try {
      url = await oidc.buildAuthorizationUrlWithPAR(config, params, { DPoP: oidc.getDPoPHandle(config, dpop.keys) });
    } catch (err) {
      if (isUnreachable(err)) {
        nixa.invalidate();
        return errorPage(ctx, 'unavailable');
      }
      logger.warn({ error: safeCode((err as { error?: unknown }).error), err: { name: (err as Error).name, message: (err as Error).message } }, 'demo service: nixa refused the pushed request');
      return errorPage(ctx, 'refused', safeCode((err as { error?: unknown }).error) ?? 'invalid_request');
    }
    // The secrets of this sign-in stay in an HttpOnly cookie sent only to /callback, never in a URL.
    writeCookie(ctx, TX_COOKIE, tx, TX_SECONDS, '/callback');
    ctx.redirect(url.toString());
  }

  async function callback(ctx: Context): Promise<void> {
    const params = new URLSearchParams(ctx.querystring);
    const tx = readCookie<Transaction>(ctx, TX_COOKIE);
    // One attempt per transaction, whatever happens next.
    clearCookie(ctx, TX_COOKIE, '/callback');

    if (!tx) {
      // Nothing to check the answer against. An error answer is still worth
      // explaining (it signs nobody in); anything else is an expired attempt.
      const error = params.get('error');
      if (error) return errorPage(ctx, error === 'access_denied' ? 'cancelled' : 'refused', safeCode(error) ?? 'invalid_request');
      return errorPage(ctx, 'expired');
    }
    const states = params.getAll('state');
    if (states.length !== 1 || !equal(states[0]!, tx.state)) {
      logger.info({ reason: states.length ? 'state mismatch' : 'state missing' }, 'demo service: callback refused');
      return errorPage(ctx, 'state');
    }

    const config = await nixa.get();
    if (!config) return errorPage(ctx, 'unavailable');
    // The redirect URI as registered, with nixa's answer; not rebuilt from the Host header.
    const currentUrl = new URL(credentials.redirectUri);
    currentUrl.search = ctx.querystring;

    const dpopKey = tx.dpopRef ? dpopKeys.get(tx.dpopRef) : undefined;
    if (tx.dpopRef) dpopKeys.delete(tx.dpopRef);
    // The key went with a restart of the demo: the code cannot be redeemed without it.
    if (!dpopKey) return errorPage(ctx, 'expired');
    const dpop = oidc.getDPoPHandle(config, dpopKey.keys);
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(
        config,
        currentUrl,
        {
          pkceCodeVerifier: tx.verifier,
          expectedState: tx.state,
          expectedNonce: tx.nonce,
          idTokenExpected: true,
        },
        undefined,
        { DPoP: dpop },
      );
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError) {
        logger.info({ error: safeCode(err.error) }, 'demo service: nixa answered with an error');
        return errorPage(ctx, err.error === 'access_denied' ? 'cancelled' : 'refused', safeCode(err.error) ?? 'invalid_request');
      }
      if (err instanceof oidc.ResponseBodyError) {
        logger.info({ error: safeCode(err.error) }, 'demo service: code redemption refused');
        return errorPage(ctx, 'token', safeCode(err.error));
      }
      if (isUnreachable(err)) {
        nixa.invalidate();
        return errorPage(ctx, 'unavailable');
      }
      logger.warn({ err: { name: (err as Error).name, message: (err as Error).message, code: (err as { code?: string }).code } }, 'demo service: sign-in result failed verification');
      return errorPage(ctx, 'invalid');
    }

    const previous = readCookie<Session>(ctx, SESSION_COOKIE);
    if (previous?.tokenRef) apiTokens.delete(previous.tokenRef);
    const idClaims = tokens.claims();
    const session: Session = {
      claims: claimsToShow(idClaims ?? {}),
      csrf: randomBytes(16).toString('base64url'),
      exp: now() + SESSION_SECONDS,
      tokenRef: keepToken(tokens.access_token, tokens.expires_in, dpop, config),
      tokenAt: now(),
      asked: tx.asked ?? '',
      ...(typeof idClaims?.sid === 'string' ? { sid: idClaims.sid } : {}),
    };
    writeCookie(ctx, SESSION_COOKIE, session, SESSION_SECONDS);
    logger.info({ acr: session.claims.acr }, 'demo service: signed in');
    // Post/redirect/get: the code leaves the address bar and a reload does not replay it.
    ctx.status = 303;
    ctx.redirect(tx.returnTo === '/records' ? '/records' : '/');
  }

  /**
   * The records page: the server calls the demo's API with the citizen's access
   * token, as a real service's front end calls its back end. When the API answers
   * insufficient_user_authentication (RFC 9470), the citizen is sent to nixa to
   * step up to the acr_values it names, and comes back here.
   */
  async function records(ctx: Context): Promise<void> {
    const session = readSession(ctx);
    const stored = session?.tokenRef ? apiTokens.get(session.tokenRef) : undefined;
    if (!session || !stored || stored.exp <= now()) return startSignIn(ctx, '/records', '');

    // The token is DPoP-bound: each call carries a proof made with the sign-in's key
    // (openid-client makes it, and retries once with the API's nonce when asked).
    let res: Response;
    let challenge: Record<string, string> = {};
    try {
      res = await oidc.fetchProtectedResource(stored.config, stored.token, recordsUrl, 'GET', undefined, new Headers({ accept: 'application/json' }), { DPoP: stored.dpop });
    } catch (err) {
      if (!(err instanceof oidc.WWWAuthenticateChallengeError)) {
        logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'demo service: records API unreachable');
        return errorPage(ctx, 'api');
      }
      res = err.response;
      challenge = Object.fromEntries(Object.entries(err.cause[0]?.parameters ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
    if (res.status === 200) {
      const answer = (await res.json()) as RecordsAnswer;
      const acr = describeAcr(answer.acr);
      page(ctx, 'records', {
        title: 'Hồ sơ của bạn',
        acr: answer.acr,
        acrVi: acr.vi,
        acrEn: acr.en,
        authentication: claimRows({ amr: answer.amr, ...(answer.auth_time !== undefined ? { auth_time: answer.auth_time } : {}) }),
        records: recordRows(answer.records),
      });
      return;
    }
    if (res.status === 503) return errorPage(ctx, 'unavailable');
    const fresh = now() - (session.tokenAt ?? 0) < FRESH_TOKEN_SECONDS;
    if (res.status === 401 && challenge.error === 'insufficient_user_authentication' && challenge.acr_values) {
      // Asked for exactly this already and still refused: going round again would loop.
      if (session.asked === challenge.acr_values) return errorPage(ctx, 'level');
      logger.info({ acrValues: challenge.acr_values }, 'demo service: the API asks for a step-up');
      return startSignIn(ctx, '/records', challenge.acr_values);
    }
    // An expired or revoked token: a new sign-in (nixa's session makes it quick), unless it is brand new.
    if (res.status === 401 && !fresh) return startSignIn(ctx, '/records', '');
    logger.warn({ status: res.status, error: challenge.error }, 'demo service: the records API refused the token');
    return errorPage(ctx, 'api', safeCode(challenge.error));
  }

  async function logout(ctx: Context): Promise<void> {
    const session = readSession(ctx);
    if (!session) {
      ctx.status = 303;
      ctx.redirect('/');
      return;
    }
    const csrf = (ctx.request as { body?: Record<string, unknown> }).body?.csrf;
    if (typeof csrf !== 'string' || !equal(csrf, session.csrf)) return errorPage(ctx, 'csrf');

    clearCookie(ctx, SESSION_COOKIE);
    if (session.tokenRef) apiTokens.delete(session.tokenRef);
    const config = await nixa.get();
    if (!config) {
      // Signed out here; nixa's own session ends when it expires or at nixa's next sign-out.
      return errorPage(ctx, 'logout_unavailable');
    }
    const pending: PendingLogout = { state: oidc.randomState(), exp: now() + TX_SECONDS };
    writeCookie(ctx, LOGOUT_COOKIE, pending, TX_SECONDS);
    // client_id (added by openid-client), not id_token_hint: nixa's ID token carries the
    // citizen's consented claims, and this is a URL (browser history, access logs). nixa
    // asks the citizen to confirm either way.
    const url = oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: credentials.postLogoutRedirectUri,
      state: pending.state,
      ui_locales: 'vi en',
    });
    ctx.status = 303;
    ctx.redirect(url.toString());
  }

  /**
   * OpenID Connect Back-Channel Logout 1.0: nixa posts a logout token when the
   * citizen's nixa session ends (signed out at nixa, "end all sessions", "this
   * wasn't me"). The token is checked as §2.6 says, then every demo session
   * signed in through that nixa session (its sid) is treated as signed out.
   */
  async function backchannelLogout(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    const refuse = (description: string) => {
      ctx.status = 400;
      ctx.type = 'json';
      ctx.body = { error: 'invalid_request', error_description: description };
    };
    const token = (ctx.request as { body?: Record<string, unknown> }).body?.logout_token;
    if (typeof token !== 'string' || !token) return refuse('logout_token is required');
    const config = await nixa.get();
    if (!config) {
      ctx.status = 503;
      ctx.type = 'json';
      ctx.body = { error: 'temporarily_unavailable', error_description: 'nixa’s keys cannot be fetched right now' };
      return;
    }
    const metadata = config.serverMetadata();
    if (!metadata.jwks_uri) return refuse('nixa publishes no keys');
    if (jwks?.uri !== metadata.jwks_uri) jwks = { uri: metadata.jwks_uri, get: createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 5_000 }) };

    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks.get, {
        issuer: metadata.issuer,
        audience: credentials.clientId,
        algorithms: metadata.id_token_signing_alg_values_supported ?? ['RS256'],
        requiredClaims: ['iat', 'exp', 'jti', 'events', 'sid'],
        // A few seconds of clock difference between nixa and the demo.
        clockTolerance: 30,
        // A logout token older than this is not replayed into an action.
        maxTokenAge: '5m',
      }));
    } catch (err) {
      if (isUnreachable(err) || (err as { code?: string }).code === 'ERR_JWKS_TIMEOUT') {
        ctx.status = 503;
        ctx.type = 'json';
        ctx.body = { error: 'temporarily_unavailable', error_description: 'nixa’s keys cannot be fetched right now' };
        return;
      }
      logger.info({ reason: (err as { code?: string }).code ?? (err as Error).name }, 'demo service: logout token refused');
      return refuse('the logout token failed verification');
    }
    const events = claims.events;
    if (!events || typeof events !== 'object' || Array.isArray(events) || typeof (events as Record<string, unknown>)[BACKCHANNEL_EVENT] !== 'object') {
      return refuse('the logout token does not carry the back-channel logout event');
    }
    // A logout token is not an ID token: one with a nonce must be refused (§2.6 step 6).
    if ('nonce' in claims) return refuse('a logout token must not carry a nonce');
    if (typeof claims.sid !== 'string' || !claims.sid) return refuse('the logout token names no session (sid)');

    endSid(claims.sid);
    logger.info({}, 'demo service: nixa ended a session (back-channel logout)');
    ctx.status = 200;
    ctx.body = '';
  }

  return app;
}
