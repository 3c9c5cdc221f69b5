// The run's own database on the real PostgreSQL server: created under a unique
// name, observed through PostgreSQL's statistics views, dropped at the end.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

/** Rows written, as PostgreSQL's cumulative statistics count them. */
export interface RowCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface WriteCounters {
  /** pg_stat_database: every table, system catalogs included. */
  database: RowCounts;
  /** pg_stat_user_tables, per table. */
  tables: Record<string, RowCounts & { hotUpdated: number }>;
}

const OBSERVER = 'nixa-bench-observer';

export class BenchDatabase {
  private constructor(
    private readonly adminUrl: string,
    readonly name: string,
    /** Connected to the bench database; only ever reads statistics views. */
    private readonly observer: pg.Client,
  ) {}

  static async create(adminUrl: string): Promise<BenchDatabase> {
    const name = `nixa_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
    await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
    const observer = new pg.Client({ connectionString: urlFor(adminUrl, name, OBSERVER) });
    try {
      await observer.connect();
    } catch (err) {
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      throw err;
    }
    return new BenchDatabase(adminUrl, name, observer);
  }

  /**
   * A connection URL for the bench database. The application name tells whose
   * backends are whose in pg_stat_activity.
   */
  url(applicationName: string): string {
    return urlFor(this.adminUrl, this.name, applicationName);
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.observer.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    return rows[0]!.v;
  }

  /**
   * Waits until no backend with this application name is left. A backend
   * publishes its pending statistics as it exits, before it leaves
   * pg_stat_activity, so afterwards the counters include all it did.
   */
  async waitForExit(applicationName: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.observer.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
        [applicationName],
      );
      if (rows[0]!.n === 0) return;
      if (Date.now() > deadline) throw new Error(`connections "${applicationName}" still open after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The server processes of every connection to the bench database but this observer's: nixa's. */
  async backendPids(): Promise<number[]> {
    const { rows } = await this.observer.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((r) => r.pid);
  }

  async writeCounters(): Promise<WriteCounters> {
    // Each autocommit statement reads a fresh statistics snapshot
    // (stats_fetch_consistency caches only within a transaction).
    const db = await this.observer.query<{ ins: string; upd: string; del: string }>(
      `SELECT tup_inserted AS ins, tup_updated AS upd, tup_deleted AS del FROM pg_stat_database WHERE datname = current_database()`,
    );
    const tables = await this.observer.query<{ relname: string; ins: string; upd: string; del: string; hot: string }>(
      `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del, n_tup_hot_upd AS hot FROM pg_stat_user_tables`,
    );
    const d = db.rows[0]!;
    return {
      database: { inserted: Number(d.ins), updated: Number(d.upd), deleted: Number(d.del) },
      tables: Object.fromEntries(
        tables.rows.map((t) => [
          t.relname,
          { inserted: Number(t.ins), updated: Number(t.upd), deleted: Number(t.del), hotUpdated: Number(t.hot) },
        ]),
      ),
    };
  }

  /** Drops the database, whoever is still connected. */
  async drop(): Promise<void> {
    await this.observer.end().catch(() => {});
    await withAdmin(this.adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

/** A connection URL for `database` on the admin URL's server, under an application name. */
export function urlFor(adminUrl: string, database: string, applicationName: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
