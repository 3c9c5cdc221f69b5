// Vietnamese by default, English one click away. Pages carry both languages
// (English in lang="en" elements); the citizen's choice, kept in a cookie, decides
// whether the English is shown beside the Vietnamese. The switch is a link in the
// page header that works without script.
//
// The switch never replays the request that produced the page: it comes back to a
// URL that only shows something. A page that is not safe to ask for again (an error
// from the source's callback, from /auth) names such a URL with languageReturnsTo,
// e.g. /error/<code>, which renders the same error without running anything.
import type { Context, Next } from 'koa';

export const LANGUAGE_COOKIE = 'nixa_lang';
export const LANGUAGE_PATH = '/language';
const MARKER = '<!-- nixa:language -->';
const BACK = Symbol('nixa language back');

type Choice = 'vi' | 'vi-en';

function choice(ctx: Context): Choice {
  return ctx.cookies.get(LANGUAGE_COOKIE) === 'vi-en' ? 'vi-en' : 'vi';
}

/** Only a path on this site: never an open redirect. */
function safeBack(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
}

/**
 * Where the language switch on this response's page goes back to: a path on this
 * site that shows the same page without side effects (no audit, no metric, nothing
 * consumed). Its query must hold nothing secret: the URL lands in history and logs.
 */
export function languageReturnsTo(ctx: Context, url: string): void {
  (ctx.state as Record<symbol, string>)[BACK] = safeBack(url);
}

/**
 * The page the switch comes back to: the one the page named; for a form's answer
 * in a sign-in, that sign-in's own page (it shows the current step); for a GET
 * that failed without naming one, nixa's home (asking again could replay what
 * failed, as a source's callback would); else the path itself, without the query
 * (it may carry codes or hostile parameters; a GET of a form's address never
 * replays the form).
 */
function backFor(ctx: Context): string {
  const named = (ctx.state as Record<symbol, string | undefined>)[BACK];
  if (named) return named;
  const get = ctx.method === 'GET' || ctx.method === 'HEAD';
  const signIn = /^\/interaction\/[A-Za-z0-9_-]{1,64}/.exec(ctx.path);
  if (!get && signIn) return signIn[0];
  if (get && ctx.status >= 400) return '/';
  return ctx.path;
}

export async function language(ctx: Context, next: Next): Promise<void> {
  if (ctx.method === 'GET' && ctx.path === LANGUAGE_PATH) {
    const show: Choice = ctx.query.show === 'vi-en' ? 'vi-en' : 'vi';
    ctx.cookies.set(LANGUAGE_COOKIE, show, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 365 * 86_400_000, signed: false });
    ctx.redirect(safeBack(ctx.query.back));
    return;
  }
  await next();
  if (typeof ctx.body !== 'string' || !ctx.body.includes(MARKER)) return;
  const current = choice(ctx);
  const back = encodeURIComponent(backFor(ctx));
  const link =
    current === 'vi'
      ? `<a class="language" href="${LANGUAGE_PATH}?show=vi-en&amp;back=${back}" lang="en" hreflang="en">English</a>`
      : `<a class="language" href="${LANGUAGE_PATH}?show=vi&amp;back=${back}" hreflang="vi">Chỉ tiếng Việt</a>`;
  ctx.body = ctx.body.replace(MARKER, link).replace('<html lang="vi">', current === 'vi' ? '<html lang="vi" class="lang-vi">' : '<html lang="vi">');
}
