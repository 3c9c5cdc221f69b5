// Reads served from memory, kept true by NOTIFY: every writer announces the key
// it changed inside its own transaction (announce, below), PostgreSQL delivers
// that at commit to every instance, this one included, and each instance drops
// the key. Whenever this instance could miss an announcement (its LISTEN
// connection is down, or not up yet) the cache is bypassed: every read goes to
// the database, so a change made meanwhile by another instance is never served.
import type { Database, Queryable } from './database.js';

export interface NotifiedCacheOptions {
  /** Entries kept at most; the least recently used goes first. Default 10 000. */
  maxEntries?: number;
  /**
   * An entry is read again after this long even without an announcement: a
   * safety net for changes made outside nixa (an operator's SQL), not the way
   * nixa's own writes take effect. Default 60 s.
   */
  maxAgeSeconds?: number;
  /** The clock (tests). */
  now?: () => number;
  /**
   * The key a NOTIFY payload names, or undefined to ignore it (an instance's own
   * echo of a write it already holds). Default: the payload is the key.
   */
  keyOf?: (payload: string) => string | undefined;
}

interface Entry<V> {
  value: V;
  at: number;
}

/** A load in flight; marked stale when its key (or everything) is invalidated before it ends. */
interface Pending {
  stale: boolean;
}

export class NotifiedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #pending = new Map<string, Set<Pending>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #keyOf: (payload: string) => string | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  /** Counts for tests and logs: reads answered from memory, and reads that went to the database. */
  readonly stats = { hits: 0, misses: 0, bypassed: 0 };

  constructor(
    private readonly db: Pick<Database, 'listen' | 'listenState' | 'origin'>,
    readonly channel: string,
    opts: NotifiedCacheOptions = {},
  ) {
    this.#maxEntries = Math.max(1, opts.maxEntries ?? 10_000);
    this.#maxAgeMs = (opts.maxAgeSeconds ?? 60) * 1000;
    this.#now = opts.now ?? Date.now;
    this.#keyOf = opts.keyOf ?? ((payload) => payload);
  }

  /** Subscribes to the channel; until it resolves, the cache is bypassed. */
  async start(): Promise<void> {
    if (this.#unlisten) return;
    this.#unlisten = await this.db.listen(this.channel, (payload, local) => {
      if (payload === '') return this.invalidate('');
      const origin = originOf(payload);
      // This instance's own announcement, back from the server: it was applied as
      // this instance committed it, and an entry kept since (keep) is newer.
      if (origin !== undefined && origin === this.db.origin && !local) return;
      const key = this.#keyOf(announcedKey(payload));
      if (key !== undefined) this.invalidate(key);
    });
  }

  async stop(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    this.#dropAll();
    await unlisten?.();
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value under `key`, from memory or else from `load` (which reads the
   * database). A load that an invalidation overtook is returned to its caller
   * but not kept: it may have read the row before the change being announced.
   */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.#serving()) {
      // Whatever is held may be stale by now, and a load in flight may have read
      // before a change this instance will never hear of.
      this.#dropAll();
      this.stats.bypassed += 1;
      return load();
    }
    const hit = this.#entries.get(key);
    if (hit && this.#now() - hit.at < this.#maxAgeMs) {
      // Most recently used last: Map keeps insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      this.stats.hits += 1;
      return hit.value;
    }
    this.stats.misses += 1;
    let value!: V;
    await this.#keepUnlessOvertaken(key, async () => {
      value = await load();
      return value;
    });
    return value;
  }

  /**
   * Runs `write` (which changes the row under `key` and announces it to the other
   * instances), then keeps `value` as what this instance reads next, unless an
   * invalidation overtook the write (another instance's change, which may have
   * committed after it) or the write failed (its outcome is unknown).
   */
  async writeThrough(key: string, value: V, write: () => Promise<void>): Promise<void> {
    this.#entries.delete(key);
    await this.#keepUnlessOvertaken(key, async () => {
      await write();
      return value;
    });
  }

  /** The value held under `key`, if one is held and may be served; never loads. */
  peek(key: string): V | undefined {
    if (!this.#serving()) return undefined;
    const hit = this.#entries.get(key);
    return hit && this.#now() - hit.at < this.#maxAgeMs ? hit.value : undefined;
  }

  /**
   * Keeps `value` under `key` after a write that has committed and been announced
   * (this instance's own delivery has already dropped the old entry); a later
   * announcement, another instance's change, drops it as usual.
   */
  keep(key: string, value: V): void {
    if (this.#serving()) this.#store(key, value);
  }

  /**
   * Runs `produce` and keeps what it returns under `key`, unless an invalidation
   * of the key (or of everything) came while it ran: the value may then be older
   * than the change announced. A failure keeps nothing.
   */
  async #keepUnlessOvertaken(key: string, produce: () => Promise<V>): Promise<void> {
    const pending: Pending = { stale: false };
    let set = this.#pending.get(key);
    if (!set) this.#pending.set(key, (set = new Set()));
    set.add(pending);
    try {
      const value = await produce();
      if (!pending.stale && this.#serving()) this.#store(key, value);
    } finally {
      set.delete(pending);
      if (!set.size && this.#pending.get(key) === set) this.#pending.delete(key);
    }
  }

  /** Drops `key`; the empty key (the Listener's "reconnected, re-read") drops everything. */
  invalidate(key: string): void {
    if (key === '') {
      this.#dropAll();
      return;
    }
    this.#entries.delete(key);
    for (const p of this.#pending.get(key) ?? []) p.stale = true;
  }

  #serving(): boolean {
    return this.#unlisten !== undefined && this.db.listenState() === 'listening';
  }

  #store(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: this.#now() });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  #dropAll(): void {
    this.#entries.clear();
    for (const set of this.#pending.values()) for (const p of set) p.stale = true;
  }
}

/** A value through the cache when there is one, straight from the database otherwise (tools, tests). */
export function readThrough<V>(cache: NotifiedCache<V> | undefined, key: string, load: () => Promise<V>): Promise<V> {
  return cache ? cache.get(key, load) : load();
}

/**
 * Tells every instance that `key` on `channel` changed. Call it with the handle
 * that wrote the change: inside a transaction it is sent just before COMMIT and
 * only if the transaction commits (Queryable.notify); outside one (a statement
 * that committed on its own) it is sent at once, so call it after the write.
 */
export async function announce(db: Queryable, channel: string, key: string): Promise<void> {
  // Tagged with the instance only when it is also handed to the instance's own
  // subscribers (Queryable.notify): without that, the server's echo is how the
  // instance hears it, and must not be ignored.
  if (db.notify && db.origin?.length === ORIGIN_LENGTH) await db.notify(channel, `${TAG_MARK}${db.origin}${TAG_MARK}${key}`);
  else if (db.notify) await db.notify(channel, key);
  else await db.query('SELECT pg_notify($1, $2)', [channel, key]);
}

/** An announcement of an instance: "~<origin>~<key>" (Queryable.origin: 8 characters). */
const ORIGIN_LENGTH = 8;
const TAG_MARK = '~';
const TAG_LENGTH = ORIGIN_LENGTH + 2;

/** The key an announcement names, without the tag of the process that made it. */
export function announcedKey(payload: string): string {
  return originOf(payload) === undefined ? payload : payload.slice(TAG_LENGTH);
}

/** The process that made an announcement, if it is tagged. */
function originOf(payload: string): string | undefined {
  return payload[0] === TAG_MARK && payload[TAG_LENGTH - 1] === TAG_MARK ? payload.slice(1, TAG_LENGTH - 1) : undefined;
}
