// Database on a real PostgreSQL server through a pg Pool, plus one dedicated
// connection for LISTEN. Every connection can drop (failover, restart, a pooler
// cutting it): each one has an 'error' listener, a request that loses its
// connection fails with StorageUnavailableError (HTTP 503), a broken client never
// goes back to the pool, and the LISTEN connection comes back by itself.
import pg from 'pg';

import { StorageError, StorageUnavailableError } from '../errors/index.js';
import { silentLogger, type Logger } from '../logging/index.js';
import { CommitBatch, newOrigin } from './commit-batch.js';
import type { Database, ListenState, Queryable, QueryResult } from './database.js';
import { asStorageError } from './text.js';

// Timestamps and bigints come back as strings/Dates by default; nixa stores
// epoch seconds in bigint columns and wants numbers (they fit in 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

/** LISTEN reconnection backoff: from about 100 ms, doubling, never above 2 s (so that key changes stay prompt). */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 2_000;

export async function openPostgres(url: string, poolSize = 10, logger: Logger = silentLogger): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000, application_name: 'nixa' });
  // An idle client that loses its server must not crash the process; the pool
  // drops it and opens a fresh one on the next checkout.
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle database connection lost'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StorageError(`cannot reach PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`);
  }

  /**
   * Runs fn on one client checked out of the pool. While checked out the pool's
   * own 'error' listener is detached, so this one must be there: without it a
   * connection cut between two statements of a transaction is an unhandled
   * 'error' event and ends the process. A client that broke is released with
   * the error, so that the pool destroys it instead of handing it out again.
   */
  async function withClient<T>(fn: (query: ClientQuery, client: { discard(err: Error): void; broken(): boolean }) => Promise<T>): Promise<T> {
    let broken: Error | undefined;
    const onError = (err: Error) => void (broken ??= err);
    // The callback form, so that the listener is on before anything else runs: a
    // promise would resume a tick later, and a FATAL message read in the same chunk
    // as the connection's first ReadyForQuery would find no listener.
    const client = await new Promise<pg.PoolClient>((resolve, reject) =>
      pool.connect((err, c) => {
        if (err || !c) return reject(unavailable(err));
        c.on('error', onError);
        resolve(c);
      }),
    );
    const query: ClientQuery = async (sql, params) => {
      try {
        const res = await client.query(sql, params as unknown[]);
        return { rows: res.rows, rowCount: res.rowCount ?? 0 };
      } catch (err) {
        if (broken || isConnectionLoss(err)) {
          broken ??= err as Error;
          throw unavailable(err);
        }
        throw asStorageError(err);
      }
    };
    try {
      return await fn(query, { discard: (err) => void (broken ??= err), broken: () => broken !== undefined });
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  const listener = new Listener(url, logger);
  const origin = newOrigin();

  return {
    engine: 'postgres',
    origin,
    query: <R>(sql: string, params?: unknown[]) => withClient((q) => q(sql, params)) as Promise<QueryResult<R>>,
    exec: async (sql) => {
      await withClient((q) => q(sql));
    },
    transaction: (fn) =>
      withClient(async (q, client) => {
        await q('BEGIN');
        try {
          const hooks: (() => Promise<void>)[] = [];
          const batch = new CommitBatch();
          const tx: Queryable = {
            query: <R>(sql: string, params?: unknown[]) => q(sql, params) as Promise<QueryResult<R>>,
            exec: async (sql) => {
              await q(sql);
            },
            beforeCommit: (hook) => void hooks.push(hook),
            origin,
            later: (sql, params) => batch.later(sql, params),
            notify: async (channel, payload) => batch.announce(channel, payload),
          };
          const out = await fn(tx);
          for (const hook of hooks) await hook();
          await batch.send(q);
          // If the connection drops during COMMIT the outcome is unknown to us; the
          // caller gets StorageUnavailableError and nothing is retried here (the work
          // is not idempotent: audit events, consumed codes).
          await q('COMMIT');
          batch.deliver((channel, payload) => listener.deliver(channel, payload, true));
          return out;
        } catch (err) {
          // On a lost connection PostgreSQL has already rolled the transaction back.
          // A client whose ROLLBACK fails is in an unknown state: discard it.
          if (!client.broken()) await q('ROLLBACK').catch((rollbackErr: Error) => client.discard(rollbackErr));
          throw err;
        }
      }),
    notify: async (channel, payload) => {
      await withClient((q) => q('SELECT pg_notify($1, $2)', [channel, payload]));
      listener.deliver(channel, payload, true);
    },
    listen: (channel, onNotify) => listener.subscribe(channel, onNotify),
    listenState: () => listener.state,
    async close() {
      if (pool.ended) return;
      await listener.close();
      await pool.end();
    },
  };
}

type ClientQuery = (sql: string, params?: unknown[]) => Promise<QueryResult<unknown>>;

/**
 * The one connection that carries every LISTEN of this process. When it drops it
 * reconnects with backoff and LISTENs again; NOTIFYs sent meanwhile are lost, so
 * every subscriber is then called once with an empty payload ("something may
 * have changed": re-read).
 */
class Listener {
  readonly #handlers = new Map<string, Set<(payload: string, local: boolean) => void>>();
  #client: pg.Client | undefined;
  /** Channels LISTENed on the current client. */
  #listened = new Set<string>();
  #ready: Promise<void> | undefined;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  state: ListenState = 'idle';

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  async subscribe(channel: string, onNotify: (payload: string, local: boolean) => void): Promise<() => Promise<void>> {
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
    }
    set.add(onNotify);
    this.#ready ??= this.#connect().then(() => {
      // Unless the connection was already lost again (then it is 'reconnecting').
      if (this.state === 'idle') this.state = 'listening';
    });
    try {
      await this.#ready;
    } catch (err) {
      set.delete(onNotify);
      throw new StorageError(`cannot LISTEN on PostgreSQL at ${redactUrl(this.url)}: ${(err as Error).message}`);
    }
    const client = this.#client;
    if (client && !this.#listened.has(channel)) {
      this.#listened.add(channel);
      // If the connection is lost meanwhile, the reconnection LISTENs on every channel.
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch((err: Error) => {
        if (client === this.#client) throw err;
      });
    }
    const handlers = set;
    return async () => {
      handlers.delete(onNotify);
    };
  }

  async #connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, application_name: 'nixa-listen', connectionTimeoutMillis: 10_000 });
    let dead = false;
    const lost = (err: Error) => {
      dead = true;
      this.#lost(c, err);
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error('connection ended')));
    c.on('notification', (msg) => this.deliver(msg.channel, msg.payload ?? ''));
    try {
      await c.connect();
      const done = new Set<string>();
      // Channels subscribed while this loop awaits are picked up by the next round.
      for (let next = this.#unlistened(done); next; next = this.#unlistened(done)) {
        await c.query(`LISTEN ${pg.escapeIdentifier(next)}`);
        done.add(next);
      }
      if (dead) throw new Error('connection lost while subscribing');
      if (this.#closed) throw new Error('closed');
      this.#client = c;
      this.#listened = done;
    } catch (err) {
      c.end().catch(() => {});
      throw err;
    }
  }

  #unlistened(done: Set<string>): string | undefined {
    return [...this.#handlers.keys()].find((ch) => !done.has(ch));
  }

  /** To every subscriber of the channel: what the server sent, or what this process committed (Queryable.notify). */
  deliver(channel: string, payload: string, local = false): void {
    for (const h of this.#handlers.get(channel) ?? []) h(payload, local);
  }

  #lost(c: pg.Client, err: Error): void {
    if (c !== this.#client || this.#closed) return;
    this.#client = undefined;
    this.state = 'reconnecting';
    this.logger.warn({ err: { message: err.message } }, 'LISTEN connection lost; reconnecting');
    c.end().catch(() => {});
    this.#schedule();
  }

  #schedule(): void {
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** this.#failures);
    // Jitter, so that many instances cut at once do not reconnect in lockstep.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().then(
        () => {
          this.#failures = 0;
          this.state = 'listening';
          this.logger.info({ channels: [...this.#listened] }, 'LISTEN connection re-established');
          // What was announced while the connection was down is lost: everyone re-reads.
          for (const channel of this.#listened) this.deliver(channel, '');
        },
        (err: Error) => {
          if (this.#closed) return;
          this.#failures += 1;
          this.logger.debug({ err: { message: err.message }, failures: this.#failures }, 'LISTEN reconnection failed; retrying');
          this.#schedule();
        },
      );
    }, delay);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => {});
  }
}

/**
 * Whether a pg error means the connection itself is gone (as opposed to a
 * statement that failed on a healthy connection, which callers may handle:
 * unique violations and the like).
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  // Class 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^Connection terminated|not queryable|^timeout exceeded when trying to connect/.test(message);
}

function unavailable(err: unknown): StorageUnavailableError {
  return new StorageUnavailableError(`the database connection was lost or refused: ${(err as Error).message}`, { cause: err });
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
