// A FAPI 2.0 service as a real one is built: openid-client with private_key_jwt,
// pushed authorization requests and DPoP, registered `fapi2` on a test nixa. Tests
// of each control take one part away (or break it) and keep the others.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';

import type { Database } from '../../src/storage/index.js';
import { registerTestClient, type TestClient } from './relying-party.js';

export interface FapiClient extends TestClient {
  /** The service's client-authentication key; its public half is registered. */
  privateKey: CryptoKey;
  publicJwk: JWK;
  alg: string;
}

/** A key pair of `alg`, the public half as a JWK with a kid. */
export async function keyPair(alg = 'ES256', kid = `k-${alg}-${Math.random().toString(36).slice(2, 8)}`) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } as JWK,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } as JWK,
  };
}

/**
 * A service registered fapi2: by its minimum level high when `overrides` say nothing
 * (the default the profile gets), with its public key for private_key_jwt.
 */
export async function registerFapiClient(db: Database, overrides: Record<string, unknown> = {}, alg = 'ES256'): Promise<FapiClient> {
  const { privateKey, publicJwk } = await keyPair(alg);
  const c = await registerTestClient(db, { min_level: 'high', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] }, ...overrides });
  return { ...c, privateKey, publicJwk, alg };
}

/** openid-client configured as the service: private_key_jwt with its key (aud = the issuer, as FAPI 2.0 wants). */
export async function fapiConfig(issuer: string, c: FapiClient, idTokenAlg = 'ES256'): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), c.clientId, { id_token_signed_response_alg: idTokenAlg }, oidc.PrivateKeyJwt(c.privateKey), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** A DPoP handle on a fresh key (what a service keeps for one citizen's tokens). */
export async function dpopHandle(config: oidc.Configuration, alg = 'ES256'): Promise<oidc.DPoPHandle> {
  return oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair(alg));
}

/** The authorize step of signIn/federatedSignIn for a service that pushes its request (RFC 9126), DPoP-bound when given. */
export function pushed(config: oidc.Configuration, dpop?: oidc.DPoPHandle) {
  return (params: Record<string, string>) => oidc.buildAuthorizationUrlWithPAR(config, params, dpop ? { DPoP: dpop } : undefined);
}

/** A client assertion (RFC 7523) signed by the service's key; claims and header can be bent for negative tests. */
export async function clientAssertion(
  c: FapiClient,
  aud: string,
  o: { claims?: Record<string, unknown>; alg?: string; key?: CryptoKey; kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID(), ...o.claims })
    .setProtectedHeader({ alg: o.alg ?? c.alg, kid: o.kid ?? (c.publicJwk.kid as string) })
    .setIssuer(c.clientId)
    .setSubject(c.clientId)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(o.key ?? c.privateKey);
}

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
