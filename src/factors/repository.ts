// SQL for second factors: authenticator apps, recovery codes, and the failed-attempt
// counters. Every write that must happen once (a time step accepted, a recovery code
// used) is a conditional UPDATE, so two instances racing cannot both succeed.
import type { Level } from '../assurance/index.js';
import type { Queryable } from '../storage/index.js';
import { NO_ATTEMPTS, type AttemptScope, type AttemptState } from './attempts.js';

type Stamp = Date | string | null;
const toDate = (v: Stamp): Date | null => (v === null ? null : new Date(v));

export async function accountExists(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM accounts WHERE id = $1', [accountId])).rows.length === 1;
}

// --- authenticator apps -------------------------------------------------------

export interface TotpRow {
  id: string;
  accountId: string;
  label: string;
  secretEnc: Buffer;
  createdAt: Date;
  pendingExpiresAt: Date | null;
  confirmedAt: Date | null;
  lastTimeStep: number | null;
  lastUsedAt: Date | null;
  /** The session level at enrolment: the app never vouches above it. */
  enrolledLevel: Level;
}

interface TotpRecord {
  id: string;
  account_id: string;
  label: string;
  secret_enc: Uint8Array;
  created_at: Stamp;
  pending_expires_at: Stamp;
  confirmed_at: Stamp;
  last_time_step: number | string | null;
  last_used_at: Stamp;
  enrolled_level: Level;
}

const TOTP_COLUMNS = 'id, account_id, label, secret_enc, created_at, pending_expires_at, confirmed_at, last_time_step, last_used_at, enrolled_level';

const totpRow = (r: TotpRecord): TotpRow => ({
  id: r.id,
  accountId: r.account_id,
  label: r.label,
  secretEnc: Buffer.from(r.secret_enc),
  createdAt: new Date(r.created_at!),
  pendingExpiresAt: toDate(r.pending_expires_at),
  confirmedAt: toDate(r.confirmed_at),
  lastTimeStep: r.last_time_step === null ? null : Number(r.last_time_step),
  lastUsedAt: toDate(r.last_used_at),
  enrolledLevel: r.enrolled_level,
});

export async function selectConfirmedTotp(db: Queryable, accountId: string): Promise<TotpRow | undefined> {
  const { rows } = await db.query<TotpRecord>(
    `SELECT ${TOTP_COLUMNS} FROM totp_factors WHERE account_id = $1 AND confirmed_at IS NOT NULL`,
    [accountId],
  );
  return rows[0] && totpRow(rows[0]);
}

export async function selectPendingTotp(db: Queryable, accountId: string, factorId: string): Promise<TotpRow | undefined> {
  const { rows } = await db.query<TotpRecord>(
    `SELECT ${TOTP_COLUMNS} FROM totp_factors WHERE id = $1 AND account_id = $2 AND confirmed_at IS NULL`,
    [factorId, accountId],
  );
  return rows[0] && totpRow(rows[0]);
}

/** Stores a pending enrolment, replacing any other one of the account (one at a time, whatever the race). */
export async function upsertPendingTotp(
  tx: Queryable,
  p: { id: string; accountId: string; label: string; secretEnc: Buffer; createdAt: Date; pendingExpiresAt: Date; enrolledLevel: Level },
): Promise<void> {
  await tx.query(
    `INSERT INTO totp_factors (id, account_id, label, secret_enc, created_at, pending_expires_at, enrolled_level)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (account_id) WHERE confirmed_at IS NULL DO UPDATE SET
       id = EXCLUDED.id, label = EXCLUDED.label, secret_enc = EXCLUDED.secret_enc,
       created_at = EXCLUDED.created_at, pending_expires_at = EXCLUDED.pending_expires_at,
       enrolled_level = EXCLUDED.enrolled_level`,
    [p.id, p.accountId, p.label, p.secretEnc, p.createdAt, p.pendingExpiresAt, p.enrolledLevel],
  );
}

/** Confirms a pending enrolment once; its first code's step is already spent. */
export async function confirmTotp(tx: Queryable, factorId: string, timeStep: number, now: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE totp_factors SET confirmed_at = $3, pending_expires_at = NULL, last_time_step = $2, last_used_at = $3
     WHERE id = $1 AND confirmed_at IS NULL AND pending_expires_at > $3`,
    [factorId, timeStep, now],
  );
  return res.rowCount === 1;
}

/**
 * Records an accepted code's time step, only if it is later than every step
 * accepted before: of two requests with the same code, exactly one gets true.
 */
export async function advanceTotpStep(tx: Queryable, factorId: string, timeStep: number, now: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE totp_factors SET last_time_step = $2, last_used_at = $3
     WHERE id = $1 AND confirmed_at IS NOT NULL AND (last_time_step IS NULL OR last_time_step < $2)`,
    [factorId, timeStep, now],
  );
  return res.rowCount === 1;
}

/** Deletes the account's app and any enrolment in progress; returns the confirmed one's id. */
export async function deleteTotp(tx: Queryable, accountId: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ id: string; confirmed: boolean }>(
    'DELETE FROM totp_factors WHERE account_id = $1 RETURNING id, confirmed_at IS NOT NULL AS confirmed',
    [accountId],
  );
  return rows.find((r) => r.confirmed)?.id;
}

// --- recovery codes -----------------------------------------------------------

/** Deletes the account's recovery codes (they stand in for the app being removed); returns how many were unused. */
export async function deleteRecoveryCodes(tx: Queryable, accountId: string): Promise<number> {
  const { rows } = await tx.query<{ unused: boolean }>('DELETE FROM recovery_codes WHERE account_id = $1 RETURNING used_at IS NULL AS unused', [accountId]);
  return rows.filter((r) => r.unused).length;
}

/** Replaces the account's recovery codes with new hashes; returns how many unused old ones stopped working. */
export async function replaceRecoveryCodes(
  tx: Queryable,
  accountId: string,
  codes: { id: string; hash: string }[],
  now: Date,
): Promise<number> {
  const old = await tx.query<{ used: boolean }>(
    'DELETE FROM recovery_codes WHERE account_id = $1 RETURNING used_at IS NOT NULL AS used',
    [accountId],
  );
  const values = codes.map((_, i) => `($${i * 2 + 3}, $1, $${i * 2 + 4}, $2)`).join(', ');
  await tx.query(
    `INSERT INTO recovery_codes (id, account_id, code_hash, issued_at) VALUES ${values}`,
    [accountId, now, ...codes.flatMap((c) => [c.id, c.hash])],
  );
  return old.rows.filter((r) => !r.used).length;
}

export async function selectUnusedRecoveryCodes(db: Queryable, accountId: string): Promise<{ id: string; hash: string }[]> {
  const { rows } = await db.query<{ id: string; code_hash: string }>(
    'SELECT id, code_hash FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL',
    [accountId],
  );
  return rows.map((r) => ({ id: r.id, hash: r.code_hash }));
}

/** Spends a recovery code; of two requests racing for one code, exactly one gets true. */
export async function markRecoveryCodeUsed(tx: Queryable, id: string, now: Date): Promise<boolean> {
  const res = await tx.query('UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL', [id, now]);
  return res.rowCount === 1;
}

export async function countUnusedRecoveryCodes(db: Queryable, accountId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL',
    [accountId],
  );
  return rows[0]!.n;
}

// --- failed attempts ----------------------------------------------------------

export interface AttemptKey {
  scope: AttemptScope;
  key: string;
}

/**
 * Serialises attempts on one account and from one address across instances until
 * the transaction ends, so that parallel guesses are counted one after another
 * and none slips past the lock. Always taken in the given order (account first).
 */
export async function lockAttemptKeys(tx: Queryable, keys: AttemptKey[]): Promise<void> {
  for (const k of keys) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7415006))', [`${k.scope}:${k.key}`]);
  }
}

interface AttemptRecord {
  failures: number;
  window_started_at: Stamp;
  last_failure_at: Stamp;
  locked_until: Stamp;
  lock_count: number;
  last_lock_ends_at: Stamp;
}

export async function selectAttempts(db: Queryable, k: AttemptKey): Promise<AttemptState> {
  const { rows } = await db.query<AttemptRecord>(
    `SELECT failures, window_started_at, last_failure_at, locked_until, lock_count, last_lock_ends_at
     FROM factor_attempts WHERE scope = $1 AND key = $2`,
    [k.scope, k.key],
  );
  const r = rows[0];
  if (!r) return NO_ATTEMPTS;
  return {
    failures: r.failures,
    windowStartedAt: toDate(r.window_started_at),
    lastFailureAt: toDate(r.last_failure_at),
    lockedUntil: toDate(r.locked_until),
    lockCount: r.lock_count,
    lastLockEndsAt: toDate(r.last_lock_ends_at),
  };
}

export async function saveAttempts(tx: Queryable, k: AttemptKey, s: AttemptState, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO factor_attempts (scope, key, failures, window_started_at, last_failure_at, locked_until, lock_count, last_lock_ends_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (scope, key) DO UPDATE SET failures = EXCLUDED.failures, window_started_at = EXCLUDED.window_started_at,
       last_failure_at = EXCLUDED.last_failure_at, locked_until = EXCLUDED.locked_until, lock_count = EXCLUDED.lock_count,
       last_lock_ends_at = EXCLUDED.last_lock_ends_at, updated_at = EXCLUDED.updated_at`,
    [k.scope, k.key, s.failures, s.windowStartedAt, s.lastFailureAt, s.lockedUntil, s.lockCount, s.lastLockEndsAt, now],
  );
}

/** Clears an expired lock if it is still the one seen: only one instance records its lifting. */
export async function clearLock(tx: Queryable, k: AttemptKey, seenLockedUntil: Date, now: Date): Promise<boolean> {
  const res = await tx.query(
    'UPDATE factor_attempts SET locked_until = NULL, updated_at = $4 WHERE scope = $1 AND key = $2 AND locked_until = $3',
    [k.scope, k.key, seenLockedUntil, now],
  );
  return res.rowCount === 1;
}

/**
 * Deletes, in small batches skipping rows in use, expired pending enrolments and
 * attempt rows that remember nothing any more (no lock recorded, window closed,
 * lock history forgotten; the cut-offs come from the policy).
 */
export async function purge(
  db: Queryable,
  now: Date,
  cutoffs: Record<AttemptScope, { windowBefore: Date; lockEndedBefore: Date }>,
  batchSize: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.query(
      `DELETE FROM totp_factors WHERE ctid IN (
         SELECT ctid FROM totp_factors WHERE pending_expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [now, batchSize],
    );
    total += res.rowCount;
    if (res.rowCount < batchSize) break;
  }
  for (const [scope, c] of Object.entries(cutoffs)) {
    for (;;) {
      const res = await db.query(
        `DELETE FROM factor_attempts WHERE ctid IN (
           SELECT ctid FROM factor_attempts
           WHERE scope = $1 AND locked_until IS NULL
             AND (window_started_at IS NULL OR window_started_at <= $2)
             AND (last_lock_ends_at IS NULL OR last_lock_ends_at <= $3)
           LIMIT $4 FOR UPDATE SKIP LOCKED)`,
        [scope, c.windowBefore, c.lockEndedBefore, batchSize],
      );
      total += res.rowCount;
      if (res.rowCount < batchSize) break;
    }
  }
  return total;
}
