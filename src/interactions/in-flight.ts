// Which sign-ins this browser has sent to an identity source, in a cookie of
// nixa's own that only the source's callback receives. oidc-provider's interaction
// cookie is scoped to /interaction/<uid>, so the callback (one fixed redirect URI)
// would not know the browser's sign-in without a hop through that path; this
// cookie binds the callback to the browser directly.
//
// Signed with the cookie keys (as every nixa cookie), HttpOnly, and SameSite=Lax:
// the source sends the browser back with a top-level GET, on which Lax cookies are
// sent. Sources answer in the query (nixa asks for no response_mode), never by POST.
import type { Context } from 'koa';

import type { JourneyDeps } from './journey.js';

export const IN_FLIGHT_COOKIE = 'nixa_upstream_in_flight';

/** Sign-ins remembered at most: one per tab the citizen signs in from at once is plenty. */
const MAX_IN_FLIGHT = 5;
const UID = /^[A-Za-z0-9_-]{1,64}$/;

export interface InFlightCookie {
  /** The callback's path: the only one the cookie is sent to. */
  path: string;
  /** How long the cookie lives: an interaction's lifetime. */
  maxAgeSeconds: number;
}

/** The cookie's place and lifetime for this instance: the path of its registered redirect URI, as long as a sign-in lasts. */
export function inFlightCookie(deps: Pick<JourneyDeps, 'upstream' | 'config'>): InFlightCookie {
  return { path: new URL(deps.upstream.callbackUrl).pathname, maxAgeSeconds: deps.config.ttl.Interaction };
}

/** The sign-ins this browser has upstream logins in flight for, oldest first; none when the cookie is absent or its signature wrong. */
export function inFlightSignIns(ctx: Context): string[] {
  const value = ctx.cookies.get(IN_FLIGHT_COOKIE, { signed: true });
  return value ? value.split('.').filter((uid) => UID.test(uid)) : [];
}

/** Adds a sign-in as the newest; the oldest leave beyond the limit (their callbacks then take the hop). */
export function rememberInFlight(ctx: Context, cookie: InFlightCookie, uid: string): void {
  const uids = [...inFlightSignIns(ctx).filter((u) => u !== uid), uid].slice(-MAX_IN_FLIGHT);
  write(ctx, cookie, uids);
}

/** Drops a sign-in whose upstream login is complete. */
export function forgetInFlight(ctx: Context, cookie: InFlightCookie, uid: string): void {
  const before = inFlightSignIns(ctx);
  const uids = before.filter((u) => u !== uid);
  if (uids.length !== before.length) write(ctx, cookie, uids);
}

function write(ctx: Context, cookie: InFlightCookie, uids: string[]): void {
  const options = { signed: true, httpOnly: true, sameSite: 'lax' as const, path: cookie.path };
  if (uids.length) ctx.cookies.set(IN_FLIGHT_COOKIE, uids.join('.'), { ...options, maxAge: cookie.maxAgeSeconds * 1000 });
  else ctx.cookies.set(IN_FLIGHT_COOKIE, null, options);
}
