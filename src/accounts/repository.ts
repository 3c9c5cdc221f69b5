// SQL for accounts, their attributes (with provenance) and linked source identities.
// Every write announces the account on ACCOUNTS_CHANNEL in its transaction, so
// that each instance drops what it holds of it in memory (index.ts, AccountCache).
import { announce, writeAtCommit, type Queryable } from '../storage/index.js';
import type { AttributeName, Level, StoredAttribute } from './linking.js';

export const ACCOUNTS_CHANNEL = 'nixa_accounts';

const changed = (tx: Queryable, accountId: string) => announce(tx, ACCOUNTS_CHANNEL, accountId);

export async function lockNationalId(tx: Queryable, hash: string): Promise<void> {
  // Serialises first sign-ins of one person through two sources at the same instant.
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7415004))', [hash]);
}

export async function accountByNationalIdHash(db: Queryable, hash: string): Promise<string | undefined> {
  return (await db.query<{ id: string }>('SELECT id FROM accounts WHERE national_id_hash = $1', [hash])).rows[0]?.id;
}

export async function accountByLink(db: Queryable, sourceId: string, subject: string): Promise<string | undefined> {
  return (await db.query<{ account_id: string }>('SELECT account_id FROM linked_identities WHERE source_id = $1 AND subject = $2', [sourceId, subject]))
    .rows[0]?.account_id;
}

interface AttributeRow {
  name: AttributeName;
  value: string;
  source_id: string;
  level: Level;
  verified_at: Date | string;
}

// json_agg gives verified_at as text, a plain SELECT as a Date: both end as ISO text.
const fromAttributeRow = (r: AttributeRow): Omit<StoredAttribute, 'value'> & { stored: string } => ({
  name: r.name,
  stored: r.value,
  sourceId: r.source_id,
  level: r.level,
  verifiedAt: new Date(r.verified_at).toISOString(),
});

export async function selectAttributes(db: Queryable, accountId: string): Promise<(Omit<StoredAttribute, 'value'> & { stored: string })[]> {
  const { rows } = await db.query<AttributeRow>('SELECT name, value, source_id, level, verified_at FROM account_attributes WHERE account_id = $1', [accountId]);
  return rows.map(fromAttributeRow);
}

export async function insertAccount(tx: Queryable, id: string, nationalIdHash: string): Promise<void> {
  await tx.query('INSERT INTO accounts (id, national_id_hash) VALUES ($1, $2)', [id, nationalIdHash]);
  await changed(tx, id);
}

/** An account without a national ID number (test login), unless it exists. */
export async function insertAccountIfMissing(db: Queryable, id: string): Promise<void> {
  const res = await db.query('INSERT INTO accounts (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [id]);
  if (res.rowCount > 0) await changed(db, id);
}

export async function upsertAttribute(tx: Queryable, accountId: string, a: Omit<StoredAttribute, 'value'> & { stored: string }): Promise<void> {
  await writeAtCommit(
    tx,
    `INSERT INTO account_attributes (account_id, name, value, source_id, level, verified_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (account_id, name) DO UPDATE SET value = EXCLUDED.value, source_id = EXCLUDED.source_id,
       level = EXCLUDED.level, verified_at = EXCLUDED.verified_at`,
    [accountId, a.name, a.stored, a.sourceId, a.level, a.verifiedAt],
  );
  await changed(tx, accountId);
}

export async function recordLink(tx: Queryable, sourceId: string, subject: string, accountId: string): Promise<void> {
  await writeAtCommit(
    tx,
    `INSERT INTO linked_identities (source_id, subject, account_id) VALUES ($1, $2, $3)
     ON CONFLICT (source_id, subject) DO UPDATE SET last_login_at = now()`,
    [sourceId, subject, accountId],
  );
  await changed(tx, accountId);
}

/** What the hot path reads of an account, in one statement (undefined: no such account). */
export interface AccountSnapshotRow {
  enabled: boolean;
  attributes: (Omit<StoredAttribute, 'value'> & { stored: string })[];
  linkedSources: string[];
}

export async function selectSnapshot(db: Queryable, accountId: string): Promise<AccountSnapshotRow | undefined> {
  const { rows } = await db.query<{ enabled: boolean; attributes: AttributeRow[] | null; linked_sources: string[] }>(
    `SELECT a.disabled_at IS NULL AS enabled,
       (SELECT json_agg(json_build_object('name', t.name, 'value', t.value, 'source_id', t.source_id, 'level', t.level, 'verified_at', t.verified_at))
          FROM account_attributes t WHERE t.account_id = a.id) AS attributes,
       ARRAY(SELECT l.source_id FROM linked_identities l WHERE l.account_id = a.id) AS linked_sources
     FROM accounts a WHERE a.id = $1`,
    [accountId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    enabled: r.enabled,
    attributes: (r.attributes ?? []).map(fromAttributeRow),
    linkedSources: r.linked_sources,
  };
}

/** What a sign-in through a source reads of the person's account, under its lock: one statement. */
export interface AccountForSignIn {
  id: string;
  enabled: boolean;
  /** The citizen blocked the signing-in source for this account (migration 0016). */
  sourceBlocked: boolean;
  /** The source the citizen asked to be offered first (remembered in the browser at sign-in). */
  preferredSource: string | undefined;
  attributes: (Omit<StoredAttribute, 'value'> & { stored: string })[];
  links: { sourceId: string; subject: string }[];
}

/**
 * The account of a national ID hash with its attributes and links, share-locked
 * as signInStateOf does (a suspension or block being committed waits for the sign-in,
 * or the sign-in sees it). Run after lockNationalId, in the same transaction.
 */
export async function selectForSignIn(tx: Queryable, nationalIdHash: string, sourceId: string): Promise<AccountForSignIn | undefined> {
  const { rows } = await tx.query<{ id: string; enabled: boolean; source_blocked: boolean; preferred_source: string | null; attributes: AttributeRow[] | null; links: { source_id: string; subject: string }[] | null }>(
    `SELECT a.id, a.disabled_at IS NULL AS enabled, a.preferred_source,
       EXISTS (SELECT 1 FROM account_blocked_sources b WHERE b.account_id = a.id AND b.source_id = $2) AS source_blocked,
       (SELECT json_agg(json_build_object('name', t.name, 'value', t.value, 'source_id', t.source_id, 'level', t.level, 'verified_at', t.verified_at))
          FROM account_attributes t WHERE t.account_id = a.id) AS attributes,
       (SELECT json_agg(json_build_object('source_id', l.source_id, 'subject', l.subject))
          FROM linked_identities l WHERE l.account_id = a.id) AS links
     FROM accounts a WHERE a.national_id_hash = $1 FOR SHARE OF a`,
    [nationalIdHash, sourceId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    enabled: r.enabled,
    sourceBlocked: r.source_blocked,
    preferredSource: r.preferred_source ?? undefined,
    attributes: (r.attributes ?? []).map(fromAttributeRow),
    links: (r.links ?? []).map((l) => ({ sourceId: l.source_id, subject: l.subject })),
  };
}

export async function isEnabled(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM accounts WHERE id = $1 AND disabled_at IS NULL', [accountId])).rows.length === 1;
}

/**
 * For a sign-in's transaction: whether the account is enabled and whether the
 * citizen blocked the source, in one statement. The share lock makes a suspension
 * or a block being committed at this instant wait for the sign-in, or the sign-in
 * wait for it and see it, never both pass each other. Undefined: no such account.
 */
export async function signInStateOf(
  tx: Queryable,
  accountId: string,
  sourceId: string,
): Promise<{ enabled: boolean; sourceBlocked: boolean; preferredSource: string | undefined } | undefined> {
  const { rows } = await tx.query<{ disabled: boolean; source_blocked: boolean; preferred_source: string | null }>(
    `SELECT a.disabled_at IS NOT NULL AS disabled, a.preferred_source,
       EXISTS (SELECT 1 FROM account_blocked_sources b WHERE b.account_id = a.id AND b.source_id = $2) AS source_blocked
     FROM accounts a WHERE a.id = $1 FOR SHARE OF a`,
    [accountId, sourceId],
  );
  const r = rows[0];
  return r && { enabled: r.disabled === false, sourceBlocked: r.source_blocked === true, preferredSource: r.preferred_source ?? undefined };
}

/** Marks attributes as verified again now, without rewriting their values. */
export async function touchAttributes(tx: Queryable, accountId: string, names: string[], at: Date): Promise<void> {
  if (!names.length) return;
  await writeAtCommit(tx, 'UPDATE account_attributes SET verified_at = $3 WHERE account_id = $1 AND name = ANY($2::text[])', [accountId, names, at]);
  await changed(tx, accountId);
}

/** The level of the source that vouched for the account's national ID number (low when none did). */
export async function proofingLevel(db: Queryable, accountId: string): Promise<Level> {
  const { rows } = await db.query<{ level: Level }>("SELECT level FROM account_attributes WHERE account_id = $1 AND name = 'national_id'", [accountId]);
  return rows[0]?.level ?? 'low';
}

// --- Administration: what a security officer sees and changes (administration.ts).

export interface AccountRecord {
  id: string;
  createdAt: Date;
  disabledAt: Date | null;
  version: number;
}

interface AccountRecordRow {
  id: string;
  created_at: Date | string;
  disabled_at: Date | string | null;
  version: number;
}

const accountRecord = (r: AccountRecordRow): AccountRecord => ({
  id: r.id,
  createdAt: new Date(r.created_at),
  disabledAt: r.disabled_at === null ? null : new Date(r.disabled_at),
  version: Number(r.version),
});

/** The account row; `forUpdate` holds it until the transaction ends, so two officers' changes queue. */
export async function selectAccount(db: Queryable, accountId: string, forUpdate = false): Promise<AccountRecord | undefined> {
  const { rows } = await db.query<AccountRecordRow>(
    `SELECT id, created_at, disabled_at, version FROM accounts WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [accountId],
  );
  return rows[0] ? accountRecord(rows[0]) : undefined;
}

/** Suspends (a time) or reinstates (null); undefined if the row is no longer at `version`. */
export async function setDisabledAt(tx: Queryable, accountId: string, version: number, disabledAt: Date | null): Promise<AccountRecord | undefined> {
  const { rows } = await tx.query<AccountRecordRow>(
    `UPDATE accounts SET disabled_at = $3, version = version + 1 WHERE id = $1 AND version = $2
     RETURNING id, created_at, disabled_at, version`,
    [accountId, version, disabledAt],
  );
  if (!rows[0]) return undefined;
  await changed(tx, accountId);
  return accountRecord(rows[0]);
}

export interface LinkRecord {
  sourceId: string;
  linkedAt: Date;
  lastLoginAt: Date;
}

export async function selectLinkTimes(db: Queryable, accountId: string): Promise<LinkRecord[]> {
  const { rows } = await db.query<{ source_id: string; linked_at: Date | string; last_login_at: Date | string }>(
    'SELECT source_id, linked_at, last_login_at FROM linked_identities WHERE account_id = $1 ORDER BY linked_at, source_id',
    [accountId],
  );
  return rows.map((r) => ({ sourceId: r.source_id, linkedAt: new Date(r.linked_at), lastLoginAt: new Date(r.last_login_at) }));
}

export interface FactorCounts {
  passkeys: number;
  authenticatorApp: boolean;
  recoveryCodesLeft: number;
  /** The end of the second-factor lock on the account, if one is stored (it may have expired). */
  lockedUntil: Date | null;
}

/**
 * Counts of the account's second factors, read straight from the factors' tables
 * (migrations 0004–0006): an officer needs how many, never which or their secrets.
 */
export async function countFactors(db: Queryable, accountId: string): Promise<FactorCounts> {
  const { rows } = await db.query<{ passkeys: number; totp: boolean; codes: number; locked_until: Date | string | null }>(
    `SELECT (SELECT count(*)::int FROM passkeys WHERE account_id = $1) AS passkeys,
            EXISTS (SELECT 1 FROM totp_factors WHERE account_id = $1 AND confirmed_at IS NOT NULL) AS totp,
            (SELECT count(*)::int FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL) AS codes,
            (SELECT locked_until FROM factor_attempts WHERE scope = 'account' AND key = $1) AS locked_until`,
    [accountId],
  );
  const r = rows[0]!;
  return {
    passkeys: Number(r.passkeys),
    authenticatorApp: r.totp === true,
    recoveryCodesLeft: Number(r.codes),
    lockedUntil: r.locked_until === null ? null : new Date(r.locked_until),
  };
}

export interface Revoked {
  sessions: number;
  grants: number;
  /** Authorization codes, access and refresh tokens issued under those grants. */
  tokens: number;
}


// --- What the citizen controls of their own account (citizen-control.ts, migration 0016).

export interface BlockedSourceRow {
  sourceId: string;
  blockedAt: Date;
}

export async function selectBlockedSources(db: Queryable, accountId: string): Promise<BlockedSourceRow[]> {
  const { rows } = await db.query<{ source_id: string; blocked_at: Date | string }>(
    'SELECT source_id, blocked_at FROM account_blocked_sources WHERE account_id = $1 ORDER BY blocked_at, source_id',
    [accountId],
  );
  return rows.map((r) => ({ sourceId: r.source_id, blockedAt: new Date(r.blocked_at) }));
}

/**
 * Holds the account row until the transaction ends: a block or unblock queues
 * behind a sign-in in flight (which share-locks it) instead of passing it.
 * False when there is no such account.
 */
export async function lockAccount(tx: Queryable, accountId: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId])).rows.length === 1;
}

/** True when the block is new (false: it was already blocked). */
export async function insertBlockedSource(tx: Queryable, accountId: string, sourceId: string): Promise<boolean> {
  const res = await tx.query('INSERT INTO account_blocked_sources (account_id, source_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [accountId, sourceId]);
  if (res.rowCount > 0) await changed(tx, accountId);
  return res.rowCount > 0;
}

/** True when there was a block to lift. */
export async function deleteBlockedSource(tx: Queryable, accountId: string, sourceId: string): Promise<boolean> {
  const res = await tx.query('DELETE FROM account_blocked_sources WHERE account_id = $1 AND source_id = $2', [accountId, sourceId]);
  if (res.rowCount > 0) await changed(tx, accountId);
  return res.rowCount > 0;
}

export async function selectPreferredSource(db: Queryable, accountId: string): Promise<string | undefined> {
  return (await db.query<{ preferred_source: string | null }>('SELECT preferred_source FROM accounts WHERE id = $1', [accountId])).rows[0]?.preferred_source ?? undefined;
}

export async function updatePreferredSource(db: Queryable, accountId: string, sourceId: string | null): Promise<void> {
  await db.query('UPDATE accounts SET preferred_source = $2 WHERE id = $1', [accountId, sourceId]);
}

/** One event of the account's trail, as notices read it (my-account/notices.ts). */
export interface TrailEventRow {
  seq: number;
  at: Date;
  event: string;
  actor: string;
  details: Record<string, unknown>;
}

/**
 * The events of `events` about the account after seq `after`, oldest first, at
 * most `limit` (audit_events_subject index), and the cursor where it stands.
 */
export async function selectTrailAfter(db: Queryable, accountId: string, events: readonly string[], limit: number): Promise<{ seen: number; rows: TrailEventRow[] }> {
  const { rows } = await db.query<{ seen: string | number; seq: string | number | null; at: Date | string | null; event: string | null; actor: string | null; details: Record<string, unknown> | null }>(
    `SELECT a.notices_seen_seq AS seen, e.seq, e.at, e.event, e.actor, e.details
     FROM accounts a
     LEFT JOIN LATERAL (
       SELECT seq, at, event, actor, details FROM audit_events
       WHERE subject = a.id AND seq > a.notices_seen_seq AND event = ANY($2::text[])
       ORDER BY seq LIMIT $3
     ) e ON true
     WHERE a.id = $1`,
    [accountId, events, limit],
  );
  if (!rows[0]) return { seen: 0, rows: [] };
  return {
    seen: Number(rows[0].seen),
    rows: rows
      .filter((r) => r.seq !== null)
      .map((r) => ({ seq: Number(r.seq), at: new Date(r.at!), event: r.event!, actor: r.actor!, details: r.details ?? {} })),
  };
}

/**
 * For each of `clients`, the account's last consent event for it at or before seq
 * `upTo`: whether a consent was in force there before (a "new service" is one without).
 */
export async function selectConsentsInForce(db: Queryable, accountId: string, clients: readonly string[], upTo: number): Promise<Set<string>> {
  if (!clients.length) return new Set();
  const { rows } = await db.query<{ client: string; event: string }>(
    `SELECT DISTINCT ON (details ->> 'client') details ->> 'client' AS client, event FROM audit_events
     WHERE subject = $1 AND seq <= $2 AND event IN ('CONSENT_GIVEN', 'CONSENT_WITHDRAWN') AND details ->> 'client' = ANY($3::text[])
     ORDER BY details ->> 'client', seq DESC`,
    [accountId, upTo, clients],
  );
  return new Set(rows.filter((r) => r.event === 'CONSENT_GIVEN').map((r) => r.client));
}

/** Moves the notices cursor forward (never back: two pages shown at once both end at the later one). */
export async function advanceNoticesSeen(db: Queryable, accountId: string, seq: number): Promise<void> {
  await db.query('UPDATE accounts SET notices_seen_seq = greatest(notices_seen_seq, $2) WHERE id = $1', [accountId, seq]);
}
