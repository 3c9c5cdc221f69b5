// What nixa refuses at its edge, before any of its own handlers runs: parameters
// carrying control characters, and form posts from another site. The rules are
// pure functions (the control-character one in errors/, since the admin API
// applies it to JSON bodies it parses itself); the middleware applies them to nixa's own routes (the protocol
// engine's endpoints answer malformed input in their standard OAuth form, see
// protocol/adapter.ts).
import type { Context, Middleware, Next } from 'koa';

import { CrossSiteRequestError, refuseControlCharacters } from '../errors/index.js';

/**
 * Whether a state-changing request came from another site. Browsers say so in
 * Sec-Fetch-Site (every current one sends it): only "same-origin" (and "none", a
 * request the user made by hand) pass; "same-site" does not, since a sibling
 * sub-domain is another service. Without it (an older browser), a present Origin
 * must be one of nixa's own. "Origin: null" passes: nixa's pages send
 * Referrer-Policy: no-referrer, under which browsers send "null" with a form post
 * even from nixa's own page; such a post is still bound to the CSRF token and
 * the SameSite=Lax cookies, as is a post with no Origin at all.
 */
export function isCrossSite(headers: { origin?: string | undefined; secFetchSite?: string | undefined }, ownOrigins: readonly string[]): boolean {
  const site = headers.secFetchSite?.toLowerCase();
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = headers.origin;
  return !!origin && origin !== 'null' && !ownOrigins.includes(origin);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses (403) unsafe requests from another site to the routes `guarded`
 * names: the ones a browser reaches with nixa's cookies (sign-in forms, the
 * account page, the console). The protocol endpoints a service calls from its
 * own site (/auth, /token, …) are not guarded; nor is the bearer-token admin API.
 */
export function refuseCrossSiteForms(ownOrigins: readonly string[], guarded: (path: string) => boolean): Middleware {
  return async function crossSiteForms(ctx: Context, next: Next): Promise<void> {
    if (!SAFE_METHODS.has(ctx.method) && guarded(ctx.path)) {
      const headers = { origin: ctx.get('Origin') || undefined, secFetchSite: ctx.get('Sec-Fetch-Site') || undefined };
      if (isCrossSite(headers, ownOrigins)) throw new CrossSiteRequestError();
    }
    await next();
  };
}

/**
 * On nixa's own routes (`own`), refuses a query or form parameter with a control
 * character before any handler reads it. (Ids in the path are the routes' own
 * to judge: an id no record has is "not found", NUL or not.) `parse` parses the route's form body
 * (if it takes one) so that the check sees the fields the handler will.
 */
export function refuseMalformedParameters(own: (path: string) => boolean, parse: (ctx: Context) => Promise<void>): Middleware {
  return async function wellFormed(ctx: Context, next: Next): Promise<void> {
    if (own(ctx.path)) {
      refuseControlCharacters(ctx.query);
      await parse(ctx);
      refuseControlCharacters((ctx.request as { body?: unknown }).body);
    }
    await next();
  };
}
