// Storage for one simulated source, in memory. oidc-provider's bundled memory
// adapter keeps a single store for the whole process; several sources (and test
// files) run in one process, must not see each other's sessions, and close()
// must leave nothing behind. Sources are for development: nothing survives a restart.
//
// A long demo or load test keeps thousands of live sessions here, so nothing may
// walk the whole store per operation: entries leave in expiry order from a
// min-heap (each upsert pops only what has expired), and the indexes by session
// uid and by grant are kept in step with every removal instead of being swept.
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
  /** The session uid this entry is indexed under (Session only). */
  uid?: string;
  /** The grant this entry is revoked with (GRANTABLE models only). */
  grantId?: string;
}

/** A key's expiry as queued; stale once the key is stored again or removed. */
interface Due {
  at: number;
  key: string;
}

/** The models revoked together when their grant is (as oidc-provider's own memory adapter does). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/** Rebuilding the queue once stale items outnumber live ones costs O(1) amortised per upsert (sessions are stored again on every request). */
const COMPACT_SLACK = 1_024;

export class MemoryStore {
  readonly entries = new Map<string, Entry>();
  readonly sessionsByUid = new Map<string, string>();
  readonly grantMembers = new Map<string, Set<string>>();
  /** Expiry queue, a binary min-heap on `at`; may hold stale items, skipped when popped. */
  private queue: Due[] = [];
  /**
   * Queue items and entries touched while keeping the store (heap steps, pops,
   * compaction): the work an operation costs, counted for tests instead of timed.
   */
  work = 0;

  constructor(private readonly now: () => number = Date.now) {}

  clear(): void {
    this.entries.clear();
    this.sessionsByUid.clear();
    this.grantMembers.clear();
    this.queue = [];
  }

  /** Items in the expiry queue (live and stale), for tests. */
  get queued(): number {
    return this.queue.length;
  }

  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(key);
      return undefined;
    }
    return entry.payload;
  }

  set(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    const now = this.now();
    this.expire(now);
    const key = `${model}:${id}`;
    this.unindex(key);
    const entry: Entry = { payload, expiresAt: expiresIn ? now + expiresIn * 1000 : Infinity };
    if (model === 'Session' && payload.uid) {
      entry.uid = payload.uid;
      this.sessionsByUid.set(payload.uid, id);
    }
    if (payload.grantId && GRANTABLE.has(model)) {
      entry.grantId = payload.grantId;
      let members = this.grantMembers.get(payload.grantId);
      if (!members) this.grantMembers.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    this.entries.set(key, entry);
    if (entry.expiresAt !== Infinity) this.push({ at: entry.expiresAt, key });
    if (this.queue.length > 2 * this.entries.size + COMPACT_SLACK) this.compact();
  }

  remove(key: string): void {
    this.unindex(key);
    this.entries.delete(key);
  }

  revokeGrant(grantId: string): void {
    for (const key of [...(this.grantMembers.get(grantId) ?? [])]) this.remove(key);
    this.grantMembers.delete(grantId);
  }

  /** Removes the entries that have expired by `now`, soonest first; touches nothing that is still live. */
  expire(now = this.now()): void {
    while (this.queue.length && this.queue[0]!.at <= now) {
      const due = this.pop();
      // Stale when the key was stored again (a later expiry is queued) or removed.
      if (this.entries.get(due.key)?.expiresAt === due.at) this.remove(due.key);
    }
  }

  /** Drops the key from the uid and grant indexes (not from `entries`). */
  private unindex(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    if (old.uid !== undefined && this.sessionsByUid.get(old.uid) === key.slice('Session:'.length)) this.sessionsByUid.delete(old.uid);
    if (old.grantId !== undefined) {
      const members = this.grantMembers.get(old.grantId);
      members?.delete(key);
      if (members && !members.size) this.grantMembers.delete(old.grantId);
    }
  }

  private compact(): void {
    this.queue = [];
    for (const [key, entry] of this.entries) {
      this.work += 1;
      if (entry.expiresAt !== Infinity) this.queue.push({ at: entry.expiresAt, key });
    }
    for (let i = (this.queue.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private push(due: Due): void {
    const q = this.queue;
    let i = q.push(due) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      this.work += 1;
      if (q[parent]!.at <= due.at) break;
      q[i] = q[parent]!;
      i = parent;
    }
    q[i] = due;
  }

  private pop(): Due {
    const q = this.queue;
    const top = q[0]!;
    const last = q.pop()!;
    this.work += 1;
    if (q.length) {
      q[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const q = this.queue;
    const item = q[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= q.length) break;
      this.work += 1;
      if (child + 1 < q.length && q[child + 1]!.at < q[child]!.at) child += 1;
      if (q[child]!.at >= item.at) break;
      q[i] = q[child]!;
      i = child;
    }
    q[i] = item;
  }
}

export function memoryAdapter(store: MemoryStore): AdapterFactory {
  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    const find = async (id: string | undefined): Promise<AdapterPayload | undefined> => (id === undefined ? undefined : store.get(keyOf(id)));
    return {
      async upsert(id, payload, expiresIn) {
        store.set(model, id, payload, expiresIn);
      },
      find,
      findByUid: async (uid) => find(store.sessionsByUid.get(uid)),
      // The device flow, the only user of user codes, is not enabled on the sources.
      findByUserCode: async () => undefined,
      async consume(id) {
        const payload = await find(id);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.remove(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        store.revokeGrant(grantId);
      },
    };
  };
}
