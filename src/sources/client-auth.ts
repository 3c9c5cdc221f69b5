// How nixa proves who it is at a source's token endpoint: one function for the
// sign-in and for `nixa sources test`, so the test checks what sign-ins send.
import { randomBytes } from 'node:crypto';

import type { JWK } from 'jose';
import * as oidc from 'openid-client';

import { StateError } from '../errors/index.js';
import { signCompact, softwareSigner, type Signer } from '../keys/index.js';
import type { Source } from './index.js';

/** nixa's active signing keys: signers (the key ring's snapshot.signers), or private JWKs (tests). */
export type SigningKeys = () => readonly (Signer | JWK)[];

const isSigner = (k: Signer | JWK): k is Signer => typeof (k as Signer).sign === 'function';

/**
 * The client authentication for a source (openid-client 6). `signingKeys` gives
 * nixa's active signing keys, used only for private_key_jwt: the active key
 * signs, and the source checks it at nixa's /jwks. The assertion is signed by a
 * Signer, so that a key held in an HSM signs it there.
 */
export async function clientAuthentication(
  source: Pick<Source, 'id' | 'authMethod' | 'clientSecret'>,
  signingKeys: SigningKeys,
): Promise<oidc.ClientAuth> {
  switch (source.authMethod) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(secretOf(source));
    // The secret in the form body: for sources that do not URL-decode the Basic
    // header as RFC 6749 §2.3.1 asks (LemonLDAP 2.16 refuses a client id with "-").
    case 'client_secret_post':
      return oidc.ClientSecretPost(secretOf(source));
    case 'private_key_jwt': {
      // Private JWKs: active keys have no key_ops; retired ones only verify.
      const signers = signingKeys().flatMap((k) => (isSigner(k) ? [k] : k.key_ops ? [] : [softwareSigner(k)]));
      const active = signers.find((k) => k.alg === 'ES256') ?? signers.find((k) => k.alg === 'RS256');
      if (!active) throw new StateError(`no active signing key for private_key_jwt at source "${source.id}"`);
      return privateKeyJwt(active);
    }
  }
}

function secretOf(source: Pick<Source, 'id' | 'authMethod' | 'clientSecret'>): string {
  // The registration refuses a secret method without a secret; a row edited by hand is a state error, not a crash.
  if (source.clientSecret === undefined) throw new StateError(`source "${source.id}" uses ${source.authMethod} but has no client secret`);
  return source.clientSecret;
}

/**
 * The OAuth error a source answered nixa with (RFC 6749 §5.2), from the body or
 * the WWW-Authenticate challenge; undefined when the failure was not an OAuth
 * error answer. Its error_description is left out: it may echo what was sent.
 */
export function oauthError(err: unknown): { error: string | undefined; status: number } | undefined {
  if (err instanceof oidc.ResponseBodyError) return { error: err.error, status: err.status };
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const error = err.cause.map((c) => c.parameters.error).find((e) => typeof e === 'string');
    return { error, status: err.status };
  }
  return undefined;
}

/**
 * private_key_jwt (OpenID Connect Core §9) with the claims openid-client's own
 * PrivateKeyJwt sends — iss = sub = client_id, aud = the issuer, a fresh jti,
 * a minute of validity — but signed by a Signer rather than an in-memory key.
 */
function privateKeyJwt(signer: Signer): oidc.ClientAuth {
  return async (as, client, body) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { jti: randomBytes(32).toString('base64url'), aud: as.issuer, exp: now + 60, iat: now, nbf: now, iss: client.client_id, sub: client.client_id };
    const assertion = await signCompact(signer, {}, claims);
    body.set('client_id', client.client_id);
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    body.set('client_assertion', assertion);
  };
}
