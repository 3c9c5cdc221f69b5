// Signed checkpoints: "event <seq> of the trail has hash <hash>", as a JWS signed
// with nixa's active signing key. An auditor who keeps these (or fetched nixa's
// JWKS) can prove later that the trail up to <seq> was not rewritten, even by
// someone with full access to the database, who cannot sign.
import { createHash } from 'node:crypto';

import { calculateJwkThumbprint, importJWK, jwtVerify, type JWK } from 'jose';

import { signCompact, type Signer } from '../keys/index.js';
import type { Database } from '../storage/index.js';
import { insertCheckpoint, lastCheckpoint, lockCheckpoints, readHead, type StoredCheckpoint } from './repository.js';

/** A distinct type, so no relying party could take a checkpoint for an ID token (it has no aud or sub either). */
export const CHECKPOINT_TYP = 'nixa-audit-checkpoint+jwt';

export interface CheckpointClaims {
  iss: string;
  iat: number;
  /** The checkpoint's own number: 1, 2, 3… (a missing one is a deleted checkpoint). */
  checkpoint: number;
  audit_seq: number;
  audit_hash: string;
  /** sha256 (hex) of the previous checkpoint's JWS, null for the first: checkpoints form their own chain. */
  prev: string | null;
}

export const jwsDigest = (jws: string) => createHash('sha256').update(jws).digest('hex');

/**
 * Signs a checkpoint of the trail as it is now, unless nothing was appended since
 * the last one (then returns undefined). Instances serialise on a lock, so two
 * running the periodic job at once make one checkpoint, not two.
 */
export async function createCheckpoint(db: Database, key: Signer, issuer: string): Promise<StoredCheckpoint | undefined> {
  return db.transaction(async (tx) => {
    await lockCheckpoints(tx);
    const [head, last] = [await readHead(tx), await lastCheckpoint(tx)];
    if (head.seq === 0 || (last && last.seq >= head.seq)) return undefined;
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const claims: CheckpointClaims = {
      iss: issuer,
      iat: createdAt.getTime() / 1000,
      checkpoint: (last?.id ?? 0) + 1,
      audit_seq: head.seq,
      audit_hash: head.hash,
      prev: last ? jwsDigest(last.jws) : null,
    };
    // Through the Signer: a key held in an HSM signs the checkpoint there.
    const jws = await signCompact(key, { typ: CHECKPOINT_TYP }, { ...claims });
    const stored: StoredCheckpoint = {
      id: claims.checkpoint,
      createdAt: createdAt.toISOString(),
      seq: head.seq,
      hash: head.hash,
      kid: key.kid,
      publicJwk: publicOnly(key.publicJwk),
      jws,
    };
    await insertCheckpoint(tx, stored);
    return stored;
  });
}

function publicOnly(jwk: JWK): Record<string, unknown> {
  const { kty, crv, x, y, n, e, kid, alg, use } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid, alg, use }).filter(([, v]) => v !== undefined));
}

export const keyThumbprint = (jwk: Record<string, unknown>) => calculateJwkThumbprint(jwk as JWK);

/**
 * Checks one checkpoint on its own: the signature under its public key, and that
 * the signed claims say what the row says and follow the previous checkpoint.
 * Returns what is wrong, or undefined.
 */
export async function checkCheckpoint(c: StoredCheckpoint, previous: StoredCheckpoint | undefined): Promise<string | undefined> {
  let claims: Partial<CheckpointClaims>;
  try {
    const alg = typeof c.publicJwk.alg === 'string' ? c.publicJwk.alg : undefined;
    const key = await importJWK(c.publicJwk as JWK, alg);
    const { payload, protectedHeader } = await jwtVerify(c.jws, key, { typ: CHECKPOINT_TYP });
    if (protectedHeader.kid !== c.kid) return `its JWS names key ${String(protectedHeader.kid)}, the row says ${c.kid}`;
    claims = payload as Partial<CheckpointClaims>;
  } catch (err) {
    return `bad signature (${(err as Error).message})`;
  }
  if (claims.checkpoint !== c.id || claims.audit_seq !== c.seq || claims.audit_hash !== c.hash) {
    return `the row says seq ${c.seq} hash ${c.hash.slice(0, 12)}…, the signed checkpoint says seq ${String(claims.audit_seq)} hash ${String(claims.audit_hash).slice(0, 12)}…`;
  }
  const expectedPrev = previous ? jwsDigest(previous.jws) : null;
  if (previous && previous.id !== c.id - 1) return `checkpoint(s) ${previous.id + 1}…${c.id - 1} are missing`;
  if (!previous && c.id !== 1) return `checkpoint(s) 1…${c.id - 1} are missing`;
  if (claims.prev !== expectedPrev) return previous ? `does not follow checkpoint ${previous.id} (prev digest differs)` : 'the first checkpoint must not name a previous one';
  if (previous && c.seq < previous.seq) return `covers seq ${c.seq}, before checkpoint ${previous.id}'s seq ${previous.seq}`;
  return undefined;
}
