// SQL for Web Push: the bound phones' subscriptions and nixa's VAPID key pair
// (migrations/0018_push.sql). Encryption happens in index.ts; rows here carry
// the envelopes as they are stored.
import type { Queryable } from '../storage/index.js';

export interface StoredSubscription {
  id: string;
  boundPhoneId: string;
  pushService: string;
  secretsEnc: Buffer;
  p256dh: string;
  expiresAt: Date | null;
  failures: number;
}

interface SubscriptionRow {
  id: string;
  bound_phone_id: string;
  push_service: string;
  secrets_enc: Uint8Array;
  p256dh: string;
  expires_at: Date | string | null;
  failures: number;
}

/**
 * Stores the phone's subscription, replacing the one it had (with a new id, so
 * that the outcome of a push to the old one cannot delete or count against the
 * new). False when there is no such bound phone.
 */
export async function upsertSubscription(
  db: Queryable,
  s: { id: string; boundPhoneId: string; pushService: string; secretsEnc: Buffer; p256dh: string; expiresAt: Date | null },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO push_subscriptions (id, bound_phone_id, push_service, secrets_enc, p256dh, expires_at)
     SELECT $1, b.id, $3, $4, $5, $6 FROM bound_phones b WHERE b.id = $2
     ON CONFLICT (bound_phone_id) DO UPDATE SET
       id = EXCLUDED.id, push_service = EXCLUDED.push_service, secrets_enc = EXCLUDED.secrets_enc,
       p256dh = EXCLUDED.p256dh, expires_at = EXCLUDED.expires_at, created_at = now(),
       last_success_at = NULL, last_failure_at = NULL, failures = 0`,
    [s.id, s.boundPhoneId, s.pushService, s.secretsEnc, s.p256dh, s.expiresAt],
  );
  return rowCount > 0;
}

/** The phone's subscription, unless it has none or the browser's expiration time has passed. */
export async function findSubscription(db: Queryable, boundPhoneId: string): Promise<StoredSubscription | undefined> {
  const { rows } = await db.query<SubscriptionRow>(
    `SELECT id, bound_phone_id, push_service, secrets_enc, p256dh, expires_at, failures
       FROM push_subscriptions WHERE bound_phone_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
    [boundPhoneId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    boundPhoneId: r.bound_phone_id,
    pushService: r.push_service,
    secretsEnc: Buffer.from(r.secrets_enc),
    p256dh: r.p256dh,
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
    failures: Number(r.failures),
  };
}

export async function deleteSubscriptionOf(db: Queryable, boundPhoneId: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM push_subscriptions WHERE bound_phone_id = $1`, [boundPhoneId]);
  return rowCount > 0;
}

/** Deletes this subscription (by its id: a newer one of the same phone stays). */
export async function deleteSubscription(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM push_subscriptions WHERE id = $1`, [id]);
}

export async function recordSuccess(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE push_subscriptions SET last_success_at = now(), failures = 0 WHERE id = $1`, [id]);
}

/** Counts a failed push; the count since the last success (undefined if the row is gone). */
export async function recordFailure(db: Queryable, id: string): Promise<number | undefined> {
  const { rows } = await db.query<{ failures: number }>(
    `UPDATE push_subscriptions SET last_failure_at = now(), failures = failures + 1 WHERE id = $1 RETURNING failures`,
    [id],
  );
  return rows[0] ? Number(rows[0].failures) : undefined;
}

/** Deletes subscriptions whose browser-given expiration time has passed (for the periodic purge). */
export async function purgeExpiredSubscriptions(db: Queryable, batchSize: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM push_subscriptions WHERE id IN (SELECT id FROM push_subscriptions WHERE expires_at <= now() LIMIT $1)`,
    [batchSize],
  );
  return rowCount;
}

// --- the VAPID key pair ----------------------------------------------------------

export interface StoredVapidKey {
  publicKey: string;
  privateEnc: Buffer;
}

export async function readVapidKey(db: Queryable): Promise<StoredVapidKey | undefined> {
  const { rows } = await db.query<{ public_key: string; private_enc: Uint8Array }>(
    `SELECT public_key, private_enc FROM push_vapid_key WHERE id = 1`,
  );
  const r = rows[0];
  return r ? { publicKey: r.public_key, privateEnc: Buffer.from(r.private_enc) } : undefined;
}

/**
 * Inserts the key pair unless one exists; either way returns the one stored.
 * Two instances racing both insert, one wins (ON CONFLICT waits for the other's
 * commit, then does nothing), and both read the winner's.
 */
export async function insertVapidKeyOnce(db: Queryable, key: StoredVapidKey): Promise<StoredVapidKey | undefined> {
  await db.query(`INSERT INTO push_vapid_key (id, public_key, private_enc) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [
    key.publicKey,
    key.privateEnc,
  ]);
  return readVapidKey(db);
}
