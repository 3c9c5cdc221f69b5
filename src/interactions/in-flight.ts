// Which sign-ins this browser has sent to an identity source, in cookies of nixa's
// own that only the source's callback receives. oidc-provider's interaction cookie
// is scoped to /interaction/<uid>, so the callback (one fixed redirect URI) would not
// know the browser's sign-in without a hop through that path; these cookies bind the
// callback to the browser directly.
//
// One cookie per sign-in, its uid in the name: a cookie scoped to the callback is
// not sent where the next sign-in begins (/interaction/<uid>/source), so one cookie
// holding a list could not be added to, and a second tab would wipe the first.
// Signed with the cookie keys (the name is signed too, so the uid cannot be changed),
// HttpOnly, SameSite=Lax: the source sends the browser back with a top-level GET, on
// which Lax cookies are sent. Sources answer in the query (nixa asks for no
// response_mode), never by POST. Each lives as long as a sign-in can.
import type { Context } from 'koa';

import type { JourneyDeps } from './journey.js';

export const IN_FLIGHT_COOKIE_PREFIX = 'nixa_in_flight.';
export const inFlightCookieName = (uid: string) => `${IN_FLIGHT_COOKIE_PREFIX}${uid}`;

/** Cookies read at most (the newest): a browser has a handful of sign-ins going at once, never more. */
const MAX_READ = 8;
const NAMES = /(?:^|;)\s*nixa_in_flight\.([A-Za-z0-9_-]{1,64})=/g;

export interface InFlightCookie {
  /** The callback's path: the only one the cookies are sent to. */
  path: string;
  /** How long a cookie lives: an interaction's lifetime. */
  maxAgeSeconds: number;
}

/** Where and how long, for this instance: the path of its registered redirect URI, as long as a sign-in lasts. */
export function inFlightCookie(deps: Pick<JourneyDeps, 'upstream' | 'config'>): InFlightCookie {
  return { path: new URL(deps.upstream.callbackUrl).pathname, maxAgeSeconds: deps.config.ttl.Interaction };
}

/** The sign-ins this browser has upstream logins in flight for, in the order the browser sent them (oldest first); only correctly signed cookies count. */
export function inFlightSignIns(ctx: Context): string[] {
  const header = ctx.get('cookie');
  const uids = [...new Set([...header.matchAll(NAMES)].map((m) => m[1]!))].slice(-MAX_READ);
  return uids.filter((uid) => ctx.cookies.get(inFlightCookieName(uid), { signed: true }) === '1');
}

export function rememberInFlight(ctx: Context, cookie: InFlightCookie, uid: string): void {
  ctx.cookies.set(inFlightCookieName(uid), '1', { ...options(cookie), maxAge: cookie.maxAgeSeconds * 1000 });
}

/** Drops a sign-in whose upstream login is complete. */
export function forgetInFlight(ctx: Context, cookie: InFlightCookie, uid: string): void {
  ctx.cookies.set(inFlightCookieName(uid), null, options(cookie));
}

const options = (cookie: InFlightCookie) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, path: cookie.path });
