// The assurance level a service asks for: the least of its acceptable nixa acr
// values (acr_values, or an essential acr in the claims parameter), or the given
// client defaults. Levels are ordered, so a session at high meets a
// request for substantial (oidc-provider's own check matches acr values exactly).
import { levelOfAcr, lowest, type Level } from '../assurance/index.js';

interface AcrClaimRequest {
  essential?: boolean;
  value?: string;
  values?: string[];
}

function levelsOf(acrs: readonly unknown[]): Level[] {
  return acrs.map((a) => (typeof a === 'string' ? levelOfAcr(a) : undefined)).filter((l): l is Level => l !== undefined);
}

export function requestedLevel(params: Record<string, unknown>, claims?: { id_token?: { acr?: AcrClaimRequest | null } }, clientDefaults?: readonly string[]): Level | undefined {
  const essential = claims?.id_token?.acr;
  const fromClaims = essential?.essential ? levelsOf(essential.values ?? (essential.value ? [essential.value] : [])) : [];
  const fromParam = levelsOf(String(params.acr_values ?? '').split(' '));
  const asked = fromClaims.length ? fromClaims : fromParam.length ? fromParam : levelsOf(clientDefaults ?? []);
  return asked.length ? lowest(...asked) : undefined;
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

/** The level an interaction asks for, from its params (acr_values, an essential acr claim). */
export function requestedLevelOf(params: Record<string, unknown>): Level | undefined {
  return requestedLevel(params, claimsRequest(params));
}
