// The operator's footer (help, contact, privacy, accessibility, terms) on every
// page a citizen meets in nixa, reached over HTTP as a citizen reaches it: the
// chooser, the consent page, the step-up chooser, a source's failure, the device
// grant's and the phone's pages, sign-out, /account and its history, an error
// shown again, a 404. test/app/home.test.ts checks the footer's contents and the
// operator's settings; this checks that no page is left without it.
import type * as oidc from 'openid-client';

import { footerHtml } from '../../src/pages/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, signedInAgent, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội' });
  config = await discover(fed.nixa.config.issuer, service);
}, 120_000);

afterAll(async () => {
  for (const s of Object.values(fed?.sources ?? {})) s.misbehave({ mode: 'normal' });
  await fed?.close();
  await tdb?.drop();
});

const at = (path: string) => new URL(path, fed.nixa.config.issuer);

async function page(agent: UserAgent, path: string): Promise<{ status: number; html: string }> {
  const { res } = await agent.follow(at(path), { headers: { accept: 'text/html' } });
  return { status: res.status, html: await res.text() };
}

/** The page's footer is the operator's, once, and nothing of the marker is left. */
function expectFooter(name: string, html: string): void {
  const footer = footerHtml(fed.nixa.config.service);
  expect({ name, footers: html.split(footer).length - 1, marker: html.includes('<!-- nixa:footer -->') }).toEqual({ name, footers: 1, marker: false });
}

it('is on every page of a sign-in: the chooser, consent, a source’s failure and the step-up chooser', async () => {
  const chooser = await federatedSignIn(config, service.redirectUri, {});
  expect(chooser.page?.html).toContain('name="source"');
  expectFooter('chooser', chooser.page!.html);

  const consent = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh' });
  expect(consent.page?.html).toContain('name="decision"');
  expectFooter('consent', consent.page!.html);

  fed.sources.citizen_id.misbehave({ mode: 'deny' });
  try {
    const denied = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id' });
    expect(denied.page?.status).toBe(400);
    expect(denied.page?.html).toContain('NIXA-FED-denied');
    expectFooter('source failure', denied.page!.html);
  } finally {
    fed.sources.citizen_id.misbehave({ mode: 'normal' });
  }

  // Signed in at low through the telecom; the service then asks for substantial.
  const agent = await signedInAgent(config, service.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an' });
  const stepUp = await federatedSignIn(config, service.redirectUri, { agent, extra: { acr_values: 'urn:nixa:loa:substantial' } });
  expect(stepUp.page?.status).toBe(200);
  expect(stepUp.page?.html).toContain('name="source"');
  expectFooter('step-up chooser', stepUp.page!.html);

  for (const path of ['/account', '/account/activity', '/session/end']) {
    const p = await page(agent, path);
    expect({ path, status: p.status }).toEqual({ path, status: 200 });
    expectFooter(path, p.html);
  }
}, 120_000);

it('is on the device grant’s and the phone’s pages, sign-out, an error shown again and a page not found', async () => {
  const agent = new UserAgent();
  for (const [path, status] of [
    ['/device', 200],
    ['/p', 200],
    ['/federation/signed-out', 200],
    ['/error/invalid_request', 400],
    ['/error/NIXA-FED-link-conflict', 400],
    ['/khong-co-trang-nay', 404],
    ['/account', 200],
  ] as const) {
    const p = await page(agent, path);
    expect({ path, status: p.status }).toEqual({ path, status });
    expectFooter(path, p.html);
  }
});
