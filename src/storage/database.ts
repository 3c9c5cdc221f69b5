// The small query interface every repository uses. Two engines implement it:
// a pg Pool against a real PostgreSQL server, and PGlite in-process for the
// embedded default. Repositories never know which one they run on.

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Only on a transaction's handle: runs fn inside the transaction just before
   * COMMIT (never on rollback), in registration order. The audit trail uses it to
   * take its chain lock as late as possible.
   */
  beforeCommit?(fn: () => Promise<void>): void;
  /**
   * NOTIFY `payload` on `channel`. In a transaction: sent once with the
   * transaction's other announcements just before COMMIT (never on rollback), and
   * handed to this process's own subscribers as soon as COMMIT returns, so that
   * this instance reads its own writes without waiting for the server's round
   * trip. Outside a transaction: sent at once, then handed to them. Use
   * announce() (notified-cache.ts), which falls back to pg_notify without it.
   */
  notify?(channel: string, payload: string): Promise<void>;
  /**
   * Only on a transaction's handle: defers a write whose result nobody reads (an
   * INSERT, UPDATE or DELETE) to just before COMMIT, after the beforeCommit
   * hooks, where all of them and the NOTIFYs go in one statement (commit-batch.ts).
   * They see the transaction's snapshot as it is then, not each other's effects:
   * never defer two writes to one row, nor a write a later statement reads. A
   * failure surfaces at commit and rolls everything back. Use writeAtCommit(),
   * which runs the write at once on a handle without it.
   */
  later?(sql: string, params?: unknown[]): void;
  /**
   * This database handle (one per instance) in the announcements it makes with
   * notify: its caches ignore the server's echo of their own instance's, which
   * they applied at commit (notified-cache.ts). A database and its transactions share it.
   */
  readonly origin?: string;
}

/**
 * The state of this process's LISTEN subscriptions: 'idle' before the first,
 * 'reconnecting' while the connection carrying them is down (changes made by
 * other instances reach this one only through polling meanwhile).
 */
export type ListenState = 'idle' | 'listening' | 'reconnecting';

export interface Database extends Queryable {
  readonly engine: 'postgres' | 'embedded';
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. After
   * a lost LISTEN connection is re-established, onNotify is called once with an
   * empty payload: whatever was announced meanwhile is lost, so re-read.
   * `local`: handed over by this process as it committed (Queryable.notify); the
   * server's delivery of the same NOTIFY follows with local false.
   */
  listen(channel: string, onNotify: (payload: string, local: boolean) => void): Promise<() => Promise<void>>;
  listenState(): ListenState;
  close(): Promise<void>;
}
