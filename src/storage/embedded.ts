// Database on PGlite (PostgreSQL compiled to WASM) running in this process,
// persisted under the data directory. PGlite is a single session, so there is no
// pool: queries are serialised by PGlite's own mutex, and a transaction holds it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { PGlite } from '@electric-sql/pglite';

import { CommitBatch, newOrigin } from './commit-batch.js';
import type { Database, QueryResult } from './database.js';
import { StorageError } from '../errors/index.js';
import { asStorageError } from './text.js';

const rethrow = (err: unknown): never => {
  throw asStorageError(err);
};

export async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  // undefined → in memory (tests without a PostgreSQL server).
  const db = dataDir
    ? await PGlite.create({ dataDir: await clusterAt(dataDir), startParams: START_PARAMS })
    : await PGlite.create({ loadDataDir: new Blob([await emptyClusterTar()]), startParams: START_PARAMS });

  const convert = <R>(res: { rows: unknown[]; affectedRows?: number }): QueryResult<R> => ({
    rows: res.rows as R[],
    // pg reports rows returned for SELECT and rows changed for DML; PGlite's
    // affectedRows is 0 for SELECT, so take whichever says more.
    rowCount: Math.max(res.affectedRows ?? 0, res.rows.length),
  });

  // This process's subscribers, for what it commits (Queryable.notify); PGlite delivers the NOTIFY too.
  const handlers = new Map<string, Set<(payload: string, local: boolean) => void>>();
  const deliver = (channel: string, payload: string) => {
    for (const h of handlers.get(channel) ?? []) h(payload, true);
  };

  const origin = newOrigin();

  return {
    engine: 'embedded',
    origin,
    async query(sql, params) {
      return convert(await db.query(sql, params ?? [], { parsers: PARSERS }).catch(rethrow));
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async transaction(fn) {
      const batch = new CommitBatch();
      const out = await db.transaction(async (tx) => {
        const hooks: (() => Promise<void>)[] = [];
        const result = await fn({
          query: async (sql, params) => convert(await tx.query(sql, params ?? [], { parsers: PARSERS }).catch(rethrow)),
          exec: async (sql) => {
            await tx.exec(sql);
          },
          beforeCommit: (hook) => void hooks.push(hook),
          origin,
          later: (sql, params) => batch.later(sql, params),
            notify: async (channel, payload) => batch.announce(channel, payload),
        });
        for (const hook of hooks) await hook();
        await batch.send((sql, params) => tx.query(sql, params));
        return result;
      });
      batch.deliver(deliver);
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
      const unsubscribe = await db.listen(channel, (payload) => onNotify(payload, false));
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

/**
 * PGlite's defaults with a smaller buffer cache. initdb writes shared_buffers =
 * 128MB, and PGlite's WASM heap grows to hold it (measured: PGlite alone resident at
 * ~310MB with it, ~175MB with 16MB);
 * nixa's tables are small and PGlite is one session, so 16MB holds a development
 * instance's working set. Given at every start, so clusters made before apply it too.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * A new cluster is made in a short-lived child process. PGlite runs initdb inside
 * the calling process in two more WASM instances (and a copy of one's heap), and
 * much of that memory stays with the process after initdb ends: measured, a
 * first `npm start` peaked at ~900MB resident and a later one at ~450MB. In a
 * child it goes back to the system when the child exits (the child itself peaks
 * at ~750MB for the seconds initdb takes, once per data directory).
 */
const INITDB_CHILD = `
const [pgliteUrl, dataDir, params] = process.argv.slice(1);
const { PGlite } = await import(pgliteUrl);
const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), startParams: JSON.parse(params) });
if (!dataDir) process.stdout.write(Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
await db.close();
`;

/** Runs initdb in a child: into `dataDir`, or (empty) in memory, answering the cluster as a tarball. */
function initdbInChild(dataDir: string): Promise<Buffer> {
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', INITDB_CHILD, pglite, dataDir, JSON.stringify(START_PARAMS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', (e) => reject(new StorageError(`the embedded database could not be created: ${e.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new StorageError(`the embedded database could not be created (initdb ended with ${signal ?? code}): ${Buffer.concat(err).toString().trim().slice(-500)}`));
    });
  });
}

/**
 * The data directory, holding a cluster. A new one is made next to it and moved
 * in whole, so that an interrupted first start leaves no half-made cluster that
 * PGlite would try to open.
 */
async function clusterAt(dataDir: string): Promise<string> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return dataDir;
  if (existsSync(dataDir)) {
    if (readdirSync(dataDir).length) throw new StorageError(`${dataDir} holds no embedded database but is not empty; move it away to start afresh`);
    rmdirSync(dataDir);
  }
  mkdirSync(dirname(dataDir), { recursive: true });
  const staging = `${dataDir}.initdb`;
  rmSync(staging, { recursive: true, force: true });
  await initdbInChild(staging);
  renameSync(staging, dataDir);
  return dataDir;
}

/** An empty cluster as a tarball, made once per process and loaded afresh for each in-memory database (tests). */
let emptyCluster: Promise<Buffer> | undefined;
function emptyClusterTar(): Promise<Buffer> {
  emptyCluster ??= initdbInChild('').catch((err: unknown) => {
    emptyCluster = undefined;
    throw err;
  });
  return emptyCluster;
}
