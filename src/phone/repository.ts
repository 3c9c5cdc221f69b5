// SQL for bound phones and the cross-device requests waiting for them. Every
// move of a request is one conditional UPDATE … RETURNING on its current state,
// so a phone and a computer (or two phones) acting at once cannot both win.
import type { Level } from '../assurance/index.js';
import type { Queryable } from '../storage/index.js';
import type { DenialReason, RequestState } from './policy.js';

type Stamp = Date | string | null;
const date = (s: Stamp) => new Date(s!);
const maybeDate = (s: Stamp) => (s === null ? null : new Date(s));

// ── Bound phones ─────────────────────────────────────────────────────────────

export interface BoundPhoneRow {
  id: string;
  accountId: string;
  passkeyId: string;
  name: string;
  boundLevel: Level;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface BoundPhoneRecord {
  id: string;
  account_id: string;
  passkey_id: string;
  name: string;
  bound_level: Level;
  created_at: Stamp;
  last_used_at: Stamp;
}

const phoneRow = (r: BoundPhoneRecord): BoundPhoneRow => ({
  id: r.id,
  accountId: r.account_id,
  passkeyId: r.passkey_id,
  name: r.name,
  boundLevel: r.bound_level,
  createdAt: date(r.created_at),
  lastUsedAt: maybeDate(r.last_used_at),
});

const PHONE_COLUMNS = 'id, account_id, passkey_id, name, bound_level, created_at, last_used_at';

export async function insertBoundPhone(tx: Queryable, p: Omit<BoundPhoneRow, 'lastUsedAt'>): Promise<void> {
  await tx.query(`INSERT INTO bound_phones (id, account_id, passkey_id, name, bound_level, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
    p.id,
    p.accountId,
    p.passkeyId,
    p.name,
    p.boundLevel,
    p.createdAt,
  ]);
}

export async function selectBoundPhones(db: Queryable, accountId: string): Promise<BoundPhoneRow[]> {
  const { rows } = await db.query<BoundPhoneRecord>(`SELECT ${PHONE_COLUMNS} FROM bound_phones WHERE account_id = $1 ORDER BY created_at, id`, [accountId]);
  return rows.map(phoneRow);
}

export async function selectBoundPhone(db: Queryable, id: string): Promise<BoundPhoneRow | undefined> {
  const { rows } = await db.query<BoundPhoneRecord>(`SELECT ${PHONE_COLUMNS} FROM bound_phones WHERE id = $1`, [id]);
  return rows[0] && phoneRow(rows[0]);
}

/** Unbinds a phone by removing its passkey (the binding goes with it, ON DELETE CASCADE); the phone's name, or undefined. */
export async function deleteBoundPhone(tx: Queryable, accountId: string, id: string): Promise<{ name: string; passkeyId: string } | undefined> {
  const { rows } = await tx.query<{ name: string; passkey_id: string }>(
    `WITH phone AS (SELECT name, passkey_id FROM bound_phones WHERE id = $1 AND account_id = $2),
          gone AS (DELETE FROM passkeys WHERE id IN (SELECT passkey_id FROM phone) AND account_id = $2 RETURNING id)
     SELECT phone.name, phone.passkey_id FROM phone JOIN gone ON gone.id = phone.passkey_id`,
    [id, accountId],
  );
  return rows[0] && { name: rows[0].name, passkeyId: rows[0].passkey_id };
}

export async function touchBoundPhone(tx: Queryable, id: string, now: Date): Promise<void> {
  await tx.query('UPDATE bound_phones SET last_used_at = $2 WHERE id = $1', [id, now]);
}

// ── Cross-device requests ────────────────────────────────────────────────────

/** What the phone shows of the sign-in it is asked to approve. */
export interface RequestDetails {
  /** The computer's browser and system, coarsely (audit/device.ts). */
  device: { browser: string; os: string };
  /** The level the service asked for, if any. */
  level?: Level;
  /** The attributes the service asks for (claim names). */
  claims: string[];
  /** The account signed in on the computer already (a step-up), or the citizen a CIBA request names: only its own phones may approve. */
  sessionAccount?: string;
  /** CIBA: the service's binding message, shown on the phone (and on the service's screen). */
  bindingMessage?: string;
  /**
   * CIBA: the handle itself. Listed to the citizen's own phones when they open
   * nixa; not a bearer secret, since only a phone of that account may open it.
   */
  handle?: string;
  /** CIBA: the scopes asked, for the grant made when the citizen approves. */
  scope?: string;
}

export interface RequestRow {
  handleHash: string;
  kind: 'qr' | 'ciba';
  /** qr: the computer's sign-in. */
  interaction: string | null;
  /** ciba: oidc-provider's request. */
  authReqId: string | null;
  clientId: string;
  /** qr: the number both screens show. */
  number: number | null;
  details: RequestDetails;
  state: RequestState;
  reason: DenialReason | null;
  claimedBy: string | null;
  accountId: string | null;
  level: Level | null;
  amr: string[] | null;
  createdAt: Date;
  expiresAt: Date;
}

interface RequestRecord {
  handle_hash: string;
  kind: 'qr' | 'ciba';
  interaction: string | null;
  auth_req_id: string | null;
  client_id: string;
  number: number | null;
  details: RequestDetails;
  state: RequestState;
  reason: DenialReason | null;
  claimed_by: string | null;
  account_id: string | null;
  level: Level | null;
  amr: string[] | null;
  created_at: Stamp;
  expires_at: Stamp;
}

const requestRow = (r: RequestRecord): RequestRow => ({
  handleHash: r.handle_hash,
  kind: r.kind,
  interaction: r.interaction,
  authReqId: r.auth_req_id,
  clientId: r.client_id,
  number: r.number === null ? null : Number(r.number),
  details: r.details,
  state: r.state,
  reason: r.reason,
  claimedBy: r.claimed_by,
  accountId: r.account_id,
  level: r.level,
  amr: r.amr,
  createdAt: date(r.created_at),
  expiresAt: date(r.expires_at),
});

export async function insertRequest(
  db: Queryable,
  r: Pick<RequestRow, 'handleHash' | 'clientId' | 'details' | 'createdAt' | 'expiresAt'> & { interaction: string; number: number },
): Promise<void> {
  await db.query(
    `INSERT INTO cross_device_requests (handle_hash, interaction, client_id, number, details, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [r.handleHash, r.interaction, r.clientId, r.number, JSON.stringify(r.details), r.createdAt, r.expiresAt],
  );
}

export async function selectRequest(db: Queryable, handleHash: string): Promise<RequestRow | undefined> {
  const { rows } = await db.query<RequestRecord>('SELECT * FROM cross_device_requests WHERE handle_hash = $1', [handleHash]);
  return rows[0] && requestRow(rows[0]);
}

/** A service's backchannel request (CIBA) for the citizen `accountId`, waiting for one of their phones. */
export async function insertCibaRequest(
  db: Queryable,
  r: Pick<RequestRow, 'handleHash' | 'clientId' | 'details' | 'createdAt' | 'expiresAt'> & { authReqId: string; accountId: string },
): Promise<void> {
  await db.query(
    `INSERT INTO cross_device_requests (handle_hash, kind, auth_req_id, client_id, account_id, details, created_at, expires_at)
     VALUES ($1, 'ciba', $2, $3, $4, $5, $6, $7)`,
    [r.handleHash, r.authReqId, r.clientId, r.accountId, JSON.stringify(r.details), r.createdAt, r.expiresAt],
  );
}

/** The account's backchannel requests a phone may still answer, oldest first. */
export async function pendingCibaRequests(db: Queryable, accountId: string, now: Date): Promise<RequestRow[]> {
  const { rows } = await db.query<RequestRecord>(
    `SELECT * FROM cross_device_requests
      WHERE kind = 'ciba' AND account_id = $1 AND state IN ('pending', 'claimed', 'matched') AND expires_at > $2
      ORDER BY created_at`,
    [accountId, now],
  );
  return rows.map(requestRow);
}

/** The newest request of a sign-in on the computer. */
export async function latestRequestOf(db: Queryable, interaction: string): Promise<RequestRow | undefined> {
  const { rows } = await db.query<RequestRecord>('SELECT * FROM cross_device_requests WHERE interaction = $1 ORDER BY created_at DESC LIMIT 1', [interaction]);
  return rows[0] && requestRow(rows[0]);
}

/**
 * Moves a live request from one of `from` to `to`, setting the given columns;
 * the row as it now is, or undefined when it was not in such a state (someone
 * else moved it first) or has expired.
 */
export async function moveRequest(
  db: Queryable,
  handleHash: string,
  from: readonly RequestState[],
  to: RequestState,
  now: Date,
  set: { claimedBy?: string; reason?: DenialReason; accountId?: string; level?: Level; amr?: string[]; decided?: boolean; onlyBy?: string } = {},
): Promise<RequestRow | undefined> {
  const { rows } = await db.query<RequestRecord>(
    `UPDATE cross_device_requests
        SET state = $3,
            claimed_by = coalesce($5, claimed_by),
            reason = coalesce($6, reason),
            account_id = coalesce($7, account_id),
            level = coalesce($8, level),
            amr = coalesce($9, amr),
            decided_at = CASE WHEN $10 THEN $4 ELSE decided_at END
      WHERE handle_hash = $1 AND state = ANY($2::text[]) AND expires_at > $4
        AND ($11::text IS NULL OR claimed_by = $11)
      RETURNING *`,
    [handleHash, from, to, now, set.claimedBy ?? null, set.reason ?? null, set.accountId ?? null, set.level ?? null, set.amr ?? null, set.decided ?? false, set.onlyBy ?? null],
  );
  return rows[0] && requestRow(rows[0]);
}

/** Marks a request that outlived its two minutes undecided as expired; the row if this call did it (once). */
export async function expireRequest(db: Queryable, handleHash: string, now: Date): Promise<RequestRow | undefined> {
  const { rows } = await db.query<RequestRecord>(
    `UPDATE cross_device_requests SET state = 'expired', decided_at = $2
      WHERE handle_hash = $1 AND state IN ('pending', 'claimed', 'matched') AND expires_at <= $2
      RETURNING *`,
    [handleHash, now],
  );
  return rows[0] && requestRow(rows[0]);
}

/** Takes an approval for the computer that waits for it (once): the row, or undefined. */
export async function finishRequest(db: Queryable, handleHash: string, interaction: string): Promise<RequestRow | undefined> {
  const { rows } = await db.query<RequestRecord>(
    `UPDATE cross_device_requests SET state = 'finished' WHERE handle_hash = $1 AND interaction = $2 AND state = 'approved' RETURNING *`,
    [handleHash, interaction],
  );
  return rows[0] && requestRow(rows[0]);
}

export async function purgeRequests(db: Queryable, now: Date, keptSeconds: number): Promise<number> {
  return (await db.query('DELETE FROM cross_device_requests WHERE expires_at < $1', [new Date(now.getTime() - keptSeconds * 1000)])).rowCount;
}
