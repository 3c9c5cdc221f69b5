// The demo service's records page (needs level high) and its API, over real HTTP:
// the API checks JWT access tokens with nixa/verify and answers the RFC 9470
// challenge; the page steps the citizen up at nixa and then shows the records.
import * as oidc from 'openid-client';

import { seedDemo, type DemoCredentials } from '../../src/app/demo.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, SIMULATED_SOURCE_IDS, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { discover, registerTestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let creds: DemoCredentials;
let demo: DemoService;
let demoConfig: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // As `npm start` registers it: seedDemo names http://localhost:(PORT+100).
  const demoPort = await freePort();
  creds = await seedDemo(tdb.db, { ...fed.nixa.config, port: demoPort - 100 }, silentLogger);
  demo = await startDemoService({ issuer: fed.nixa.config.issuer, credentials: creds, port: demoPort, host: '127.0.0.1', logger: silentLogger });
  // The demo's own registration, to obtain tokens for its API directly.
  demoConfig = await discover(fed.nixa.config.issuer, { clientId: creds.clientId, secret: creds.clientSecret, redirectUri: creds.redirectUri });
});

afterAll(async () => {
  await demo?.close();
  await fed?.close();
  await tdb?.drop();
});

const RECORDS_API = () => `${demo.url}/api/records`;
const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
const main = (html: string) => /<main[^>]*>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html;

/** A browser from `url` through nixa (chooser → source → consent) until a page it has no answer for. */
async function walk(agent: UserAgent, url: string, o: { source?: keyof typeof SIMULATED_SOURCE_IDS; citizen?: string }) {
  let step = await agent.follow(url);
  const pages: string[] = [];
  for (let i = 0; i < 6; i++) {
    const html = await step.res.text();
    const at = new URL(step.url);
    const uid = at.pathname.split('/')[2];
    if (html.includes('name="source"') && o.source && !pages.includes('chooser')) {
      pages.push('chooser');
      step = await agent.submit(new URL(`/interaction/${uid}/source`, at), { csrf: field(html, 'csrf')!, source: SIMULATED_SOURCE_IDS[o.source] });
    } else if (html.includes('name="citizen"') && o.citizen && !pages.includes('source')) {
      pages.push('source');
      step = await agent.submit(new URL(/action="(\/interaction\/[^"]+\/pick)"/.exec(html)![1]!, at), { citizen: o.citizen });
    } else if (html.includes('name="decision"') && !pages.includes('consent')) {
      pages.push('consent');
      step = await agent.submit(new URL(`/interaction/${uid}/consent`, at), { csrf: field(html, 'csrf')!, shown: /name="shown" value="([^"]*)"/.exec(html)?.[1] ?? '', decision: 'accept' });
    } else {
      return { url: step.url, status: step.res.status, html, pages };
    }
  }
  throw new Error('the journey did not end');
}

/** A JWT access token for the demo's API, at the level the source gives. */
async function apiToken(source: 'telecom' | 'citizen_id', citizen: string): Promise<string> {
  const s = await federatedSignIn(demoConfig, creds.redirectUri, { source, citizen, consent: 'accept', extra: { resource: creds.apiResource } });
  return (await redeemFederated(demoConfig, s)).access_token;
}

describe("the demo's records API", () => {
  it('answers a token below level high with the RFC 9470 challenge, and a high one with the records', async () => {
    const low = await fetch(RECORDS_API(), { headers: { authorization: `Bearer ${await apiToken('telecom', 'le-hoang-cuong')}` } });
    expect(low.status).toBe(401);
    expect(low.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+", acr_values="urn:nixa:loa:high"$/);
    expect(await low.json()).toMatchObject({ error: 'insufficient_user_authentication' });

    const high = await fetch(RECORDS_API(), { headers: { authorization: `Bearer ${await apiToken('citizen_id', 'le-hoang-cuong')}` } });
    expect(high.status).toBe(200);
    const body = (await high.json()) as { acr: string; amr: string[]; auth_time: number; records: unknown[] };
    expect(body).toMatchObject({ acr: 'urn:nixa:loa:high', auth_time: expect.any(Number) });
    expect(body.amr).toContain('fed');
    expect(body.records.length).toBeGreaterThan(0);
  });

  it('refuses a token for another audience, an ID token, and a request without a token', async () => {
    const other = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ khác', scope: 'openid profile', api_resource: 'https://khac.example.gov.vn/api' });
    const otherConfig = await discover(fed.nixa.config.issuer, other);
    const s = await federatedSignIn(otherConfig, other.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept', extra: { resource: 'https://khac.example.gov.vn/api' } });
    const tokens = await redeemFederated(otherConfig, s);

    const foreign = await fetch(RECORDS_API(), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="The token is meant for another audience"');

    const idToken = await fetch(RECORDS_API(), { headers: { authorization: `Bearer ${tokens.id_token}` } });
    expect(idToken.status).toBe(401);
    expect(idToken.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);

    const none = await fetch(RECORDS_API());
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe("the demo's registration", () => {
  it('gains its API when it was registered before the demo had one', async () => {
    const { showClient, updateClient } = await import('../../src/clients/index.js');
    await updateClient(tdb.db, creds.clientId, { api_resource: null }, 'test', { allowHttpLoopback: true });
    const again = await seedDemo(tdb.db, { ...fed.nixa.config, port: Number(new URL(demo.url).port) - 100 }, silentLogger);
    expect(again.apiResource).toBe(creds.apiResource);
    expect((await showClient(tdb.db, creds.clientId)).apiResource).toBe(creds.apiResource);
  });
});

describe("the demo's records page", () => {
  it('steps a citizen signed in at low up to high at nixa, then shows the records with the level reached', async () => {
    const agent = new UserAgent();
    const signedIn = await walk(agent, `${demo.url}/login`, { source: 'telecom', citizen: 'hoang-minh-duc' });
    expect(signedIn.url).toBe(`${demo.url}/`);
    expect(main(signedIn.html)).toContain('<code>urn:nixa:loa:low</code>');
    expect(main(signedIn.html)).toContain('href="/records"');

    // The page's server called the API with the low token, got the challenge, and sends the citizen to nixa.
    const records = await agent.request(`${demo.url}/records`);
    expect(records.status).toBe(302);
    const stepUp = new URL(records.headers.get('location')!);
    expect(stepUp.origin).toBe(new URL(fed.nixa.config.issuer).origin);
    expect(stepUp.searchParams.get('acr_values')).toBe('urn:nixa:loa:high');
    expect(stepUp.searchParams.get('resource')).toBe(creds.apiResource);
    expect(stepUp.searchParams.get('client_id')).toBe(creds.clientId);

    // nixa explains the step-up and offers the citizen-ID source; it vouches high.
    const done = await walk(agent, stepUp.toString(), { source: 'citizen_id', citizen: 'hoang-minh-duc' });
    expect(done.pages[0]).toBe('chooser');
    expect(done.url).toBe(`${demo.url}/records`);
    expect(done.status).toBe(200);
    const page = main(done.html);
    expect(page).toContain('Hồ sơ của bạn <span lang="en">(Your records)</span>');
    expect(page).toContain('<p class="acr"><code>urn:nixa:loa:high</code></p>');
    expect(page).toMatch(/<code>amr<\/code><\/th><td>.*<code>fed<\/code>/);
    expect(page).toMatch(/<code>auth_time<\/code><\/th><td><time datetime=/);
    expect(page).toContain('Đăng ký thường trú <span lang="en">(Permanent residence registration)</span>');

    // The home page now says high too.
    expect(main(await (await agent.request(`${demo.url}/`)).text())).toContain('<code>urn:nixa:loa:high</code>');
  });

  it('signs a visitor in first, and shows the records straight away after a high sign-in', async () => {
    const agent = new UserAgent();
    const first = await agent.request(`${demo.url}/records`);
    expect(first.status).toBe(302);
    const authorize = new URL(first.headers.get('location')!);
    expect(authorize.searchParams.get('resource')).toBe(creds.apiResource);
    expect(authorize.searchParams.has('acr_values')).toBe(false);

    const done = await walk(agent, authorize.toString(), { source: 'citizen_id', citizen: 'dang-thi-ngoc-ha' });
    expect(done.url).toBe(`${demo.url}/records`);
    expect(main(done.html)).toContain('<p class="acr"><code>urn:nixa:loa:high</code></p>');
  });

  it("explains nixa's unmet_authentication_requirements when nothing can reach level high", async () => {
    // The citizen-ID source is disabled: nixa cannot reach high and answers unmet_authentication_requirements.
    const agent = new UserAgent();
    await walk(agent, `${demo.url}/login`, { source: 'telecom', citizen: 'tran-thi-binh' });
    const { updateSource } = await import('../../src/sources/index.js');
    await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id, { enabled: false }, 'test', { allowHttpLoopback: true });
    await fed.nixa.sources.refresh();
    try {
      const stepUp = await agent.request(`${demo.url}/records`);
      const done = await walk(agent, stepUp.headers.get('location')!, {});
      expect(done.url.startsWith(`${creds.redirectUri}?error=unmet_authentication_requirements`)).toBe(true);
      expect(main(done.html)).toContain('<code>unmet_authentication_requirements</code>');
    } finally {
      await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id, { enabled: true }, 'test', { allowHttpLoopback: true });
      await fed.nixa.sources.refresh();
    }
  });
});
