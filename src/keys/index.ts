// Signing and cookie keys: generated, encrypted at rest, rotated on a schedule or
// on demand, revoked in an emergency.
import type { JWK } from 'jose';

import { checkReason } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { InvalidInputError, NotFoundError, StateError } from '../errors/index.js';
import type { Database, Queryable } from '../storage/index.js';
import { Cipher } from './cipher.js';
import { type KeyState, planRevocation, planRotation, type KeyStep } from './lifecycle.js';
import { keyPolicies } from './keyring.js';
import { changeKeys, listKeys } from './repository.js';
import { type Signer, softwareSigner } from './signer.js';
import { type KeyStore, softwareKeyStore, withKeyStore } from './store.js';

export { Cipher } from './cipher.js';
export { loadMasterKey } from './master-key.js';
export { KeyRing, keyPolicies, type KeySnapshot } from './keyring.js';
export { planMaintenance, planRotation, planRevocation, isPublished, type KeyRecord, type KeyStep, type KeyPolicy } from './lifecycle.js';
export { KEYS_CHANNEL } from './repository.js';
export { signCompact, softwareSigner, type Signer } from './signer.js';
export { openKeyStore, withKeyStore, type KeyStore } from './store.js';

export interface KeyView {
  kid: string;
  use: 'sig' | 'cookie';
  alg: string;
  state: KeyState;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  deleteAfter: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function listKeyViews(db: Database, includeRevoked = false): Promise<KeyView[]> {
  return (await listKeys(db, { includeRevoked })).map((k) => ({
    kid: k.kid,
    use: k.use,
    alg: k.alg,
    state: k.state,
    createdAt: k.createdAt.toISOString(),
    activatedAt: iso(k.activatedAt),
    retiredAt: iso(k.retiredAt),
    deleteAfter: iso(k.deleteAfter),
    revokedAt: iso(k.revokedAt),
    revokedReason: k.revokedReason,
  }));
}

/**
 * Rotates now: for each chosen algorithm (all configured by default, and the
 * cookie key), the active key retires and the waiting next key starts signing.
 * An operator's act: the reason (audit/reason.ts) is kept on each step's event.
 */
export async function rotateKeys(
  db: Database,
  cipher: Cipher,
  config: Config,
  actor: string,
  opts: { reason: string; alg?: string; use?: 'sig' | 'cookie' },
): Promise<KeyStep[]> {
  const reason = checkReason(opts.reason, '--reason');
  const policies = keyPolicies(config).filter(
    (p) => (!opts.alg || p.alg === opts.alg) && (!opts.use || p.use === opts.use),
  );
  if (!policies.length) {
    throw new InvalidInputError('--alg', `one of the configured algorithms: ${config.keys.signingAlgs.join(', ')}`);
  }
  const now = new Date();
  const { steps } = await withKeyStore(cipher, config, (store) =>
    changeKeys(db, store, actor, (keys) => policies.flatMap((p) => planRotation(keys, p, now)), reason),
  );
  return steps;
}

/**
 * Emergency revocation: the key leaves JWKS at once and its private part is
 * destroyed (the row's envelope, or the token's objects). If it was signing, the
 * waiting key takes over immediately.
 */
export async function revokeKey(db: Database, keys: KeyStore | Cipher, kid: string, actor: string, why: string): Promise<KeyStep[]> {
  const reason = checkReason(why, '--reason');
  let failure: string | undefined;
  // A Cipher alone means software keys (what tests and a software deployment have).
  const store = keys instanceof Cipher ? softwareKeyStore(keys) : keys;
  const { steps, undestroyed } = await changeKeys(
      db,
      store,
      actor,
      (keys) => {
        const plan = planRevocation(keys, kid, store.backend);
        if ('error' in plan) {
          failure = plan.error;
          return [];
        }
        return plan;
      },
      reason,
    );
  if (failure === 'not-found') throw new NotFoundError('key', kid);
  if (failure === 'already-revoked') throw new StateError(`key "${kid}" is already revoked`);
  if (undestroyed.length) {
    throw new StateError(
      `key "${kid}" is revoked (out of JWKS, never signs again) but the token could not destroy its objects now; every instance's key maintenance retries`,
    );
  }
  return steps;
}

/** A software signing key with its private JWK (tests forge and check tokens with it). */
export interface SigningKey extends Signer {
  privateJwk: JWK;
}

async function activeKey(db: Queryable, alg: string) {
  const key = (await listKeys(db)).find((k) => k.use === 'sig' && k.alg === alg && k.state === 'active');
  if (!key?.publicJwk) {
    throw new StateError(`there is no active ${alg} signing key: start nixa once, or run nixa keys rotate --reason …`);
  }
  return key;
}

/** The software key that signs now for `alg`, decrypted; a key held in a token has no private JWK to give. */
export async function activeSigningKey(db: Queryable, cipher: Cipher, alg: string): Promise<SigningKey> {
  const key = await activeKey(db, alg);
  if (!key.privateEnc) throw new StateError(`the active ${alg} key ${key.kid} is held in a PKCS#11 token: its private part never leaves it`);
  const privateJwk = JSON.parse(cipher.decrypt(key.privateEnc, `key:${key.kid}`)) as JWK;
  return { ...softwareSigner(privateJwk), privateJwk };
}

/** A signer for the key that signs now for `alg`, whichever store holds it (the CLI's audit checkpoint). */
export async function activeSigner(db: Queryable, store: KeyStore, alg: string): Promise<Signer> {
  return store.signer(await activeKey(db, alg));
}
