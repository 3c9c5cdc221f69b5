// Database writes per sign-in on nixa: rows written (PostgreSQL's counters) and
// statements issued (the MeteredDatabase), over a known number of sign-ins.
import type { BenchDatabase, RowCounts, WriteCounters } from './bench-database.js';
import type { DriverProcess } from './driver-process.js';
import { totalStatements, type StatementCounts } from './metered-database.js';
import type { BenchSettings } from './settings.js';
import type { NixaTarget } from './targets/nixa.js';

type PerSignIn<T> = { [K in keyof T]: number };

export interface WritesPerSignIn {
  signIns: number;
  /** Rows written to nixa's tables (pg_stat_user_tables), per sign-in. */
  rows: PerSignIn<RowCounts> & { total: number };
  /** The same by table, for the tables that changed. */
  tables: Record<string, PerSignIn<RowCounts> & { hotUpdated: number }>;
  /** pg_stat_database's total, which also counts system catalog writes (e.g. by autovacuum). */
  databaseRows: number;
  /** Rows the INSERT/UPDATE/DELETE statements reported affected: a cross-check of `rows.total`. */
  rowsReportedByStatements: number;
  /** Rows the sign-ins leave in oidc_payloads for the periodic purge to delete later. */
  rowsLeftForPurge: number;
  statements: number;
  statementsByVerb: Record<string, number>;
  transactions: number;
}

const sum = (r: RowCounts) => r.inserted + r.updated + r.deleted;

export async function measureWritesPerSignIn(
  nixa: NixaTarget,
  bench: BenchDatabase,
  driver: DriverProcess,
  settings: BenchSettings,
): Promise<WritesPerSignIn> {
  // Retire nixa's connections so that everything before this point is counted...
  const settle = async () => bench.waitForExit(await nixa.db.replacePool());
  await settle();
  const before = await bench.writeCounters();
  const statementsBefore = nixa.db.counts();

  const n = settings.writeSignIns;
  await driver.run({ scenario: 'authorization_code', target: nixa.info, concurrency: settings.signInLoops, limit: { count: n } });

  const statements = nixa.db.countsSince(statementsBefore);
  // ...and again so that everything the sign-ins did is counted, nothing later.
  await settle();
  const after = await bench.writeCounters();
  return perSignIn(before, after, n, statements);
}

function perSignIn(before: WriteCounters, after: WriteCounters, n: number, statements: StatementCounts): WritesPerSignIn {
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
  const payloads = tables.oidc_payloads;
  return {
    signIns: n,
    rows: { inserted: per(rows.inserted), updated: per(rows.updated), deleted: per(rows.deleted), total: per(sum(rows)) },
    tables,
    databaseRows: per(sum(delta(after.database, before.database))),
    rowsReportedByStatements: per(statements.rowsWritten),
    rowsLeftForPurge: payloads ? payloads.inserted - payloads.deleted : 0,
    statements: per(totalStatements(statements)),
    statementsByVerb: Object.fromEntries(Object.entries(statements.byVerb).filter(([, c]) => c > 0).map(([verb, c]) => [verb, per(c)])),
    transactions: per(statements.transactions),
  };
}
