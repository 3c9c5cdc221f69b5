// The simulated sources' in-memory store (src/simulated-sources/memory-adapter.ts):
// entries leave when they expire, revocation by grant still works, the indexes do
// not outgrow the entries, and an operation's work does not grow with the number
// of live entries (counted by the store, never timed).
import type { Adapter, AdapterPayload } from 'oidc-provider';

import { memoryAdapter, MemoryStore } from '../../src/simulated-sources/memory-adapter.js';

/** A store on a clock the test moves. */
function storeAt(start = Date.UTC(2025, 4, 19, 8, 30)) {
  let now = start;
  const store = new MemoryStore(() => now);
  const factory = memoryAdapter(store);
  const adapters = new Map<string, Adapter>();
  const adapter = (model: string) => {
    let a = adapters.get(model);
    if (!a) adapters.set(model, (a = factory(model) as Adapter));
    return a;
  };
  return { store, adapter, advance: (seconds: number) => void (now += seconds * 1000) };
}

const session = (uid: string, accountId = 'vn-079203001234'): AdapterPayload => ({ uid, accountId, kind: 'Session' });
const token = (grantId: string): AdapterPayload => ({ grantId, accountId: 'vn-079203001234', clientId: 'nixa', kind: 'AccessToken' });

describe('expiry', () => {
  it('forgets an entry once its lifetime has passed, whether or not it is read again', async () => {
    const { store, adapter, advance } = storeAt();
    await adapter('AccessToken').upsert('at-1', token('grant-1'), 600);
    await adapter('Interaction').upsert('int-1', { kind: 'Interaction' }, 60);
    advance(599);
    expect(await adapter('AccessToken').find('at-1')).toBeDefined();
    advance(1);
    expect(await adapter('AccessToken').find('at-1')).toBeUndefined();
    // Never read after it expired: gone from every index after the next write.
    expect(store.entries.has('Interaction:int-1')).toBe(true);
    await adapter('Grant').upsert('grant-2', { kind: 'Grant' }, 3600);
    expect([...store.entries.keys()]).toEqual(['Grant:grant-2']);
    expect(store.grantMembers.size).toBe(0);
    expect(store.queued).toBe(1);
  });

  it('keeps an entry stored again with a longer lifetime past its first expiry', async () => {
    const { adapter, advance } = storeAt();
    await adapter('Session').upsert('s-1', session('uid-1'), 60);
    advance(50);
    await adapter('Session').upsert('s-1', session('uid-1'), 60);
    advance(50);
    await adapter('Session').upsert('s-other', session('uid-2'), 60);
    expect(await adapter('Session').findByUid('uid-1')).toMatchObject({ uid: 'uid-1' });
    advance(11);
    expect(await adapter('Session').findByUid('uid-1')).toBeUndefined();
  });

  it('never expires an entry stored without a lifetime, and does not queue it', async () => {
    const { store, adapter, advance } = storeAt();
    await adapter('Client').upsert('nixa', { kind: 'Client' }, undefined);
    advance(365 * 24 * 3600);
    await adapter('Interaction').upsert('int-1', { kind: 'Interaction' }, 60);
    expect(await adapter('Client').find('nixa')).toBeDefined();
    expect(store.queued).toBe(1);
  });
});

describe('work per operation', () => {
  const LIVE = 20_000;
  const OPS = 1_000;
  // A heap step per level of a queue of LIVE + OPS items, with room to spare; a sweep of the store would be LIVE per op.
  const PER_OP = 2 * Math.ceil(Math.log2(LIVE + OPS)) + 4;

  it('does not visit the live entries when a new one is stored', async () => {
    const { store, adapter } = storeAt();
    for (let i = 0; i < LIVE; i++) await adapter('Session').upsert(`s-${i}`, session(`uid-${i}`), 3600);
    store.work = 0;
    for (let i = 0; i < OPS; i++) await adapter('Session').upsert(`new-${i}`, session(`new-uid-${i}`), 3600);
    expect(store.entries.size).toBe(LIVE + OPS);
    expect(store.work).toBeLessThanOrEqual(OPS * PER_OP);
  });

  it('removes expired entries at a cost per removed entry, not per live one', async () => {
    const { store, adapter, advance } = storeAt();
    // Long-lived sessions, and interactions that expire a minute in: both interleaved as in a demo.
    for (let i = 0; i < LIVE; i++) {
      await adapter('Session').upsert(`s-${i}`, session(`uid-${i}`), 3600);
      if (i % 10 === 0) await adapter('Interaction').upsert(`int-${i}`, { kind: 'Interaction' }, 60);
    }
    advance(61);
    store.work = 0;
    for (let i = 0; i < OPS; i++) await adapter('Session').upsert(`new-${i}`, session(`new-uid-${i}`), 3600);
    const expired = LIVE / 10;
    expect(store.entries.size).toBe(LIVE + OPS);
    expect(store.work).toBeLessThanOrEqual((OPS + expired) * PER_OP);
  });

  it('stays flat when the same session is stored again on every request, and the queue does not grow without bound', async () => {
    const { store, adapter } = storeAt();
    const live = LIVE / 4;
    for (let i = 0; i < live; i++) await adapter('Session').upsert(`s-${i}`, session(`uid-${i}`), 3600);
    store.work = 0;
    // Enough to pile up more stale queue items than live entries, several times over.
    const again = 4 * live;
    for (let i = 0; i < again; i++) await adapter('Session').upsert('s-7', session('uid-7'), 3600);
    // Compaction visits every entry, but only after as many stale items piled up: amortised, a constant per op.
    expect(store.work).toBeLessThanOrEqual(again * (PER_OP + 2));
    expect(store.queued).toBeLessThanOrEqual(2 * store.entries.size + 1_024);
  });
});

describe('indexes', () => {
  it('revokes every token of a grant, and only that grant’s', async () => {
    const { store, adapter } = storeAt();
    await adapter('AuthorizationCode').upsert('code-1', token('grant-1'), 60);
    await adapter('AccessToken').upsert('at-1', token('grant-1'), 600);
    await adapter('RefreshToken').upsert('rt-1', token('grant-1'), 3600);
    await adapter('AccessToken').upsert('at-2', token('grant-2'), 600);
    await adapter('AccessToken').revokeByGrantId('grant-1');
    expect(await adapter('AuthorizationCode').find('code-1')).toBeUndefined();
    expect(await adapter('AccessToken').find('at-1')).toBeUndefined();
    expect(await adapter('RefreshToken').find('rt-1')).toBeUndefined();
    expect(await adapter('AccessToken').find('at-2')).toBeDefined();
    expect([...store.grantMembers.keys()]).toEqual(['grant-2']);
  });

  it('drops a grant’s index once its tokens have expired or been destroyed', async () => {
    const { store, adapter, advance } = storeAt();
    await adapter('AuthorizationCode').upsert('code-1', token('grant-1'), 60);
    await adapter('AccessToken').upsert('at-1', token('grant-1'), 600);
    await adapter('AccessToken').destroy('at-1');
    advance(61);
    await adapter('Interaction').upsert('int-1', { kind: 'Interaction' }, 600);
    expect(store.grantMembers.size).toBe(0);
  });

  it('keeps no session uid longer than its session: expired, destroyed or stored again under a new uid', async () => {
    const { store, adapter, advance } = storeAt();
    for (let i = 0; i < 1_000; i++) await adapter('Session').upsert(`s-${i}`, session(`uid-${i}`), 600);
    await adapter('Session').upsert('kept', session('uid-kept'), 3600);
    await adapter('Session').upsert('renamed', session('uid-old'), 3600);
    await adapter('Session').upsert('renamed', session('uid-new'), 3600);
    await adapter('Session').upsert('ended', session('uid-ended'), 3600);
    await adapter('Session').destroy('ended');
    advance(601);
    await adapter('Interaction').upsert('int-1', { kind: 'Interaction' }, 600);
    expect([...store.sessionsByUid].sort()).toEqual([
      ['uid-kept', 'kept'],
      ['uid-new', 'renamed'],
    ]);
    expect(await adapter('Session').findByUid('uid-old')).toBeUndefined();
    expect(await adapter('Session').findByUid('uid-ended')).toBeUndefined();
  });
});

describe('one store per source', () => {
  it('does not show one source’s entries to another, and clear() leaves nothing', async () => {
    const a = storeAt();
    const b = storeAt();
    await a.adapter('Session').upsert('s-1', session('uid-1', 'vn-001'), 3600);
    await b.adapter('Session').upsert('s-1', session('uid-1', 'vn-002'), 3600);
    await a.adapter('AccessToken').upsert('at-1', token('grant-1'), 600);
    expect(await a.adapter('Session').findByUid('uid-1')).toMatchObject({ accountId: 'vn-001' });
    expect(await b.adapter('Session').findByUid('uid-1')).toMatchObject({ accountId: 'vn-002' });
    await b.adapter('AccessToken').revokeByGrantId('grant-1');
    expect(await a.adapter('AccessToken').find('at-1')).toBeDefined();
    a.store.clear();
    expect([a.store.entries.size, a.store.sessionsByUid.size, a.store.grantMembers.size, a.store.queued]).toEqual([0, 0, 0, 0]);
    expect(await b.adapter('Session').find('s-1')).toBeDefined();
  });
});
