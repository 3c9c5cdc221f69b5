// Fresh key material for each supported algorithm, via jose.
import { randomBytes } from 'node:crypto';

import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface GeneratedKey {
  kid: string;
  publicJwk: JWK | null;
  /** The private JWK (signing) or the raw secret (cookie), as a string to encrypt. */
  privateMaterial: string;
}

export function newKid(): string {
  // Random, not a thumbprint: a kid must not repeat even if material did.
  return randomBytes(12).toString('base64url');
}

export async function generateKey(use: 'sig' | 'cookie', alg: string): Promise<GeneratedKey> {
  const kid = newKid();
  if (use === 'cookie') {
    return { kid, publicJwk: null, privateMaterial: randomBytes(32).toString('base64url') };
  }
  const options = alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' } : { extractable: true, modulusLength: 2048 };
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  const base = { kid, alg, use: 'sig' };
  const pub = { ...(await exportJWK(publicKey)), ...base };
  const priv = { ...(await exportJWK(privateKey)), ...base };
  return { kid, publicJwk: pub, privateMaterial: JSON.stringify(priv) };
}
