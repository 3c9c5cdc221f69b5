// Database on a real PostgreSQL server through a pg Pool.
import pg from 'pg';

import { StorageError } from '../errors/index.js';
import type { Database, Queryable, QueryResult } from './database.js';
import { asStorageError } from './text.js';

// Timestamps and bigints come back as strings/Dates by default; nixa stores
// epoch seconds in bigint columns and wants numbers (they fit in 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

export async function openPostgres(url: string, poolSize = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its server must not crash the process; the pool
  // replaces it on the next checkout.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StorageError(`cannot reach PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`);
  }

  const run = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const res = await client.query(sql, params as unknown[]).catch((err: unknown) => {
      throw asStorageError(err);
    });
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  };

  let listener: pg.Client | undefined;
  const handlers = new Map<string, Set<(payload: string) => void>>();

  return {
    engine: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const hooks: (() => Promise<void>)[] = [];
        const tx: Queryable = {
          query: (sql, params) => run(client, sql, params),
          exec: async (sql) => {
            await client.query(sql);
          },
          beforeCommit: (hook) => void hooks.push(hook),
        };
        const out = await fn(tx);
        for (const hook of hooks) await hook();
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      if (!listener) {
        // One dedicated connection carries every LISTEN of this process.
        listener = new pg.Client({ connectionString: url });
        listener.on('error', () => {});
        await listener.connect();
        listener.on('notification', (msg) => {
          for (const h of handlers.get(msg.channel) ?? []) h(msg.payload ?? '');
        });
      }
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
      };
    },
    async close() {
      if (pool.ended) return;
      await listener?.end().catch(() => {});
      await pool.end();
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
