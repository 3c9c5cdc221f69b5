// A source that has just gone down, picked before the scheduled health check has
// noticed: nixa asks it first (a cheap, shared probe), and instead of sending the
// citizen to the source's own error page shows its chooser saying so, with the
// other sources; the source is marked failing for everyone, and offered again
// within seconds of coming back. Over real HTTP, with simulated sources stopped,
// slowed and restarted.
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';

import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { SIGNED_OUT_PATH } from '../../src/federation/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { startSimulatedSource } from '../../src/simulated-sources/index.js';
import { checkSourcesHealth, getSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  // The scheduled check of every source runs only once an hour here: what brings a
  // source back within seconds is the quick recheck of failing ones.
  fed = await startFederation(tdb, { NIXA_SOURCE_HEALTH_SECONDS: '3600' });
  service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công quốc gia' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterEach(async () => {
  for (const s of Object.values(fed.sources)) s.misbehave({ mode: 'normal' });
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const { citizen_id: CITIZEN_ID, telecom: TELECOM, bank: BANK } = SIMULATED_SOURCE_IDS;
const offered = (html: string) => [...html.matchAll(/<button type="submit" name="source" value="([^"]+)"/g)].map((m) => m[1]!).sort();
const unavailable = (html: string) => [...html.matchAll(/<li class="unavailable" aria-disabled="true">([\s\S]*?)<\/li>/g)].map((m) => m[1]!);
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
const upstreamLogins = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM upstream_logins')).rows[0]!.n;
const health = async (id: string) =>
  (await tdb.db.query<{ health_status: string; health_error: string | null }>('SELECT health_status, health_error FROM identity_sources WHERE id = $1', [id])).rows[0]!;

interface Chooser {
  agent: UserAgent;
  uid: string;
  html: string;
  url: URL;
}

/** A citizen arriving from the service at nixa's chooser. */
async function chooser(extra: Record<string, string> = {}): Promise<Chooser> {
  const agent = new UserAgent();
  const step = await agent.follow(await authorizationUrl(config, service, extra), {}, service.redirectUri);
  const at = new URL(step.url);
  expect(at.origin).toBe(fed.nixa.config.issuer);
  const html = await step.res.text();
  expect(html).toContain('Chọn nguồn định danh');
  return { agent, uid: at.pathname.split('/')[2]!, html, url: at };
}

/** Picks a source on the chooser page; where the browser ends up. */
async function pick(page: Chooser, source: string): Promise<Chooser & { status: number }> {
  const step = await page.agent.submit(new URL(`/interaction/${page.uid}/source`, fed.nixa.config.issuer), { csrf: csrfOf(page.html), source }, service.redirectUri);
  return { agent: page.agent, uid: page.uid, status: step.res.status, html: await step.res.text(), url: new URL(step.url) };
}

function expectNotAnswering(page: Chooser & { status: number }, source: string, name: string) {
  expect(page.status).toBe(200);
  expect(page.url.origin).toBe(fed.nixa.config.issuer);
  expect(page.url.pathname).toBe(`/interaction/${page.uid}`);
  expect(page.url.searchParams.get('unanswered')).toBe(source);
  expect(page.html).toContain('<title>Nguồn định danh không phản hồi · nixa</title>');
  expect(page.html).toMatch(new RegExp(`role="alert">\\s*<h2>«${name.replace(/[()]/g, '\\$&')}» không phản hồi`));
  expect(page.html).toContain('Hãy chọn một nguồn khác bên dưới');
  expect(page.html).toContain('Choose another source below');
  expect(page.html).toContain('NIXA-FED-source-unavailable');
  expect(offered(page.html)).not.toContain(source);
  expect(unavailable(page.html).join('\n')).toContain(name);
}

it('shows nixa’s chooser saying the source is not answering, with the others, when a citizen picks a source that has just gone down', async () => {
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  const page = await chooser();
  expect(offered(page.html)).toEqual([BANK, CITIZEN_ID, TELECOM].sort());

  fed.sources.telecom.misbehave({ mode: 'down' });
  const logins = await upstreamLogins();
  const sentThere = fed.sources.telecom.authorizationRequests().length;
  const after = await pick(page, TELECOM);
  expectNotAnswering(after, TELECOM, 'Nhà mạng (mô phỏng)');
  expect(offered(after.html)).toEqual([BANK, CITIZEN_ID].sort());
  // The citizen was never sent to the source, and nothing was started there.
  expect(fed.sources.telecom.authorizationRequests()).toHaveLength(sentThere);
  expect(await upstreamLogins()).toBe(logins);
  // Recorded as the source's health: the next citizen is not offered it either.
  expect(await health(TELECOM)).toEqual({ health_status: 'failing', health_error: 'when picked: discovery answered HTTP 503' });
  const next = await chooser();
  expect(offered(next.html)).toEqual([BANK, CITIZEN_ID].sort());
  expect(next.html).not.toContain('không phản hồi');

  // The sign-in is still alive: the citizen chooses the citizen-ID source and finishes.
  const there = await pick(after, CITIZEN_ID);
  expect(there.url.origin).toBe(new URL(fed.sources.citizen_id.issuer).origin);
  const action = /action="(\/interaction\/[^"]+\/pick)"/.exec(there.html)![1]!;
  const back = await after.agent.submit(new URL(action, there.url), { citizen: 'nguyen-van-an' }, service.redirectUri);
  const consent = await back.res.text();
  expect(consent).toContain('name="decision"');
});

it('answers within about two seconds when the picked source hangs, instead of leaving the citizen waiting', async () => {
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  const page = await chooser();
  fed.sources.bank.misbehave({ mode: 'delay', ms: 6_000 });
  const started = Date.now();
  const after = await pick(page, BANK);
  const waited = Date.now() - started;
  expectNotAnswering(after, BANK, 'Ngân hàng (mô phỏng)');
  expect(waited).toBeLessThan(4_000);
  expect((await health(BANK)).health_error).toBe('when picked: no answer within 2000 ms');
});

it('goes to a source named by idp_hint only if it answers; otherwise shows the chooser saying so', async () => {
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  fed.sources.telecom.misbehave({ mode: 'down' });
  const logins = await upstreamLogins();
  const page = await chooser({ idp_hint: TELECOM });
  expect(page.html).toMatch(/role="alert">\s*<h2>«Nhà mạng \(mô phỏng\)» không phản hồi/);
  expect(offered(page.html)).toEqual([BANK, CITIZEN_ID].sort());
  expect(await upstreamLogins()).toBe(logins);
});

it('asks a healthy source once for a crowd of citizens picking it within a few seconds', async () => {
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  const discovery = `${fed.sources.citizen_id.issuer}/.well-known/openid-configuration`;
  const fetchSpy = jest.spyOn(globalThis, 'fetch');
  const asked = () => fetchSpy.mock.calls.filter(([u]) => String(u instanceof Request ? u.url : u) === discovery).length;
  const probed = jest.spyOn(fed.nixa.sources, 'reachable');
  try {
    // One pick first: it asks the source (the probe), which is then fresh.
    expect(new URL((await pick(await chooser(), CITIZEN_ID)).url).origin).toBe(new URL(fed.sources.citizen_id.issuer).origin);
    const first = asked();
    expect(first).toBeGreaterThanOrEqual(1);
    const pages = await Promise.all(Array.from({ length: 8 }, () => chooser()));
    const landed = await Promise.all(pages.map((p) => pick(p, CITIZEN_ID)));
    for (const l of landed) expect(l.url.origin).toBe(new URL(fed.sources.citizen_id.issuer).origin);
    // Every pick is checked, and the crowd rides on the first one's probe: nobody asks the source again.
    expect(probed).toHaveBeenCalledTimes(9);
    expect(asked()).toBe(first);
  } finally {
    probed.mockRestore();
    fetchSpy.mockRestore();
  }
});

it('says so when the source’s server is stopped, and offers it again within seconds of it coming back', async () => {
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  const page = await chooser();
  const issuer = new URL(fed.sources.bank.issuer);
  const secret = (await getSource(tdb.db, fed.nixa.cipher, BANK)).clientSecret!;
  await fed.sources.bank.close();

  const after = await pick(page, BANK);
  expectNotAnswering(after, BANK, 'Ngân hàng (mô phỏng)');
  expect((await health(BANK)).health_error).toMatch(/^when picked: fetch failed: connect ECONNREFUSED/);

  fed.sources.bank = await startSimulatedSource({
    kind: 'bank',
    port: Number(issuer.port),
    clients: [
      {
        client_id: 'nixa',
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${fed.nixa.config.issuer}${CALLBACK_PATH}`],
        post_logout_redirect_uris: [`${fed.nixa.config.issuer}${SIGNED_OUT_PATH}`],
      },
    ],
  });
  const back = Date.now();
  await waitFor(async () => offered((await chooser()).html).includes(BANK), 12_000, 'the bank offered again', 250);
  // The recheck of failing sources, every 5 s, not the hourly check of them all.
  expect(Date.now() - back).toBeLessThan(10_000);
  expect(await health(BANK)).toEqual({ health_status: 'ok', health_error: null });

  // The page that said it was not answering no longer does once it is offered again.
  const reload = await after.agent.follow(after.url);
  const html = await reload.res.text();
  expect(html).not.toContain('không phản hồi');
  expect(offered(html)).toContain(BANK);

  const s = await federatedSignIn(config, service.redirectUri, { source: 'bank', citizen: 'nguyen-van-an', consent: 'accept' });
  expect(s.stoppedAt).toContain(service.redirectUri);
}, 30_000);
