// The Redis adapter's key layout (src/protocol/redis-adapter.ts), written by one
// script per upsert: the payload, its secondary keys (uid, user code) and the
// grant's set, with their lifetimes; and the script reloaded after Redis forgets it.
import { randomBytes } from 'node:crypto';

import { errors, type AdapterPayload } from 'oidc-provider';

import { RedisAdapter } from '../../src/protocol/redis-adapter.js';
import { openRedis, type RedisStore } from '../../src/storage/redis.js';
import { redisServerMissing, startPrivateRedis, type PrivateRedis } from '../support/redis.js';

const missing = redisServerMissing();
if (missing) console.warn(`skipped: the Redis adapter tests need a redis-server: ${missing}`);
const describeRedis = missing ? describe.skip : describe;

// A private server: the last test flushes its scripts.
const PREFIX = 'nixa-test:';
let redis: PrivateRedis | undefined;
let store: RedisStore;
const revoked: string[] = [];

beforeAll(async () => {
  if (missing) return;
  redis = await startPrivateRedis();
  store = await openRedis(redis.url, PREFIX);
});

afterAll(async () => {
  await store?.close();
  await redis?.stop();
});

const adapter = (model: string) => new RedisAdapter(model, store, async (g) => void revoked.push(g));
const id = () => randomBytes(16).toString('base64url');

describeRedis('Redis adapter writes', () => {
  it('stores the payload with its lifetime, and finds it by id', async () => {
    const a = adapter('AccessToken');
    const k = id();
    const payload: AdapterPayload = { jti: k, kind: 'AccessToken', accountId: 'an' };
    await a.upsert(k, payload, 60);
    await expect(a.find(k)).resolves.toEqual(payload);
    const pttl = await store.client.pttl(store.key('AccessToken', k));
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('keeps a payload saved without a lifetime until it is destroyed', async () => {
    const a = adapter('ReplayDetection');
    const k = id();
    await a.upsert(k, { jti: k }, 0);
    expect(await store.client.pttl(store.key('ReplayDetection', k))).toBe(-1);
    await a.destroy(k);
    await expect(a.find(k)).resolves.toBeUndefined();
  });

  it('finds by uid and by user code, each key expiring with the payload', async () => {
    const a = adapter('DeviceCode');
    const k = id();
    const uid = id();
    const userCode = 'BCDFGHJK';
    const payload: AdapterPayload = { jti: k, uid, userCode };
    await a.upsert(k, payload, 30);
    await expect(a.findByUid(uid)).resolves.toEqual(payload);
    await expect(a.findByUserCode(userCode)).resolves.toEqual(payload);
    for (const key of [store.key('DeviceCode', 'uid', uid), store.key('DeviceCode', 'userCode', userCode)]) {
      await expect(store.client.get(key)).resolves.toBe(k);
      expect(await store.client.pttl(key)).toBeGreaterThan(25_000);
    }
    // A payload without them writes none.
    const other = id();
    await a.upsert(other, { jti: other }, 30);
    await expect(store.client.exists(store.key('DeviceCode', 'uid', 'undefined'))).resolves.toBe(0);
  });

  it("records the payload under its grant, whose set lives as long as its longest member, and revokes them together", async () => {
    const grantId = id();
    const grantKey = store.key('grant', grantId);
    const codes = adapter('AuthorizationCode');
    const tokens = adapter('AccessToken');
    const [c, t, u] = [id(), id(), id()];
    await tokens.upsert(t, { jti: t, grantId }, 3600);
    await codes.upsert(c, { jti: c, grantId }, 60);
    // A shorter member does not shorten the set.
    expect(await store.client.pttl(grantKey)).toBeGreaterThan(3_500_000);
    await expect(store.client.smembers(grantKey)).resolves.toEqual(expect.arrayContaining([store.key('AccessToken', t), store.key('AuthorizationCode', c)]));
    // A member without a lifetime keeps the set.
    await tokens.upsert(u, { jti: u, grantId }, 0);
    expect(await store.client.pttl(grantKey)).toBe(-1);

    await codes.revokeByGrantId(grantId);
    await expect(codes.find(c)).resolves.toBeUndefined();
    await expect(tokens.find(t)).resolves.toBeUndefined();
    await expect(tokens.find(u)).resolves.toBeUndefined();
    await expect(store.client.exists(grantKey)).resolves.toBe(0);
  });

  it('loads its script again when Redis has forgotten it (a restart, SCRIPT FLUSH)', async () => {
    const a = adapter('AccessToken');
    await store.client.script('FLUSH');
    const k = id();
    await a.upsert(k, { jti: k }, 60);
    await expect(a.find(k)).resolves.toEqual({ jti: k });
  });

  it('refuses a payload with NUL before writing anything', async () => {
    const k = id();
    await expect(adapter('AccessToken').upsert(k, { jti: k, accountId: 'a\0b' }, 60)).rejects.toBeInstanceOf(errors.InvalidRequest);
    await expect(store.client.exists(store.key('AccessToken', k))).resolves.toBe(0);
  });

  it('never reads another kind of key through a hostile id (a consumed mark, a secondary key)', async () => {
    const a = adapter('AuthorizationCode');
    const k = id();
    const uid = id();
    await a.upsert(k, { jti: k, kind: 'AuthorizationCode', uid } as AdapterPayload, 60);
    await a.consume(k);
    // Both keys exist in Redis under the model's prefix, and hold no payload.
    expect(await store.client.exists(store.key('AuthorizationCode', `${k}:consumed`), store.key('AuthorizationCode', 'uid', uid))).toBe(2);
    await expect(a.find(`${k}:consumed`)).resolves.toBeUndefined();
    await expect(a.find(`uid:${uid}`)).resolves.toBeUndefined();
    await expect(a.consume(`uid:${uid}`)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
