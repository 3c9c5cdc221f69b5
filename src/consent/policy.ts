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

/** The claims a service registered for these scopes could ever be given; without scopes, all of them. */
export function registeredClaims(registeredScopes?: string[]): Set<string> {
  return new Set(SCOPES.filter((s) => registeredScopes === undefined || registeredScopes.includes(s)).flatMap((s) => SCOPE_CLAIMS[s]));
}

/**
 * Claims that come with another and are never asked for on their own: the page
 * shows the phone number, and whether it is verified rides along with it.
 */
const RIDERS: Readonly<Record<string, string>> = Object.freeze({ phone_number_verified: 'phone_number' });

/** Always allowed: `sub` names the account to the service and is no attribute to consent to. */
const ALWAYS = 'sub';

/** The claims the citizen is asked about: the requested ones, minus sub and the riders. Sorted, unique. */
export function consentableClaims(requested: string[]): string[] {
  return sortedUnique(requested.filter((c) => c !== ALWAYS && !Object.hasOwn(RIDERS, c)));
}

/** What a citizen agreed to share with one service. */
export interface Consent {
  /** Claims the citizen saw with a value and accepted: the only ones that may be released. */
  claims: string[];
  /**
   * Claims the page showed as "Chưa có (not on record)" when the citizen accepted:
   * agreed to for no value, so not for the value the account may gain later.
   */
  withoutValue: string[];
}

export const NO_CONSENT: Consent = Object.freeze({ claims: [], withoutValue: [] }) as Consent;

/** Whether the account has a value for a claim (null and undefined are no value; false, 0 and '' are). */
export const hasValue = (available: Record<string, unknown>, claim: string): boolean =>
  Object.hasOwn(available, claim) && available[claim] !== undefined && available[claim] !== null;

/**
 * What the citizen must still agree to. A service that asks for the same claims or
 * fewer than were granted is not asked again; one that asks for more is asked for
 * the new claims only. A claim accepted while it had no value counts as agreed
 * only while it still has none: once the account holds a value, it is asked again.
 */
export function consentDiff(requested: string[], consent: Consent, available: Record<string, unknown>): { missing: string[]; satisfied: boolean } {
  const granted = new Set(consent.claims);
  const empty = new Set(consent.withoutValue);
  const missing = consentableClaims(requested).filter((c) => !granted.has(c) && !(empty.has(c) && !hasValue(available, c)));
  return { missing, satisfied: missing.length === 0 };
}

/**
 * What accepting the consent page records: each claim it showed, as seen with a
 * value or as "Chưa có". `shownWithValue` is what the page displayed with a value;
 * a claim counts as seen with a value only if it also has one now.
 */
export function consentGiven(shown: string[], shownWithValue: string[], available: Record<string, unknown>): Consent {
  const claims = consentableClaims(shown);
  const seen = new Set(shownWithValue);
  const withValue = claims.filter((c) => seen.has(c) && hasValue(available, c));
  return { claims: withValue, withoutValue: claims.filter((c) => !withValue.includes(c)) };
}

/**
 * THE rule for what a grant may hold and what may ever be released to a service
 * (every path that fills a grant, and the release itself, calls it): `sub`, and
 * each claim that is of a scope the service is registered for, that this request
 * asks for (`requested`; omitted at release, where the grant already narrowed the
 * request) and that the citizen saw with a value and accepted.
 * phone_number_verified comes with phone_number. Sorted, unique.
 */
export function grantableClaims(o: { registeredScopes: string[] | undefined; consent: Consent; requested?: string[] }): string[] {
  const registered = registeredClaims(o.registeredScopes);
  const asked = o.requested === undefined ? undefined : new Set(o.requested);
  const consented = new Set(o.consent.claims);
  const allowed = (c: string) => registered.has(c) && (asked === undefined || asked.has(c));
  const own = [...consented].filter((c) => c !== ALWAYS && !Object.hasOwn(RIDERS, c) && allowed(c));
  const riders = Object.entries(RIDERS)
    .filter(([rider, with_]) => own.includes(with_) && allowed(rider))
    .map(([rider]) => rider);
  return sortedUnique([ALWAYS, ...own, ...riders]);
}

/**
 * What a grant for this request holds: the requested scopes the service is
 * registered for, the grantable claims, and every other claim of nixa's scopes
 * as rejected — so that neither a granted scope (`phone` stands for
 * phone_number) nor a claim named in the `claims` parameter can bring one in,
 * and oidc-provider, having seen them, does not ask for them again.
 */
export function grantContents(o: {
  scopes: string[];
  claimsParameter?: ClaimsParameter;
  registeredScopes: string[] | undefined;
  consent: Consent;
}): { scopes: string[]; claims: string[]; rejected: string[] } {
  const scopes = sortedUnique(o.scopes.filter((s) => s && (o.registeredScopes === undefined || o.registeredScopes.includes(s))));
  const requested = requestedClaims(o.scopes, o.claimsParameter, o.registeredScopes);
  const claims = grantableClaims({ registeredScopes: o.registeredScopes, consent: o.consent, requested });
  const rejected = sortedUnique(Object.values(SCOPE_CLAIMS).flat()).filter((c) => !claims.includes(c));
  return { scopes, claims, rejected };
}

/**
 * Exactly the claims that are granted, requested and available, with their values.
 * A claim whose value is undefined or null is not available (OIDC Core §5.3.2: omit
 * rather than send null); false, 0 and '' are values and are released.
 */
export function releasableClaims(requested: string[], granted: string[], available: Record<string, unknown>): Record<string, unknown> {
  const grantedSet = new Set(granted);
  const names = sortedUnique(requested).filter((c) => grantedSet.has(c) && hasValue(available, c));
  // fromEntries defines own properties, so a claim named __proto__ cannot touch the prototype.
  return Object.fromEntries(names.map((c) => [c, available[c]]));
}
