// Losing the database connection, as a failover, a restart or a pooler does it:
// every backend of nixa's database is terminated, again and again, while citizens
// sign in through two instances. No process may die; requests caught in the cut
// fail cleanly (503, a standard OAuth error); both instances serve again at once,
// the audit trail still verifies, and LISTEN comes back so that a key change made
// through one instance reaches the other without waiting for the polling net.
// Real PostgreSQL only: the embedded database has no connection to lose.
import { setTimeout as sleep } from 'node:timers/promises';

import * as oidc from 'openid-client';
import pg from 'pg';

import type { Nixa } from '../../src/app/index.js';
import { verifyTrail } from '../../src/audit/index.js';
import { listKeyViews, revokeKey, rotateKeys } from '../../src/keys/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { connectionCutter, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { publishedKids, startTestNixa, toOrigin } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

// Reloads must come from NOTIFY: the polling safety net is pushed out of reach.
const NO_POLLING = { NIXA_KEYS_REFRESH_SECONDS: '3600' };
const CITIZENS = ['nguyen-van-an', 'tran-thi-binh', 'le-hoang-cuong', 'pham-thi-dung', 'hoang-minh-duc'];

const onPostgres = TEST_DATABASE_URL ? describe : describe.skip;

let tdb: TestDatabase;
let fed: Federation;
let dbB: Database | undefined;
let a: Nixa;
let b: Nixa;
let service: TestClient;
let rpA: oidc.Configuration;
let rpB: oidc.Configuration;
let browserAtB: oidc.Configuration;

/** Whatever escaped every handler: an unhandled 'error' event surfaces as an uncaught exception. */
const escaped: unknown[] = [];
const recordEscape = (err: unknown) => void escaped.push(err);

/** One browser for both instances: behind a load balancer they are one site. */
function browser(): UserAgent {
  const agent = new UserAgent();
  const jar = new Map<string, string>();
  agent.cookies.set(new URL(a.url).host, jar);
  agent.cookies.set(new URL(b.url).host, jar);
  return agent;
}

async function signInThrough(authorizeAt: oidc.Configuration, redeemAt: oidc.Configuration, citizen: string): Promise<string> {
  const s = await federatedSignIn(authorizeAt, service.redirectUri, { source: 'citizen_id', citizen, consent: 'accept', agent: browser() });
  if (!s.stoppedAt) throw Object.assign(new Error(`sign-in stopped at a page (${s.page?.status})`), { status: s.page?.status, html: s.page?.html });
  const tokens = await redeemFederated(redeemAt, s);
  return tokens.claims()!.sub;
}

beforeAll(async () => {
  if (!TEST_DATABASE_URL) return;
  process.on('uncaughtException', recordEscape);
  process.on('unhandledRejection', recordEscape);
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, NO_POLLING);
  a = fed.nixa;
  dbB = await openPostgres(tdb.url!, 4);
  b = await startTestNixa(dbB, { ...NO_POLLING, NIXA_TEST_LOGIN: 'false', NIXA_ISSUER: a.config.issuer });
  service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công thử nghiệm' });
  rpA = await discover(a.config.issuer, service);
  const toB: oidc.CustomFetch = (url, options) => fetch(toOrigin(url, b.url), options as RequestInit);
  rpB = await discover(a.config.issuer, service);
  rpB[oidc.customFetch] = toB;
  const { supportsPKCE: _method, ...metadata } = rpA.serverMetadata();
  browserAtB = new oidc.Configuration(
    { ...metadata, authorization_endpoint: toOrigin(metadata.authorization_endpoint!, b.url).href },
    service.clientId,
    undefined,
    oidc.ClientSecretBasic(service.secret!),
  );
  oidc.allowInsecureRequests(browserAtB);
});

afterAll(async () => {
  process.off('uncaughtException', recordEscape);
  process.off('unhandledRejection', recordEscape);
  await b?.close();
  await fed?.close();
  await dbB?.close();
  await tdb?.drop();
});

onPostgres('losing the database connection', () => {
  it('keeps both instances serving while every connection is cut during concurrent sign-ins; the trail verifies and LISTEN comes back', async () => {
    // Both instances work before the cuts.
    expect(await signInThrough(rpA, rpB, CITIZENS[0]!)).toBeTruthy();
    expect(await signInThrough(browserAtB, rpA, CITIZENS[1]!)).toBeTruthy();

    const cutter = await connectionCutter(tdb);
    const outcomes = { ok: 0, failed: 0 };
    const failures: string[] = [];
    let cutting = true;
    const workers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; cutting && i < 40; i++) {
        const viaB = (w + i) % 2 === 1;
        try {
          await signInThrough(viaB ? browserAtB : rpA, viaB ? rpA : rpB, CITIZENS[(w + i) % CITIZENS.length]!);
          outcomes.ok += 1;
        } catch (err) {
          outcomes.failed += 1;
          const e = err as { status?: number; error?: string; message: string };
          failures.push(`${e.status ?? '-'} ${e.error ?? ''} ${e.message}`);
        }
      }
    });
    let cuts = 0;
    const deadline = Date.now() + 4_000;
    while (Date.now() < deadline) {
      cuts += await cutter.cut();
      await sleep(100 + Math.random() * 250);
    }
    cutting = false;
    await Promise.all(workers);
    await cutter.close();

    expect(escaped).toEqual([]);
    expect(cuts).toBeGreaterThan(10);
    // Requests caught in a cut fail cleanly: never a 500 with nixa's insides.
    for (const f of failures) expect(f).not.toMatch(/^500 /);

    // Both instances serve again at once (a full sign-in, database writes included).
    const started = Date.now();
    await waitFor(() => signInThrough(rpA, rpB, CITIZENS[2]!), 3_000, 'a sign-in through A after the cuts');
    await waitFor(() => signInThrough(browserAtB, rpA, CITIZENS[3]!), 3_000, 'a sign-in through B after the cuts');
    expect(Date.now() - started).toBeLessThan(3_000);

    // The audit chain is whole: a cut mid-transaction left nothing half-written.
    const report = await verifyTrail(tdb.db);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);

    // Both report ready, LISTEN included.
    for (const n of [a, b]) {
      await waitFor(async () => (await fetch(`${n.url}/readyz`)).status === 200, 5_000, `${n === a ? 'A' : 'B'} to be ready again`);
      const { checks } = (await (await fetch(`${n.url}/readyz`)).json()) as { checks: Record<string, string> };
      expect(checks.notifications).toBe('ok');
    }

    // LISTEN is back on B: a key rotated and then revoked through A reaches B at once (polling is an hour away).
    await rotateKeys(tdb.db, a.cipher, a.config, 'test:operator', { reason: 'kiểm thử mất kết nối' });
    const queued = (await listKeyViews(tdb.db)).find((k) => k.alg === 'RS256' && k.state === 'next')!.kid;
    await waitFor(async () => (await publishedKids(b)).includes(queued), 3_000, 'B to publish the key rotated through A');
    const revoked = (await listKeyViews(tdb.db)).find((k) => k.use === 'sig' && k.alg === 'RS256' && k.state === 'active')!.kid;
    await revokeKey(tdb.db, a.cipher, revoked, 'test:operator', 'connection loss test: compromised key');
    await waitFor(async () => !(await publishedKids(b)).includes(revoked), 3_000, 'B to drop the key revoked through A');
    expect(escaped).toEqual([]);
    expect(outcomes.ok + outcomes.failed).toBeGreaterThan(0);
  });

  it('answers 503 while the database refuses connections (a page for the browser, temporarily_unavailable for the relying party) and serves again once it is back', async () => {
    // A citizen who reached the chooser through B just before the outage.
    const agent = browser();
    const chooser = await agent.follow(
      oidc.buildAuthorizationUrl(browserAtB, { redirect_uri: service.redirectUri, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }),
      { headers: { accept: 'text/html' } },
      service.redirectUri,
    );
    expect(chooser.res.status).toBe(200);
    expect(new URL(chooser.url).pathname).toMatch(/^\/interaction\//);

    const cutter = await connectionCutter(tdb);
    const name = pg.escapeIdentifier(cutter.name);
    await cutter.admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    try {
      await cutter.cut();

      // The token endpoint: a standard OAuth error, not a stack-trace 500.
      const token = await fetch(`${b.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${service.clientId}:${service.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: service.redirectUri, code_verifier: 'v'.repeat(43) }),
      });
      expect(token.status).toBe(503);
      expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });

      // The authorization endpoint, from a browser: the plain bilingual page.
      const authorize = await fetch(
        oidc.buildAuthorizationUrl(browserAtB, { redirect_uri: service.redirectUri, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }),
        { headers: { accept: 'text/html' }, redirect: 'manual' },
      );
      expect(authorize.status).toBe(503);
      const page = await authorize.text();
      expect(page).toContain('temporarily_unavailable');
      expect(page).toMatch(/tạm thời/);
      expect(page).not.toMatch(/at .*\.js:\d+/);

      // nixa's own pages: the same through the one error boundary.
      const interaction = await agent.request(chooser.url, { headers: { accept: 'text/html' } });
      expect(interaction.status).toBe(503);
      expect(interaction.headers.get('retry-after')).toBe('1');
      expect(await interaction.text()).toMatch(/tạm thời/);

      // Readiness says so honestly.
      const ready = await fetch(`${b.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toMatch(/unreachable/);
    } finally {
      await cutter.admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await cutter.close();
    }
    await waitFor(() => signInThrough(browserAtB, rpB, CITIZENS[4]!), 3_000, 'a sign-in through B once the database is back');
    expect(escaped).toEqual([]);
  });
});
