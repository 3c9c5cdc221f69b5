// The per-key cache kept true by NOTIFY: unit tests on a fake subscription (what
// the cache does with announcements, reconnections and its bound), then
// announce() on the test database (delivered at commit, never on rollback).
import type { Database, ListenState } from '../../src/storage/index.js';
import { announce, announcedKey, NotifiedCache } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

/** A subscription the test drives: it delivers payloads and sets the LISTEN state. */
function fakeListen(state: ListenState = 'listening') {
  const handlers = new Set<(payload: string, local: boolean) => void>();
  const db: Pick<Database, 'listen' | 'listenState'> = {
    listen: async (_channel, onNotify) => {
      handlers.add(onNotify);
      return async () => void handlers.delete(onNotify);
    },
    listenState: () => fake.state,
  };
  const fake = {
    db,
    state,
    notify: (payload: string, local = false) => handlers.forEach((h) => h(payload, local)),
    get subscribers() {
      return handlers.size;
    },
  };
  return fake;
}

/** A load the test ends when it chooses, counting the calls. */
function controlledLoad<V>() {
  let calls = 0;
  const waiting: ((v: V) => void)[] = [];
  return {
    load: () => {
      calls += 1;
      return new Promise<V>((resolve) => waiting.push(resolve));
    },
    finish: (v: V) => waiting.shift()!(v),
    get calls() {
      return calls;
    },
  };
}

/** A load that reads a value from a "table" the test changes. */
function table(initial: Record<string, string>) {
  const rows = { ...initial };
  let reads = 0;
  return {
    rows,
    load: (key: string) => async () => {
      reads += 1;
      return rows[key];
    },
    get reads() {
      return reads;
    },
  };
}

describe('NotifiedCache', () => {
  it('answers a second read of a key from memory', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test');
    await cache.start();
    const t = table({ 'svc-thue-dien-tu': 'Thuế điện tử' });
    expect(await cache.get('svc-thue-dien-tu', t.load('svc-thue-dien-tu'))).toBe('Thuế điện tử');
    expect(await cache.get('svc-thue-dien-tu', t.load('svc-thue-dien-tu'))).toBe('Thuế điện tử');
    expect(t.reads).toBe(1);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  it('reads again a key announced on its channel, and only that key', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test');
    await cache.start();
    const t = table({ an: 'Nguyễn Văn An', binh: 'Trần Thị Bình' });
    await cache.get('an', t.load('an'));
    await cache.get('binh', t.load('binh'));
    t.rows.an = 'Nguyễn Văn Ân';
    t.rows.binh = 'Trần Thị Bính';
    sub.notify('an');
    expect(await cache.get('an', t.load('an'))).toBe('Nguyễn Văn Ân');
    // Not announced: still the remembered value (which shows the cache is used at all).
    expect(await cache.get('binh', t.load('binh'))).toBe('Trần Thị Bình');
  });

  it('drops everything on the empty payload the Listener sends after reconnecting', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test');
    await cache.start();
    const t = table({ an: 'v1', binh: 'v1' });
    await cache.get('an', t.load('an'));
    await cache.get('binh', t.load('binh'));
    t.rows.an = 'v2';
    t.rows.binh = 'v2';
    sub.notify('');
    expect(cache.size).toBe(0);
    expect(await cache.get('an', t.load('an'))).toBe('v2');
    expect(await cache.get('binh', t.load('binh'))).toBe('v2');
  });

  it('does not keep a load that an announcement of its key overtook', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string>(sub.db, 'nixa_test');
    await cache.start();
    const slow = controlledLoad<string>();
    const first = cache.get('an', slow.load);
    // The load read the row before this change was committed and announced.
    sub.notify('an');
    slow.finish('stale');
    expect(await first).toBe('stale');
    const again = controlledLoad<string>();
    const second = cache.get('an', again.load);
    expect(again.calls).toBe(1);
    again.finish('fresh');
    expect(await second).toBe('fresh');
    expect(await cache.get('an', async () => 'never read')).toBe('fresh');
  });

  it('does not keep a load that a reconnection (drop everything) overtook', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string>(sub.db, 'nixa_test');
    await cache.start();
    const slow = controlledLoad<string>();
    const pending = cache.get('an', slow.load);
    sub.notify('');
    slow.finish('stale');
    await pending;
    expect(cache.size).toBe(0);
  });

  it('keeps a load overtaken only by an announcement of another key', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string>(sub.db, 'nixa_test');
    await cache.start();
    const slow = controlledLoad<string>();
    const pending = cache.get('an', slow.load);
    sub.notify('binh');
    slow.finish('value');
    await pending;
    expect(await cache.get('an', async () => 'read again')).toBe('value');
  });

  it('goes to the database on every read while LISTEN is down, and keeps nothing from then', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test');
    await cache.start();
    const t = table({ an: 'before the cut' });
    await cache.get('an', t.load('an'));
    sub.state = 'reconnecting';
    // Changed by another instance while this one's LISTEN connection is down: its announcement is lost.
    t.rows.an = 'changed meanwhile';
    expect(await cache.get('an', t.load('an'))).toBe('changed meanwhile');
    expect(await cache.get('an', t.load('an'))).toBe('changed meanwhile');
    expect(t.reads).toBe(3);
    expect(cache.stats.bypassed).toBe(2);
    expect(cache.size).toBe(0);
    // Back: served from memory again once read.
    sub.state = 'listening';
    await cache.get('an', t.load('an'));
    await cache.get('an', t.load('an'));
    expect(t.reads).toBe(4);
  });

  it('does not keep a load that started while listening and ended after LISTEN went down', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string>(sub.db, 'nixa_test');
    await cache.start();
    const slow = controlledLoad<string>();
    const pending = cache.get('an', slow.load);
    sub.state = 'reconnecting';
    slow.finish('maybe stale');
    await pending;
    sub.state = 'listening';
    expect(await cache.get('an', async () => 'read again')).toBe('read again');
  });

  it('is bypassed before start() and after stop()', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test');
    const t = table({ an: 'v' });
    await cache.get('an', t.load('an'));
    await cache.get('an', t.load('an'));
    expect(t.reads).toBe(2);
    await cache.start();
    expect(sub.subscribers).toBe(1);
    await cache.get('an', t.load('an'));
    await cache.stop();
    expect(sub.subscribers).toBe(0);
    await cache.get('an', t.load('an'));
    expect(t.reads).toBe(4);
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test', { maxEntries: 2 });
    await cache.start();
    const t = table({ a: 'A', b: 'B', c: 'C' });
    await cache.get('a', t.load('a'));
    await cache.get('b', t.load('b'));
    await cache.get('a', t.load('a')); // a is now the most recently used
    await cache.get('c', t.load('c')); // b goes
    expect(cache.size).toBe(2);
    const reads = t.reads;
    await cache.get('a', t.load('a'));
    await cache.get('c', t.load('c'));
    expect(t.reads).toBe(reads);
    await cache.get('b', t.load('b'));
    expect(t.reads).toBe(reads + 1);
  });

  it('reads an entry again after maxAgeSeconds even without an announcement', async () => {
    const sub = fakeListen();
    let now = 1_000_000;
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test', { maxAgeSeconds: 60, now: () => now });
    await cache.start();
    const t = table({ an: 'v1' });
    await cache.get('an', t.load('an'));
    t.rows.an = 'v2';
    now += 59_000;
    expect(await cache.get('an', t.load('an'))).toBe('v1');
    now += 1_000;
    expect(await cache.get('an', t.load('an'))).toBe('v2');
  });

  it('remembers that a key has no value (an unknown or disabled client)', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string | undefined>(sub.db, 'nixa_test');
    await cache.start();
    const t = table({});
    expect(await cache.get('svc-unknown', t.load('svc-unknown'))).toBeUndefined();
    expect(await cache.get('svc-unknown', t.load('svc-unknown'))).toBeUndefined();
    expect(t.reads).toBe(1);
    t.rows['svc-unknown'] = 'registered now';
    sub.notify('svc-unknown');
    expect(await cache.get('svc-unknown', t.load('svc-unknown'))).toBe('registered now');
  });

  it('does not keep a load that failed', async () => {
    const sub = fakeListen();
    const cache = new NotifiedCache<string>(sub.db, 'nixa_test');
    await cache.start();
    await expect(cache.get('an', async () => Promise.reject(new Error('database lost')))).rejects.toThrow('database lost');
    expect(await cache.get('an', async () => 'read')).toBe('read');
  });
});

describe('announce', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('is heard on commit, once per key however often a transaction announces it', async () => {
    const heard: string[] = [];
    const fromServer = (key: string) => heard.filter((k) => k === key).length;
    const unlisten = await tdb.db.listen('nixa_test_commit', (p) => heard.push(announcedKey(p)));
    try {
      await tdb.db.transaction(async (tx) => {
        await announce(tx, 'nixa_test_commit', 'svc-a');
        await announce(tx, 'nixa_test_commit', 'svc-a');
        await announce(tx, 'nixa_test_commit', 'svc-b');
        await announce(tx, 'nixa_test_other', 'svc-c');
        // Nothing is sent before COMMIT.
        expect(heard).toEqual([]);
      });
      // Each is heard twice: handed over by this process as COMMIT returns, then from the server.
      await waitFor(() => fromServer('svc-a') >= 2 && fromServer('svc-b') >= 2, 3_000, 'the announcements');
      // A marker after them, so that a late duplicate would have arrived by then.
      await announce(tdb.db, 'nixa_test_commit', 'marker');
      await waitFor(() => fromServer('marker') >= 2, 3_000, 'the marker');
      expect(heard.sort()).toEqual(['marker', 'marker', 'svc-a', 'svc-a', 'svc-b', 'svc-b']);
    } finally {
      await unlisten();
    }
  });

  it("is handed to this process's own subscribers by the time the write returns (it reads its own writes)", async () => {
    const heard: string[] = [];
    const unlisten = await tdb.db.listen('nixa_test_own', (p) => heard.push(announcedKey(p)));
    try {
      await tdb.db.transaction((tx) => announce(tx, 'nixa_test_own', 'in-transaction'));
      expect(heard).toContain('in-transaction');
      await announce(tdb.db, 'nixa_test_own', 'on-its-own');
      expect(heard).toContain('on-its-own');
    } finally {
      await unlisten();
    }
  });

  it("lets a cache ignore the server's echo of this process's own announcement, so that a value kept after the commit stays", async () => {
    const cache = new NotifiedCache<string>(tdb.db, 'nixa_test_keep');
    await cache.start();
    const heard: boolean[] = [];
    const unlisten = await tdb.db.listen('nixa_test_keep', (_p, local) => heard.push(local));
    try {
      expect(await cache.get('acct', async () => 'before')).toBe('before');
      await tdb.db.transaction((tx) => announce(tx, 'nixa_test_keep', 'acct'));
      // Dropped as the commit returned (this process's own delivery)...
      cache.keep('acct', 'after');
      // ...and the server's echo, which follows, leaves the kept value alone.
      await waitFor(() => heard.length >= 2, 3_000, "the server's echo");
      // (PostgreSQL delivers its echo after COMMIT returns; PGlite during it, before this process's own.)
      expect([...heard].sort()).toEqual([false, true]);
      expect(await cache.get('acct', async () => 'read again')).toBe('after');
    } finally {
      await unlisten();
      await cache.stop();
    }
  });

  it('still drops a key on an announcement from another process, tagged or not', async () => {
    const fake = fakeListen();
    const cache = new NotifiedCache<string>(fake.db, 'c');
    await cache.start();
    await cache.get('k', async () => 'v1');
    fake.notify('~AAAAAAAA~k'); // another process's tag
    expect(await cache.get('k', async () => 'v2')).toBe('v2');
    fake.notify('k'); // untagged (pg_notify by hand, or a handle without Queryable.notify)
    expect(await cache.get('k', async () => 'v3')).toBe('v3');
  });

  it('is never heard when the transaction rolls back', async () => {
    const heard: string[] = [];
    const unlisten = await tdb.db.listen('nixa_test_rollback', (p) => heard.push(announcedKey(p)));
    try {
      await expect(
        tdb.db.transaction(async (tx) => {
          await announce(tx, 'nixa_test_rollback', 'svc-a');
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      await announce(tdb.db, 'nixa_test_rollback', 'marker');
      await waitFor(() => heard.filter((k) => k === 'marker').length >= 2, 3_000, 'the marker');
      expect(heard).toEqual(['marker', 'marker']);
    } finally {
      await unlisten();
    }
  });
});
