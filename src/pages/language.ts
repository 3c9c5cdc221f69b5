// Vietnamese by default, English one click away. Pages carry both languages
// (English in lang="en" elements); the citizen's choice, kept in a cookie, decides
// whether the English is shown beside the Vietnamese. The switch is a link in the
// page header that works without script.
import type { Context, Next } from 'koa';

export const LANGUAGE_COOKIE = 'nixa_lang';
export const LANGUAGE_PATH = '/language';
const MARKER = '<!-- nixa:language -->';

type Choice = 'vi' | 'vi-en';

function choice(ctx: Context): Choice {
  return ctx.cookies.get(LANGUAGE_COOKIE) === 'vi-en' ? 'vi-en' : 'vi';
}

/** Only a path on this site: never an open redirect. */
function safeBack(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
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
  // The path only: a query string may carry codes or hostile parameters, and the
  // pages worth coming back to (the sign-in steps) keep their state in cookies.
  const back = encodeURIComponent(ctx.path);
  const link =
    current === 'vi'
      ? `<a class="language" href="${LANGUAGE_PATH}?show=vi-en&amp;back=${back}" lang="en" hreflang="en">English</a>`
      : `<a class="language" href="${LANGUAGE_PATH}?show=vi&amp;back=${back}" hreflang="vi">Chỉ tiếng Việt</a>`;
  ctx.body = ctx.body.replace(MARKER, link).replace('<html lang="vi">', current === 'vi' ? '<html lang="vi" class="lang-vi">' : '<html lang="vi">');
}
