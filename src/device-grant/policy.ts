// The device grant's numbers (RFC 8628), in one place: how user codes look, how
// long a code lives, how often a device may poll, and how many unknown codes one
// address may type. Pure.

/**
 * oidc-provider's 'base-20' alphabet, BCDFGHJKLMNPQRSTVWXZ: consonants only, so no
 * 0/O or 1/I to confuse and no words to spell (RFC 8628 §6.1). Eight of them are
 * 20^8 ≈ 2.6·10^10 codes, shown as BCDF-GHJK.
 */
export const USER_CODE_CHARSET = 'base-20';
export const USER_CODE_MASK = '****-****';

/** How long a device code (and its user code) lives: long enough to walk to a phone and sign in. */
export const DEVICE_CODE_TTL_SECONDS = 600;

/**
 * How long a code's row is kept after it expires, so that a late citizen is told
 * "expired" (and a late device expired_token) rather than "no such code".
 */
export const DEVICE_CODE_KEPT_AFTER_EXPIRY_SECONDS = 600;

/**
 * The least time between two polls of one device code at the token endpoint
 * (RFC 8628 §3.2 `interval`, §3.5 slow_down). Announced in the device
 * authorization response; a poll sooner than this after the last one answered is
 * refused with slow_down, and does not count as the last one answered.
 */
export const POLL_INTERVAL_SECONDS = 5;

export interface GuessPolicy {
  /** The window opens at the first unknown code typed from an address. */
  windowSeconds: number;
  /** Unknown codes allowed in one window; the next attempt waits until it closes. */
  allowed: number;
}

/**
 * Unknown user codes per client address: ten in five minutes. A citizen who
 * mistypes gets several tries; a guesser gets about 2,900 codes a day from one
 * address, each a chance of (live codes)/2.6·10^10. Many citizens share one
 * address behind carrier-grade NAT, but few type wrong codes: correct, expired
 * and used codes are not counted.
 */
export const GUESS_POLICY: GuessPolicy = { windowSeconds: 300, allowed: 10 };

/** A code carried in a link (verification_uri_complete), fit to prefill the form: the characters a code can hold, at most 20. */
export function prefillUserCode(input: unknown): string {
  return typeof input === 'string' ? input.replace(/[^A-Za-z0-9 -]/g, '').slice(0, 20) : '';
}
