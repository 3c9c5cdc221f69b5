// Signing out: RP-initiated logout ends the nixa session and tells every service
// of that session by back-channel logout.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // The services' back-channel logout endpoints.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://localhost:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await fed?.close();
  await new Promise((r) => receiver?.close(r));
  await tdb?.drop();
});

async function service(name: string): Promise<{ client: TestClient; config: oidc.Configuration }> {
  const client = await registerTestClient(tdb.db, { scope: 'openid profile', name, backchannel_logout_uri: `${receiverUrl}/${name}/backchannel` });
  return { client, config: await discover(fed.nixa.config.issuer, client) };
}

it('ends the nixa session and the source session, and notifies every service of that session by back-channel logout', async () => {
  const tax = await service('thue');
  const insurance = await service('bhxh');
  const bystander = await service('khac');
  const a = await federatedSignIn(tax.config, tax.client.redirectUri, { source: 'citizen_id', citizen: 'hoang-minh-duc', consent: 'accept' });
  const taxTokens = await redeemFederated(tax.config, a);
  const b = await federatedSignIn(insurance.config, insurance.client.redirectUri, { agent: a.agent, consent: 'accept' });
  const insuranceTokens = await redeemFederated(insurance.config, b);
  // oidc-provider gives each service its own sid for the one session.
  const sids: Record<string, unknown> = { '/thue/backchannel': taxTokens.claims()!.sid, '/bhxh/backchannel': insuranceTokens.claims()!.sid };
  expect(Object.values(sids).every((s) => typeof s === 'string')).toBe(true);
  // Another citizen at the third service: must not be notified.
  const other = await federatedSignIn(bystander.config, bystander.client.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept' });
  await redeemFederated(bystander.config, other);

  // RP-initiated logout from the tax service: nixa's confirmation page, then the form post.
  const endUrl = oidc.buildEndSessionUrl(tax.config, {
    id_token_hint: taxTokens.id_token!,
    post_logout_redirect_uri: tax.client.redirectUri.replace('/callback', '/'),
    state: 'da-dang-xuat',
  });
  const page = await a.agent.follow(endUrl);
  const html = await page.res.text();
  expect(html).toContain('Đăng xuất khỏi nixa?');
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
  const action = /action="([^"]+)"/.exec(html)![1]!;
  const atSource = await a.agent.submit(new URL(action, page.url), { xsrf, logout: 'yes' }, tax.client.redirectUri.replace('/callback', '/'));
  // The source supports RP-initiated logout: the browser signs out there too, then comes back.
  expect(atSource.url.startsWith(fed.sources.citizen_id.issuer)).toBe(true);
  const sourcePage = await atSource.res.text();
  expect(sourcePage).toContain('Đăng xuất khỏi nguồn này?');
  const sourceXsrf = /name="xsrf" value="([^"]+)"/.exec(sourcePage)![1]!;
  const sourceAction = /action="([^"]+)"/.exec(sourcePage)![1]!;
  const done = await a.agent.submit(new URL(sourceAction, atSource.url), { xsrf: sourceXsrf, logout: 'yes' }, tax.client.redirectUri.replace('/callback', '/'));
  expect(done.stoppedAt).toContain('state=da-dang-xuat');
  expect((await tdb.db.query('SELECT 1 FROM upstream_sessions')).rows).toHaveLength(1); // only the bystander's

  const jwks = createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`));
  const paths = received.map((r) => r.path).sort();
  expect(paths).toEqual(['/bhxh/backchannel', '/thue/backchannel']);
  for (const r of received) {
    const token = new URLSearchParams(r.body).get('logout_token')!;
    const { payload } = await jwtVerify(token, jwks, { issuer: fed.nixa.config.issuer });
    expect(payload.sid).toBe(sids[r.path]);
    expect(payload.aud).toBe(r.path.startsWith('/thue') ? tax.client.clientId : insurance.client.clientId);
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload).not.toHaveProperty('nonce');
  }

  // Both sessions are gone: the next sign-in shows nixa's chooser, then the source's picker again.
  const again = await federatedSignIn(tax.config, tax.client.redirectUri, { agent: a.agent, source: 'citizen_id' });
  expect(again.pages).toEqual(['chooser']);
  expect(again.page!.html).toContain('name="citizen"');
});
