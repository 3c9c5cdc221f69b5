// The Database nixa runs on during the benchmark: nixa's own PostgreSQL pool,
// wrapped to count what nixa asks of it, and replaceable by a fresh pool.
//
// Replacing the pool is how the benchmark reads exact row counters: PostgreSQL
// publishes a busy backend's statistics at most once a second, and an idle one's
// only after ~10 s, but an exiting one's at once (see BenchDatabase.waitForExit).
import { openPostgres, type Database, type ListenState, type Queryable, type QueryResult } from '../src/storage/index.js';
import { newOrigin } from '../src/storage/commit-batch.js';

export interface StatementCounts {
  /** Statements by their first keyword, BEGIN and COMMIT included. */
  byVerb: Record<string, number>;
  /**
   * The same by the table they act on (SELECTs: their outer FROM), then verb.
   * A SELECT without a table is named by its function, e.g. "pg_advisory_xact_lock()";
   * BEGIN, COMMIT and ROLLBACK are "(transaction)".
   */
  byTable: Record<string, Record<string, number>>;
  transactions: number;
  /** Rows that INSERT, UPDATE and DELETE statements reported affected. */
  rowsWritten: number;
  /**
   * Commits: every COMMIT of a transaction, plus every write (INSERT, UPDATE,
   * DELETE, or a WITH that holds one) sent outside a transaction, which
   * PostgreSQL commits on its own. Reads outside a transaction are not counted:
   * they write no WAL and wait for no flush.
   */
  commits: number;
  /**
   * The same by what was committed: an autocommit write by its table (as in
   * byTable), a transaction as "tx: " and the tables it wrote, joined by "+"
   * ("tx: (read only)" when it wrote none).
   */
  commitsByTable: Record<string, number>;
}

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE']);

export const emptyCounts = (): StatementCounts => ({ byVerb: {}, byTable: {}, transactions: 0, rowsWritten: 0, commits: 0, commitsByTable: {} });

/** What was counted between two counts() snapshots. */
export function countsBetween(before: StatementCounts, now: StatementCounts): StatementCounts {
  const diff = (a: Record<string, number>, b: Record<string, number> | undefined) =>
    Object.fromEntries(Object.entries(a).map(([verb, n]) => [verb, n - (b?.[verb] ?? 0)]));
  const byTable = Object.fromEntries(Object.entries(now.byTable).map(([table, verbs]) => [table, diff(verbs, before.byTable[table])]));
  return {
    byVerb: diff(now.byVerb, before.byVerb),
    byTable,
    transactions: now.transactions - before.transactions,
    rowsWritten: now.rowsWritten - before.rowsWritten,
    commits: now.commits - before.commits,
    commitsByTable: diff(now.commitsByTable, before.commitsByTable),
  };
}

/** Whether a statement writes: its verb, or a WITH whose body inserts, updates or deletes. */
export function isWrite(verb: string, sql: string): boolean {
  return WRITES.has(verb) || (verb === 'WITH' && /\b(INSERT\s+INTO|UPDATE\s+[A-Za-z_]|DELETE\s+FROM)\b/i.test(sql));
}

export function totalStatements(c: Pick<StatementCounts, 'byVerb'>): number {
  return Object.values(c.byVerb).reduce((a, b) => a + b, 0);
}

/**
 * What a statement acts on, for StatementCounts.byTable. oidc-provider's models
 * share oidc_payloads: a statement naming its model ($1) counts as "oidc_payloads
 * (Model)", e.g. "oidc_payloads (Session)".
 */
export function statementTable(verb: string, sql: string, params?: unknown[]): string {
  const table = statementTableName(verb, sql);
  const model = params?.[0];
  if (table === 'oidc_payloads' && /\bmodel\b/i.test(sql) && typeof model === 'string' && /^[A-Z]\w*$/.test(model)) return `${table} (${model})`;
  return table;
}

function statementTableName(verb: string, sql: string): string {
  const name = (re: RegExp, text = sql) => re.exec(text)?.[1]?.toLowerCase();
  switch (verb) {
    case 'INSERT':
      return name(/^\s*INSERT\s+INTO\s+([A-Za-z_][\w.]*)/i) ?? '?';
    case 'UPDATE':
      return name(/^\s*UPDATE\s+([A-Za-z_][\w.]*)/i) ?? '?';
    case 'DELETE':
      return name(/^\s*DELETE\s+FROM\s+([A-Za-z_][\w.]*)/i) ?? '?';
    case 'SELECT': {
      // Parenthesised parts (function arguments, subqueries) may hold FROMs of their own.
      let outer = sql;
      for (let prev = ''; prev !== outer; ) [prev, outer] = [outer, outer.replace(/\([^()]*\)/g, '()')];
      return name(/\bFROM\s+([A-Za-z_][\w.]*)/i, outer) ?? (name(/^\s*SELECT\s+([A-Za-z_]\w*)\s*\(/i, outer)?.concat('()') ?? '(no table)');
    }
    case 'WITH': {
      // A data-modifying WITH is named by the first table it writes, a reading one by the first it reads.
      const written = name(/\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([A-Za-z_][\w.]*)/i);
      return written ?? name(/\bFROM\s+([A-Za-z_][\w.]*)/i) ?? '(no table)';
    }
    case 'BEGIN':
    case 'COMMIT':
    case 'ROLLBACK':
      return '(transaction)';
    default:
      return '?';
  }
}

export class MeteredDatabase implements Database {
  readonly engine = 'postgres' as const;
  /** One origin whichever pool serves: its caches subscribe here (Queryable.origin). */
  readonly origin = newOrigin();
  #counts: StatementCounts = emptyCounts();
  #generation = 0;

  private constructor(
    private readonly connect: (applicationName: string) => Promise<Database>,
    private pool: Database,
    /** Carries LISTEN only, so that replacing the query pool does not drop subscriptions. */
    private readonly events: Database,
  ) {}

  /** `url(applicationName)` gives the connection URL for a pool of that name. */
  static async open(url: (applicationName: string) => string, poolSize: number): Promise<MeteredDatabase> {
    const connect = (name: string) => openPostgres(url(name), poolSize);
    const events = await openPostgres(url('nixa-bench-events'), 1);
    try {
      return new MeteredDatabase(connect, await connect(poolName(0)), events);
    } catch (err) {
      await events.close();
      throw err;
    }
  }

  /** The application name of the pool that currently serves queries. */
  get poolName(): string {
    return poolName(this.#generation);
  }

  /**
   * Switches to a fresh pool and closes the old one; resolves to the old pool's
   * application name. Call between load phases only: queries still running on
   * the old pool finish there.
   */
  async replacePool(): Promise<string> {
    const old = { pool: this.pool, name: this.poolName };
    this.#generation += 1;
    this.pool = await this.connect(this.poolName);
    await old.pool.close();
    return old.name;
  }

  counts(): StatementCounts {
    const byTable = Object.fromEntries(Object.entries(this.#counts.byTable).map(([table, verbs]) => [table, { ...verbs }]));
    return { ...this.#counts, byVerb: { ...this.#counts.byVerb }, byTable, commitsByTable: { ...this.#counts.commitsByTable } };
  }

  /** What was counted since an earlier counts() snapshot. */
  countsSince(before: StatementCounts): StatementCounts {
    return countsBetween(before, this.#counts);
  }

  #commit(what: string): void {
    this.#counts.commits += 1;
    this.#counts.commitsByTable[what] = (this.#counts.commitsByTable[what] ?? 0) + 1;
  }

  #tally(verb: string, table: string): void {
    this.#counts.byVerb[verb] = (this.#counts.byVerb[verb] ?? 0) + 1;
    const verbs = (this.#counts.byTable[table] ??= {});
    verbs[verb] = (verbs[verb] ?? 0) + 1;
  }

  /** Counts a statement that ran; returns the table it wrote, if it wrote. */
  #count<R>(sql: string, params: unknown[] | undefined, res: QueryResult<R>): string | undefined {
    const verb = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
    const table = statementTable(verb, sql, params);
    this.#tally(verb, table);
    if (WRITES.has(verb)) this.#counts.rowsWritten += res.rowCount;
    return isWrite(verb, sql) ? table : undefined;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    const res = await this.pool.query<R>(sql, params);
    const wrote = this.#count(sql, params, res);
    if (wrote !== undefined) this.#commit(wrote);
    return res;
  }

  exec(sql: string): Promise<void> {
    return this.pool.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.#counts.transactions += 1;
    this.#tally('BEGIN', '(transaction)');
    const written = new Set<string>();
    // The engine sends a transaction's deferred writes and announcements in one
    // statement before COMMIT (commit-batch.ts): counted once, after it ran.
    const deferred: { verb: string; table: string }[] = [];
    let announced = false;
    const notified: [string, string][] = [];
    try {
      const out = await this.pool.transaction((tx) =>
        fn({
          query: async <R>(sql: string, params?: unknown[]) => {
            const res = await tx.query<R>(sql, params);
            const wrote = this.#count(sql, params, res);
            if (wrote !== undefined) written.add(wrote);
            return res;
          },
          exec: (sql) => tx.exec(sql),
          origin: this.origin,
          ...(tx.beforeCommit ? { beforeCommit: (hook: () => Promise<void>) => tx.beforeCommit!(hook) } : {}),
          ...(tx.later
            ? {
                later: (sql: string, params?: unknown[]) => {
                  tx.later!(sql, params);
                  const verb = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
                  deferred.push({ verb, table: statementTable(verb, sql, params) });
                },
              }
            : {}),
          ...(tx.notify
            ? {
                notify: (channel: string, payload: string) => {
                  announced = true;
                  notified.push([channel, payload]);
                  return tx.notify!(channel, payload);
                },
              }
            : {}),
        }),
      );
      for (const d of deferred) written.add(d.table);
      if (deferred.length === 1 && !announced) this.#tally(deferred[0]!.verb, deferred[0]!.table);
      else if (deferred.length) this.#tally('WITH', `(at commit: ${[...new Set(deferred.map((d) => d.table))].sort().join('+')}${announced ? '+pg_notify()' : ''})`);
      else if (announced) this.#tally('SELECT', 'pg_notify()');
      this.#tally('COMMIT', '(transaction)');
      this.#commit(`tx: ${written.size ? [...written].sort().join('+') : '(read only)'}`);
      // As the engine does for its own subscribers (Queryable.notify): the query
      // pool's listener has none here, they are on the events connection.
      for (const [channel, payload] of notified) for (const h of this.#handlers.get(channel) ?? []) h(payload, true);
      return out;
    } catch (err) {
      this.#tally('ROLLBACK', '(transaction)');
      throw err;
    }
  }

  listenState(): ListenState {
    return this.events.listenState();
  }

  readonly #handlers = new Map<string, Set<(payload: string, local: boolean) => void>>();

  async listen(channel: string, onNotify: (payload: string, local: boolean) => void): Promise<() => Promise<void>> {
    let set = this.#handlers.get(channel);
    if (!set) this.#handlers.set(channel, (set = new Set()));
    set.add(onNotify);
    const unsubscribe = await this.events.listen(channel, onNotify);
    const mine = set;
    return async () => {
      mine.delete(onNotify);
      await unsubscribe();
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.events.close()]);
  }
}

function poolName(generation: number): string {
  return `nixa-bench-pool-${generation}`;
}
