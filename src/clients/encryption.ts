// Encrypted ID tokens and JWT userinfo, per service: pure policy, no I/O.
//
// A service may ask for its ID tokens encrypted to its own public key (JWE, OIDC Core
// §10.2), and for userinfo as a JWT signed by nixa and optionally encrypted the same
// way (OIDC Registration §2). Only asymmetric key management: a symmetric one (A*KW,
// dir) would derive the key from the client secret, which nixa keeps only as an argon2
// hash. Only authenticated content encryption (GCM). RSA1_5 is never offered: its
// padding oracle (Bleichenbacher) is why RFC 8725 §3.2 and oidc-provider 9 dropped it.
import { FAPI_ALGS, type SecurityProfile } from './security-profile.js';

/** Key management algorithms a service may register (what oidc-provider 9 and jose both support). */
export const ENCRYPTION_ALGS = ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW'] as const;
/** Content encryption algorithms a service may register. */
export const ENCRYPTION_ENCS = ['A256GCM', 'A128GCM'] as const;
/**
 * What a service that names the alg but not the enc gets. OIDC Registration §2 would
 * give A128CBC-HS256, which nixa does not offer; the registration records this one.
 */
export const DEFAULT_ENCRYPTION_ENC = 'A256GCM';

/** The registration fields this file governs, as they are named in the registration and oidc-provider's metadata. */
export const ENCRYPTION_FIELDS = [
  'id_token_encrypted_response_alg',
  'id_token_encrypted_response_enc',
  'userinfo_signed_response_alg',
  'userinfo_encrypted_response_alg',
  'userinfo_encrypted_response_enc',
] as const;

/** The key types (and curves) that can receive each algorithm's key agreement or key wrap. */
const RECEIVING_KEYS: Record<(typeof ENCRYPTION_ALGS)[number], { kty: string; crv?: readonly string[] }[]> = {
  'RSA-OAEP-256': [{ kty: 'RSA' }],
  'ECDH-ES': [
    { kty: 'EC', crv: ['P-256', 'P-384', 'P-521'] },
    { kty: 'OKP', crv: ['X25519'] },
  ],
  'ECDH-ES+A256KW': [
    { kty: 'EC', crv: ['P-256', 'P-384', 'P-521'] },
    { kty: 'OKP', crv: ['X25519'] },
  ],
};

const KEY_DESCRIPTION: Record<(typeof ENCRYPTION_ALGS)[number], string> = {
  'RSA-OAEP-256': 'an RSA key',
  'ECDH-ES': 'an EC (P-256, P-384, P-521) or X25519 key',
  'ECDH-ES+A256KW': 'an EC (P-256, P-384, P-521) or X25519 key',
};

export interface EncryptionSubject {
  security_profile: SecurityProfile;
  id_token_encrypted_response_alg?: string | undefined;
  id_token_encrypted_response_enc?: string | undefined;
  userinfo_signed_response_alg?: string | undefined;
  userinfo_encrypted_response_alg?: string | undefined;
  userinfo_encrypted_response_enc?: string | undefined;
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  jwks_uri?: string | undefined;
}

const isAlg = (a: string): a is (typeof ENCRYPTION_ALGS)[number] => (ENCRYPTION_ALGS as readonly string[]).includes(a);

/**
 * Whether the JWK can receive a JWE of `alg`, as oidc-provider chooses one
 * (keystore selectForEncrypt): marked use "enc" — nixa asks for the mark, so that a
 * service's signing key never becomes its encryption key by accident — of the right
 * type and curve, its alg absent or the same, and an RSA key's key_ops allowing encrypt.
 */
export function receivesEncryption(jwk: Record<string, unknown>, alg: string): boolean {
  if (!isAlg(alg) || jwk.use !== 'enc') return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.kty === 'RSA' && Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('encrypt')) return false;
  return RECEIVING_KEYS[alg].some((t) => t.kty === jwk.kty && (!t.crv || t.crv.includes(String(jwk.crv))));
}

/**
 * What a registration breaks of the encryption rules, each problem naming its field.
 * `signingAlgs` are the algorithms nixa has keys for (NIXA_SIGNING_ALGS). A key behind
 * jwks_uri cannot be looked at here (no I/O): oidc-provider fetches it when it encrypts.
 */
export function encryptionProblems(c: EncryptionSubject, signingAlgs: readonly string[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const what of ['id_token', 'userinfo'] as const) {
    const algField = `${what}_encrypted_response_alg` as const;
    const encField = `${what}_encrypted_response_enc` as const;
    const alg = c[algField];
    const enc = c[encField];
    if (alg === 'RSA1_5') {
      problems.push({ path: algField, message: `RSA1_5 is never accepted (its padding is open to Bleichenbacher's attack, RFC 8725 §3.2); use one of ${ENCRYPTION_ALGS.join(', ')}` });
    } else if (alg !== undefined && !isAlg(alg)) {
      problems.push({ path: algField, message: `one of ${ENCRYPTION_ALGS.join(', ')} (nixa encrypts only to the service's public key)` });
    }
    if (enc !== undefined && !(ENCRYPTION_ENCS as readonly string[]).includes(enc)) {
      problems.push({ path: encField, message: `one of ${ENCRYPTION_ENCS.join(', ')}` });
    }
    if (enc !== undefined && alg === undefined) {
      problems.push({ path: encField, message: `needs ${algField}: the content encryption is used only with a key management algorithm` });
    }
    if (alg === undefined || !isAlg(alg)) continue;
    if (!c.jwks && !c.jwks_uri) {
      problems.push({ path: algField, message: `needs the service's public encryption key (use "enc", ${KEY_DESCRIPTION[alg]}) in jwks or jwks_uri` });
    } else if (c.jwks && !c.jwks.keys.some((k) => receivesEncryption(k, alg))) {
      problems.push({ path: 'jwks', message: `holds no public encryption key for ${algField} ${alg}: ${KEY_DESCRIPTION[alg]} with "use": "enc"` });
    }
  }
  const signed = c.userinfo_signed_response_alg;
  if (signed !== undefined) {
    if (!signingAlgs.includes(signed)) {
      problems.push({ path: 'userinfo_signed_response_alg', message: `one of the configured signing algorithms: ${signingAlgs.join(', ')}` });
    } else if (c.security_profile === 'fapi2' && !(FAPI_ALGS as readonly string[]).includes(signed)) {
      problems.push({ path: 'userinfo_signed_response_alg', message: `a fapi2 service's tokens are signed with ${FAPI_ALGS.join(', ')} (FAPI 2.0 §5.4.1)` });
    }
  }
  // nixa's userinfo JWT is signed, then encrypted: an encrypted unsigned one would
  // prove nothing about who made it to whoever holds the service's key.
  if (c.userinfo_encrypted_response_alg !== undefined && signed === undefined) {
    problems.push({ path: 'userinfo_signed_response_alg', message: 'is required with userinfo_encrypted_response_alg: nixa signs the userinfo JWT, then encrypts it' });
  }
  return problems;
}

/**
 * What a JWK Set fetched from the service's jwks_uri lacks for the encryption the
 * registration asks (the check encryptionProblems makes of an inline jwks), naming
 * jwks_uri; undefined when it has a key for each.
 */
export function jwksUriProblem(c: EncryptionSubject, document: unknown): string | undefined {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return `"${c.jwks_uri}" did not answer a JWK Set (an object with "keys")`;
  for (const what of ['id_token', 'userinfo'] as const) {
    const alg = c[`${what}_encrypted_response_alg`];
    if (alg === undefined || !isAlg(alg)) continue;
    if (!keys.some((k) => k && typeof k === 'object' && receivesEncryption(k as Record<string, unknown>, alg))) {
      return `"${c.jwks_uri}" holds no public encryption key for ${what}_encrypted_response_alg ${alg}: ${KEY_DESCRIPTION[alg]} with "use": "enc"`;
    }
  }
  return undefined;
}

/** Whether the registration asks for anything encrypted (and so has a use for jwks without private_key_jwt). */
export function asksEncryption(c: EncryptionSubject): boolean {
  return c.id_token_encrypted_response_alg !== undefined || c.userinfo_encrypted_response_alg !== undefined;
}

/** oidc-provider client metadata for a valid registration: the enc recorded whenever an alg is. */
export function encryptionMetadata(c: EncryptionSubject): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (c.id_token_encrypted_response_alg) {
    meta.id_token_encrypted_response_alg = c.id_token_encrypted_response_alg;
    meta.id_token_encrypted_response_enc = c.id_token_encrypted_response_enc ?? DEFAULT_ENCRYPTION_ENC;
  }
  if (c.userinfo_signed_response_alg) meta.userinfo_signed_response_alg = c.userinfo_signed_response_alg;
  if (c.userinfo_encrypted_response_alg) {
    meta.userinfo_encrypted_response_alg = c.userinfo_encrypted_response_alg;
    meta.userinfo_encrypted_response_enc = c.userinfo_encrypted_response_enc ?? DEFAULT_ENCRYPTION_ENC;
  }
  return meta;
}
