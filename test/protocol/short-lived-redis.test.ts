// Short-lived protocol state on Redis (NIXA_SHORT_LIVED_STORE=redis), against a
// real redis-server of the test's own (it is stopped and restarted here):
// interactions, codes, access tokens and upstream logins live there, sessions,
// grants and refresh tokens in PostgreSQL; codes stay single-use; revoking a grant
// in PostgreSQL ends the tokens Redis holds; a Redis restart restarts the sign-ins
// in flight with a plain answer and loses nothing durable.
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { redisUpstreamLogins, type UpstreamLogins } from '../../src/federation/index.js';
import { revokeGrantsOf } from '../../src/protocol/index.js';
import { openRedis, type RedisStore } from '../../src/storage/redis.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { startTestNixa } from '../support/nixa.js';
import { redisServerMissing, startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

const missing = redisServerMissing();
if (missing) console.warn(`skipped: the Redis short-lived store tests need a redis-server: ${missing}`);
const describeRedis = missing ? describe.skip : describe;

let redis: PrivateRedis;
let tdb: TestDatabase;
let nixa: Nixa;
let client: TestClient;
let config: oidc.Configuration;
const PREFIX = `nixa-test-${process.pid}:`;
const env = () => ({ NIXA_SHORT_LIVED_STORE: 'redis', NIXA_REDIS_URL: redis.url, NIXA_REDIS_PREFIX: PREFIX });

beforeAll(async () => {
  if (missing) return;
  redis = await startPrivateRedis();
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, env());
  client = await registerTestClient(tdb.db);
  config = await discover(nixa.config.issuer, client);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
  await redis?.stop();
});

const offline = (account: string) => signIn(config, client, { account, scope: 'openid offline_access', extra: { prompt: 'consent' } });

async function userinfoStatus(accessToken: string): Promise<number> {
  const res = await fetch(config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.body?.cancel();
  return res.status;
}

async function keysIn(store: RedisStore, pattern: string): Promise<string[]> {
  return store.run((c) => c.keys(`${PREFIX}${pattern}`));
}

describeRedis('short-lived protocol state on Redis', () => {
  it('signs in, redeems, calls userinfo and refreshes with the short-lived state in Redis and only sessions, grants and refresh tokens in PostgreSQL', async () => {
    const tokens = await redeem(config, await offline('nguyen-van-an'));
    expect(await userinfoStatus(tokens.access_token)).toBe(200);
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await userinfoStatus(refreshed.access_token)).toBe(200);

    const { rows } = await tdb.db.query<{ model: string }>('SELECT DISTINCT model FROM oidc_payloads ORDER BY model');
    expect(rows.map((r) => r.model)).toEqual(['Grant', 'RefreshToken', 'Session']);
    const shortLivedRows = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM short_lived_payloads');
    expect(shortLivedRows.rows[0]!.n).toBe(0);

    const store = await openRedis(redis.url, PREFIX);
    try {
      expect((await keysIn(store, 'AccessToken:*')).length).toBeGreaterThanOrEqual(2);
      expect((await keysIn(store, 'AuthorizationCode:*')).length).toBeGreaterThanOrEqual(1);
      // (Interactions are deleted once they end; the restart test below shows they live in Redis.)
    } finally {
      await store.close();
    }
  });

  it('redeems a code once when it is presented twice at the same moment, and the replay revokes the grant (its refresh token and access token die)', async () => {
    const s = await offline('tran-thi-binh');
    const results = await Promise.allSettled([redeem(config, s), redeem(config, s)]);
    const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers.map((l) => (l.reason as { error?: string }).error)).toEqual(['invalid_grant']);
    const won = winners[0]!;
    await expect(oidc.refreshTokenGrant(config, won.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await userinfoStatus(won.access_token)).toBe(401);
  });

  it('ends the access tokens Redis holds when the grant is revoked in PostgreSQL (consent withdrawn, account suspended)', async () => {
    const tokens = await redeem(config, await offline('le-hoang-cuong'));
    expect(await userinfoStatus(tokens.access_token)).toBe(200);
    const sub = (await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck)).sub;
    const revoked = await revokeGrantsOf(tdb.db, sub, client.clientId);
    expect(revoked.grants).toBe(1);
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  });

  it('refuses a hostile code that names another kind of key, with the standard error', async () => {
    // A redeemed code leaves its "<code>:consumed" mark in Redis; a code of that
    // shape must not read the mark (a number, not a payload) as a code.
    const first = await offline('pham-thu-dung');
    await redeem(config, first);
    const usedCode = first.callbackUrl.searchParams.get('code')!;
    const s = await offline('pham-thu-dung');
    const tampered = new URL(s.callbackUrl);
    tampered.searchParams.set('code', `${usedCode}:consumed`);
    await expect(redeem(config, { ...s, callbackUrl: tampered })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('restarts the sign-ins in flight with a plain page when Redis restarts, and loses nothing durable', async () => {
    const done = await redeem(config, await offline('vo-minh-em'));
    // A sign-in in flight: the login page is shown, its interaction is in Redis.
    const agent = new UserAgent();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: client.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    });
    const step = await agent.follow(url, {}, client.redirectUri);
    const html = await step.res.text();
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;

    await redis.stop();
    // While it is down: a clear 503, never a hung request or a 500.
    expect(await userinfoStatus(done.access_token)).toBe(503);
    const ready = await fetch(`${nixa.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.shortLivedStore).not.toBe('ok');
    const during = await agent.submit(new URL(action, step.url), { account: 'vo-minh-em', csrf }, client.redirectUri);
    expect(during.res.status).toBe(503);
    expect(await during.res.text()).toContain('lang="vi"');

    await redis.start();
    await waitFor(async () => (await fetch(`${nixa.url}/readyz`)).status === 200, 10_000, 'nixa to reconnect to Redis');
    // The sign-in in flight is gone: a plain page (not a 500) saying to start again.
    const after = await agent.submit(new URL(action, step.url), { account: 'vo-minh-em', csrf }, client.redirectUri);
    expect(after.stoppedAt).toBeUndefined();
    expect(after.res.status).toBeGreaterThanOrEqual(400);
    expect(after.res.status).toBeLessThan(500);
    expect(await after.res.text()).toContain('lang="vi"');
    // The access token was short-lived state: the service refreshes (the refresh token is durable).
    expect(await userinfoStatus(done.access_token)).toBe(401);
    const refreshed = await oidc.refreshTokenGrant(config, done.refresh_token!);
    expect(await userinfoStatus(refreshed.access_token)).toBe(200);
    // And a new sign-in goes through.
    expect((await redeem(config, await offline('vo-minh-em'))).access_token).toEqual(expect.any(String));
  });
});

describeRedis('upstream logins on Redis', () => {
  let store: RedisStore;
  let logins: UpstreamLogins;
  const login = (state: string, interactionUid = 'uid-1') => ({ state, interactionUid, sourceId: 'citizen-id', nonce: 'n', codeVerifier: 'v' });

  beforeAll(async () => {
    if (missing) return;
    store = await openRedis(redis.url, `${PREFIX}logins:`);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('takes a state once, for its own sign-in only, and tells replayed, expired, foreign and unknown apart', async () => {
    logins = redisUpstreamLogins(store);
    await logins.save(login('s-ok'), 60);
    expect(await logins.take('s-ok', 'uid-other')).toMatchObject({ status: 'foreign', login: { interactionUid: 'uid-1' } });
    const taken = await logins.take('s-ok', 'uid-1');
    expect(taken).toMatchObject({ status: 'ok', login: { sourceId: 'citizen-id', nonce: 'n', codeVerifier: 'v' } });
    expect(taken.status === 'ok' && taken.login.startedAt).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await logins.take('s-ok', 'uid-1')).toMatchObject({ status: 'replayed' });
    expect(await logins.owner('s-ok')).toEqual({ interactionUid: 'uid-1', sourceId: 'citizen-id', consumed: true });
    expect(await logins.take('never-issued', 'uid-1')).toEqual({ status: 'unknown' });
    expect(await logins.owner('never-issued')).toBeUndefined();

    await logins.save(login('s-expired'), 0);
    expect(await logins.take('s-expired', 'uid-1')).toMatchObject({ status: 'expired' });
    // Remembered after expiry, so that a late replay is still recognised.
    expect(await store.run((c) => c.ttl(store.key('upstream', 's-expired')))).toBeGreaterThan(3600);
  });

  it('remembers which sources this sign-in refused, for this sign-in only', async () => {
    logins = redisUpstreamLogins(store);
    await logins.save(login('s-refused', 'uid-2'), 60);
    await logins.save({ ...login('s-other', 'uid-3'), sourceId: 'bank' }, 60);
    await logins.markRefused('s-refused', 'insufficient-level');
    await logins.markRefused('never-issued', 'insufficient-level');
    expect([...(await logins.refusedSources('uid-2'))]).toEqual(['citizen-id']);
    expect([...(await logins.refusedSources('uid-3'))]).toEqual([]);
  });
});

describeRedis('a federated sign-in with its upstream login in Redis', () => {
  let federation: Federation;
  beforeAll(async () => {
    if (missing) return;
    federation = await startFederation(tdb, env());
  });
  afterAll(async () => {
    await federation?.close();
  });

  it('goes through the citizen-ID source and leaves its spent state in Redis, not in the database', async () => {
    const rp = await registerTestClient(tdb.db, { scope: 'openid profile' });
    const rpConfig = await discover(federation.nixa.config.issuer, rp);
    const s = await federatedSignIn(rpConfig, rp.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
    expect(s.stoppedAt).toBeDefined();
    const tokens = await redeemFederated(rpConfig, s);
    expect(tokens.claims()!.sub).toEqual(expect.any(String));
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM upstream_logins');
    expect(rows[0]!.n).toBe(0);
    const store = await openRedis(redis.url, PREFIX);
    try {
      expect((await keysIn(store, 'upstream:*')).length).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
  });
});
