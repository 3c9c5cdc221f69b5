// Consent policy, pure: which claims a service asks for, whether the citizen must be
// asked (again), and exactly what may be released. A service sees only claims of
// scopes it is registered for, that it asked for and that the citizen granted.

export type ConsentScope = 'openid' | 'profile' | 'phone' | 'address' | 'national_id';

/** The claims each scope stands for. `place_of_origin` (quê quán) is a nixa claim. */
export const SCOPE_CLAIMS: Readonly<Record<ConsentScope, string[]>> = Object.freeze({
  openid: ['sub'],
  profile: ['name', 'birthdate', 'gender', 'place_of_origin'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
  national_id: ['national_id'],
});

const SCOPES = Object.keys(SCOPE_CLAIMS) as ConsentScope[];

/** The OIDC Core §5.5 `claims` request parameter; only the claim names matter here. */
export interface ClaimsParameter {
  id_token?: Record<string, unknown | null>;
  userinfo?: Record<string, unknown | null>;
}

const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();

function namesIn(member: unknown): string[] {
  return member !== null && typeof member === 'object' && !Array.isArray(member) ? Object.keys(member) : [];
}

/**
 * The claims a request stands for: those of its scopes the client may ask for, plus
 * claims named one by one in the `claims` parameter (id_token or userinfo) that
 * belong to a scope the client may ask for, even if that scope was not requested,
 * so a service can ask for less than a whole scope. Unknown scopes and claims
 * (offline_access, email, acr, …) contribute nothing. `allowedScopes` are the
 * client's registered scopes; without it every scope above is allowed. Sorted, unique.
 */
export function requestedClaims(scopes: string[], claimsParameter?: ClaimsParameter, allowedScopes?: string[]): string[] {
  const allowed = SCOPES.filter((s) => allowedScopes === undefined || allowedScopes.includes(s));
  const fromScopes = allowed.filter((s) => scopes.includes(s)).flatMap((s) => SCOPE_CLAIMS[s]);
  const allowedClaims = new Set(allowed.flatMap((s) => SCOPE_CLAIMS[s]));
  const named = [...namesIn(claimsParameter?.id_token), ...namesIn(claimsParameter?.userinfo)].filter((c) =>
    allowedClaims.has(c),
  );
  return sortedUnique([...fromScopes, ...named]);
}

/**
 * What the citizen must still agree to. A service that asks for the same claims or
 * fewer than were granted is not asked again; one that asks for more is asked for
 * the new claims only.
 */
export function consentDiff(requested: string[], alreadyGranted: string[]): { missing: string[]; satisfied: boolean } {
  const granted = new Set(alreadyGranted);
  const missing = sortedUnique(requested.filter((c) => !granted.has(c)));
  return { missing, satisfied: missing.length === 0 };
}

/**
 * Exactly the claims that are granted, requested and available, with their values.
 * A claim whose value is undefined or null is not available (OIDC Core §5.3.2: omit
 * rather than send null); false, 0 and '' are values and are released.
 */
export function releasableClaims(requested: string[], granted: string[], available: Record<string, unknown>): Record<string, unknown> {
  const grantedSet = new Set(granted);
  const names = sortedUnique(requested).filter(
    (c) => grantedSet.has(c) && Object.hasOwn(available, c) && available[c] !== undefined && available[c] !== null,
  );
  // fromEntries defines own properties, so a claim named __proto__ cannot touch the prototype.
  return Object.fromEntries(names.map((c) => [c, available[c]]));
}
