// The NOTIFYs one transaction makes, for the engines (postgres.ts, embedded.ts):
// sent in one statement before COMMIT, each distinct one once, and handed to
// this process's own subscribers after COMMIT (Queryable.notify says why).

export class Announcements {
  readonly #pending = new Map<string, [channel: string, payload: string]>();

  add(channel: string, payload: string): void {
    this.#pending.set(`${channel}\0${payload}`, [channel, payload]);
  }

  /** Sends them, inside the transaction: PostgreSQL delivers them at COMMIT. */
  async send(query: (sql: string, params: unknown[]) => Promise<unknown>): Promise<void> {
    if (!this.#pending.size) return;
    const list = [...this.#pending.values()];
    await query('SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)', [list.map(([c]) => c), list.map(([, p]) => p)]);
  }

  /** After COMMIT: to this process's subscribers (the server's delivery follows, and repeats it harmlessly). */
  deliver(local: (channel: string, payload: string) => void): void {
    for (const [channel, payload] of this.#pending.values()) local(channel, payload);
  }
}
