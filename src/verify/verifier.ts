// Checks nixa tokens at a service: signature against nixa's published keys
// (found through its discovery document, cached, refetched for an unknown kid so
// that a rotation never breaks a valid token), issuer, audience, expiry, and the
// assurance level and authentication age the service asks for.
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';

import { acrFor, atLeast, LEVELS, levelOfAcr, type Level } from './levels.js';
import { bearerChallenge } from './challenge.js';
import { checkProof, DPOP_ALGORITHMS, memoryReplayStore } from './dpop.js';
import { describeTokenError, NixaUnavailableError } from './errors.js';
import type {
  DPoPPresentation,
  DPoPVerifyResult,
  InsufficientUserAuthentication,
  InvalidToken,
  LevelOrAcr,
  NixaClaims,
  Actor,
  Organisation,
  Requirements,
  Verifier,
  VerifierOptions,
  VerifyResult,
} from './types.js';

const DEFAULTS = { clockToleranceSeconds: 15, jwksCacheSeconds: 300, jwksCooldownSeconds: 30, timeoutMs: 5_000, proofLifetimeSeconds: 60 };

/** nixa signs only with asymmetric keys; an HS256 or "none" token is refused before any key is looked up. */
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];

/** Far above any ID token nixa issues (a few KB with every claim); refuses junk before parsing it. */
const MAX_TOKEN_LENGTH = 16_384;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface TokenKind {
  name: string;
  /** RFC 9068 §4: an access token must say so (typ at+jwt); an ID token must not say it is something else. */
  typeOk: (header: ProtectedHeaderParameters) => boolean;
  required: string[];
}

const normalizedTyp = (typ: string) => (typ.toLowerCase().startsWith('application/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);

const ID_TOKEN: TokenKind = {
  name: 'an ID token',
  // nixa's ID tokens carry no typ; logout tokens (logout+jwt), JWT access tokens
  // (at+jwt) and signed introspection responses, all signed by the same keys, do.
  typeOk: (h) => h.typ === undefined || (typeof h.typ === 'string' && normalizedTyp(h.typ) === 'application/jwt'),
  required: ['sub', 'exp', 'iat'],
};

const ACCESS_TOKEN: TokenKind = {
  name: 'a JWT access token',
  typeOk: (h) => typeof h.typ === 'string' && normalizedTyp(h.typ) === 'application/at+jwt',
  required: ['sub', 'exp', 'iat', 'jti', 'client_id'],
};

/** A level given by name or acr value; a TypeError naming the option for anything else. */
export function toLevel(value: LevelOrAcr | string, option: string): Level {
  const level = (LEVELS as readonly string[]).includes(value) ? (value as Level) : levelOfAcr(value);
  if (!level) throw new TypeError(`${option} must be one of ${[...LEVELS, ...LEVELS.map(acrFor)].join(', ')}; got "${value}"`);
  return level;
}

function seconds(value: number | undefined, option: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${option} must be a number of seconds, 0 or more`);
  return value;
}

export function createVerifier(options: VerifierOptions): Verifier {
  const { issuer } = options;
  try {
    new URL(issuer);
  } catch {
    throw new TypeError(`issuer must be nixa's issuer URL; got "${issuer}"`);
  }
  const audience = options.audience;
  const audiences = Array.isArray(audience) ? audience : [audience];
  if (!audiences.length || audiences.some((a) => typeof a !== 'string' || !a)) {
    throw new TypeError('audience must be the service client_id or resource identifier (or a list of them)');
  }
  const minimum = toLevel(options.minimumAcr ?? 'low', 'minimumAcr');
  const maxAge = seconds(options.maxAge, 'maxAge');
  const tolerance = seconds(options.clockToleranceSeconds, 'clockToleranceSeconds', DEFAULTS.clockToleranceSeconds)!;
  const cacheSeconds = seconds(options.jwksCacheSeconds, 'jwksCacheSeconds', DEFAULTS.jwksCacheSeconds)!;
  const cooldownSeconds = Math.min(seconds(options.jwksCooldownSeconds, 'jwksCooldownSeconds', DEFAULTS.jwksCooldownSeconds)!, cacheSeconds);
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a whole number of milliseconds above 0');
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const dpopAlgorithms: readonly string[] = options.dpop?.algorithms ?? DPOP_ALGORITHMS;
  if (!dpopAlgorithms.length || dpopAlgorithms.some((a) => !(DPOP_ALGORITHMS as readonly string[]).includes(a))) {
    throw new TypeError(`dpop.algorithms must be a non-empty list of ${DPOP_ALGORITHMS.join(', ')}`);
  }
  const proofLifetime = seconds(options.dpop?.proofLifetimeSeconds, 'dpop.proofLifetimeSeconds', DEFAULTS.proofLifetimeSeconds)!;
  const replay = options.dpop?.replay ?? memoryReplayStore();
  if (typeof replay?.seen !== 'function') throw new TypeError('dpop.replay must have a seen(key, expiresAt) method');
  const nonces = options.dpop?.nonces;
  if (nonces !== undefined && (typeof nonces?.current !== 'function' || typeof nonces.accepts !== 'function')) {
    throw new TypeError('dpop.nonces must have current() and accepts(nonce) methods (see dpopNonces)');
  }

  // OpenID Connect Discovery §4: the document lives under the issuer and must name
  // exactly that issuer, or its keys are not the issuer's keys.
  const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  async function discoverJwksUri(): Promise<URL> {
    let doc: unknown;
    try {
      const res = await fetchImpl(discoveryUrl, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      doc = await res.json();
    } catch (cause) {
      throw new NixaUnavailableError(`nixa's discovery document could not be fetched from ${discoveryUrl}`, { cause });
    }
    const { issuer: stated, jwks_uri: jwksUri } = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
    if (stated !== issuer) {
      throw new NixaUnavailableError(`the discovery document at ${discoveryUrl} names the issuer "${String(stated)}", not "${issuer}"`);
    }
    let url: URL;
    try {
      url = new URL(String(jwksUri));
    } catch {
      throw new NixaUnavailableError(`the discovery document at ${discoveryUrl} has no usable jwks_uri`);
    }
    if (new URL(issuer).protocol === 'https:' && url.protocol !== 'https:') {
      throw new NixaUnavailableError(`the discovery document at ${discoveryUrl} gives a jwks_uri that is not https`);
    }
    return url;
  }

  // One key set for the verifier's life: jose caches it for cacheMaxAge, and
  // refetches early (at most once per cooldown) when a token names a kid it lacks.
  // nixa publishes its next key before it signs, so after a rotation the new kid
  // is normally already cached; the refetch covers a cache older than that.
  let keys: Promise<JWTVerifyGetKey> | undefined;
  function keySet(): Promise<JWTVerifyGetKey> {
    if (!keys) {
      const pending = discoverJwksUri().then((uri) =>
        createRemoteJWKSet(uri, {
          cacheMaxAge: cacheSeconds * 1000,
          cooldownDuration: cooldownSeconds * 1000,
          timeoutDuration: timeoutMs,
          [customFetch]: fetchImpl,
        }),
      );
      keys = pending;
      // A failed discovery is retried by the next call, not remembered.
      pending.catch(() => {
        if (keys === pending) keys = undefined;
      });
    }
    return keys;
  }

  /** `bearer`: a token bound to a key is refused (RFC 9449 §7.2); `dpop`: the caller checks the binding. */
  async function verify(token: unknown, kind: TokenKind, requirements: Requirements = {}, presented: 'bearer' | 'dpop' = 'bearer'): Promise<VerifyResult> {
    const needed = requirements.minimumAcr !== undefined ? toLevel(requirements.minimumAcr, 'minimumAcr') : minimum;
    const neededAge = requirements.maxAge !== undefined ? seconds(requirements.maxAge, 'maxAge') : maxAge;
    const invalid = (description: string): InvalidToken => ({ ok: false, error: 'invalid_token', description });

    if (typeof token !== 'string' || !token) return invalid('No token was given');
    if (token.length > MAX_TOKEN_LENGTH) return invalid('The token is too long');
    if (!COMPACT_JWS.test(token)) return invalid('The token is not a well-formed signed JWT');
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return invalid('The token is not a well-formed signed JWT');
    }
    if (typeof header.kid !== 'string' || !header.kid) return invalid('The token does not name its signing key (kid)');
    if (!kind.typeOk(header)) return invalid(`The token is not ${kind.name}`);

    const getKey = await keySet();
    let claims: NixaClaims;
    try {
      const verified = await jwtVerify(token, getKey, {
        issuer,
        audience,
        algorithms: ALGORITHMS,
        clockTolerance: tolerance,
        requiredClaims: kind.required,
      });
      claims = verified.payload as NixaClaims;
    } catch (err) {
      const description = describeTokenError(err, kind.name);
      if (description) return invalid(description);
      throw new NixaUnavailableError(`nixa's signing keys could not be fetched (discovery: ${discoveryUrl})`, { cause: err });
    }

    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.sub !== 'string' || !claims.sub) return invalid("The token's sub claim is malformed");
    if (claims.iat > now + tolerance) return invalid('The token was issued in the future');
    if (claims.auth_time !== undefined && typeof claims.auth_time !== 'number') return invalid("The token's auth_time claim is malformed");
    if (kind === ID_TOKEN) {
      // OpenID Connect Core §3.1.3.7 (4, 5): several audiences need an azp, and an azp must be us.
      const aud = claims.aud;
      if (Array.isArray(aud) && aud.length > 1 && claims.azp === undefined) return invalid('The token has several audiences and no azp');
      if (claims.azp !== undefined && !audiences.includes(claims.azp as string)) return invalid('The token was issued to another client (azp)');
      if (claims.events !== undefined) return invalid('The token is not an ID token');
    } else if (typeof claims.client_id !== 'string') {
      return invalid("The token's client_id claim is malformed");
    } else if (presented === 'bearer' && claims.cnf !== undefined) {
      const dpopBound = typeof (claims.cnf as { jkt?: unknown } | null)?.jkt === 'string';
      return invalid(dpopBound ? 'The token is bound to a DPoP key: present it with the DPoP scheme and a proof' : 'The token is bound to a key (cnf): it is not a bearer token');
    }

    const acr = typeof claims.acr === 'string' ? claims.acr : undefined;
    const level = acr === undefined ? undefined : levelOfAcr(acr);
    const levelOk = level !== undefined && atLeast(level, needed);
    const ageOk = neededAge === undefined || (claims.auth_time !== undefined && now - claims.auth_time <= neededAge + tolerance);
    if (levelOk && ageOk) {
      const organisation = organisationOf(claims);
      const act = actorOf(claims);
      return { ok: true, claims, acr: acr!, level: level!, ...(organisation ? { organisation } : {}), ...(act ? { act } : {}) };
    }

    const reasons: string[] = [];
    if (!levelOk) reasons.push(`Authentication at assurance level ${needed} or above is required; the token is at ${level ?? 'no nixa level'}`);
    if (!ageOk) reasons.push(`Authentication within the last ${neededAge} seconds is required`);
    const failure: InsufficientUserAuthentication = {
      ok: false,
      error: 'insufficient_user_authentication',
      description: reasons.join('; '),
      claims,
      acrValues: [acrFor(needed)],
    };
    if (acr !== undefined) failure.acr = acr;
    if (level !== undefined) failure.level = level;
    if (neededAge !== undefined) failure.maxAge = neededAge;
    return failure;
  }

  // RFC 9449 §7.1: the proof first (it needs no keys from nixa), then the nonce,
  // the token, the binding of one to the other, and last the replay record, so
  // that a proof refused for any other reason leaves no trace in the store.
  async function verifyDPoP(p: DPoPPresentation, requirements?: Requirements): Promise<DPoPVerifyResult> {
    const badProof = (description: string) => ({ ok: false as const, error: 'invalid_dpop_proof' as const, description });
    if (typeof p.proof !== 'string' || !p.proof) return badProof('The request has no DPoP proof');
    if (typeof p.accessToken !== 'string' || !p.accessToken) return { ok: false, error: 'invalid_token', description: 'No token was given' };
    const proof = await checkProof({ ...p, algorithms: dpopAlgorithms, lifetime: proofLifetime, tolerance });
    if (!proof.ok) return badProof(proof.description);
    if (nonces) {
      if (proof.nonce === undefined) return { ok: false, error: 'use_dpop_nonce', description: 'The DPoP proof must carry the nonce from DPoP-Nonce', nonce: await nonces.current() };
      if (!(await nonces.accepts(proof.nonce))) return { ok: false, error: 'use_dpop_nonce', description: 'The DPoP proof nonce is not current', nonce: await nonces.current() };
    }
    const result = await verify(p.accessToken, ACCESS_TOKEN, requirements, 'dpop');
    if (!result.ok && result.error === 'invalid_token') return result;
    const cnf = result.claims.cnf as { jkt?: unknown } | undefined;
    if (typeof cnf?.jkt !== 'string') return { ok: false, error: 'invalid_token', description: 'The token is not bound to a DPoP key: present it as a Bearer token' };
    // Not the proof's fault alone: it may be sound but by another key than the
    // token's (a stolen token, a proof of the thief's own). RFC 9449 §7.1 answers invalid_token.
    if (cnf.jkt !== proof.jkt) return { ok: false, error: 'invalid_token', description: 'The token is bound to another key than the DPoP proof' };
    if (await replay.seen(`dpop:${proof.jkt}:${proof.jti}`, proof.iat + proofLifetime + tolerance)) return badProof('The DPoP proof was used before');
    return result.ok ? { ...result, jkt: proof.jkt } : result;
  }

  return {
    issuer,
    verifyIdToken: (token, requirements) => verify(token, ID_TOKEN, requirements),
    verifyAccessToken: (token, requirements) => verify(token, ACCESS_TOKEN, requirements),
    verifyDPoPAccessToken: verifyDPoP,
    dpopAlgorithms,
    dpopNonce: async () => nonces?.current(),
    challenge: bearerChallenge,
  };
}

const isOrganisation = (o: unknown): o is Organisation =>
  typeof o === 'object' && o !== null && typeof (o as Organisation).enterprise_code === 'string' && typeof (o as Organisation).name === 'string' && typeof (o as Organisation).role === 'string';

/** Who acts for the subject of a verified token (RFC 8693 `act`), if anyone. */
function actorOf(claims: NixaClaims): Actor | undefined {
  const act = claims.act as { sub?: unknown } | undefined;
  return typeof act === 'object' && act !== null && typeof act.sub === 'string' && act.sub ? { sub: act.sub } : undefined;
}

/** The organisation a verified token acts for: the ID token's claim, or the access token's granted RAR detail. */
function organisationOf(claims: NixaClaims): Organisation | undefined {
  if (isOrganisation(claims.organisation)) return claims.organisation;
  const details = claims.authorization_details;
  if (!Array.isArray(details)) return undefined;
  const granted = details.find((d): d is { type: string; organisation: Organisation } => typeof d === 'object' && d !== null && (d as { type?: unknown }).type === 'nixa_representation' && isOrganisation((d as { organisation?: unknown }).organisation));
  return granted?.organisation;
}
