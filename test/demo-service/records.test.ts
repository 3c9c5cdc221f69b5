// The demo service's records page (needs level high) and its API, over real HTTP.
// The demo is a FAPI 2.0 service (PAR, DPoP, private_key_jwt): the API checks the
// DPoP proof and the JWT access token with nixa/verify and answers the RFC 9470
// challenge; the page steps the citizen up at nixa and then shows the records.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { importJWK, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';

import { seedDemo, type DemoCredentials } from '../../src/app/demo.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, SIMULATED_SOURCE_IDS, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { dpopHandle, pushed } from '../support/fapi.js';
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
  // The demo's own registration and key, to obtain tokens for its API directly.
  const key = (await importJWK(creds.privateJwk, 'ES256')) as CryptoKey;
  demoConfig = await oidc.discovery(new URL(fed.nixa.config.issuer), creds.clientId, { id_token_signed_response_alg: 'ES256' }, oidc.PrivateKeyJwt({ key, kid: String(creds.privateJwk.kid) }), {
    execute: [oidc.allowInsecureRequests],
  });
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

/** A DPoP-bound JWT access token for the demo's API, at the level the source gives, and the key it is bound to. */
async function apiToken(source: 'telecom' | 'citizen_id', citizen: string): Promise<{ token: string; dpop: oidc.DPoPHandle }> {
  const dpop = await dpopHandle(demoConfig);
  const s = await federatedSignIn(demoConfig, creds.redirectUri, { source, citizen, consent: 'accept', extra: { resource: creds.apiResource }, authorize: pushed(demoConfig, dpop) });
  const tokens = await oidc.authorizationCodeGrant(demoConfig, new URL(s.stoppedAt!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
  return { token: tokens.access_token, dpop };
}

/** The API called as the demo's server calls it: the token with a DPoP proof (openid-client); the answer, refused or not. */
async function callApi(t: { token: string; dpop: oidc.DPoPHandle }): Promise<Response> {
  try {
    return await oidc.fetchProtectedResource(demoConfig, t.token, new URL(RECORDS_API()), 'GET', undefined, undefined, { DPoP: t.dpop });
  } catch (err) {
    if (err instanceof oidc.WWWAuthenticateChallengeError) return err.response;
    throw err;
  }
}

describe("the demo's records API", () => {
  it('answers a token below level high with the RFC 9470 challenge, and a high one with the records', async () => {
    const low = await callApi(await apiToken('telecom', 'le-hoang-cuong'));
    expect(low.status).toBe(401);
    expect(low.headers.get('www-authenticate')).toMatch(/^DPoP error="insufficient_user_authentication", error_description="[^"]+", acr_values="urn:nixa:loa:high", algs="[^"]+"$/);
    expect(await low.json()).toMatchObject({ error: 'insufficient_user_authentication' });

    const high = await callApi(await apiToken('citizen_id', 'le-hoang-cuong'));
    expect(high.status).toBe(200);
    const body = (await high.json()) as { acr: string; amr: string[]; auth_time: number; records: unknown[] };
    expect(body).toMatchObject({ acr: 'urn:nixa:loa:high', auth_time: expect.any(Number) });
    expect(body.amr).toContain('fed');
    expect(body.records.length).toBeGreaterThan(0);
  });

  it('refuses its own bound token presented as a bearer token, or with a proof by another key', async () => {
    const t = await apiToken('citizen_id', 'le-hoang-cuong');
    const bearer = await fetch(RECORDS_API(), { headers: { authorization: `Bearer ${t.token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/);
    const stranger = await callApi({ token: t.token, dpop: await dpopHandle(demoConfig) });
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/);
  });

  it('refuses a token for another audience, an ID token, and a request without a token', async () => {
    const other = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ khác', scope: 'openid profile', api_resource: 'https://khac.example.gov.vn/api' });
    const otherConfig = await discover(fed.nixa.config.issuer, other);
    const s = await federatedSignIn(otherConfig, other.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept', extra: { resource: 'https://khac.example.gov.vn/api' } });
    const tokens = await redeemFederated(otherConfig, s);

    // Another service's token, even with a proof: not for this API.
    const foreign = await callApi({ token: tokens.access_token, dpop: await dpopHandle(demoConfig) });
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/);

    const idToken = await fetch(RECORDS_API(), { headers: { authorization: `Bearer ${tokens.id_token}` } });
    expect(idToken.status).toBe(401);
    expect(idToken.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/);

    const none = await fetch(RECORDS_API());
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^DPoP algs="[^"]+"$/);
  });
});

describe("the demo's registration", () => {
  it('gains its API when it was registered before the demo had one', async () => {
    const { showClient, updateClient } = await import('../../src/clients/index.js');
    await updateClient(tdb.db, creds.clientId, { api_resource: null }, 'test', { allowHttpLoopback: true, signingAlgs: fed.nixa.config.keys.signingAlgs });
    const again = await seedDemo(tdb.db, { ...fed.nixa.config, port: Number(new URL(demo.url).port) - 100 }, silentLogger);
    expect(again.apiResource).toBe(creds.apiResource);
    expect((await showClient(tdb.db, creds.clientId)).apiResource).toBe(creds.apiResource);
  });
});

describe("the demo's registration from before it was a FAPI 2.0 service", () => {
  it('moves to its key and fapi2 at the next start, keeping its client id; the old secret stops working', async () => {
    const older = await createTestDatabase();
    try {
      const { addClient, showClient } = await import('../../src/clients/index.js');
      const port = await freePort();
      await addClient(
        older.db,
        { client_id: creds.clientId, name: 'Dịch vụ công mẫu', redirect_uris: [`http://localhost:${port}/callback`], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic' },
        'test',
        { allowHttpLoopback: true },
      );
      const config = { ...fed.nixa.config, port: port - 100, dataDir: mkdtempSync(join(tmpdir(), 'nixa-demo-older-')) };
      writeFileSync(join(config.dataDir, 'demo-service.json'), JSON.stringify({ clientId: creds.clientId, clientSecret: 'the secret of before' }));
      const moved = await seedDemo(older.db, config, silentLogger);
      expect(moved.privateJwk.d).toBeTruthy();
      expect(await showClient(older.db, creds.clientId)).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', securityProfile: 'fapi2', idTokenSigningAlg: 'ES256' });
      expect((await older.db.query<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE client_id = $1', [creds.clientId])).rows[0]!.secret_hash).toBeNull();
      // The key is kept (owner-only) and used again at the next start; nothing is written twice.
      expect(statSync(join(config.dataDir, 'demo-service.json')).mode & 0o777).toBe(0o600);
      const again = await seedDemo(older.db, config, silentLogger);
      expect(again.privateJwk).toEqual(moved.privateJwk);
      expect((await showClient(older.db, creds.clientId)).version).toBe(2);
    } finally {
      await older.drop();
    }
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
    // Pushed (FAPI 2.0): the browser carries only the request_uri; acr_values and resource went server to server.
    expect([...stepUp.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(stepUp.searchParams.get('client_id')).toBe(creds.clientId);
    expect(stepUp.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);

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
    expect(authorize.searchParams.has('request_uri')).toBe(true);

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
