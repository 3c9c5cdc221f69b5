// One simulated source's HTTP surface, in order. oidc-provider is the Koa app
// itself: provider.use() places each of these before its own routes, so they
// see every request, discovery included.
//
//   requestLog        path and status only (query strings carry codes)
//   securityHeaders   CSP default-src 'none'; style-src 'self' (no form-action: see below), on every answer
//   errorBoundary     the source's own routes' errors become a page or JSON
//   control           POST /__sim/misbehave (loopback only; works while "down")
//   outage            "down": 503 for everything else
//   latency           "delay": sleep before anything answers
//   recordAuthorization  keeps the parameters of each authorization request (for tests)
//   assets            /assets/source.css
//   forms             parses the picker's form posts (oidc-provider parses its own)
//   interactions      the picker: GET /interaction/:uid, POST …/pick, …/refuse
//   logoutByPost      POST /session/end, as RP-Initiated Logout requires (see below)
//   forgeIdTokens     "wrong-key": re-signs ID tokens leaving the token endpoint
//   (oidc-provider)   discovery, /auth, /token, /me, /jwks, /session/end, …
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';

import { interactionRoutes, PickerError } from './interactions.js';
import { controlEndpoint, latency, outage, type MisbehaviourState } from './misbehaviour.js';
import { renderSourcePage, SOURCE_STYLESHEET } from './pages.js';
import type { SourceProfile } from './profiles.js';
import type { SimulatedClient } from './provider.js';
import { recordAuthorizationRequests, type AuthorizationRequests } from './requests.js';
import { Forger, wrongKeySigning } from './signing-keys.js';

/**
 * No form-action: Chrome applies it to every redirect that follows a form post,
 * and the picker's post goes on through nixa (the source's relying party) to
 * whichever service the citizen came from, when nixa needs no page of its own in
 * between (consent already given). A source cannot know those origins; nixa's
 * own pages leave form-action out for the same reason.
 */
export function contentSecurityPolicy(): string {
  return ["default-src 'none'", "style-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"].join('; ');
}

export interface SourceAppDeps {
  provider: Provider;
  clients: readonly SimulatedClient[];
  profile: SourceProfile;
  state: MisbehaviourState;
  logger: Logger;
  requests: AuthorizationRequests;
}

export function assembleSourceApp({ provider, clients, profile, state, logger, requests }: SourceAppDeps): void {
  const pipeline: Middleware[] = [
    requestLog(logger),
    securityHeaders(contentSecurityPolicy()),
    errorBoundary(profile, logger),
    onPath('/__sim/misbehave', bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }) as Middleware),
    controlEndpoint(state),
    outage(state, () =>
      renderSourcePage(profile, 'error', {
        title: 'Tạm ngừng hoạt động',
        headingVi: 'Nguồn định danh tạm ngừng hoạt động',
        headingEn: 'The identity source is unavailable',
        messageVi: 'Nguồn mô phỏng đang được đặt ở chế độ ngừng hoạt động. Hãy thử lại sau.',
        messageEn: 'The simulated source is set to be down. Try again later.',
        error: 'temporarily_unavailable',
      }),
    ),
    latency(state),
    recordAuthorizationRequests(requests),
    secretInBodyOnly(clients),
    assets,
    onPath('/interaction/', bodyParser({ enableTypes: ['form'], formLimit: '4kb', encoding: 'utf-8' }) as Middleware),
    interactionRoutes({ provider, profile, state }),
    logoutByPost(),
    wrongKeySigning(state, new Forger()),
  ];
  for (const middleware of pipeline) provider.use(middleware);
}

/**
 * oidc-provider takes client_secret_basic and client_secret_post alike from a
 * client registered for either. A client registered for client_secret_post is
 * held to it here, so that the source stands in for LemonLDAP 2.16, which does
 * not URL-decode the Basic header (RFC 6749 §2.3.1) and so refuses a client id
 * with "-" sent that way: an invalid_client, as that source answers.
 */
function secretInBodyOnly(clients: readonly SimulatedClient[]): Middleware {
  const postOnly = new Set(clients.filter((c) => c.token_endpoint_auth_method === 'client_secret_post').map((c) => c.client_id));
  return async function refuseBasicForPostClients(ctx, next) {
    const basic = /^basic\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (postOnly.size && ctx.method === 'POST' && ctx.path === '/token' && basic) {
      const raw = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const encoded = raw.slice(0, Math.max(raw.indexOf(':'), 0)).replace(/\+/g, ' ');
      let id = encoded;
      try {
        id = decodeURIComponent(encoded);
      } catch {
        // not form-encoded: oidc-provider answers it
      }
      if (postOnly.has(id)) {
        ctx.status = 401;
        ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
        return;
      }
    }
    await next();
  };
}

function onPath(prefix: string, middleware: Middleware): Middleware {
  return (ctx, next) => (ctx.path.startsWith(prefix) && ctx.method === 'POST' ? middleware(ctx, next) : next());
}

/**
 * OpenID RP-Initiated Logout 1.0 §2: the OP MUST accept POST at its logout
 * endpoint, and nixa posts the ID token there rather than put it in a URL.
 * oidc-provider serves POST only with SameSite=None session cookies
 * (enableHttpPostMethods), which a source on plain-http localhost cannot set; it
 * shares nixa's site there, so its Lax cookie rides the POST anyway. The form's
 * fields are handed, as they are, to the GET route (inside this process only).
 */
function logoutByPost(): Middleware {
  const parse = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' }) as Middleware;
  return async function endSessionByPost(ctx, next) {
    if (ctx.method !== 'POST' || ctx.path !== '/session/end') return next();
    await parse(ctx, async () => {});
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries((ctx.request as { body?: Record<string, unknown> }).body ?? {})) {
      // Repeated fields stay repeated: oidc-provider refuses them as it would in a URL.
      for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') query.append(name, v);
    }
    ctx.method = 'GET';
    ctx.querystring = query.toString();
    return next();
  };
}

/** Logs each request at debug level as `<what>: request` (the registry's pipeline uses it too). */
export function requestLog(logger: Logger, what = 'simulated source'): Middleware {
  return async function logRequest(ctx, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, `${what}: request`);
    }
  };
}

function securityHeaders(csp: string): Middleware {
  return async function setSecurityHeaders(ctx, next) {
    try {
      await next();
    } finally {
      if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', csp);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('X-Frame-Options', 'DENY');
    }
  };
}

async function assets(ctx: Context, next: Next): Promise<void> {
  if (ctx.path !== '/assets/source.css' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
  ctx.type = 'text/css; charset=utf-8';
  ctx.set('Cache-Control', 'public, max-age=3600');
  ctx.body = SOURCE_STYLESHEET;
}

/**
 * Errors from the routes above (oidc-provider renders its own through renderError):
 * an expired or foreign sign-in, a bad form, a malformed control request.
 */
function errorBoundary(profile: SourceProfile, logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; error?: string; message?: string; name?: string; stack?: string };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      const code = e.error ?? (status < 500 ? 'invalid_request' : 'server_error');
      if (status >= 500) logger.error({ err: { name: e.name, message: e.message, stack: e.stack }, path: ctx.path }, 'simulated source: request failed');
      const messageEn = err instanceof PickerError ? err.message : status < 500 ? 'The request is not valid, or this sign-in has expired.' : 'The simulated source failed.';
      ctx.status = status;
      // Browsers reach the source's pages with Accept: text/html; the control endpoint speaks JSON.
      if (!ctx.path.startsWith('/__sim/') && ctx.accepts('html', 'json') === 'html') {
        ctx.type = 'html';
        ctx.body = renderSourcePage(profile, 'error', {
          title: 'Lỗi',
          headingVi: 'Không thể tiếp tục',
          headingEn: 'Cannot continue',
          messageVi:
            status < 500
              ? 'Yêu cầu không hợp lệ hoặc lượt đăng nhập đã hết hạn. Hãy quay lại dịch vụ và thử lại.'
              : 'Nguồn mô phỏng gặp lỗi. Hãy thử lại.',
          messageEn,
          error: code,
        });
      } else {
        ctx.body = { error: code, error_description: messageEn };
      }
    }
  };
}
