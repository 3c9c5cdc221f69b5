// Reads served from memory on two instances of one database: whatever one
// instance (or an operator's command) changes, the other stops serving from its
// memory at once, through NOTIFY; and while its LISTEN connection is down it
// reads the database instead, so a change it cannot hear of is never served stale.
import * as oidc from 'openid-client';

import { ensureAccount, findAccount, suspendAccount, type AccountsContext } from '../../src/accounts/index.js';
import type { Nixa } from '../../src/app/index.js';
import { disableClient } from '../../src/clients/index.js';
import { consentOf, deleteConsent, recordConsent } from '../../src/consent/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { connectionCutter, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { startTestNixa, toOrigin } from '../support/nixa.js';
import { redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

// The caches' age limit is far beyond every wait below: only an announcement can explain a change seen.
const NO_POLLING = { NIXA_KEYS_REFRESH_SECONDS: '3600' };
const onPostgres = TEST_DATABASE_URL ? describe : describe.skip;

let tdb: TestDatabase;
let dbB: Database | undefined;
let a: Nixa;
let b: Nixa;
let issuer: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  a = await startTestNixa(tdb.db, NO_POLLING);
  issuer = a.config.issuer;
  // Real PostgreSQL: B has its own pool and its own LISTEN connection, as another process would.
  dbB = tdb.url ? await openPostgres(tdb.url, 4) : undefined;
  b = await startTestNixa(dbB ?? tdb.db, { ...NO_POLLING, NIXA_ISSUER: issuer });
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await dbB?.close();
  await tdb?.drop();
});

/** Writes as instance A (or an operator's command) makes them: on the shared database, not through B. */
const atA = (): AccountsContext => ({ db: tdb.db, cipher: a.cipher, pepper: a.cipher.derive('national-id-hash') });
/** What B's provider reads accounts through. */
const atB = (): AccountsContext => ({ db: b.db, cipher: b.cipher, pepper: b.cipher.derive('national-id-hash'), cache: b.caches.accounts });

/** The relying party, every request of it (browser and back channel) landing on B. */
async function relyingPartyAtB(client: TestClient): Promise<oidc.Configuration> {
  const toB: oidc.CustomFetch = (url, options) => fetch(toOrigin(url, b.url), options as RequestInit);
  const auth = client.secret ? oidc.ClientSecretBasic(client.secret) : oidc.None();
  const rp = await oidc.discovery(new URL(issuer), client.clientId, undefined, auth, { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: toB });
  rp[oidc.customFetch] = toB;
  const { supportsPKCE: _pkce, ...metadata } = rp.serverMetadata();
  const browser = new oidc.Configuration({ ...metadata, authorization_endpoint: toOrigin(metadata.authorization_endpoint!, b.url).href }, client.clientId, undefined, auth);
  browser[oidc.customFetch] = toB;
  oidc.allowInsecureRequests(browser);
  return browser;
}

/** A browser that a load balancer sends to B for every issuer URL. */
class BrowserAtB extends UserAgent {
  override request(url: string | URL, init?: RequestInit): Promise<Response> {
    const u = new URL(url);
    return super.request(u.origin === new URL(issuer).origin ? toOrigin(u, b.url) : u, init);
  }
}

/**
 * Reads at B until B answers from memory. The write that made the row announced it
 * too, and that announcement may reach B after B's first read (dropping it), so
 * "the second read is a hit" would depend on timing.
 */
async function inMemoryAtB(cache: { stats: { hits: number } }, read: () => Promise<unknown>): Promise<void> {
  await waitFor(
    async () => {
      const hits = cache.stats.hits;
      await read();
      return cache.stats.hits > hits;
    },
    5_000,
    'B to answer from memory',
  );
}

/** B's answer to an authorization request of the client: 303 on to the login page, or 400 for a client it does not know. */
async function authorizeAtB(client: TestClient): Promise<number> {
  const url = new URL('/auth', b.url);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

describe('reads served from memory on two instances', () => {
  it('refuses at B a client disabled through A, after B had it in memory', async () => {
    const client = await registerTestClient(tdb.db, { name: 'Cổng thuế điện tử (thử nghiệm)' });
    expect(await authorizeAtB(client)).toBe(303);
    await inMemoryAtB(b.caches.clients, async () => expect(await authorizeAtB(client)).toBe(303));

    await disableClient(tdb.db, client.clientId, 'test:operator', 'Dịch vụ ngừng hoạt động');

    await waitFor(async () => (await authorizeAtB(client)) === 400, 5_000, 'B to refuse the disabled client');
    expect(await authorizeAtB(client)).toBe(400);
  });

  it('refuses at B an account suspended through A, after B had it in memory', async () => {
    const client = await registerTestClient(tdb.db);
    const browser = await relyingPartyAtB(client);
    const account = 'tran-thi-hoa';
    const tokens = await redeem(browser, await signIn(browser, client, { account, agent: new BrowserAtB() }));
    expect((await oidc.fetchUserInfo(browser, tokens.access_token, account)).sub).toBe(account);
    // B's provider read the account at the sign-in; read again, it comes from memory.
    await inMemoryAtB(b.caches.accounts, async () => expect(await findAccount(atB(), account)).toBeDefined());

    await suspendAccount(atA(), { accountId: account, actor: 'admin:thu.pham', reason: 'Công dân báo mất điện thoại' });

    // atB() reads through B's own cache, the one B's provider reads through (findAccount at userinfo, refresh, SSO).
    await waitFor(async () => (await findAccount(atB(), account)) === undefined, 5_000, 'B to see the suspension');
    expect(await findAccount(atB(), account)).toBeUndefined();
    // Its tokens were revoked with the suspension: B's userinfo refuses them too.
    await expect(oidc.fetchUserInfo(browser, tokens.access_token, account)).rejects.toMatchObject({ status: 401 });
  });

  it('does not serve from B a consent withdrawn through A', async () => {
    const client = await registerTestClient(tdb.db, { scope: 'openid profile' });
    const account = 'le-minh-khoa';
    await ensureAccount(tdb.db, account);
    await tdb.db.transaction((tx) => recordConsent(tx, account, client.clientId, { claims: ['name', 'birthdate'], withoutValue: [] }));
    await inMemoryAtB(b.caches.consents, async () =>
      expect((await consentOf(b.db, account, client.clientId, b.caches.consents)).claims).toEqual(['birthdate', 'name']),
    );

    await tdb.db.transaction((tx) => deleteConsent(tx, account, client.clientId));

    await waitFor(async () => (await consentOf(b.db, account, client.clientId, b.caches.consents)).claims.length === 0, 5_000, 'B to drop the consent');
  });
});

onPostgres('while B cannot hear announcements', () => {
  it('serves nothing stale from B, whether B reads during the outage or only once its LISTEN connection is back', async () => {
    const client = await registerTestClient(tdb.db, { name: 'Bảo hiểm xã hội (thử nghiệm)' });
    const account = 'nguyen-thi-mai';
    await ensureAccount(tdb.db, account);
    await tdb.db.transaction((tx) => recordConsent(tx, account, client.clientId, { claims: ['name'], withoutValue: [] }));
    // In B's memory: the client (its authorization request) and the consent.
    await inMemoryAtB(b.caches.clients, async () => expect(await authorizeAtB(client)).toBe(303));
    await inMemoryAtB(b.caches.consents, async () => expect((await consentOf(b.db, account, client.clientId, b.caches.consents)).claims).toEqual(['name']));

    // The writer keeps a connection open: new ones are about to be refused.
    const writer = await openPostgres(tdb.url!, 1);
    const cutter = await connectionCutter(tdb);
    try {
      await writer.query('SELECT 1');
      // Keep B's LISTEN connection from coming back until the changes are made.
      await cutter.admin.query(`ALTER DATABASE ${cutter.name} ALLOW_CONNECTIONS false`);
      try {
        expect(await cutter.cut('LISTEN %')).toBeGreaterThanOrEqual(2); // A's and B's
        await waitFor(() => b.db.listenState() === 'reconnecting', 5_000, "B to notice its LISTEN connection is gone");

        // Changed while B cannot hear of it.
        await disableClient(writer, client.clientId, 'test:operator', 'Dịch vụ ngừng hoạt động');
        await writer.transaction((tx) => deleteConsent(tx, account, client.clientId));

        // B reads the client during the outage: from the database.
        const bypassed = b.caches.clients.stats.bypassed;
        expect(await authorizeAtB(client)).toBe(400);
        expect(b.caches.clients.stats.bypassed).toBeGreaterThan(bypassed);
        expect(b.db.listenState()).toBe('reconnecting');
        // The consent it does not read until its LISTEN connection is back (below).
      } finally {
        await cutter.admin.query(`ALTER DATABASE ${cutter.name} ALLOW_CONNECTIONS true`);
      }
      await waitFor(() => b.db.listenState() === 'listening', 10_000, 'B to LISTEN again');
      expect((await consentOf(b.db, account, client.clientId, b.caches.consents)).claims).toEqual([]);
      expect(await authorizeAtB(client)).toBe(400);
    } finally {
      await cutter.close();
      await writer.close();
    }
  });
});
