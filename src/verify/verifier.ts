// Checks nixa tokens at a service: signature against nixa's published keys
// (found through its discovery document, cached, refetched for an unknown kid so
// that a rotation never breaks a valid token), issuer, audience, expiry, and the
// assurance level and authentication age the service asks for.
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';

import { acrFor, atLeast, LEVELS, levelOfAcr, type Level } from './levels.js';
import { bearerChallenge } from './challenge.js';
import { describeTokenError, NixaUnavailableError } from './errors.js';
import type {
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

const DEFAULTS = { clockToleranceSeconds: 15, jwksCacheSeconds: 300, jwksCooldownSeconds: 30, timeoutMs: 5_000 };

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

  async function verify(token: unknown, kind: TokenKind, requirements: Requirements = {}): Promise<VerifyResult> {
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

  return {
    issuer,
    verifyIdToken: (token, requirements) => verify(token, ID_TOKEN, requirements),
    verifyAccessToken: (token, requirements) => verify(token, ACCESS_TOKEN, requirements),
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
