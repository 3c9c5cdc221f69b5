// A guard for an API that accepts nixa JWT access tokens: give it the
// Authorization header (and, for DPoP, the DPoP header, method and URL), get back
// the status, WWW-Authenticate and DPoP-Nonce to answer with.
// Works with any framework (Koa: ctx.get('authorization'); Node: req.headers.authorization).
import type { Level } from './levels.js';
import { BARE_CHALLENGE, bearerChallenge, dpopChallenge, headerSafe } from './challenge.js';
import { toLevel } from './verifier.js';
import type { DPoPFailure, LevelOrAcr, NixaClaims, Requirements, Verifier, VerifyFailure } from './types.js';

export type GuardOutcome =
  | { status: 200; claims: NixaClaims; acr: string; level: Level }
  | { status: 400 | 401; wwwAuthenticate: string; failure?: VerifyFailure };

/**
 * `required`: only DPoP-bound tokens with a proof (what a FAPI 2.0 API uses);
 * `allowed`: DPoP-bound tokens with a proof, and unbound tokens as Bearer.
 */
export type DPoPMode = 'required' | 'allowed';

/** What a DPoP guard needs from the request, as received. */
export interface ProtectedRequest {
  /** The Authorization header(s), e.g. `DPoP eyJ…`. */
  authorization: string | string[] | undefined | null;
  /** The DPoP header(s): one proof (RFC 9449 §4.1). */
  dpop: string | string[] | undefined | null;
  /** The method as on the request line, e.g. `GET`. */
  method: string;
  /** The absolute URL the client called (behind a proxy: the public one); query and fragment are ignored. */
  url: string | URL;
}

export type DPoPGuardOutcome =
  | {
      status: 200;
      claims: NixaClaims;
      acr: string;
      level: Level;
      /** The thumbprint of the proof's key (= the token's cnf.jkt); absent for a Bearer token under `dpop: 'allowed'`. */
      jkt?: string;
      /** Set when the verifier has nonces: answer with a `DPoP-Nonce` header of this value. */
      dpopNonce?: string;
    }
  | { status: 400 | 401; wwwAuthenticate: string; failure?: DPoPFailure; dpopNonce?: string };

/** RFC 6750 §2.1 and RFC 9449 §7.1: the scheme then one token68. */
const CREDENTIALS = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i;

export interface GuardOptions {
  /** The citizen must have authenticated at most this many seconds ago (RFC 9470 max_age). */
  maxAge?: number;
}

/**
 * Returns a check for requests that need the given level (and, optionally, an
 * authentication no older than maxAge seconds). Outcomes:
 * - 200 with the claims;
 * - 401 `Bearer` when there is no bearer token (RFC 6750 §3.1: no error code);
 * - 400 `invalid_request` when the Authorization header is malformed or repeated;
 * - 401 `invalid_token` (RFC 6750) when the token cannot be trusted, or is bound
 *   to a DPoP key (RFC 9449 §7.2: a bound token is never a bearer token);
 * - 401 `insufficient_user_authentication` with acr_values (RFC 9470 §3) when the
 *   level is too low or the authentication too old: the client sends the citizen
 *   back to nixa with those acr_values to step up.
 * With `dpop`, the check takes the whole request (see ProtectedRequest) and answers
 * with the DPoP scheme (RFC 9449 §7.1): also 401 `invalid_dpop_proof`, and 401
 * `use_dpop_nonce` with `dpopNonce` when the verifier has nonces.
 * Throws NixaUnavailableError when nixa's keys cannot be fetched: answer 503.
 */
export function requireLevel(
  verifier: Verifier,
  minimum: LevelOrAcr,
  options?: GuardOptions & { dpop?: undefined },
): (authorization: string | string[] | undefined | null) => Promise<GuardOutcome>;
export function requireLevel(verifier: Verifier, minimum: LevelOrAcr, options: GuardOptions & { dpop: DPoPMode }): (request: ProtectedRequest) => Promise<DPoPGuardOutcome>;
export function requireLevel(
  verifier: Verifier,
  minimum: LevelOrAcr,
  options: GuardOptions & { dpop?: DPoPMode | undefined } = {},
): ((authorization: string | string[] | undefined | null) => Promise<GuardOutcome>) | ((request: ProtectedRequest) => Promise<DPoPGuardOutcome>) {
  const requirements: Requirements = options.maxAge === undefined ? { minimumAcr: minimum } : { minimumAcr: minimum, maxAge: options.maxAge };
  // Fail at start-up on a misspelt level or mode, not on the first request.
  toLevel(minimum, 'requireLevel minimum');
  if (options.maxAge !== undefined && !(Number.isFinite(options.maxAge) && options.maxAge >= 0)) {
    throw new TypeError('maxAge must be a number of seconds, 0 or more');
  }
  if (options.dpop !== undefined && options.dpop !== 'required' && options.dpop !== 'allowed') {
    throw new TypeError(`dpop must be 'required' or 'allowed'; got "${String(options.dpop)}"`);
  }
  const bearer = bearerGuard(verifier, requirements);
  return options.dpop === undefined ? bearer : dpopGuard(verifier, requirements, options.dpop, bearer);
}

function bearerGuard(verifier: Verifier, requirements: Requirements) {
  return async (authorization: string | string[] | undefined | null): Promise<GuardOutcome> => {
    if (Array.isArray(authorization)) {
      return { status: 400, wwwAuthenticate: `Bearer error="invalid_request", error_description="${headerSafe('Send one Authorization header')}"` };
    }
    if (!authorization || !/^bearer(\s|$)/i.test(authorization.trim())) return { status: 401, wwwAuthenticate: BARE_CHALLENGE };
    const match = CREDENTIALS.exec(authorization.trim());
    const token = match && match[1]!.toLowerCase() === 'bearer' ? match[2] : undefined;
    if (!token) {
      return { status: 400, wwwAuthenticate: `Bearer error="invalid_request", error_description="The Authorization header must be Bearer and one token"` };
    }
    const result = await verifier.verifyAccessToken(token, requirements);
    if (result.ok) return { status: 200, claims: result.claims, acr: result.acr, level: result.level };
    return { status: 401, wwwAuthenticate: bearerChallenge(result), failure: result };
  };
}

function dpopGuard(verifier: Verifier, requirements: Requirements, mode: DPoPMode, bearer: ReturnType<typeof bearerGuard>) {
  const algs = verifier.dpopAlgorithms;
  // RFC 9449 §7.2: an API taking both schemes offers both.
  const bare = mode === 'required' ? dpopChallenge(undefined, algs) : `${BARE_CHALLENGE}, ${dpopChallenge(undefined, algs)}`;
  const badRequest = (description: string) => ({
    status: 400 as const,
    wwwAuthenticate: `${mode === 'required' ? 'DPoP' : 'Bearer'} error="invalid_request", error_description="${headerSafe(description)}"`,
  });
  const refused = (failure: DPoPFailure) => ({ status: 401 as const, wwwAuthenticate: dpopChallenge(failure, algs), failure });
  const badProof = (description: string) => refused({ ok: false, error: 'invalid_dpop_proof', description });

  return async (request: ProtectedRequest): Promise<DPoPGuardOutcome> => {
    const { authorization, dpop } = request;
    if (Array.isArray(authorization)) return badRequest('Send one Authorization header');
    const scheme = /^(\S+)/.exec(authorization?.trim() ?? '')?.[1]?.toLowerCase();
    if (scheme !== 'bearer' && scheme !== 'dpop') return { status: 401, wwwAuthenticate: bare };
    if (scheme === 'bearer') {
      if (mode === 'allowed') return bearer(authorization);
      return refused({ ok: false, error: 'invalid_token', description: 'This API accepts only DPoP-bound tokens, with the DPoP scheme and a proof' });
    }
    const accessToken = CREDENTIALS.exec(authorization!.trim())?.[2];
    if (!accessToken) return badRequest('The Authorization header must be DPoP and one token');
    // Node joins repeated headers with ", ", which no compact JWS contains.
    if ((Array.isArray(dpop) && dpop.length > 1) || (typeof dpop === 'string' && dpop.includes(','))) return badProof('Send one DPoP proof');
    const proof = (Array.isArray(dpop) ? dpop[0] : dpop)?.trim() ?? '';

    const result = await verifier.verifyDPoPAccessToken({ accessToken, proof, method: request.method, url: request.url }, requirements);
    const nonce = result.ok || result.error !== 'use_dpop_nonce' ? await verifier.dpopNonce() : result.nonce;
    const withNonce = nonce === undefined ? {} : { dpopNonce: nonce };
    if (result.ok) return { status: 200, claims: result.claims, acr: result.acr, level: result.level, jkt: result.jkt, ...withNonce };
    return { ...refused(result), ...withNonce };
  };
}
