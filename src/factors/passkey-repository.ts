// SQL for passkeys and their WebAuthn challenges. A challenge is taken with one
// DELETE … RETURNING, so two requests answering it at once cannot both get it; a
// counter moves only forwards, in one conditional UPDATE.
import type { Level } from '../assurance/index.js';
import type { Queryable } from '../storage/index.js';

type Stamp = Date | string | null;

export type Ceremony = 'registration' | 'authentication';
export type UserVerification = 'required' | 'preferred';

export interface PasskeyRow {
  id: string;
  accountId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
  name: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  enrolledLevel: Level;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface PasskeyRecord {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: Uint8Array;
  sign_count: number | string;
  transports: string[] | null;
  name: string;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  enrolled_level: Level;
  created_at: Stamp;
  last_used_at: Stamp;
}

const COLUMNS = 'id, account_id, credential_id, public_key, sign_count, transports, name, device_type, backed_up, enrolled_level, created_at, last_used_at';

const passkeyRow = (r: PasskeyRecord): PasskeyRow => ({
  id: r.id,
  accountId: r.account_id,
  credentialId: r.credential_id,
  publicKey: new Uint8Array(r.public_key) as Uint8Array<ArrayBuffer>,
  signCount: Number(r.sign_count),
  transports: r.transports ?? [],
  name: r.name,
  deviceType: r.device_type,
  backedUp: r.backed_up,
  enrolledLevel: r.enrolled_level,
  createdAt: new Date(r.created_at!),
  lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
});

export async function selectPasskeys(db: Queryable, accountId: string): Promise<PasskeyRow[]> {
  const { rows } = await db.query<PasskeyRecord>(`SELECT ${COLUMNS} FROM passkeys WHERE account_id = $1 ORDER BY created_at, id`, [accountId]);
  return rows.map(passkeyRow);
}

export async function selectPasskeyByCredential(db: Queryable, accountId: string, credentialId: string): Promise<PasskeyRow | undefined> {
  const { rows } = await db.query<PasskeyRecord>(`SELECT ${COLUMNS} FROM passkeys WHERE account_id = $1 AND credential_id = $2`, [
    accountId,
    credentialId,
  ]);
  return rows[0] && passkeyRow(rows[0]);
}

export async function credentialIdTaken(db: Queryable, credentialId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM passkeys WHERE credential_id = $1', [credentialId])).rows.length > 0;
}

export async function insertPasskey(tx: Queryable, p: Omit<PasskeyRow, 'lastUsedAt'>): Promise<void> {
  await tx.query(
    `INSERT INTO passkeys (id, account_id, credential_id, public_key, sign_count, transports, name, device_type, backed_up, enrolled_level, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [p.id, p.accountId, p.credentialId, Buffer.from(p.publicKey), p.signCount, p.transports, p.name, p.deviceType, p.backedUp, p.enrolledLevel, p.createdAt],
  );
}

/**
 * Records a use. The counter may only rise (or stay 0 for an authenticator that
 * keeps none); false when a parallel use got there first with an equal or later
 * counter.
 */
export async function recordPasskeyUse(tx: Queryable, id: string, newCount: number, backedUp: boolean, now: Date): Promise<boolean> {
  const r = await tx.query(
    `UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = $4
     WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`,
    [id, newCount, backedUp, now],
  );
  return r.rowCount === 1;
}

export async function renamePasskey(tx: Queryable, accountId: string, id: string, name: string): Promise<boolean> {
  return (await tx.query('UPDATE passkeys SET name = $3 WHERE id = $1 AND account_id = $2', [id, accountId, name])).rowCount === 1;
}

export async function deletePasskey(tx: Queryable, accountId: string, id: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ name: string }>('DELETE FROM passkeys WHERE id = $1 AND account_id = $2 RETURNING name', [id, accountId]);
  return rows[0]?.name;
}

// --- challenges ----------------------------------------------------------------

export interface ChallengeRow {
  accountId: string;
  challenge: string;
  userVerification: UserVerification;
  expiresAt: Date;
}

/** Stores the challenge of a ceremony, replacing an earlier one for the same binding. */
export async function putChallenge(
  db: Queryable,
  c: { binding: string; ceremony: Ceremony; accountId: string; challenge: string; userVerification: UserVerification; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO webauthn_challenges (binding, ceremony, account_id, challenge, user_verification, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (binding, ceremony) DO UPDATE
       SET account_id = EXCLUDED.account_id, challenge = EXCLUDED.challenge,
           user_verification = EXCLUDED.user_verification, expires_at = EXCLUDED.expires_at`,
    [c.binding, c.ceremony, c.accountId, c.challenge, c.userVerification, c.expiresAt],
  );
}

/** Takes (deletes and returns) the challenge issued to this binding, expired or not: it can be answered once. */
export async function takeChallenge(db: Queryable, binding: string, ceremony: Ceremony): Promise<ChallengeRow | undefined> {
  const { rows } = await db.query<{ account_id: string; challenge: string; user_verification: UserVerification; expires_at: Stamp }>(
    'DELETE FROM webauthn_challenges WHERE binding = $1 AND ceremony = $2 RETURNING account_id, challenge, user_verification, expires_at',
    [binding, ceremony],
  );
  const r = rows[0];
  return r && { accountId: r.account_id, challenge: r.challenge, userVerification: r.user_verification, expiresAt: new Date(r.expires_at!) };
}

export async function purgeChallenges(db: Queryable, now: Date): Promise<number> {
  return (await db.query('DELETE FROM webauthn_challenges WHERE expires_at < $1', [now])).rowCount;
}
