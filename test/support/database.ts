// A fresh database for one test file: a uniquely named database on the real
// PostgreSQL server when NIXA_TEST_DATABASE_URL is set (CI sets it), otherwise
// an in-memory embedded PGlite. Dropped at the end either way.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { migrate, openEmbedded, openPostgres, type Database } from '../../src/storage/index.js';

export interface TestDatabase {
  db: Database;
  /** Connection URL (real PostgreSQL only), for a second instance or the CLI. */
  url: string | undefined;
  drop(): Promise<void>;
}

export const TEST_DATABASE_URL = process.env.NIXA_TEST_DATABASE_URL || undefined;

export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let result: TestDatabase;
  if (TEST_DATABASE_URL) {
    const name = `nixa_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(TEST_DATABASE_URL);
    u.pathname = `/${name}`;
    const url = u.toString();
    const db = await openPostgres(url, 8);
    result = {
      db,
      url,
      async drop() {
        await db.close().catch(() => {});
        const a = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await a.connect();
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await a.end();
      },
    };
  } else {
    const db = await openEmbedded(undefined);
    result = { db, url: undefined, drop: () => db.close() };
  }
  if (opts.migrate !== false) await migrate(result.db);
  return result;
}

/**
 * Cuts the test database's connections as a failover, a restart or a pooler does
 * (pg_terminate_backend), from a connection of its own on the server's default
 * database. `cut(like)` ends only backends whose last statement matches `like`.
 */
export interface ConnectionCutter {
  /** The cutter's own connection (e.g. to refuse new connections with ALTER DATABASE). */
  admin: pg.Client;
  /** The test database's name. */
  name: string;
  cut(like?: string): Promise<number>;
  close(): Promise<void>;
}

export async function connectionCutter(tdb: TestDatabase): Promise<ConnectionCutter> {
  if (!TEST_DATABASE_URL || !tdb.url) throw new Error('cutting connections needs NIXA_TEST_DATABASE_URL');
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  admin.on('error', () => {});
  await admin.connect();
  const name = new URL(tdb.url).pathname.slice(1);
  return {
    admin,
    name,
    async cut(like = '%') {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND query LIKE $2) t`,
        [name, like],
      );
      return rows[0]!.n;
    },
    close: () => admin.end(),
  };
}
