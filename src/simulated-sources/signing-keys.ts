// The source's signing key, and the forgery behind the "wrong-key" misbehaviour:
// an ID token signed by a key pair that is not published, under the published
// kid, exactly what a relying party sees when a token is forged or a source's
// keys were swapped without publishing them. The token endpoint's answer is
// rewritten, so the signature is really wrong on the wire; the claims are kept.
import type { Context, Next } from 'koa';
import { calculateJwkThumbprint, CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair, type CompactJWSHeaderParameters, type CryptoKey, type JWK } from 'jose';

import type { MisbehaviourState } from './misbehaviour.js';

/** RS256: the default ID token algorithm for relying parties that register none. */
export const SIGNING_ALG = 'RS256';

/** A fresh private JWK for oidc-provider's jwks configuration. Sources keep no state across restarts. */
export async function createSigningKey(): Promise<JWK & { kid: string }> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALG, use: 'sig' };
}

export class Forger {
  #key: Promise<CryptoKey> | undefined;

  /** The same header (alg, kid) and payload, signed by an unpublished key. */
  async resign(jwt: string): Promise<string> {
    const [, payload] = jwt.split('.');
    if (payload === undefined) throw new TypeError('not a compact JWS');
    this.#key ??= generateKeyPair(SIGNING_ALG).then((pair) => pair.privateKey);
    return new CompactSign(Buffer.from(payload, 'base64url'))
      .setProtectedHeader(decodeProtectedHeader(jwt) as CompactJWSHeaderParameters)
      .sign(await this.#key);
  }
}

/** Post-processes token endpoint answers while the source is in "wrong-key" mode. */
export function wrongKeySigning(state: MisbehaviourState, forger: Forger, tokenPath = '/token') {
  return async function forgeIdTokens(ctx: Context, next: Next): Promise<void> {
    await next();
    if (state.current.mode !== 'wrong-key' || ctx.path !== tokenPath || ctx.status !== 200) return;
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (body && typeof body.id_token === 'string') body.id_token = await forger.resign(body.id_token);
  };
}
