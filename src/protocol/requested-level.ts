// The assurance level a sign-in needs: the least of the service's acceptable nixa
// acr values (acr_values, or an essential acr in the claims parameter), raised to
// the minimum its operator set (`nixa clients update --min-level`). Levels are
// ordered, so a session at high meets a request for substantial (oidc-provider's
// own check matches acr values exactly).
import { highest, LEVELS, levelOfAcr, lowest, type Level } from '../assurance/index.js';

/**
 * Where the service's minimum travels with the request. Not a parameter services
 * send: provider.ts declares it as an extra parameter whose check always replaces
 * whatever came in with the value registered for the client, so it is stored with
 * the request, seen by the interaction policy and in every interaction's params,
 * and every reader of the asked level (chooser, step-up, consent) gets the minimum
 * from this one function without looking the client up.
 */
export const SERVICE_MINIMUM_PARAM = 'nixa_service_min_level';

/** The service's registered minimum, as carried in the request's params. */
export function serviceMinimum(params: Record<string, unknown>): Level | undefined {
  const v = params[SERVICE_MINIMUM_PARAM];
  return (LEVELS as readonly unknown[]).includes(v) ? (v as Level) : undefined;
}

interface AcrClaimRequest {
  essential?: boolean;
  value?: string;
  values?: string[];
}

function levelsOf(acrs: readonly unknown[]): Level[] {
  return acrs.map((a) => (typeof a === 'string' ? levelOfAcr(a) : undefined)).filter((l): l is Level => l !== undefined);
}

/** The level a sign-in needs: what the service asked for, but never below its registered minimum. */
export function requestedLevel(params: Record<string, unknown>, claims?: { id_token?: { acr?: AcrClaimRequest | null } }): Level | undefined {
  const essential = claims?.id_token?.acr;
  const fromClaims = essential?.essential ? levelsOf(essential.values ?? (essential.value ? [essential.value] : [])) : [];
  const fromParam = levelsOf(String(params.acr_values ?? '').split(' '));
  const asked = fromClaims.length ? fromClaims : fromParam;
  const levels = [...(asked.length ? [lowest(...asked)] : []), ...[serviceMinimum(params)].filter((l): l is Level => l !== undefined)];
  return levels.length ? highest(...levels) : undefined;
}

/** The OIDC `claims` request parameter of an interaction's params (oidc-provider has already refused malformed ones). */
export interface ClaimsRequest {
  id_token?: Record<string, unknown> & { acr?: AcrClaimRequest | null };
  userinfo?: Record<string, unknown>;
}

export function claimsRequest(params: Record<string, unknown>): ClaimsRequest | undefined {
  if (!params.claims) return undefined;
  try {
    return JSON.parse(String(params.claims)) as ClaimsRequest;
  } catch {
    return undefined;
  }
}

/** The level an interaction needs, from its params (acr_values, an essential acr claim, the service's minimum). */
export function requestedLevelOf(params: Record<string, unknown>): Level | undefined {
  return requestedLevel(params, claimsRequest(params));
}

/** What a sign-in asks of the authentication itself: a level, and whether it must be fresh. */
export interface RequestedAuthentication {
  level: Level | undefined;
  /** prompt=login: the citizen must authenticate during this sign-in. */
  login: boolean;
  /** max_age: the authentication must be at most this many seconds old. */
  maxAge: number | undefined;
}

export function requestedAuthentication(params: Record<string, unknown>): RequestedAuthentication {
  // oidc-provider has already refused a max_age that is not a non-negative integer.
  const maxAge = params.max_age === undefined || params.max_age === null || params.max_age === '' ? undefined : Number(params.max_age);
  return {
    level: requestedLevelOf(params),
    login: String(params.prompt ?? '').split(' ').includes('login'),
    maxAge: maxAge !== undefined && Number.isInteger(maxAge) && maxAge >= 0 ? maxAge : undefined,
  };
}
