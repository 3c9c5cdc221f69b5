// node dist/bench/audit-append.js: the cost of chaining audit events under
// concurrency, before and after migration 0008, in one run on the local
// PostgreSQL. Each transaction does what a sign-in does around its audit event:
// a few statements, the append, more statements (here 8 small writes), commit.
// "before" is the old appendAudit (global advisory lock taken at the append and
// held to commit, then a scan for the last hash); "after" is the current one
// (events queued, chained on the head row just before commit).
import { createHash } from 'node:crypto';

import { appendAudit, verifyTrail } from '../src/audit/index.js';
import { migrate, openPostgres, type Database, type Queryable } from '../src/storage/index.js';
import { BenchDatabase } from './bench-database.js';

const ADMIN_URL = process.env.NIXA_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONCURRENCY = Number(process.env.NIXA_BENCH_AUDIT_CONCURRENCY ?? 8);
const SECONDS = Number(process.env.NIXA_BENCH_SECONDS ?? 5);
const WORK_STATEMENTS = 8;

async function legacyAppend(tx: Queryable, i: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [7_415_002]);
  const prev = await tx.query<{ hash: string }>('SELECT hash FROM legacy_audit ORDER BY seq DESC LIMIT 1');
  const prevHash = prev.rows[0]?.hash ?? '0'.repeat(64);
  const at = new Date().toISOString();
  const details = { level: 'high', service: 'dvc-hanoi', created: false };
  const hash = createHash('sha256').update(JSON.stringify([prevHash, at, 'SIGN_IN', 'source:vneid', `acc-${i}`, details])).digest('hex');
  await tx.query(
    `INSERT INTO legacy_audit (at, event, actor, subject, details, prev_hash, hash) VALUES ($1, 'SIGN_IN', 'source:vneid', $2, $3::jsonb, $4, $5)`,
    [at, `acc-${i}`, JSON.stringify(details), prevHash, hash],
  );
}

const currentAppend = (tx: Queryable, i: number) =>
  appendAudit(tx, { event: 'SIGN_IN', actor: 'source:vneid', subject: `acc-${i}`, details: { level: 'high', service: 'dvc-hanoi', created: false } });

async function signInLike(db: Database, i: number, append: (tx: Queryable, i: number) => Promise<void>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO bench_work (k, v) VALUES ($1, 0) ON CONFLICT (k) DO UPDATE SET v = bench_work.v + 1', [`a${i % 500}`]);
    await append(tx, i);
    for (let s = 0; s < WORK_STATEMENTS; s++) {
      await tx.query('INSERT INTO bench_work (k, v) VALUES ($1, 0) ON CONFLICT (k) DO UPDATE SET v = bench_work.v + 1', [`b${(i * WORK_STATEMENTS + s) % 5000}`]);
    }
  });
}

async function run(db: Database, name: string, append: (tx: Queryable, i: number) => Promise<void>) {
  let next = 0;
  const latencies: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  const loop = async () => {
    while (Date.now() < end) {
      const i = next++;
      const t = performance.now();
      await signInLike(db, i, append);
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  return { name, perSecond: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), count: latencies.length };
}

async function main() {
  const bench = await BenchDatabase.create(ADMIN_URL);
  const db = await openPostgres(bench.url('nixa-bench-audit'), CONCURRENCY + 2);
  try {
    await migrate(db);
    await db.exec(`
      CREATE TABLE bench_work (k text PRIMARY KEY, v integer NOT NULL);
      CREATE TABLE legacy_audit (seq bigserial PRIMARY KEY, at timestamptz NOT NULL, event text NOT NULL, actor text NOT NULL,
        subject text, details jsonb NOT NULL, prev_hash text NOT NULL, hash text NOT NULL);`);
    const results = [];
    // Warm up both, then alternate so neither gets the quieter moment.
    await run(db, 'warm-up', legacyAppend);
    for (const round of [1, 2]) {
      results.push({ round, ...(await run(db, 'before (advisory lock at the append)', legacyAppend)) });
      results.push({ round, ...(await run(db, 'after (head row lock at commit)', currentAppend)) });
    }
    for (const r of results) {
      console.log(`${r.name.padEnd(40)} round ${r.round}: ${r.perSecond.toFixed(0).padStart(5)} tx/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${r.count} tx, ${CONCURRENCY} concurrent)`);
    }
    const report = await verifyTrail(db);
    console.log(`chain after the run: ${report.ok ? 'intact' : 'BROKEN'}, ${report.events} events`);
  } finally {
    await db.close();
    await bench.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
