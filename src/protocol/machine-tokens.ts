// Machine tokens (client_credentials): RFC 9068 JWT access tokens signed by nixa's
// active key, so that issuing one writes nothing (each was a row of oidc_payloads).
// This module says what such a token is and how nixa's own endpoints check it; it
// imports jose only, so that the admin API can use it without the protocol engine.
//
// Audience (resource indicators, access-tokens.ts):
//   resource=<the client's own api_resource>     aud = that API; no scopes, as for citizens' tokens
//   resource=<issuer>/admin/api, or no resource  aud = nixa's admin API; the asked scopes that are admin scopes
// Without a resource the audience is the admin API: it is the one API of nixa that
// takes machine tokens (it took any opaque client_credentials token before), and
// admin scopes are the only scopes that mean anything to a machine. Admin scopes
// never go into a token for another audience, and a token for a service's API is
// refused by the admin API (aud).
//
// Revocation: a JWT cannot be recalled by deleting a row. Instead:
//   - it lives briefly: NIXA_TTL_CLIENT_CREDENTIALS, 300 seconds by default;
//   - nixa's own APIs (the admin API, introspection) read the client on every use
//     (through the client store oidc-provider reads): a disabled client's tokens are
//     refused at once, and a scope taken off the client stops counting at once;
//   - a revoked signing key leaves the JWKS at once, and whatever it signed fails
//     wherever signatures are checked against the published keys, nixa's own APIs first;
//   - a service's API that checks the JWT itself (nixa/verify) checks exp: there a
//     token of a since-disabled client works until it expires, at most the TTL;
//   - the revocation endpoint answers unsupported_token_type (RFC 7009 §2.2.1), as
//     for every JWT nixa issues.
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface MachineToken {
  clientId: string;
  /** The token's scopes that the client still holds (the rest no longer count). */
  scopes: string[];
  payload: JWTPayload;
}

/**
 * Whether a JWT access token was issued to a machine, from its claims: RFC 9068
 * §2.2 gives a token without a resource owner the client's id as sub, and a
 * citizen's token always states how they signed in (acr, auth_time).
 */
export function isMachineToken(payload: JWTPayload): boolean {
  const clientId = payload.client_id;
  return typeof clientId === 'string' && clientId !== '' && payload.sub === clientId && payload.acr === undefined && payload.auth_time === undefined;
}

/** The scopes of the token that `registered` (the client's scope now) still allows. */
export function scopesHeld(payload: JWTPayload, registered: string | undefined): string[] {
  const allowed = new Set((registered ?? '').split(' ').filter(Boolean));
  return String(payload.scope ?? '')
    .split(' ')
    .filter((s) => s && allowed.has(s));
}

export interface MachineTokenCheck {
  issuer: string;
  /** nixa's published keys: a revoked key is not among them. */
  jwks: { keys: JWK[] };
  clockToleranceSeconds: number;
  /** The resource the token must be for; omitted at introspection, which states the aud. */
  audience?: string;
  /** The client's metadata now (through the client store), or undefined when it is unknown or disabled. */
  findClient: (clientId: string) => Promise<{ scope?: string | undefined } | undefined>;
}

// One key set per published JWKS (a new object on every key ring reload), so that
// keys are imported once, not on every call.
const keySets = new WeakMap<object, JWTVerifyGetKey>();
function keySet(jwks: { keys: JWK[] }): JWTVerifyGetKey {
  let set = keySets.get(jwks);
  if (!set) keySets.set(jwks, (set = createLocalJWKSet(jwks)));
  return set;
}

export type MachineTokenResult = { ok: true; token: MachineToken } | { ok: false; reason: string };

/** Signature against nixa's keys, iss, typ at+jwt, exp, aud when given, a machine's token, of an enabled client. */
export async function checkMachineToken(token: string, check: MachineTokenCheck): Promise<MachineTokenResult> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet(check.jwks), {
      issuer: check.issuer,
      typ: 'at+jwt',
      clockTolerance: check.clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'jti', 'client_id', 'sub'],
      ...(check.audience !== undefined ? { audience: check.audience } : {}),
    }));
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (!isMachineToken(payload)) return { ok: false, reason: 'not a client_credentials token' };
  const clientId = payload.client_id as string;
  const client = await check.findClient(clientId);
  if (!client) return { ok: false, reason: 'the client of this token is disabled' };
  return { ok: true, token: { clientId, scopes: scopesHeld(payload, client.scope), payload } };
}

/** The claims of a JWT, unverified; undefined when it is not one. Only to choose how to check it. */
export function claimsOf(token: string): JWTPayload | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}
