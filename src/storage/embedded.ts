// Database on PGlite (PostgreSQL compiled to WASM) running in this process,
// persisted under the data directory. PGlite is a single session, so there is no
// pool: queries are serialised by PGlite's own mutex, and a transaction holds it.
import { mkdirSync } from 'node:fs';

import { PGlite } from '@electric-sql/pglite';

import { Announcements } from './announcements.js';
import type { Database, QueryResult } from './database.js';
import { asStorageError } from './text.js';

const rethrow = (err: unknown): never => {
  throw asStorageError(err);
};

export async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  // undefined → in memory (tests without a PostgreSQL server).
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});

  const convert = <R>(res: { rows: unknown[]; affectedRows?: number }): QueryResult<R> => ({
    rows: res.rows as R[],
    // pg reports rows returned for SELECT and rows changed for DML; PGlite's
    // affectedRows is 0 for SELECT, so take whichever says more.
    rowCount: Math.max(res.affectedRows ?? 0, res.rows.length),
  });

  // This process's subscribers, for what it commits (Queryable.notify); PGlite delivers the NOTIFY too.
  const handlers = new Map<string, Set<(payload: string) => void>>();
  const deliver = (channel: string, payload: string) => {
    for (const h of handlers.get(channel) ?? []) h(payload);
  };

  return {
    engine: 'embedded',
    async query(sql, params) {
      return convert(await db.query(sql, params ?? [], { parsers: PARSERS }).catch(rethrow));
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async transaction(fn) {
      const announcements = new Announcements();
      const out = await db.transaction(async (tx) => {
        const hooks: (() => Promise<void>)[] = [];
        const result = await fn({
          query: async (sql, params) => convert(await tx.query(sql, params ?? [], { parsers: PARSERS }).catch(rethrow)),
          exec: async (sql) => {
            await tx.exec(sql);
          },
          beforeCommit: (hook) => void hooks.push(hook),
          notify: async (channel, payload) => announcements.add(channel, payload),
        });
        for (const hook of hooks) await hook();
        await announcements.send((sql, params) => tx.query(sql, params));
        return result;
      });
      announcements.deliver(deliver);
      return out;
    },
    async notify(channel, payload) {
      await db.query('SELECT pg_notify($1, $2)', [channel, payload]).catch(rethrow);
      deliver(channel, payload);
    },
    async listen(channel, onNotify) {
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(onNotify);
      const unsubscribe = await db.listen(channel, onNotify);
      const mine = set;
      return async () => {
        mine.delete(onNotify);
        await unsubscribe();
      };
    },
    // In-process: there is no connection to lose.
    listenState: () => 'listening',
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

// Match the pg driver's settings in postgres.ts: bigint as number.
const PARSERS = { 20: (v: string) => Number(v) };
