// Two instances on one database, as behind a load balancer: both answer for the
// same issuer, and whatever one of them starts (a code, a session, a key change)
// the other must honour. With real PostgreSQL each instance has its own pool and
// its own LISTEN connection, as two processes would; with embedded PGlite they
// share the one in-memory database.
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { listKeyViews, revokeKey, rotateKeys } from '../../src/keys/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { publishedKids, startTestNixa, toOrigin } from '../support/nixa.js';
import { redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

// Reloads must come from NOTIFY: the polling safety net is pushed out of reach.
const NO_POLLING = { NIXA_KEYS_REFRESH_SECONDS: '3600' };

let tdb: TestDatabase;
let dbB: Database | undefined;
let a: Nixa;
let b: Nixa;
let issuer: string;
let client: TestClient;
/** The relying party as it sees instance A (its back-channel requests go to A). */
let rpA: oidc.Configuration;
/** The same relying party, but every back-channel request lands on instance B. */
let rpB: oidc.Configuration;
/** Authorization URLs pointing the browser at B. */
let browserAtB: oidc.Configuration;
/** Origins of back-channel requests rpB actually made. */
const reachedViaB: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  a = await startTestNixa(tdb.db, NO_POLLING);
  issuer = a.config.issuer;
  dbB = tdb.url ? await openPostgres(tdb.url, 4) : undefined;
  b = await startTestNixa(dbB ?? tdb.db, { ...NO_POLLING, NIXA_ISSUER: issuer });
  expect(b.url).not.toBe(a.url);
  expect(b.config.issuer).toBe(issuer);

  client = await registerTestClient(tdb.db);
  const auth = client.secret ? oidc.ClientSecretBasic(client.secret) : oidc.None();
  rpA = await oidc.discovery(new URL(issuer), client.clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });

  const toB: oidc.CustomFetch = (url, options) => {
    const target = toOrigin(url, b.url);
    reachedViaB.push(target.origin);
    return fetch(target, options as RequestInit);
  };
  rpB = await oidc.discovery(new URL(issuer), client.clientId, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
    [oidc.customFetch]: toB,
  });
  rpB[oidc.customFetch] = toB;

  const { supportsPKCE: _method, ...metadata } = rpA.serverMetadata();
  browserAtB = new oidc.Configuration(
    { ...metadata, authorization_endpoint: toOrigin(metadata.authorization_endpoint!, b.url).href },
    client.clientId,
    undefined,
    auth,
  );
  oidc.allowInsecureRequests(browserAtB);
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await dbB?.close();
  await tdb?.drop();
});

async function activeKid(alg = 'RS256'): Promise<string> {
  return (await listKeyViews(tdb.db)).find((k) => k.use === 'sig' && k.alg === alg && k.state === 'active')!.kid;
}

/** Gives the browser at B the cookies it holds for A (same site behind a load balancer). */
function shareCookies(agent: UserAgent): void {
  const fromA = agent.cookies.get(new URL(a.url).host);
  expect(fromA?.size).toBeGreaterThan(0);
  agent.cookies.set(new URL(b.url).host, new Map(fromA));
}

/**
 * A browser in front of which a load balancer sends every request for the issuer
 * to B: nixa's pages link to the issuer's URLs (never to the Host a request
 * named), so a browser that stays on B's port would be sent on to A.
 */
class BrowserRoutedToB extends UserAgent {
  override request(url: string | URL, init?: RequestInit): Promise<Response> {
    const u = new URL(url);
    return super.request(u.origin === new URL(issuer).origin ? toOrigin(u, b.url) : u, init);
  }
}

/** A complete sign-in and token exchange that touches only B. */
async function idTokenFromB(): Promise<string> {
  const s = await signIn(browserAtB, client, { agent: new BrowserRoutedToB() });
  expect(s.callbackUrl.searchParams.get('code')).toBeTruthy();
  return (await redeem(rpB, s)).id_token!;
}

describe('two instances on one database', () => {
  it('redeems at B an authorization code that was issued through A', async () => {
    const s = await signIn(rpA, client, { account: 'le-van-cuong' });
    reachedViaB.length = 0;
    const tokens = await redeem(rpB, s);
    expect(reachedViaB).toEqual([b.url]);

    expect(tokens.claims()).toMatchObject({ iss: issuer, sub: 'le-van-cuong', aud: client.clientId, nonce: s.nonce });
    // The access token B issued is honoured by both instances.
    expect((await oidc.fetchUserInfo(rpB, tokens.access_token, 'le-van-cuong')).sub).toBe('le-van-cuong');
    expect((await oidc.fetchUserInfo(rpA, tokens.access_token, 'le-van-cuong')).sub).toBe('le-van-cuong');
    // The code is spent for both instances, not just the one that redeemed it.
    await expect(redeem(rpA, s)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('recognises at B a session made through A, so B does not ask to log in again', async () => {
    const agent = new UserAgent();
    await redeem(rpA, await signIn(rpA, client, { agent, account: 'pham-thi-dung' }));

    // Control: a browser B has never seen is sent to the login page.
    const stranger = new UserAgent();
    const url = () =>
      oidc.buildAuthorizationUrl(browserAtB, {
        redirect_uri: client.redirectUri,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: oidc.randomState(),
      });
    const fresh = await stranger.follow(url(), {}, client.redirectUri);
    expect(fresh.stoppedAt).toBeUndefined();
    expect(await fresh.res.text()).toMatch(/action="\/interaction\/[^"]+\/login"/);

    // The browser that signed in at A goes straight back to the relying party from B.
    shareCookies(agent);
    const hop = await agent.follow(url(), {}, client.redirectUri);
    expect(new URL(hop.url).host).toBe(new URL(b.url).host);
    expect(hop.stoppedAt).toBeDefined();
    expect(new URL(hop.stoppedAt!).searchParams.get('code')).toBeTruthy();

    // And a full round through B yields tokens for the same person.
    const s = await signIn(browserAtB, client, { agent, extra: { prompt: 'none' } });
    expect(s.callbackUrl.searchParams.get('error')).toBeNull();
    expect((await redeem(rpB, s)).claims()?.sub).toBe('pham-thi-dung');
  });

  it('signs at B with a key rotated through A, without a restart', async () => {
    const before = decodeProtectedHeader(await idTokenFromB()).kid;
    expect(before).toBe(await activeKid());

    await rotateKeys(tdb.db, a.cipher, a.config, 'test:operator', { reason: 'kiểm thử hai phiên bản' });
    const promoted = await activeKid();
    expect(promoted).not.toBe(before);
    const queued = (await listKeyViews(tdb.db)).find((k) => k.alg === 'RS256' && k.state === 'next')!.kid;

    await waitFor(async () => (await publishedKids(b)).includes(queued), 5_000, 'B to load the keys rotated through A');
    expect(await publishedKids(b)).toContain(before);
    expect(decodeProtectedHeader(await idTokenFromB()).kid).toBe(promoted);
  });

  it('stops publishing at B a key revoked through A, and B signs with the promoted key', async () => {
    const revoked = await activeKid();
    const promoted = (await listKeyViews(tdb.db)).find((k) => k.alg === 'RS256' && k.state === 'next')!.kid;
    expect(await publishedKids(b)).toContain(revoked);

    await revokeKey(tdb.db, a.cipher, revoked, 'test:operator', 'two-instance revocation test');

    await waitFor(async () => !(await publishedKids(b)).includes(revoked), 5_000, 'B to drop the revoked key');
    await waitFor(async () => !(await publishedKids(a)).includes(revoked), 5_000, 'A to drop the revoked key');
    expect(decodeProtectedHeader(await idTokenFromB()).kid).toBe(promoted);
  });
});
