// One way to sign for everything nixa signs with its keys (ID and access tokens
// through oidc-provider, audit checkpoints, private_key_jwt assertions): a Signer
// holds no private key, only a sign function, so a key in an HSM and a software
// key are used the same way.
import { constants, createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';

import type { JWK } from 'jose';

export interface Signer {
  kid: string;
  alg: string;
  publicJwk: JWK;
  /** The JWS signature (RFC 7518 §3) of `input`: raw r||s for ES256, 64 bytes for EdDSA. */
  sign(input: Uint8Array): Promise<Uint8Array>;
}

/** The JWS signature of `input` with a software key, for each algorithm nixa configures. */
export function signWithKeyObject(alg: string, key: KeyObject, input: Uint8Array): Uint8Array {
  switch (alg) {
    case 'ES256':
      return nodeSign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return nodeSign('sha256', input, key);
    case 'PS256':
      // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
      return nodeSign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'EdDSA':
      return nodeSign(null, input, key);
    default:
      throw new Error(`unsupported signing algorithm ${alg}`);
  }
}

/** A signer over a private JWK decrypted from the keys table. */
export function softwareSigner(privateJwk: JWK): Signer {
  if (!privateJwk.kid || !privateJwk.alg) throw new Error('a signing JWK needs kid and alg');
  const key = createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  const alg = privateJwk.alg;
  return { kid: privateJwk.kid, alg, publicJwk, sign: async (input) => signWithKeyObject(alg, key, input) };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS (a signed JWT when the payload is a claims set) made by `signer`; alg and kid are set from it. */
export async function signCompact(signer: Signer, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${b64({ ...header, alg: signer.alg, kid: signer.kid })}.${b64(payload)}`;
  const signature = await signer.sign(Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
