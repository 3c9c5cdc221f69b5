// SQL for the audit trail: the chain head, events, checkpoints and partitions.
import type { Queryable } from '../storage/index.js';
import type { ChainRow } from './chain.js';
import { storedSubjects } from './redact.js';

export interface Head {
  seq: number;
  hash: string;
  /** The time the next event gets: the database clock, never before the last event's. */
  now: string;
  needsPartition: boolean;
}

const iso = (v: Date | string) => new Date(v).toISOString();

/**
 * Locks the chain head until the transaction ends. Every append takes this one
 * row lock, which is what keeps two instances from forking the chain.
 */
export async function lockHead(tx: Queryable): Promise<Head> {
  const { rows } = await tx.query<{ seq: number; hash: string; now: Date | string; needs: boolean }>(
    `WITH h AS (SELECT seq, hash, at, partitions_until FROM audit_chain_head FOR UPDATE),
          t AS (SELECT greatest(date_trunc('milliseconds', clock_timestamp()), (SELECT at FROM h)) AS now)
     SELECT h.seq, h.hash, t.now, t.now >= h.partitions_until AS needs FROM h, t`,
  );
  const r = rows[0];
  if (!r) throw new Error('audit_chain_head is empty: migration 0008 has not run');
  return { seq: Number(r.seq), hash: r.hash, now: iso(r.now), needsPartition: r.needs };
}

/** Creates month partitions up to the month of `upto` (on demand, or ahead by the periodic job). */
export async function ensurePartitions(db: Queryable, upto: Date | string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT audit_ensure_partitions($1::timestamptz) AS n', [upto]);
  return Number(rows[0]?.n ?? 0);
}

/** The INSERT of chained rows, its parameters from $<offset+1>. */
function insertOf(rows: ChainRow[], offset: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const values = rows.map((r) => {
    const base = offset + params.length;
    params.push(r.seq, r.at, r.event, r.actor, r.subject, r.reason, JSON.stringify(r.details), r.prevHash, r.hash);
    const p = (i: number) => `$${base + i}`;
    return `(${p(1)}::bigint, ${p(2)}::timestamptz, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}::jsonb, ${p(8)}, ${p(9)}, 2::smallint)`;
  });
  return { sql: `INSERT INTO audit_events (seq, at, event, actor, subject, reason, details, prev_hash, hash, hash_version) VALUES ${values.join(', ')}`, params };
}

const MOVE_HEAD = 'UPDATE audit_chain_head SET seq = $1, hash = $2, at = $3::timestamptz';

/**
 * Inserts chained rows and moves the head (locked by lockHead): in the
 * transaction's commit statement with its other writes when it has one, else in
 * one statement of their own.
 */
export async function insertChained(tx: Queryable, rows: ChainRow[]): Promise<void> {
  const last = rows[rows.length - 1]!;
  const head = [last.seq, last.hash, last.at];
  if (tx.later) {
    const insert = insertOf(rows, 0);
    tx.later(MOVE_HEAD, head);
    tx.later(insert.sql, insert.params);
    return;
  }
  const insert = insertOf(rows, head.length);
  await tx.query(`WITH head AS (${MOVE_HEAD}) ${insert.sql}`, [...head, ...insert.params]);
}

interface EventRow {
  seq: number;
  at: Date | string;
  event: string;
  actor: string;
  subject: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  hash_version: number;
}

const fromRow = (r: EventRow): ChainRow => ({
  seq: Number(r.seq),
  at: iso(r.at),
  event: r.event,
  actor: r.actor,
  subject: r.subject,
  reason: r.reason,
  details: r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
  hashVersion: r.hash_version === 1 ? 1 : 2,
});

const COLUMNS = 'seq, at, event, actor, subject, reason, details, prev_hash, hash, hash_version';

/** One batch of the trail in seq order (keyset pagination: never an OFFSET, never the whole table). */
export async function eventsAfter(
  db: Queryable,
  afterSeq: number,
  limit: number,
  range: { from?: Date; to?: Date } = {},
): Promise<ChainRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events
     WHERE seq > $1 AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
     ORDER BY seq LIMIT $2`,
    [afterSeq, limit, range.from ?? null, range.to ?? null],
  );
  return rows.map(fromRow);
}

export interface AuditQuery {
  from?: Date;
  to?: Date;
  event?: string;
  actor?: string;
  /** The subject, and the older stored forms of it (storedSubjects). */
  subject?: string;
  /** Keyset pagination, newest first: events with a smaller seq. */
  beforeSeq?: number;
  limit: number;
}

/** Events matching every given filter, newest first (the time range bounds the partitions read). */
export async function searchEvents(db: Queryable, q: AuditQuery): Promise<ChainRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events
     WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
       AND ($3::text IS NULL OR event = $3) AND ($4::text IS NULL OR actor = $4) AND ($5::text[] IS NULL OR subject = ANY($5::text[]))
       AND ($6::bigint IS NULL OR seq < $6)
     ORDER BY seq DESC LIMIT $7`,
    [q.from ?? null, q.to ?? null, q.event ?? null, q.actor ?? null, q.subject === undefined ? null : storedSubjects(q.subject), q.beforeSeq ?? null, q.limit],
  );
  return rows.map(fromRow);
}

/**
 * A page of the events about one subject, of the given names only, newest first
 * (keyset on seq: the index on (subject, seq) reads exactly one page). The names
 * keep out rows whose subject merely has the same text (a kid, a client id).
 */
export async function eventsAboutSubject(db: Queryable, subjects: readonly string[], events: readonly string[], beforeSeq: number | undefined, limit: number): Promise<ChainRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events
     WHERE subject = ANY($1::text[]) AND event = ANY($2::text[]) AND ($3::bigint IS NULL OR seq < $3)
     ORDER BY seq DESC LIMIT $4`,
    [[...subjects], [...events], beforeSeq ?? null, limit],
  );
  return rows.map(fromRow);
}

/** One event about a subject, of the given names; undefined when that seq is not one of them. */
export async function eventAboutSubject(db: Queryable, subjects: readonly string[], events: readonly string[], seq: number): Promise<ChainRow | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM audit_events WHERE seq = $1 AND subject = ANY($2::text[]) AND event = ANY($3::text[])`, [
    seq,
    [...subjects],
    [...events],
  ]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Whether an event of this name about the subject already names the seq in details.<key> (idempotent security events). */
export async function hasEventNaming(db: Queryable, event: string, subjects: readonly string[], key: string, seq: number): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM audit_events WHERE subject = ANY($1::text[]) AND event = $2 AND details->>$3 = $4::text) AS found`,
    [[...subjects], event, key, String(seq)],
  );
  return rows[0]?.found === true;
}

/** The latest event of a kind (retention records, key creation). */
export async function lastEventOf(db: Queryable, event: string, subject?: string): Promise<ChainRow | undefined> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events WHERE event = $1 AND ($2::text IS NULL OR subject = $2) ORDER BY seq DESC LIMIT 1`,
    [event, subject ?? null],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function eventsOf(db: Queryable, event: string): Promise<ChainRow[]> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM audit_events WHERE event = $1 ORDER BY seq`, [event]);
  return rows.map(fromRow);
}

export async function readHead(db: Queryable): Promise<{ seq: number; hash: string }> {
  const { rows } = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain_head');
  return { seq: Number(rows[0]?.seq ?? 0), hash: rows[0]?.hash ?? '' };
}

export async function firstSeq(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ seq: number | null }>('SELECT min(seq) AS seq FROM audit_events');
  return rows[0]?.seq === null || rows[0]?.seq === undefined ? undefined : Number(rows[0].seq);
}

export interface StoredCheckpoint {
  id: number;
  createdAt: string;
  seq: number;
  hash: string;
  kid: string;
  publicJwk: Record<string, unknown>;
  jws: string;
}

interface CheckpointRow {
  id: number;
  created_at: Date | string;
  seq: number;
  hash: string;
  kid: string;
  public_jwk: Record<string, unknown>;
  jws: string;
}

const fromCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  id: Number(r.id),
  createdAt: iso(r.created_at),
  seq: Number(r.seq),
  hash: r.hash,
  kid: r.kid,
  publicJwk: r.public_jwk,
  jws: r.jws,
});

// Serialises checkpoint creation between instances (the periodic job runs on each).
const CHECKPOINT_LOCK = 7_415_004;

export async function lockCheckpoints(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [CHECKPOINT_LOCK]);
}

export async function lastCheckpoint(db: Queryable): Promise<StoredCheckpoint | undefined> {
  const { rows } = await db.query<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1');
  return rows[0] ? fromCheckpoint(rows[0]) : undefined;
}

export async function insertCheckpoint(tx: Queryable, c: StoredCheckpoint): Promise<void> {
  await tx.query(
    `INSERT INTO audit_checkpoints (id, created_at, seq, hash, kid, public_jwk, jws) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
    [c.id, c.createdAt, c.seq, c.hash, c.kid, JSON.stringify(c.publicJwk), c.jws],
  );
}

export async function checkpointsAfter(db: Queryable, afterId: number, limit: number, range: { from?: Date; to?: Date } = {}): Promise<StoredCheckpoint[]> {
  const { rows } = await db.query<CheckpointRow>(
    `SELECT * FROM audit_checkpoints
     WHERE id > $1 AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
     ORDER BY id LIMIT $2`,
    [afterId, limit, range.from ?? null, range.to ?? null],
  );
  return rows.map(fromCheckpoint);
}

/** The public JWK nixa has for a kid, if the key is still in the keys table. */
export async function keyPublicJwk(db: Queryable, kid: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<{ public_jwk: Record<string, unknown> | null }>('SELECT public_jwk FROM keys WHERE kid = $1', [kid]);
  return rows[0]?.public_jwk ?? undefined;
}

export interface Partition {
  name: string;
  from: string;
  to: string;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

/** The trail's month partitions, oldest first, with the seq range each holds. */
export async function listPartitions(db: Queryable): Promise<Partition[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname`,
  );
  const out: Partition[] = [];
  for (const { name } of rows) {
    const m = /^audit_events_(\d{4})m(\d{2})$/.exec(name);
    if (!m) continue;
    const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
    const to = new Date(Date.UTC(Number(m[1]), Number(m[2]), 1));
    // The name comes from the catalogue and matched the pattern above, so quoting it is safe.
    const stats = await db.query<{ n: number; first: number | null; last: number | null }>(
      `SELECT count(*)::int AS n, min(seq) AS first, max(seq) AS last FROM "${name}"`,
    );
    const s = stats.rows[0]!;
    out.push({
      name,
      from: from.toISOString(),
      to: to.toISOString(),
      events: Number(s.n),
      firstSeq: s.first === null ? null : Number(s.first),
      lastSeq: s.last === null ? null : Number(s.last),
    });
  }
  return out;
}

export async function dropPartition(tx: Queryable, name: string): Promise<void> {
  if (!/^audit_events_\d{4}m\d{2}$/.test(name)) throw new Error(`not an audit partition: ${name}`);
  await tx.query(`DROP TABLE "${name}"`);
}

/**
 * The latest acts for these organisations (events of this name whose
 * details.enterprise is one of the codes), newest first: what a legal
 * representative sees of who acted for their company (migration 0020's index).
 */
export async function eventsForEnterprises(db: Queryable, event: string, enterpriseCodes: readonly string[], limit: number): Promise<ChainRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events WHERE event = $1 AND details->>'enterprise' = ANY($2::text[]) ORDER BY seq DESC LIMIT $3`,
    [event, [...enterpriseCodes], limit],
  );
  return rows.map(fromRow);
}
