// Which source the chooser offers first. The citizen chooses it at /account; the
// chooser runs before nixa knows who is in front of it, so the browser remembers
// the choice in a long-lived cookie (set at sign-in and whenever it changes).
// The cookie holds a source id, nothing about the person, and only reorders the
// list: a value naming no offered source changes nothing.
import type { Context } from 'koa';

export const PREFERRED_SOURCE_COOKIE = 'nixa_preferred_source';
/** 400 days: the most browsers keep a cookie. */
const COOKIE_MAX_AGE_MS = 400 * 24 * 3600 * 1000;
/** Source ids as `nixa sources add` accepts them (sources/schema.ts). */
const SOURCE_ID = /^[a-z0-9][a-z0-9-]{1,40}$/;

/** The sources with the preferred one first, the others in their order; the same list when it names none of them. */
export function preferredFirst<S extends { id: string }>(sources: readonly S[], preferred: string | undefined): S[] {
  const i = preferred === undefined ? -1 : sources.findIndex((s) => s.id === preferred);
  return i <= 0 ? [...sources] : [sources[i]!, ...sources.slice(0, i), ...sources.slice(i + 1)];
}

/** The source this browser was asked to offer first, if the cookie holds a plausible id. */
export function preferredSourceOf(ctx: Pick<Context, 'cookies'>): string | undefined {
  const v = ctx.cookies.get(PREFERRED_SOURCE_COOKIE);
  return v && SOURCE_ID.test(v) ? v : undefined;
}

/** Remembers the choice in this browser (undefined: forgets it). */
export function rememberPreferredSource(ctx: Pick<Context, 'cookies'>, sourceId: string | undefined): void {
  if (sourceId === undefined || !SOURCE_ID.test(sourceId)) {
    ctx.cookies.set(PREFERRED_SOURCE_COOKIE, null, { path: '/' });
    return;
  }
  ctx.cookies.set(PREFERRED_SOURCE_COOKIE, sourceId, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: COOKIE_MAX_AGE_MS, overwrite: true });
}

/**
 * At sign-in: a browser that remembers no preference learns the account's, read
 * by the sign-in's own statement with the account (accounts' selectForSignIn /
 * signInStateOf), so remembering it costs no round trip.
 */
export function rememberAtSignIn(ctx: Pick<Context, 'cookies'>, preferred: string | undefined): void {
  if (preferred && !preferredSourceOf(ctx)) rememberPreferredSource(ctx, preferred);
}
