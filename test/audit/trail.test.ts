// The trail in the database: appends (also concurrent ones, on PostgreSQL),
// append-only enforcement, tampering found by verify, checkpoints, export,
// month partitions, and the move of pre-0008 rows with their hashes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  appendAudit,
  createCheckpoint,
  eventHash,
  exportTrail,
  listPartitions,
  prunePartitions,
  recordExport,
  verifyTrail,
  GENESIS,
  type ChainRow,
} from '../../src/audit/index.js';
import { activeSigningKey, Cipher, KeyRing } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { migrate, openPostgres, type Database, type Queryable } from '../../src/storage/index.js';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { TEST_MASTER_KEY, testConfig } from '../support/nixa.js';


const config = testConfig();
const cipher = new Cipher(Buffer.from(TEST_MASTER_KEY, 'base64'));

async function withKeys(db: Database): Promise<void> {
  await new KeyRing(db, cipher, config, silentLogger).maintain();
}

const signIn = (i: number) => ({
  event: 'SIGN_IN' as const,
  actor: 'source:vneid',
  subject: `acc-${i}`,
  details: { level: 'high', service: 'dvc-hanoi', created: false, linked: false },
});

/** What an attacker with superuser rights does: switch off the triggers, then write. */
async function tamper(db: Database, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

const readHeadHash = async (db: Queryable) => (await db.query<{ hash: string }>('SELECT hash FROM audit_chain_head')).rows[0]?.hash;

const seqAt = async (db: Queryable, seq: number) =>
  (await db.query<{ at: Date }>('SELECT at FROM audit_events WHERE seq = $1', [seq])).rows[0]!.at;

describe('the audit trail', () => {
  let tdb: TestDatabase;
  beforeEach(async () => {
    tdb = await createTestDatabase();
  });
  afterEach(async () => {
    await tdb.drop();
  });

  it('verifies after many appends, each transaction chaining its events together at commit', async () => {
    for (let i = 0; i < 30; i++) {
      await tdb.db.transaction(async (tx) => {
        await appendAudit(tx, signIn(i));
        await appendAudit(tx, { event: 'CONSENT_GIVEN', actor: `account:acc-${i}`, subject: 'dvc-hanoi', details: { claims: ['name', 'birthdate'] } });
      });
    }
    // A rolled-back transaction leaves no event and no gap.
    await expect(tdb.db.transaction(async (tx) => {
      await appendAudit(tx, signIn(99));
      throw new Error('sign-in failed later');
    })).rejects.toThrow('sign-in failed later');
    // Given the database rather than a transaction, the event gets a transaction of its own.
    await appendAudit(tdb.db, signIn(100));
    const report = await verifyTrail(tdb.db, { batchSize: 7 });
    expect(report).toMatchObject({ ok: true, events: 61, firstSeq: 1, lastSeq: 61, problems: [] });
    const { rows } = await tdb.db.query<{ seq: number; event: string }>('SELECT seq, event FROM audit_events WHERE seq <= 2 ORDER BY seq');
    expect(rows).toEqual([{ seq: 1, event: 'SIGN_IN' }, { seq: 2, event: 'CONSENT_GIVEN' }]);
  });

  (TEST_DATABASE_URL ? it : it.skip)('never forks under parallel transactions from several connections (two instances)', async () => {
    const other = await openPostgres(tdb.url!, 8);
    try {
      const work = (db: Database, who: number) =>
        Array.from({ length: 40 }, (_, i) =>
          db.transaction(async (tx) => {
            await appendAudit(tx, signIn(who * 1000 + i));
            // The rest of a sign-in's transaction runs between the append and the commit.
            await tx.query('SELECT pg_sleep(0.002)');
            await appendAudit(tx, { event: 'CONSENT_GIVEN', actor: 'account:x', subject: 'dvc-hanoi' });
          }),
        );
      await Promise.all([...work(tdb.db, 1), ...work(other, 2)]);
    } finally {
      await other.close();
    }
    const report = await verifyTrail(tdb.db);
    expect(report).toMatchObject({ ok: true, events: 160, lastSeq: 160 });
    const { rows } = await tdb.db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT prev_hash)::int AS d FROM audit_events');
    expect(rows[0]).toEqual({ n: 160, d: 160 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE, also on a partition directly', async () => {
    await tdb.db.transaction((tx) => appendAudit(tx, signIn(1)));
    const [part] = (await listPartitions(tdb.db)).filter((p) => p.events > 0);
    for (const sql of [
      `UPDATE audit_events SET actor = 'cli:mallory'`,
      'DELETE FROM audit_events',
      'TRUNCATE audit_events',
      `TRUNCATE ${part!.name}`,
      `DELETE FROM ${part!.name}`,
      'DELETE FROM audit_chain_head',
      'TRUNCATE audit_checkpoints',
    ]) {
      await expect(tdb.db.query(sql)).rejects.toThrow(/append-only/);
    }
    expect(await verifyTrail(tdb.db)).toMatchObject({ ok: true, events: 1 });
  });

  it('names the seq of a row altered directly in the database', async () => {
    for (let i = 0; i < 12; i++) await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
    await tamper(tdb.db, `UPDATE audit_events SET details = jsonb_set(details, '{level}', '"low"') WHERE seq = 7`);
    const report = await verifyTrail(tdb.db, { batchSize: 5 });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'altered', seq: 7, at: (await seqAt(tdb.db, 7)).toISOString() });
    expect(report.problems[0]!.message).toMatch(/seq 7 .* was altered/);
    expect(report.events).toBe(6);
  });

  it('names the gap left by a row deleted directly, and rows cut from the end', async () => {
    for (let i = 0; i < 12; i++) await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
    await tamper(tdb.db, 'DELETE FROM audit_events WHERE seq IN (5, 6)');
    expect((await verifyTrail(tdb.db)).problems[0]).toMatchObject({ kind: 'missing', seq: 7, message: expect.stringMatching(/missing between seq 4 and seq 7/) });

    await tamper(tdb.db, 'DELETE FROM audit_events WHERE seq >= 11');
    expect((await verifyTrail(tdb.db, { fromSeq: 7 })).problems[0]).toMatchObject({ kind: 'missing', message: expect.stringMatching(/missing after seq 10: the chain head says the last event is seq 12/) });
  });

  it('catches a rewrite of the whole chain with a signed checkpoint, which stays checkable after its key is deleted', async () => {
    await withKeys(tdb.db);
    const key = await activeSigningKey(tdb.db, cipher, 'ES256');
    for (let i = 0; i < 5; i++) await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
    const first = await createCheckpoint(tdb.db, key, config.issuer);
    expect(first).toMatchObject({ id: 1, seq: (await verifyTrail(tdb.db)).lastSeq, kid: key.kid });
    expect(await createCheckpoint(tdb.db, key, config.issuer)).toBeUndefined(); // nothing new
    await tdb.db.transaction((tx) => appendAudit(tx, signIn(5)));
    await createCheckpoint(tdb.db, key, config.issuer);

    const ok = await verifyTrail(tdb.db);
    expect(ok).toMatchObject({ ok: true, checkpoints: 2, keys: [{ kid: key.kid, attestedBy: 'keys table', checkpoints: 2 }] });

    // The key leaves the keys table (as deletion does after retirement): its KEY_CREATED event vouches for it.
    await tdb.db.query(`UPDATE keys SET state = 'retired', delete_after = now() WHERE kid = $1`, [key.kid]);
    await tdb.db.query('DELETE FROM keys WHERE kid = $1', [key.kid]);
    expect((await verifyTrail(tdb.db)).keys[0]!.attestedBy).toMatch(/^KEY_CREATED at seq \d+$/);

    // Rewrite everything from the first SIGN_IN on, recomputing every hash: the chain alone cannot tell.
    const { rows } = await tdb.db.query<{ seq: number }>(`SELECT min(seq) AS seq FROM audit_events WHERE event = 'SIGN_IN'`);
    await rewriteFrom(tdb.db, rows[0]!.seq, (r) => (r.subject === 'acc-2' ? { ...r, subject: 'acc-mallory' } : r));
    const report = await verifyTrail(tdb.db);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'checkpoint', checkpoint: 1, message: expect.stringMatching(/vouches that seq \d+ had hash .*rewritten/) }),
    ]);
  });

  it('names a forged checkpoint', async () => {
    await withKeys(tdb.db);
    const key = await activeSigningKey(tdb.db, cipher, 'ES256');
    await tdb.db.transaction((tx) => appendAudit(tx, signIn(1)));
    const c = (await createCheckpoint(tdb.db, key, config.issuer))!;
    // Someone without the private key changes what the checkpoint says, keeping the signature.
    const [h, , s] = c.jws.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ iss: config.issuer, checkpoint: 1, audit_seq: c.seq, audit_hash: 'f'.repeat(64), prev: null })).toString('base64url');
    await tamper(tdb.db, 'UPDATE audit_checkpoints SET hash = $1, jws = $2 WHERE id = 1', ['f'.repeat(64), `${h}.${forgedPayload}.${s}`]);
    const report = await verifyTrail(tdb.db);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'checkpoint', checkpoint: 1, message: expect.stringMatching(/checkpoint 1 .*bad signature/) });
  });

  it('exports a time range as JSON Lines that verify on their own', async () => {
    await withKeys(tdb.db);
    for (let i = 0; i < 25; i++) await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
    await createCheckpoint(tdb.db, await activeSigningKey(tdb.db, cipher, 'ES256'), config.issuer);
    let text = '';
    const summary = await exportTrail(tdb.db, { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 3_600_000) }, (t) => void (text += t), 4);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.filter((l) => l.type === 'event');
    expect(summary).toMatchObject({ events: events.length, checkpoints: 1, sha256: createHash('sha256').update(text).digest('hex') });
    expect(lines.at(-1)).toMatchObject({ type: 'checkpoint', id: 1, jws: expect.any(String), public_jwk: expect.objectContaining({ kty: 'EC' }) });
    let prev = GENESIS;
    for (const e of events) {
      const row = { seq: e.seq, at: e.at, event: e.event, actor: e.actor, subject: e.subject, reason: e.reason, details: e.details, prevHash: e.prev_hash } as ChainRow;
      expect(e.prev_hash).toBe(prev);
      expect(eventHash(row)).toBe(e.hash);
      prev = e.hash as string;
    }
    expect(text).not.toMatch(/"d":|private/);
    const none = await exportTrail(tdb.db, { from: new Date('2020-01-01'), to: new Date('2020-02-01') }, () => {});
    expect(none).toMatchObject({ events: 0, checkpoints: 0, firstSeq: null });
  });

  it.each([
    ['', false],
    // AUDIT_PRUNED records the last removed event's hash (hex): about one in fourteen
    // holds a run of exactly twelve decimal digits, which the trail once masked as an ID
    // number, so verify lost its anchor after such a prune.
    [' (the last removed hash holding twelve digits in a row)', true],
  ])('removes a whole old month once checkpointed and exported, and verify starts after it%s', async (_, digitsInHash) => {
    await withKeys(tdb.db);
    const key = await activeSigningKey(tdb.db, cipher, 'ES256');
    for (let i = 0; i < 5; i++) await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
    for (let i = 0; digitsInHash && !/(?<!\d)\d{12}(?!\d)/.test((await readHeadHash(tdb.db)) ?? ''); i++) {
      if (i > 2000) throw new Error('no hash with twelve digits in a row in 2000 events');
      await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
    }
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const later = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 14, 3));
    const thisPartition = (await listPartitions(tdb.db)).find((p) => p.from === monthStart.toISOString())!;

    // Fourteen months pass: new events land in later months (the head's time only moves forward).
    await tdb.db.query('UPDATE audit_chain_head SET at = $1', [later]);
    const prune = () => prunePartitions(tdb.db, { before: nextMonth, reason: 'lưu trữ 12 tháng', actor: 'cli:test', now: later });
    await expect(prune()).rejects.toThrow(/not covered by a signed checkpoint/);
    await createCheckpoint(tdb.db, key, config.issuer);
    await expect(prune()).rejects.toThrow(/has not been exported in full: run nixa audit export --from/);
    await recordExport(tdb.db, await exportTrail(tdb.db, { from: monthStart, to: nextMonth }, () => {}), 'cli:test');
    expect((await prune()).map((p) => p.name)).toEqual([thisPartition.name]);
    await tdb.db.transaction((tx) => appendAudit(tx, signIn(6)));
    const report = await verifyTrail(tdb.db);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, firstSeq: thisPartition.lastSeq! + 1, checkpoints: 1 });
    const { rows } = await tdb.db.query<{ reason: string; details: Record<string, unknown> }>(`SELECT reason, details FROM audit_events WHERE event = 'AUDIT_PRUNED'`);
    expect(rows).toEqual([{ reason: 'lưu trữ 12 tháng', details: expect.objectContaining({ lastSeq: thisPartition.lastSeq, events: thisPartition.events }) }]);
  });

  it('keeps month partitions ahead, and creates a missing one on demand', async () => {
    const parts = await listPartitions(tdb.db);
    const thisMonth = new Date().toISOString().slice(0, 7);
    expect(parts.map((p) => p.from.slice(0, 7))).toContain(thisMonth);
    // Pretend the periodic job never ran: the head says partitions end now.
    await tdb.db.query(`UPDATE audit_chain_head SET partitions_until = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
    for (const p of parts.filter((x) => x.from.slice(0, 7) >= thisMonth)) await tdb.db.query(`DROP TABLE ${p.name}`);
    await tdb.db.transaction((tx) => appendAudit(tx, signIn(1)));
    expect((await listPartitions(tdb.db)).find((p) => p.from.slice(0, 7) === thisMonth)).toMatchObject({ events: 1 });
  });
});

describe('migration 0008', () => {
  it('moves the rows written before it with their hashes, and the chain verifies across it', async () => {
    const tdb = await createTestDatabase({ migrate: false });
    try {
      // Apply the migrations before 0008 as an older nixa did, and record them.
      await tdb.db.exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && Number(f.slice(0, 4)) < 8).sort()) {
        const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
        await tdb.db.exec(sql);
        await tdb.db.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [Number(file.slice(0, 4)), file, createHash('sha256').update(sql).digest('hex')]);
      }
      for (let i = 0; i < 6; i++) {
        await tdb.db.transaction((tx) => legacyAppend(tx, { event: 'KEY_CREATED', actor: 'system:key-schedule', subject: `kid-${i}`, details: { use: 'sig', alg: 'ES256', state: 'next' } }));
      }
      // A rolled-back legacy append used up a sequence number: version 1 seq may have gaps.
      await expect(tdb.db.transaction(async (tx) => {
        await legacyAppend(tx, { event: 'CLIENT_ADDED', actor: 'cli:an', subject: 'dvc-hue', details: {} });
        throw new Error('rolled back');
      })).rejects.toThrow('rolled back');
      await tdb.db.transaction((tx) => legacyAppend(tx, { event: 'CLIENT_DISABLED', actor: 'cli:an', subject: 'dvc-hue', details: { reason: 'thử nghiệm', by: 'Nguyễn Văn An' } }));
      const before = (await tdb.db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq')).rows;

      await migrate(tdb.db);
      const after = (await tdb.db.query<{ seq: number; hash: string; hash_version: number }>('SELECT seq, hash, hash_version FROM audit_events ORDER BY seq')).rows;
      expect(after.map(({ seq, hash }) => ({ seq, hash }))).toEqual(before);
      expect(after.every((r) => r.hash_version === 1)).toBe(true);

      for (let i = 0; i < 3; i++) await tdb.db.transaction((tx) => appendAudit(tx, signIn(i)));
      expect(await verifyTrail(tdb.db)).toMatchObject({ ok: true, events: before.length + 3 });

      await tamper(tdb.db, `UPDATE audit_events SET details = '{"use":"sig","alg":"RS256","state":"next"}' WHERE seq = 3`);
      expect((await verifyTrail(tdb.db)).problems[0]).toMatchObject({ kind: 'altered', seq: 3 });
    } finally {
      await tdb.drop();
    }
  });
});

/** appendAudit as it was before migration 0008 (global advisory lock, JavaScript key order). */
async function legacyAppend(tx: Queryable, e: { event: string; actor: string; subject: string; details: Record<string, unknown> }) {
  await tx.query('SELECT pg_advisory_xact_lock(7415002)');
  const prev = await tx.query<{ hash: string }>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const prevHash = prev.rows[0]?.hash ?? GENESIS;
  const at = new Date().toISOString();
  const hash = createHash('sha256').update(JSON.stringify([prevHash, at, e.event, e.actor, e.subject, e.details])).digest('hex');
  await tx.query(
    'INSERT INTO audit_events (at, event, actor, subject, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)',
    [at, e.event, e.actor, e.subject, JSON.stringify(e.details), prevHash, hash],
  );
}

/** An attacker with superuser rights rewrites rows from `fromSeq` on and recomputes every hash and the head. */
async function rewriteFrom(db: Database, fromSeq: number, change: (r: ChainRow) => ChainRow): Promise<void> {
  const { rows } = await db.query<{ seq: number; at: Date; event: string; actor: string; subject: string | null; reason: string | null; details: Record<string, unknown>; prev_hash: string }>(
    'SELECT seq, at, event, actor, subject, reason, details, prev_hash FROM audit_events WHERE seq >= $1 ORDER BY seq',
    [fromSeq],
  );
  let prevHash = rows[0]!.prev_hash;
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const r of rows) {
      const row = change({ seq: r.seq, at: r.at.toISOString(), event: r.event, actor: r.actor, subject: r.subject, reason: r.reason, details: r.details, prevHash, hash: '', hashVersion: 2 });
      const hash = eventHash(row);
      await tx.query('UPDATE audit_events SET subject = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [r.seq, row.subject, prevHash, hash]);
      prevHash = hash;
    }
    await tx.query('UPDATE audit_chain_head SET hash = $1', [prevHash]);
  });
}
