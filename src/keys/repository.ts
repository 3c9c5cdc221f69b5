// SQL for the keys table. Every change runs in one transaction with its audit
// event and a NOTIFY that tells every instance to reload.
import { calculateJwkThumbprint, type JWK } from 'jose';

import { appendAudit, type AuditEventName } from '../audit/index.js';
import type { Database, Queryable } from '../storage/index.js';
import type { KeyBackend, KeyRecord, KeyState, KeyStep, KeyUse } from './lifecycle.js';
import type { KeyStore } from './store.js';

export const KEYS_CHANNEL = 'nixa_keys';
const KEYS_LOCK = 7_415_003;

export interface StoredKey extends KeyRecord {
  backend: KeyBackend;
  /** A token-held key's CKA_LABEL; null for software keys. */
  handle: string | null;
  publicJwk: JWK | null;
  privateEnc: Buffer | null;
  revokedAt: Date | null;
  revokedReason: string | null;
}

interface Row {
  kid: string;
  use: KeyUse;
  alg: string;
  state: KeyState;
  backend: KeyBackend;
  handle: string | null;
  public_jwk: JWK | null;
  private_enc: Uint8Array | null;
  created_at: Date | string;
  activated_at: Date | string | null;
  retired_at: Date | string | null;
  delete_after: Date | string | null;
  revoked_at: Date | string | null;
  revoked_reason: string | null;
}

const date = (v: Date | string | null) => (v === null ? null : new Date(v));

function fromRow(r: Row): StoredKey {
  return {
    kid: r.kid,
    use: r.use,
    alg: r.alg,
    state: r.state,
    backend: r.backend,
    handle: r.handle,
    publicJwk: r.public_jwk,
    privateEnc: r.private_enc ? Buffer.from(r.private_enc) : null,
    createdAt: new Date(r.created_at),
    activatedAt: date(r.activated_at),
    retiredAt: date(r.retired_at),
    deleteAfter: date(r.delete_after),
    revokedAt: date(r.revoked_at),
    revokedReason: r.revoked_reason,
  };
}

export async function listKeys(db: Queryable, opts: { includeRevoked?: boolean } = {}): Promise<StoredKey[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM keys WHERE ($1 OR state <> 'revoked') ORDER BY use, alg, created_at`,
    [opts.includeRevoked ?? false],
  );
  return rows.map(fromRow);
}

/** A change-detection stamp: cheap to poll, differs whenever any key row changes. */
export async function keysStamp(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ stamp: string | null }>(
    `SELECT string_agg(kid || ':' || state, ',' ORDER BY kid) AS stamp FROM keys WHERE state <> 'revoked'`,
  );
  return rows[0]?.stamp ?? '';
}

const STEP_EVENT: Record<KeyStep['type'], AuditEventName> = {
  create: 'KEY_CREATED',
  activate: 'KEY_ACTIVATED',
  retire: 'KEY_RETIRED',
  delete: 'KEY_DELETED',
  revoke: 'KEY_REVOKED',
};

async function applyStep(tx: Queryable, store: KeyStore, keys: StoredKey[], step: KeyStep, actor: string, reason?: string): Promise<string> {
  let kid: string;
  const details: Record<string, unknown> = {};
  // An operator's rotation or revocation says why on every event it writes; the schedule's steps have no reason.
  const why = reason ? { reason } : {};
  switch (step.type) {
    case 'create': {
      // A token-held key is generated in the token now; if this transaction then
      // rolls back, the token keeps an object no row names, which nothing uses.
      const g = await store.create(step.use, step.alg);
      kid = g.kid;
      await tx.query(
        `INSERT INTO keys (kid, use, alg, state, public_jwk, private_enc, backend, handle, activated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, CASE WHEN $4 = 'active' THEN now() END)`,
        [kid, step.use, step.alg, step.state, g.publicJwk ? JSON.stringify(g.publicJwk) : null, g.privateEnc, g.backend, g.handle],
      );
      Object.assign(details, { use: step.use, alg: step.alg, state: step.state, ...(g.backend === 'pkcs11' ? { backend: g.backend } : {}) });
      // The trail vouches for the key: an audit checkpoint signed by it stays
      // checkable after the key is deleted (src/audit/verify.ts).
      if (g.publicJwk) details.jkt = await calculateJwkThumbprint(g.publicJwk);
      if (step.state === 'active') {
        await appendAudit(tx, { event: 'KEY_CREATED', actor, subject: kid, ...why, details });
        await appendAudit(tx, { event: 'KEY_ACTIVATED', actor, subject: kid, ...why, details: { alg: step.alg, use: step.use } });
        return kid;
      }
      break;
    }
    case 'activate':
      kid = step.kid;
      await tx.query(`UPDATE keys SET state = 'active', activated_at = now() WHERE kid = $1 AND state = 'next'`, [kid]);
      break;
    case 'retire':
      kid = step.kid;
      await tx.query(
        `UPDATE keys SET state = 'retired', retired_at = now(), delete_after = $2 WHERE kid = $1 AND state = 'active'`,
        [kid, step.deleteAfter],
      );
      details.deleteAfter = step.deleteAfter.toISOString();
      break;
    case 'delete': {
      kid = step.kid;
      // A token-held key's objects go first: if the token cannot, the row stays
      // and the next maintenance tries again. The reverse order could leave a
      // private key in the token that no row names.
      const key = keys.find((k) => k.kid === step.kid);
      if (key?.backend === 'pkcs11') await store.destroy(key);
      await tx.query(`DELETE FROM keys WHERE kid = $1 AND state IN ('retired', 'next')`, [kid]);
      break;
    }
    case 'revoke': {
      kid = step.kid;
      // The private part is destroyed, not just hidden: a revoked key can never sign again.
      const res = await tx.query<{ state: string }>(
        `UPDATE keys k SET state = 'revoked', revoked_at = now(), revoked_reason = $2, private_enc = NULL
         FROM (SELECT kid, state FROM keys WHERE kid = $1 FOR UPDATE) old
         WHERE k.kid = old.kid RETURNING old.state`,
        [kid, reason ?? null],
      );
      details.previousState = res.rows[0]?.state;
      details.reason = reason ?? null;
      break;
    }
  }
  await appendAudit(tx, { event: STEP_EVENT[step.type], actor, subject: kid, ...why, details });
  return kid;
}

/**
 * Plans and applies key steps atomically. `plan` runs under a lock against the
 * current rows, so two instances (or the CLI and a server) never both rotate.
 */
export async function changeKeys(
  db: Database,
  store: KeyStore,
  actor: string,
  plan: (keys: StoredKey[]) => KeyStep[],
  reason?: string,
): Promise<{ steps: KeyStep[]; created: string[]; undestroyed: string[] }> {
  const result = await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
    const keys = await listKeys(tx, { includeRevoked: true });
    const steps = plan(keys);
    const created: string[] = [];
    for (const step of steps) {
      const kid = await applyStep(tx, store, keys, step, actor, reason);
      if (step.type === 'create') created.push(kid);
    }
    if (steps.length) await tx.query(`SELECT pg_notify($1, 'changed')`, [KEYS_CHANNEL]);
    const revoked = steps.flatMap((s) => (s.type === 'revoke' ? keys.filter((k) => k.kid === s.kid && k.backend === 'pkcs11') : []));
    return { steps, created, revoked };
  });
  // A revoked key leaves JWKS with the commit; its token objects are destroyed
  // right after. Destroying first could leave the row signing with a key already
  // gone. What the token could not destroy now, sweepRevoked() retries.
  const undestroyed: string[] = [];
  for (const key of result.revoked) {
    try {
      await store.destroy(key);
    } catch {
      undestroyed.push(key.kid);
    }
  }
  return { steps: result.steps, created: result.created, undestroyed };
}

/**
 * Destroys token objects of keys that are revoked in the table (a destruction
 * that failed when the key was revoked). Only kids the table knows as revoked:
 * a token shared with another deployment keeps that deployment's keys.
 */
export async function sweepRevoked(db: Queryable, store: KeyStore): Promise<string[]> {
  const held = await store.heldKids();
  if (!held.length) return [];
  const { rows } = await db.query<{ kid: string }>(`SELECT kid FROM keys WHERE state = 'revoked' AND backend = 'pkcs11' AND kid = ANY($1)`, [held]);
  const destroyed: string[] = [];
  for (const { kid } of rows) if (await store.destroy({ kid, backend: 'pkcs11' })) destroyed.push(kid);
  return destroyed;
}
