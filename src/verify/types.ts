// The shapes a service sees: the options it gives, the claims and results it gets back.
import type { JWTPayload } from 'jose';

import type { DPoPAlgorithm, DPoPNonces, DPoPReplayStore } from './dpop.js';
import type { Level } from './levels.js';

/** A nixa assurance level, by name (`'high'`) or by its acr value (`'urn:nixa:loa:high'`). */
export type LevelOrAcr = Level | `urn:nixa:loa:${Level}`;

export interface VerifierOptions {
  /** nixa's issuer identifier, exactly as in its discovery document, e.g. `https://id.example.gov.vn`. */
  issuer: string;
  /**
   * What the token must be meant for: the service's client_id for ID tokens, its
   * resource identifier for JWT access tokens. Several values: any one will do.
   */
  audience: string | string[];
  /** The level a token must reach unless a call asks otherwise. Default: low (any nixa level). */
  minimumAcr?: LevelOrAcr;
  /** When set, the citizen must have authenticated (`auth_time`) at most this many seconds ago. */
  maxAge?: number;
  /** Leeway for exp, nbf, iat and auth_time, for clocks that disagree. Default 15 s, as nixa's. */
  clockToleranceSeconds?: number;
  /**
   * How long the fetched JWKS is used before it is fetched again. This bounds how
   * long a key revoked at nixa still verifies here. Default 300 s.
   */
  jwksCacheSeconds?: number;
  /**
   * A token naming a key not in the cached JWKS makes the verifier fetch the JWKS
   * again, at most once per this many seconds (so forged kids cannot make it hammer
   * nixa). Default 30 s, never more than jwksCacheSeconds.
   */
  jwksCooldownSeconds?: number;
  /** How long to wait for nixa's discovery document or JWKS. Default 5000 ms. */
  timeoutMs?: number;
  /** A fetch to use instead of the global one (an outbound proxy, extra logging). */
  fetch?: typeof fetch;
  /** How DPoP proofs (RFC 9449) are checked by verifyDPoPAccessToken and requireLevel's dpop guards. */
  dpop?: DPoPOptions;
}

/** How an API checks DPoP proofs. Every field has a default suited to one instance. */
export interface DPoPOptions {
  /** Proof algorithms accepted (and listed in the challenge's algs). Default: ES256, ES384, ES512, PS256, PS384, PS512, EdDSA, Ed25519. */
  algorithms?: DPoPAlgorithm[];
  /** How long after its iat a proof is accepted, in seconds (plus clockToleranceSeconds). Default 60. */
  proofLifetimeSeconds?: number;
  /**
   * Where used proofs are remembered (key: the proof key's thumbprint and the jti).
   * Default: in memory, which is right for one instance only; give several
   * instances one shared store, or a proof replayed at another instance passes.
   */
  replay?: DPoPReplayStore;
  /**
   * When set, every proof must carry a nonce this source accepts (RFC 9449 §9);
   * a proof without one is answered use_dpop_nonce with a DPoP-Nonce to retry with.
   */
  nonces?: DPoPNonces;
}

/** RFC 9449 §7.1: the DPoP proof is missing, malformed, does not match the request or was used before. */
export interface InvalidDPoPProof {
  ok: false;
  error: 'invalid_dpop_proof';
  description: string;
}

/** RFC 9449 §9: the proof lacks the server's nonce, or has an old one; retry with `nonce`. */
export interface UseDPoPNonce {
  ok: false;
  error: 'use_dpop_nonce';
  description: string;
  /** The nonce to send back in the DPoP-Nonce header. */
  nonce: string;
}

/** A request presenting an access token with the DPoP scheme, as verifyDPoPAccessToken takes it. */
export interface DPoPPresentation {
  /** The access token (from `Authorization: DPoP <token>`). */
  accessToken: string;
  /** The DPoP header's value: one compact JWS. */
  proof: string;
  /** The request's method as on the request line, e.g. `GET`. */
  method: string;
  /** The absolute URL the client called (behind a proxy: the public one); query and fragment are ignored. */
  url: string | URL;
}

export type DPoPFailure = VerifyFailure | InvalidDPoPProof | UseDPoPNonce;
export type DPoPVerifyResult = (VerifySuccess & { jkt: string }) | DPoPFailure;

/** Per-call requirements; each replaces the verifier's own for this call. */
export interface Requirements {
  minimumAcr?: LevelOrAcr;
  maxAge?: number;
}

/** The claims of a verified nixa token. Anything else nixa sent is there too. */
export interface NixaClaims extends JWTPayload {
  iss: string;
  sub: string;
  exp: number;
  iat: number;
  /** The assurance level reached, as an acr value (`urn:nixa:loa:…`). */
  acr?: string;
  /** How the citizen authenticated (RFC 8176 values, plus `fed` for a federated login). */
  amr?: string[];
  /** When the citizen last actively authenticated (seconds since the epoch). */
  auth_time?: number;
  /** JWT access tokens (RFC 9068): the service the token was issued to. */
  client_id?: string;
  scope?: string;
  /** ID tokens and userinfo of a person acting for an organisation (see Organisation). */
  organisation?: unknown;
  /** JWT access tokens: RFC 9396 details granted (nixa_representation). */
  authorization_details?: unknown;
  /** RFC 8693 §4.1: someone acts for the subject (a parent, a helper); see Actor. */
  act?: unknown;
}

/**
 * The person acting for the token's subject (RFC 8693 §4.1 `act`): a parent for
 * their child under 14, or a helper the subject authorised at nixa. `sub` is the
 * actor's subject identifier for this service (pairwise when the service's is).
 */
export interface Actor {
  sub: string;
}

/**
 * The organisation the person acts for in this token, when they chose one at
 * sign-in: the ID token's `organisation` claim, or in a JWT access token the
 * granted `authorization_details` entry of type `nixa_representation`. One
 * organisation per token, never a list.
 */
export interface Organisation {
  /** Mã số doanh nghiệp, ten digits. */
  enterprise_code: string;
  /** The name in Vietnamese, as registered. */
  name: string;
  name_en?: string;
  status: 'active' | 'suspended' | 'dissolved';
  /** legal_representative, or mandate (with `tasks` and `valid_until`). */
  role: 'legal_representative' | 'mandate';
  tasks?: string[];
  /** YYYY-MM-DD, the mandate's last valid day. */
  valid_until?: string;
  /** The id of the registry that vouched for it at nixa. */
  registry: string;
  /** When that registry answered (seconds since the epoch): at sign-in, or at the refresh that issued this token. */
  checked_at: number;
}

export interface VerifySuccess {
  ok: true;
  claims: NixaClaims;
  acr: string;
  level: Level;
  /** Present when the person acts for an organisation in this token. */
  organisation?: Organisation;
  /** Present when someone acts for the subject in this token: the subject is the represented person, this the actor. */
  act?: Actor;
}

/** RFC 6750: the token itself cannot be trusted (malformed, badly signed, expired, not for us). */
export interface InvalidToken {
  ok: false;
  error: 'invalid_token';
  description: string;
}

/**
 * RFC 9470: the token is good, but the authentication behind it is below the
 * level asked for, or older than max_age. The claims are there so that the service
 * can tell who to send back to nixa.
 */
export interface InsufficientUserAuthentication {
  ok: false;
  error: 'insufficient_user_authentication';
  description: string;
  claims: NixaClaims;
  /** The token's acr, when it states one. */
  acr?: string;
  /** The token's level, when its acr is a nixa level. */
  level?: Level;
  /** The acr values that would do (for the challenge's acr_values). */
  acrValues: string[];
  /** The max_age asked for, when one was. */
  maxAge?: number;
}

export type VerifyFailure = InvalidToken | InsufficientUserAuthentication;
export type VerifyResult = VerifySuccess | VerifyFailure;

export interface Verifier {
  readonly issuer: string;
  /** Checks an ID token (OpenID Connect Core §3.1.3.7) against nixa's keys and the requirements. */
  verifyIdToken(token: string, requirements?: Requirements): Promise<VerifyResult>;
  /**
   * Checks a JWT access token (RFC 9068, `typ: at+jwt`) presented as a bearer token
   * against nixa's keys and the requirements. A token bound to a key (`cnf`) is
   * refused (RFC 9449 §7.2): without a proof it may be a stolen one.
   */
  verifyAccessToken(token: string, requirements?: Requirements): Promise<VerifyResult>;
  /**
   * Checks a DPoP-bound JWT access token and its proof (RFC 9449 §4.3, §7.1): the
   * proof, the server nonce when configured, the token, the token's cnf.jkt against
   * the proof's key, then that the proof was not used before. A token without
   * cnf.jkt is refused: it was not bound, so it is a bearer token.
   */
  verifyDPoPAccessToken(presentation: DPoPPresentation, requirements?: Requirements): Promise<DPoPVerifyResult>;
  /** The proof algorithms this verifier accepts (for the challenge's algs). */
  readonly dpopAlgorithms: readonly string[];
  /** The nonce to send in `DPoP-Nonce` now, when the verifier has nonces (dpop.nonces); undefined otherwise. */
  dpopNonce(): Promise<string | undefined>;
  /** The WWW-Authenticate value for a refused token. */
  challenge(result: VerifyFailure): string;
}
