// The WWW-Authenticate value a service answers with when it refuses a token:
// RFC 6750 §3 for a bad token, RFC 9470 §3 when the authentication behind a good
// token is not strong enough (or not recent enough), RFC 9449 §7.1 for DPoP.
import type { DPoPFailure, VerifyFailure } from './types.js';

/**
 * RFC 6750 §3 limits error_description to %x20-21 / %x23-5B / %x5D-7E: printable
 * ASCII without `"` and `\`. Anything else is replaced so that the header stays
 * well formed whatever the text.
 */
export function headerSafe(text: string): string {
  return text.replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '?');
}

const param = (name: string, value: string) => `${name}="${headerSafe(value)}"`;

function failureParams(failure: DPoPFailure): string[] {
  const params = [param('error', failure.error), param('error_description', failure.description)];
  if (failure.error === 'insufficient_user_authentication') {
    params.push(param('acr_values', failure.acrValues.join(' ')));
    if (failure.maxAge !== undefined) params.push(param('max_age', String(failure.maxAge)));
  }
  return params;
}

/** The challenge for a refused token, e.g. `Bearer error="invalid_token", error_description="The token has expired"`. */
export function bearerChallenge(failure: VerifyFailure): string {
  return `Bearer ${failureParams(failure).join(', ')}`;
}

/**
 * The DPoP challenge (RFC 9449 §7.1) for a refused request, with the proof
 * algorithms the API accepts, e.g.
 * `DPoP error="invalid_dpop_proof", error_description="…", algs="ES256 PS256"`;
 * the RFC 9470 step-up parameters (acr_values, max_age) as with Bearer. Without a
 * failure: the bare challenge for a request without a token.
 */
export function dpopChallenge(failure: DPoPFailure | undefined, algs: readonly string[]): string {
  const params = failure ? failureParams(failure) : [];
  params.push(param('algs', algs.join(' ')));
  return `DPoP ${params.join(', ')}`;
}

/** RFC 6750 §3.1: a request without any token gets a challenge with no error code. */
export const BARE_CHALLENGE = 'Bearer';
