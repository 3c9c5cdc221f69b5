// The WWW-Authenticate value a service answers with when it refuses a token:
// RFC 6750 §3 for a bad token, RFC 9470 §3 when the authentication behind a good
// token is not strong enough (or not recent enough).
import type { VerifyFailure } from './types.js';

/**
 * RFC 6750 §3 limits error_description to %x20-21 / %x23-5B / %x5D-7E: printable
 * ASCII without `"` and `\`. Anything else is replaced so that the header stays
 * well formed whatever the text.
 */
export function headerSafe(text: string): string {
  return text.replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '?');
}

const param = (name: string, value: string) => `${name}="${headerSafe(value)}"`;

/** The challenge for a refused token, e.g. `Bearer error="invalid_token", error_description="The token has expired"`. */
export function bearerChallenge(failure: VerifyFailure): string {
  const params = [param('error', failure.error), param('error_description', failure.description)];
  if (failure.error === 'insufficient_user_authentication') {
    params.push(param('acr_values', failure.acrValues.join(' ')));
    if (failure.maxAge !== undefined) params.push(param('max_age', String(failure.maxAge)));
  }
  return `Bearer ${params.join(', ')}`;
}

/** RFC 6750 §3.1: a request without any token gets a challenge with no error code. */
export const BARE_CHALLENGE = 'Bearer';
