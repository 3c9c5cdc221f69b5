// What one transaction leaves for its commit, for the engines (postgres.ts,
// embedded.ts): the writes it deferred (Queryable.later) and its NOTIFYs, sent
// together in one statement just before COMMIT, and the NOTIFYs handed to this
// process's own subscribers after COMMIT (Queryable.notify says why).
//
// One statement instead of one per write: each deferred write becomes a
// data-modifying CTE (PostgreSQL runs every one of them exactly once, whether or
// not the final SELECT reads it), and the NOTIFYs are the final SELECT. A round
// trip to the database costs more than the write itself on the hot path.

import { randomBytes } from 'node:crypto';

/** A write a transaction defers to its commit. */
interface Deferred {
  sql: string;
  params: unknown[];
}

/** INSERT, UPDATE or DELETE, not itself a WITH query (PostgreSQL refuses data-modifying CTEs below the top level). */
const DEFERRABLE = /^\s*(INSERT|UPDATE|DELETE)\s/i;

export class CommitBatch {
  readonly #writes: Deferred[] = [];
  readonly #announcements = new Map<string, [channel: string, payload: string]>();

  /**
   * Defers a write whose result nobody reads. Its SQL uses $1… for its own
   * parameters only (never a `$` in a literal): they are renumbered in the batch.
   */
  later(sql: string, params: unknown[] = []): void {
    if (!DEFERRABLE.test(sql)) throw new Error(`only a plain INSERT, UPDATE or DELETE can be deferred to commit: ${sql.slice(0, 40)}`);
    this.#writes.push({ sql, params });
  }

  announce(channel: string, payload: string): void {
    this.#announcements.set(`${channel}\0${payload}`, [channel, payload]);
  }

  /** Sends the writes and NOTIFYs, inside the transaction: PostgreSQL delivers the NOTIFYs at COMMIT. */
  async send(query: (sql: string, params: unknown[]) => Promise<unknown>): Promise<void> {
    const statement = this.statement();
    if (statement) await query(statement.sql, statement.params);
  }

  /** The one statement send() runs, or undefined when there is nothing to send. */
  statement(): Deferred | undefined {
    const writes = this.#writes.splice(0);
    const list = [...this.#announcements.values()];
    if (!writes.length && !list.length) return undefined;
    if (writes.length === 1 && !list.length) return writes[0];
    const params: unknown[] = [];
    const ctes = writes.map((w, i) => {
      const offset = params.length;
      params.push(...w.params);
      return `w${i} AS (${w.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
    });
    let select = 'SELECT 1';
    if (list.length) {
      params.push(list.map(([c]) => c), list.map(([, p]) => p));
      select = `SELECT pg_notify(c, p) FROM unnest($${params.length - 1}::text[], $${params.length}::text[]) AS t(c, p)`;
    }
    return { sql: ctes.length ? `WITH ${ctes.join(',\n')}\n${select}` : select, params };
  }

  /** After COMMIT: to this process's subscribers (the server's delivery follows, and repeats it harmlessly). */
  deliver(local: (channel: string, payload: string) => void): void {
    for (const [channel, payload] of this.#announcements.values()) local(channel, payload);
  }
}

/** A new database handle's origin (Queryable.origin): 8 URL-safe characters. */
export function newOrigin(): string {
  return randomBytes(6).toString('base64url');
}

/** A write deferred to the transaction's commit (Queryable.later), or run at once on a handle that cannot defer. */
export async function writeAtCommit(db: { later?(sql: string, params?: unknown[]): void; query(sql: string, params?: unknown[]): Promise<unknown> }, sql: string, params: unknown[]): Promise<void> {
  if (db.later) db.later(sql, params);
  else await db.query(sql, params);
}
