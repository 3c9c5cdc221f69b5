// How nixa proves who it is at a source's token endpoint: one function for the
// sign-in and for `nixa sources test`, so the test checks what sign-ins send.
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';

import { StateError } from '../errors/index.js';
import type { Source } from './index.js';

/**
 * The client authentication for a source (openid-client 6). `signingKeys` gives
 * nixa's private signing JWKs (the key ring's providerJwks), used only for
 * private_key_jwt: the active key signs, and the source checks it at nixa's /jwks.
 */
export async function clientAuthentication(
  source: Pick<Source, 'id' | 'authMethod' | 'clientSecret'>,
  signingKeys: () => readonly JWK[],
): Promise<oidc.ClientAuth> {
  switch (source.authMethod) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(secretOf(source));
    // The secret in the form body: for sources that do not URL-decode the Basic
    // header as RFC 6749 §2.3.1 asks (LemonLDAP 2.16 refuses a client id with "-").
    case 'client_secret_post':
      return oidc.ClientSecretPost(secretOf(source));
    case 'private_key_jwt': {
      const jwks = signingKeys();
      // Active keys have no key_ops; retired ones only verify.
      const active = jwks.find((k) => !k.key_ops && k.alg === 'ES256') ?? jwks.find((k) => !k.key_ops && k.alg === 'RS256');
      if (!active) throw new StateError(`no active signing key for private_key_jwt at source "${source.id}"`);
      const key = (await importJWK(active, active.alg)) as oidc.PrivateKey['key'];
      return oidc.PrivateKeyJwt({ key, ...(active.kid ? { kid: active.kid } : {}) });
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
