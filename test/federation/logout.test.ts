// Signing out: RP-initiated logout ends the nixa session, tells every service of
// that session by back-channel logout, and signs the browser out of the source
// too: privately (the source's ID token never travels in a URL), with one
// confirmation, and without stranding the citizen when the source does not come back.
import { randomBytes } from 'node:crypto';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { startSimulatedSource, TEST_CITIZENS, type SimulatedSource } from '../../src/simulated-sources/index.js';
import { addSource, getSource, updateSource } from '../../src/sources/index.js';
import { startLogoutReceiver, type LogoutReceiver } from '../support/backchannel.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let receiver: LogoutReceiver;
let receiverUrl: string;
const extraSources: SimulatedSource[] = [];

/** A browser that remembers every request it made and every Location it was given. */
class RecordingAgent extends UserAgent {
  readonly seen: { method: string; url: string; status: number; location: string; body: string }[] = [];
  override async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const res = await super.request(url, init);
    this.seen.push({
      method: init.method ?? 'GET',
      url: new URL(url).toString(),
      status: res.status,
      location: res.headers.get('location') ?? '',
      body: typeof init.body === 'string' ? init.body : '',
    });
    return res;
  }
}

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\./;
const OPTS = { allowHttpLoopback: true };

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // The services' back-channel logout endpoints.
  receiver = await startLogoutReceiver();
  receiverUrl = receiver.url;
});

afterAll(async () => {
  await Promise.all(extraSources.map((s) => s.close()));
  await fed?.close();
  await receiver?.close();
  await tdb?.drop();
});

async function service(name: string): Promise<{ client: TestClient; config: oidc.Configuration; postLogout: string }> {
  const client = await registerTestClient(tdb.db, { scope: 'openid profile', name, backchannel_logout_uri: `${receiverUrl}/${name}/backchannel` });
  return { client, config: await discover(fed.nixa.config.issuer, client), postLogout: client.redirectUri.replace('/callback', '/') };
}

/**
 * The service sends the browser to nixa's end_session (naming itself by client_id:
 * nixa's own ID token would put the citizen's claims in the URL), the citizen
 * confirms once; returns where the confirmation led.
 */
async function signOutAtNixa(agent: UserAgent, s: { config: oidc.Configuration; postLogout: string }, state: string) {
  const endUrl = oidc.buildEndSessionUrl(s.config, { client_id: s.config.clientMetadata().client_id, post_logout_redirect_uri: s.postLogout, state });
  const page = await agent.follow(endUrl);
  const html = await page.res.text();
  expect(html).toContain('Đăng xuất khỏi nixa?');
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
  const action = /action="([^"]+)"/.exec(html)![1]!;
  return agent.submit(new URL(action, page.url), { xsrf, logout: 'yes' }, s.postLogout);
}

/** What the page's script does in a browser: submit its form, as it is. */
async function autoSubmit(agent: UserAgent, page: { res: Response; url: string }, stopAt: string) {
  const html = await page.res.text();
  const form = /<form id="source-sign-out" method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`expected nixa's sign-out form, got ${page.res.status}: ${html.slice(0, 400)}`);
  expect(html).toMatch(/<script src="\/assets\/sign-out\.js"/);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replaceAll('&amp;', '&');
  return { html, fields, next: await agent.submit(new URL(form[1]!.replaceAll('&amp;', '&'), page.url), fields, stopAt) };
}

it('signs the browser out of the source by POST after one confirmation, with no ID token or ID number in any URL, and notifies every service of that session', async () => {
  const tax = await service('thue');
  const insurance = await service('bhxh');
  const bystander = await service('khac');
  const agent = new RecordingAgent();
  const a = await federatedSignIn(tax.config, tax.client.redirectUri, { agent, source: 'citizen_id', citizen: 'hoang-minh-duc', consent: 'accept' });
  const taxTokens = await redeemFederated(tax.config, a);
  const b = await federatedSignIn(insurance.config, insurance.client.redirectUri, { agent, consent: 'accept' });
  const insuranceTokens = await redeemFederated(insurance.config, b);
  // oidc-provider gives each service its own sid for the one session.
  const sids: Record<string, unknown> = { '/thue/backchannel': taxTokens.claims()!.sid, '/bhxh/backchannel': insuranceTokens.claims()!.sid };
  expect(Object.values(sids).every((s) => typeof s === 'string')).toBe(true);
  // Another citizen at the third service: must not be notified.
  const other = await federatedSignIn(bystander.config, bystander.client.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept' });
  await redeemFederated(bystander.config, other);

  const from = agent.seen.length;
  const atNixa = await signOutAtNixa(agent, tax, 'da-dang-xuat');
  // nixa's session has ended; its page sends the source's ID token on by POST, not in a URL.
  expect(atNixa.url).toBe(`${fed.nixa.config.issuer}/session/end/confirm`);
  expect(atNixa.res.status).toBe(200);
  expect(atNixa.res.headers.get('cache-control')).toContain('no-store');
  const { html, fields, next } = await autoSubmit(agent, atNixa, tax.postLogout);
  expect(html).not.toContain('Giữ đăng nhập'); // not a second question
  expect(fields.id_token_hint).toMatch(JWT);
  // The source accepted the hint, ended its session without asking again, and sent the browser back through nixa.
  expect(next.stoppedAt).toBe(`${tax.postLogout}?state=da-dang-xuat`);

  const logout = agent.seen.slice(from);
  const atSource = logout.filter((r) => r.url.startsWith(fed.sources.citizen_id.issuer));
  expect(atSource.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(['POST /session/end']);
  expect(new URLSearchParams(atSource[0]!.body).get('id_token_hint')).toBe(fields.id_token_hint);
  const nationalId = TEST_CITIZENS.find((c) => c.key === 'hoang-minh-duc')!.nationalId;
  for (const r of logout) {
    for (const url of [r.url, r.location]) {
      expect(url).not.toMatch(JWT);
      expect(url).not.toContain('id_token_hint');
      expect(url).not.toContain(nationalId);
    }
  }
  expect((await tdb.db.query('SELECT 1 FROM upstream_sessions')).rows).toHaveLength(1); // only the bystander's

  const jwks = createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`));
  const paths = receiver.received.map((r) => r.path).sort();
  expect(paths).toEqual(['/bhxh/backchannel', '/thue/backchannel']);
  for (const r of receiver.received) {
    const token = new URLSearchParams(r.body).get('logout_token')!;
    const { payload } = await jwtVerify(token, jwks, { issuer: fed.nixa.config.issuer });
    expect(payload.sid).toBe(sids[r.path]);
    expect(payload.aud).toBe(r.path.startsWith('/thue') ? tax.client.clientId : insurance.client.clientId);
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload).not.toHaveProperty('nonce');
  }

  // Both sessions are gone: the next sign-in shows nixa's chooser, then the source's picker again.
  const again = await federatedSignIn(tax.config, tax.client.redirectUri, { agent, source: 'citizen_id' });
  expect(again.pages).toEqual(['chooser']);
  expect(again.page!.html).toContain('name="citizen"');
});

it('keeps no ID token of a source registered for logout_hint, and signs out there by GET with client_id and the source session id only', async () => {
  await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.telecom, { logout: 'hint' }, 'test', OPTS);
  await fed.nixa.sources.refresh();
  const s = await service('vien-thong');
  const agent = new RecordingAgent();
  const signIn = await federatedSignIn(s.config, s.client.redirectUri, { agent, source: 'telecom', citizen: 'bui-thi-lan', consent: 'accept' });
  await redeemFederated(s.config, signIn);
  const { rows } = await tdb.db.query<{ id_token_enc: Uint8Array | null }>(`SELECT id_token_enc FROM upstream_sessions WHERE source_id = $1`, [SIMULATED_SOURCE_IDS.telecom]);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.id_token_enc).toBeNull();

  const out = await signOutAtNixa(agent, s, 'tam-biet');
  // Without the ID token the source asks for itself (OpenID RP-Initiated Logout §2): its page, then back.
  expect(out.url.startsWith(`${fed.sources.telecom.issuer}/session/end?`)).toBe(true);
  const hinted = new URL(out.url).searchParams;
  expect(hinted.get('client_id')).toBe('nixa');
  // logout_hint is only ever the source's sid, never its sub (which may be the ID number); the
  // simulated source puts no sid in its ID tokens (oidc-provider does so for back-channel clients only).
  expect(hinted.get('logout_hint')).toBeNull();
  expect(hinted.get('id_token_hint')).toBeNull();
  const sourcePage = await out.res.text();
  expect(sourcePage).toContain('Đăng xuất khỏi nguồn này?');
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(sourcePage)![1]!;
  const action = /action="([^"]+)"/.exec(sourcePage)![1]!;
  const done = await agent.submit(new URL(action, out.url), { xsrf, logout: 'yes' }, s.postLogout);
  expect(done.stoppedAt).toBe(`${s.postLogout}?state=tam-biet`);
  const nationalId = TEST_CITIZENS.find((c) => c.key === 'bui-thi-lan')!.nationalId;
  for (const r of agent.seen) for (const url of [r.url, r.location]) expect(url).not.toContain(nationalId);
});

it('leaves the browser at the service with its state when the source does not send it back, and says how to sign out there', async () => {
  // A bank that offers RP-initiated logout but has no post-logout redirect URI of nixa's.
  const secret = randomBytes(24).toString('base64url');
  const bank = await startSimulatedSource({
    kind: 'bank',
    clients: [{ client_id: 'nixa', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [`${fed.nixa.config.issuer}${CALLBACK_PATH}`] }],
  });
  extraSources.push(bank);
  const registration = simulatedSourceRegistration('bank', bank.issuer, secret);
  await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.bank, { discovery_url: registration.discovery_url, client_secret: secret, logout: 'link' }, 'test', OPTS);
  await fed.nixa.sources.refresh();

  const s = await service('ngan-hang');
  const agent = new RecordingAgent();
  const signIn = await federatedSignIn(s.config, s.client.redirectUri, { agent, source: 'bank', citizen: 'nguyen-van-an', consent: 'accept' });
  await redeemFederated(s.config, signIn);

  const from = agent.seen.length;
  const out = await signOutAtNixa(agent, s, 'het-phien');
  // nixa does not send the browser where it would not come back from: its own page instead.
  expect(out.url).toBe(`${fed.nixa.config.issuer}/session/end/confirm`);
  expect(out.res.status).toBe(200);
  const page = await out.res.text();
  expect(page).toContain('Ngân hàng');
  const toSource = /<a href="([^"]+)" target="_blank" rel="noopener noreferrer">/.exec(page)?.[1]?.replaceAll('&amp;', '&');
  expect(toSource?.startsWith(`${bank.issuer}/session/end?`)).toBe(true);
  expect(new URL(toSource!).searchParams.get('client_id')).toBe('nixa');
  expect(toSource).not.toMatch(JWT);
  const onward = /<a class="button" href="([^"]+)">/.exec(page)?.[1]?.replaceAll('&amp;', '&');
  expect(onward).toBe(`${s.postLogout}?state=het-phien`);
  expect(agent.seen.slice(from).some((r) => r.url.startsWith(bank.issuer))).toBe(false);
  // nixa's own session is over.
  const again = await federatedSignIn(s.config, s.client.redirectUri, { agent });
  expect(again.pages).toEqual([]);
  expect(again.page!.html).toContain('name="source"');
});

it('does not send the browser into a source in maintenance: it offers a link and goes on to the service', async () => {
  const s = await service('bao-tri');
  const agent = new RecordingAgent();
  const signIn = await federatedSignIn(s.config, s.client.redirectUri, { agent, source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
  await redeemFederated(s.config, signIn);
  await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id, { maintenance: true }, 'test', OPTS);
  await fed.nixa.sources.refresh();
  try {
    const from = agent.seen.length;
    const out = await signOutAtNixa(agent, s, 'bao-tri');
    const page = await out.res.text();
    expect(page).not.toContain('id="source-sign-out"');
    expect(page).not.toMatch(JWT);
    expect(/<a class="button" href="([^"]+)">/.exec(page)?.[1]?.replaceAll('&amp;', '&')).toBe(`${s.postLogout}?state=bao-tri`);
    expect(agent.seen.slice(from).some((r) => r.url.startsWith(fed.sources.citizen_id.issuer))).toBe(false);
  } finally {
    await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id, { maintenance: false }, 'test', OPTS);
    await fed.nixa.sources.refresh();
  }
});

it('refuses a source registration whose logout method is unknown, naming the field, and keeps a known one', async () => {
  const registration = { ...simulatedSourceRegistration('citizen_id', 'http://localhost:1', 'a-secret-of-enough-length'), id: 'nguon-thu' };
  await expect(addSource(tdb.db, fed.nixa.cipher, { ...registration, logout: 'get' }, 'test', OPTS)).rejects.toThrow(InvalidInputError);
  await expect(addSource(tdb.db, fed.nixa.cipher, { ...registration, logout: 'get' }, 'test', OPTS)).rejects.toThrow(/^logout: /);
  expect((await addSource(tdb.db, fed.nixa.cipher, { ...registration, logout: 'link' }, 'test', OPTS)).logout).toBe('link');
  // Not said: the source asks for itself (logout_hint), which works whatever its cookies.
  expect((await getSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id)).logout).toBe('post');
  const plain: Record<string, unknown> = { ...registration, id: 'nguon-khac' };
  delete plain.logout;
  expect((await addSource(tdb.db, fed.nixa.cipher, plain, 'test', OPTS)).logout).toBe('hint');
});
