// The console's HTTP surface under /console: sign-in through nixa, then pages
// that call the admin API with the operator's token. One table of routes; every
// POST checks the CSRF token bound to the console session before anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';

import { CONSOLE_SIGN_IN_FAILURES, CONSOLE_SIGN_IN_HEADING, ConsoleSignInError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { escapeHtml as e } from '../pages/index.js';
import { VIEWS_DIR } from '../paths.js';
import { AdminApiClient, type ApiAnswer } from './admin-client.js';
import { render, t, type Frame, type Me } from './pages.js';
import { CONSOLE_PATH, type ConsoleClient } from './registration.js';
import { SessionCookies, type ConsoleSession } from './session.js';
import { ConsoleSignIn, IssuerUnreachableError } from './sign-in.js';

export interface ConsoleDeps {
  issuer: string;
  client: ConsoleClient;
  cipher: import('../keys/index.js').Cipher;
  logger: Logger;
}

/** What a page handler gets: the operator, their permissions, the API, the form. */
export interface Call {
  ctx: Context;
  /** nixa's issuer (the console's own origin). */
  issuer: string;
  session: ConsoleSession;
  me: Me;
  csrf: string;
  params: Record<string, string>;
  /** The submitted form (POST), each value a string ('' when absent). */
  form: (name: string) => string;
  /** Every value of a repeated field (checkboxes). */
  formAll: (name: string) => string[];
  api: <T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, o?: { body?: unknown; ifMatch?: string; query?: Record<string, string | undefined> }) => Promise<ApiAnswer<T>>;
  /** Renders a console page inside the layout, with this operator's menu. */
  page: (view: string, values: Record<string, unknown> & { title: string }, status?: number) => void;
  /** nixa's discovery metadata (integration values). */
  discovery: () => Promise<Record<string, unknown>>;
  may: (permission: string) => boolean;
}

export interface ConsoleRoute {
  method: 'GET' | 'POST';
  /** Path below /console, with :params. */
  path: string;
  handle: (c: Call) => Promise<void>;
}

/** The admin API said the token no longer works (expired, revoked): sign in again. */
class SignInAgain extends Error {}

const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '64kb', encoding: 'utf-8' }) as Middleware;

function compile(routes: ConsoleRoute[]) {
  return routes.map((r) => {
    const names: string[] = [];
    const source = r.path.replace(/:(\w+)/g, (_, n: string) => {
      names.push(n);
      return '([A-Za-z0-9._~-]{1,128})';
    });
    return { ...r, regex: new RegExp(`^${CONSOLE_PATH}${source}$`), names };
  });
}

export function createConsole(deps: ConsoleDeps, routes: ConsoleRoute[]): Middleware {
  const cookies = new SessionCookies(deps.cipher, deps.issuer.startsWith('https://'));
  const signIn = new ConsoleSignIn(deps.issuer, deps.client, cookies, deps.logger);
  const api = new AdminApiClient(deps.issuer);
  const table = compile(routes);

  function message(ctx: Context, heading: [string, string], body: string, status: number, frame: Frame = {}): void {
    render(ctx, 'console-message', { title: heading[0], heading: t(heading[0], heading[1]), body }, frame, status);
  }

  async function callback(ctx: Context): Promise<void> {
    let returnTo: string;
    try {
      ({ returnTo } = await signIn.callback(ctx));
    } catch (err) {
      if (!(err instanceof ConsoleSignInError)) throw err;
      return signInFailed(ctx, err);
    }
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  /** A failed console sign-in: its words, its code (NIXA-CON-*), and the way forward. */
  function signInFailed(ctx: Context, err: ConsoleSignInError): void {
    const { vi, en } = CONSOLE_SIGN_IN_FAILURES[err.reason];
    const oauth = err.reason === 'refused' && err.oauthError ? ` <code>${e(err.oauthError)}</code>` : '';
    render(
      ctx,
      'console-sign-in-failed',
      { title: CONSOLE_SIGN_IN_HEADING.vi, headingVi: CONSOLE_SIGN_IN_HEADING.vi, headingEn: CONSOLE_SIGN_IN_HEADING.en, message: `${t(vi, en)}${oauth}`, code: err.code, signIn: `${CONSOLE_PATH}/login` },
      {},
      err.status,
    );
  }

  async function logout(ctx: Context): Promise<void> {
    const session = cookies.read(ctx);
    await parseForm(ctx, async () => {});
    const csrf = (ctx.request as { body?: Record<string, unknown> }).body?.csrf;
    if (session && !cookies.csrfOk(session, csrf)) return refuseCsrf(ctx);
    cookies.clear(ctx);
    ctx.status = 303;
    ctx.redirect(await signIn.endSessionUrl());
  }

  function refuseCsrf(ctx: Context): void {
    message(
      ctx,
      ['Biểu mẫu đã hết hạn', 'The form has expired'],
      `<p role="alert">${t(
        'Yêu cầu này không đến từ một trang của bảng điều khiển trong phiên hiện tại, nên không có gì được thực hiện. Hãy mở lại trang và thử lại.',
        'This request did not come from a console page of your current session, so nothing was done. Open the page again and try again.',
      )}</p><p><a href="${CONSOLE_PATH}">${t('Về trang tổng quan', 'Back to the console home')}</a></p>`,
      403,
    );
  }

  async function authenticated(ctx: Context, route: (typeof table)[number], params: Record<string, string>): Promise<void> {
    const session = cookies.read(ctx);
    const returnTo = ctx.method === 'GET' ? ctx.path + (ctx.querystring ? `?${ctx.querystring}` : '') : CONSOLE_PATH;
    if (!session) {
      if (ctx.method === 'GET' && ctx.path === `${CONSOLE_PATH}/` && ctx.query.state) {
        // Back from nixa's end-session: say so, rather than sign in again at once.
        return message(ctx, ['Đã đăng xuất', 'Signed out'], `<p>${t('Bạn đã đăng xuất khỏi bảng điều khiển và khỏi nixa.', 'You are signed out of the console and of nixa.')}</p><p><a class="button" href="${CONSOLE_PATH}/login">${t('Đăng nhập', 'Sign in')}</a></p>`, 200);
      }
      if (ctx.method !== 'GET') return refuseCsrf(ctx); // a form with no session behind it
      return signIn.start(ctx, returnTo);
    }
    let form: Record<string, unknown> = {};
    if (ctx.method === 'POST') {
      await parseForm(ctx, async () => {});
      form = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
      if (!cookies.csrfOk(session, form.csrf)) return refuseCsrf(ctx);
    }
    const call = <T>(method: 'GET' | 'POST', path: string, o: { body?: unknown; ifMatch?: string; query?: Record<string, string | undefined> } = {}) =>
      api.call<T>(session.accessToken, method, path, o).then((a) => {
        if (a.status === 401) throw new SignInAgain();
        return a;
      });
    const csrf = cookies.csrfToken(session);
    try {
      const me = await call<Me>('GET', '/me');
      const operator = { name: session.name, csrf };
      if (me.status === 403) {
        // An operator without a role sees nothing else: one page in plain words.
        return render(
          ctx,
          'console-no-role',
          { title: 'Chưa có vai trò', name: session.name, accountId: session.accountId },
          { operator },
          ctx.path === CONSOLE_PATH || ctx.path === `${CONSOLE_PATH}/` ? 200 : 403,
        );
      }
      if (me.status !== 200) return message(ctx, ['Đã có lỗi xảy ra', 'Something went wrong'], `<p role="alert">${t('nixa không trả lời được lúc này.', 'nixa cannot answer right now.')}</p>`, 502);
      const frame: Frame = { operator, permissions: me.body.permissions };
      const c: Call = {
        ctx,
        issuer: deps.issuer,
        session,
        me: me.body,
        csrf,
        params,
        form: (name) => {
          const v = form[name];
          return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
        },
        formAll: (name) => {
          const v = form[name];
          return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
        },
        api: call,
        page: (view, values, status = 200) => render(ctx, view, values, frame, status),
        discovery: async () => (await signIn.configuration()).serverMetadata() as Record<string, unknown>,
        may: (p) => me.body.permissions.includes(p),
      };
      await route.handle(c);
    } catch (err) {
      if (!(err instanceof SignInAgain)) throw err;
      cookies.clear(ctx);
      if (ctx.method === 'GET') return signIn.start(ctx, returnTo);
      return message(
        ctx,
        ['Phiên đã hết hạn', 'Your session has expired'],
        `<p role="alert">${t('Phiên làm việc với bảng điều khiển đã hết hạn nên thay đổi chưa được ghi. Hãy đăng nhập lại và làm lại.', 'Your console session expired, so the change was not written. Sign in again and redo it.')}</p><p><a class="button" href="${CONSOLE_PATH}/login">${t('Đăng nhập lại', 'Sign in again')}</a></p>`,
        401,
      );
    }
  }

  /** The console cannot reach nixa at its issuer: say where and why, and how to try again. */
  function unreachable(ctx: Context, err: IssuerUnreachableError): void {
    message(
      ctx,
      ['Bảng điều khiển chưa kết nối được với nixa', 'The console cannot reach nixa'],
      `<p role="alert">${t(
        `Bảng điều khiển đăng nhập người vận hành qua nixa tại địa chỉ công khai ${err.issuer} (NIXA_ISSUER), như mọi dịch vụ khác, nhưng từ máy chủ này địa chỉ đó không trả lời.`,
        `The console signs operators in through nixa at its public address ${err.issuer} (NIXA_ISSUER), as any service does, but from this server that address does not answer.`,
      )}</p><p lang="en">${e(err.why)}</p><p>${t(
        'Đăng nhập của người dân vào các dịch vụ không bị ảnh hưởng. Người quản trị hệ thống cần cho máy chủ này truy cập được địa chỉ trên (DNS, hoặc proxy phía trước nixa).',
        "Citizens' sign-ins to services are not affected. The system administrator needs to make that address reachable from this server (DNS, or the proxy in front of nixa).",
      )}</p><p><a class="button" href="${CONSOLE_PATH}/login">${t('Thử lại', 'Try again')}</a></p>`,
      503,
    );
  }

  return async function consoleRoutes(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== CONSOLE_PATH && !ctx.path.startsWith(`${CONSOLE_PATH}/`)) return next();
    try {
      await routeConsole(ctx);
    } catch (err) {
      if (!(err instanceof IssuerUnreachableError)) throw err;
      unreachable(ctx, err);
    }
  };

  async function routeConsole(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    if (method === 'GET' && ctx.path === `${CONSOLE_PATH}/console.css`) {
      ctx.type = 'text/css; charset=utf-8';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = readFileSync(join(VIEWS_DIR, 'console.css'), 'utf8');
      return;
    }
    if (method === 'GET' && ctx.path === `${CONSOLE_PATH}/login`) return signIn.start(ctx, typeof ctx.query.return === 'string' ? ctx.query.return : CONSOLE_PATH);
    if (method === 'GET' && ctx.path === `${CONSOLE_PATH}/callback`) return callback(ctx);
    if (method === 'POST' && ctx.path === `${CONSOLE_PATH}/logout`) return logout(ctx);
    const path = ctx.path === `${CONSOLE_PATH}/` ? CONSOLE_PATH : ctx.path;
    for (const r of table) {
      const m = r.regex.exec(path);
      if (!m) continue;
      if (r.method !== method) continue;
      const params = Object.fromEntries(r.names.map((n, i) => [n, m[i + 1]!]));
      return authenticated(ctx, r, params);
    }
    const known = table.some((r) => r.regex.test(path));
    if (known) {
      ctx.status = 405;
      return;
    }
    message(ctx, ['Không tìm thấy trang', 'Page not found'], `<p>${t('Bảng điều khiển không có trang này.', 'The console has no such page.')}</p><p><a href="${CONSOLE_PATH}">${t('Về trang tổng quan', 'Back to the console home')}</a></p>`, 404);
  };
}
