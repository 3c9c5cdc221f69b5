// CSRF tokens for nixa's own forms: an HMAC of the interaction uid under the
// current cookie key. Forms are also bound to the interaction cookie (SameSite=Lax,
// path-scoped), so a cross-site post fails twice over.
import { createHmac, timingSafeEqual } from 'node:crypto';

import { InvalidInputError } from '../errors/index.js';

export function csrfToken(cookieKeys: readonly string[], uid: string): string {
  return createHmac('sha256', cookieKeys[0]!).update(`csrf:${uid}`).digest('base64url');
}

/** Accepts a token made with any cookie key still valid (a rotation must not break open pages). */
export function checkCsrf(cookieKeys: readonly string[], uid: string, presented: unknown): void {
  if (typeof presented === 'string') {
    const got = Buffer.from(presented);
    for (const key of cookieKeys) {
      const want = Buffer.from(createHmac('sha256', key).update(`csrf:${uid}`).digest('base64url'));
      if (got.length === want.length && timingSafeEqual(got, want)) return;
    }
  }
  throw new InvalidInputError('csrf', 'the form expired or did not come from nixa; reload the page and try again');
}
