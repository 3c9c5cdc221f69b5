// Database writes per sign-in on nixa: rows written (PostgreSQL's counters) and
// statements issued (the MeteredDatabase), over a known number of sign-ins.
import type { BenchDatabase, RowCounts, WriteCounters } from './bench-database.js';
import type { DriverProcess } from './driver-process.js';
import { countsBetween, totalStatements, type StatementCounts } from './metered-database.js';
import type { Job, SignInScenario } from './protocol.js';

/** nixa's MeteredDatabase, as seen from the orchestrator (it lives in nixa's process). */
export interface NixaCounter {
  counts(): Promise<StatementCounts>;
  /** Replaces nixa's query pool; resolves to the old pool's application name. */
  replacePool(): Promise<string>;
}

type PerSignIn<T> = { [K in keyof T]: number };

export interface WritesPerSignIn {
  scenario: SignInScenario;
  signIns: number;
  /** Rows written to nixa's tables (pg_stat_user_tables), per sign-in. */
  rows: PerSignIn<RowCounts> & { total: number };
  /** The same by table, for the tables that changed. */
  tables: Record<string, PerSignIn<RowCounts> & { hotUpdated: number }>;
  /** pg_stat_database's total, which also counts system catalog writes (e.g. by autovacuum). */
  databaseRows: number;
  /** Rows the INSERT/UPDATE/DELETE statements reported affected: a cross-check of `rows.total`. */
  rowsReportedByStatements: number;
  /** Rows the sign-ins leave for nixa's periodic purge to delete once expired (PURGED_TABLES). */
  rowsLeftForPurge: number;
  /** The same by table, for the tables the sign-ins left rows in. */
  rowsLeftForPurgeByTable: Record<string, number>;
  statements: number;
  statementsByVerb: Record<string, number>;
  /** Statements by the table they act on, then verb (see StatementCounts.byTable). */
  statementsByTable: Record<string, Record<string, number>>;
  transactions: number;
  /** Commits (see StatementCounts.commits), and by what was committed. */
  commits: number;
  commitsByTable: Record<string, number>;
  /** Federated only: requests the identity source answered per sign-in, the browser's and nixa's. */
  sourceRequests?: Record<string, number>;
}

const sum = (r: RowCounts) => r.inserted + r.updated + r.deleted;

/** The tables whose expired rows nixa's purge deletes (src/app/index.ts). */
const PURGED_TABLES = ['oidc_payloads', 'upstream_logins', 'upstream_sessions'];

/** Runs `signIns` sign-ins of `job` (its limit replaced) on nixa and counts what they wrote. */
export async function measureWritesPerSignIn(
  nixa: NixaCounter,
  bench: BenchDatabase,
  driver: DriverProcess,
  job: Omit<Job, 'limit'> & { scenario: SignInScenario },
  signIns: number,
): Promise<WritesPerSignIn> {
  // Retire nixa's connections so that everything before this point is counted...
  const settle = async () => bench.waitForExit(await nixa.replacePool());
  await settle();
  const before = await bench.writeCounters();
  const statementsBefore = await nixa.counts();

  const n = signIns;
  await driver.run({ ...job, limit: { count: n } });

  const statements = countsBetween(statementsBefore, await nixa.counts());
  // ...and again so that everything the sign-ins did is counted, nothing later.
  await settle();
  const after = await bench.writeCounters();
  return { scenario: job.scenario, ...perSignIn(before, after, n, statements) };
}

function perSignIn(before: WriteCounters, after: WriteCounters, n: number, statements: StatementCounts): Omit<WritesPerSignIn, 'scenario'> {
  const per = (x: number) => x / n;
  const delta = (a: RowCounts, b: RowCounts | undefined): RowCounts => ({
    inserted: a.inserted - (b?.inserted ?? 0),
    updated: a.updated - (b?.updated ?? 0),
    deleted: a.deleted - (b?.deleted ?? 0),
  });

  const tables: WritesPerSignIn['tables'] = {};
  const rows = { inserted: 0, updated: 0, deleted: 0 };
  for (const [name, counts] of Object.entries(after.tables)) {
    const d = delta(counts, before.tables[name]);
    if (sum(d) === 0) continue;
    rows.inserted += d.inserted;
    rows.updated += d.updated;
    rows.deleted += d.deleted;
    tables[name] = {
      inserted: per(d.inserted),
      updated: per(d.updated),
      deleted: per(d.deleted),
      hotUpdated: per(counts.hotUpdated - (before.tables[name]?.hotUpdated ?? 0)),
    };
  }
  const leftForPurge = Object.fromEntries(
    PURGED_TABLES.filter((t) => tables[t]).map((t) => [t, tables[t]!.inserted - tables[t]!.deleted] as const),
  );
  const perVerb = (counts: Record<string, number>) =>
    Object.fromEntries(Object.entries(counts).filter(([, c]) => c > 0).map(([verb, c]) => [verb, per(c)]));
  return {
    signIns: n,
    rows: { inserted: per(rows.inserted), updated: per(rows.updated), deleted: per(rows.deleted), total: per(sum(rows)) },
    tables,
    databaseRows: per(sum(delta(after.database, before.database))),
    rowsReportedByStatements: per(statements.rowsWritten),
    rowsLeftForPurge: Object.values(leftForPurge).reduce((a, b) => a + b, 0),
    rowsLeftForPurgeByTable: leftForPurge,
    statements: per(totalStatements(statements)),
    statementsByVerb: perVerb(statements.byVerb),
    statementsByTable: Object.fromEntries(
      Object.entries(statements.byTable)
        .map(([table, verbs]) => [table, perVerb(verbs)] as const)
        .filter(([, verbs]) => Object.keys(verbs).length > 0),
    ),
    transactions: per(statements.transactions),
    commits: per(statements.commits),
    commitsByTable: perVerb(statements.commitsByTable),
  };
}
