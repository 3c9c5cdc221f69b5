// A guard for an API that accepts nixa JWT access tokens: give it the
// Authorization header, get back the status and WWW-Authenticate to answer with.
// Works with any framework (Koa: ctx.get('authorization'); Node: req.headers.authorization).
import type { Level } from './levels.js';
import { BARE_CHALLENGE, bearerChallenge, headerSafe } from './challenge.js';
import { toLevel } from './verifier.js';
import type { LevelOrAcr, NixaClaims, Verifier, VerifyFailure } from './types.js';

export type GuardOutcome =
  | { status: 200; claims: NixaClaims; acr: string; level: Level }
  | { status: 400 | 401; wwwAuthenticate: string; failure?: VerifyFailure };

/** RFC 6750 §2.1: `Bearer` then one b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Returns a check for requests that need the given level (and, optionally, an
 * authentication no older than maxAge seconds). Outcomes:
 * - 200 with the claims;
 * - 401 `Bearer` when there is no bearer token (RFC 6750 §3.1: no error code);
 * - 400 `invalid_request` when the Authorization header is malformed or repeated;
 * - 401 `invalid_token` (RFC 6750) when the token cannot be trusted;
 * - 401 `insufficient_user_authentication` with acr_values (RFC 9470 §3) when the
 *   level is too low or the authentication too old: the client sends the citizen
 *   back to nixa with those acr_values to step up.
 * Throws NixaUnavailableError when nixa's keys cannot be fetched: answer 503.
 */
export function requireLevel(
  verifier: Verifier,
  minimum: LevelOrAcr,
  options: { maxAge?: number } = {},
): (authorization: string | string[] | undefined | null) => Promise<GuardOutcome> {
  const requirements = options.maxAge === undefined ? { minimumAcr: minimum } : { minimumAcr: minimum, maxAge: options.maxAge };
  // Fail at start-up on a misspelt level, not on the first request.
  toLevel(minimum, 'requireLevel minimum');
  if (options.maxAge !== undefined && !(Number.isFinite(options.maxAge) && options.maxAge >= 0)) {
    throw new TypeError('maxAge must be a number of seconds, 0 or more');
  }
  return async (authorization) => {
    if (Array.isArray(authorization)) {
      return { status: 400, wwwAuthenticate: `Bearer error="invalid_request", error_description="${headerSafe('Send one Authorization header')}"` };
    }
    if (!authorization || !/^bearer(\s|$)/i.test(authorization.trim())) return { status: 401, wwwAuthenticate: BARE_CHALLENGE };
    const token = BEARER.exec(authorization.trim())?.[1];
    if (!token) {
      return { status: 400, wwwAuthenticate: `Bearer error="invalid_request", error_description="The Authorization header must be Bearer and one token"` };
    }
    const result = await verifier.verifyAccessToken(token, requirements);
    if (result.ok) return { status: 200, claims: result.claims, acr: result.acr, level: result.level };
    return { status: 401, wwwAuthenticate: bearerChallenge(result), failure: result };
  };
}
