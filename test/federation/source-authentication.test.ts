// nixa authenticates to a source with private_key_jwt (signed with its own active
// key, checked by the source against nixa's JWKS) or client_secret_post (the
// secret in the request body, for sources such as LemonLDAP that do not decode
// the Basic header), and fetches userinfo when the source is configured to. A
// source refusing nixa's credentials is shown as that, not as a bad signature.
import { randomBytes } from 'node:crypto';

import type * as oidc from 'openid-client';

import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { SIGNED_OUT_PATH } from '../../src/federation/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { startSimulatedSource, type SimulatedSource } from '../../src/simulated-sources/index.js';
import { addSource, updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated } from '../support/federation.js';
import { capturingLogger, startTestNixa } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { Nixa } from '../../src/app/index.js';

let tdb: TestDatabase;
let nixa: Nixa;
let source: SimulatedSource;
/** Telecom: takes the client secret only in the request body, from a client id with a dash. */
let postOnly: SimulatedSource;
/** Citizen ID: nixa is registered there with a secret the source does not know. */
let wrongSecret: SimulatedSource;
let service: TestClient;
let config: oidc.Configuration;
const log = capturingLogger();

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, { NIXA_TEST_LOGIN: 'false' }, { logger: log.logger });
  source = await startSimulatedSource({
    kind: 'bank',
    clients: [
      {
        client_id: 'nixa',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: `${nixa.config.issuer}/jwks`,
        redirect_uris: [`${nixa.config.issuer}${CALLBACK_PATH}`],
        post_logout_redirect_uris: [`${nixa.config.issuer}${SIGNED_OUT_PATH}`],
      },
    ],
  });
  const registration = simulatedSourceRegistration('bank', source.issuer, randomBytes(24).toString('base64url'));
  delete registration.client_secret;
  await addSource(tdb.db, nixa.cipher, { ...registration, auth_method: 'private_key_jwt', use_userinfo: true }, 'test', { allowHttpLoopback: true });
  const postSecret = randomBytes(24).toString('base64url');
  postOnly = await startSimulatedSource({
    kind: 'telecom',
    clients: [
      {
        client_id: 'nixa-prod',
        client_secret: postSecret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [`${nixa.config.issuer}${CALLBACK_PATH}`],
      },
    ],
  });
  await addSource(
    tdb.db,
    nixa.cipher,
    { ...simulatedSourceRegistration('telecom', postOnly.issuer, postSecret), client_id: 'nixa-prod', auth_method: 'client_secret_post' },
    'test',
    { allowHttpLoopback: true },
  );
  wrongSecret = await startSimulatedSource({
    kind: 'citizen_id',
    clients: [
      {
        client_id: 'nixa',
        client_secret: randomBytes(24).toString('base64url'),
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${nixa.config.issuer}${CALLBACK_PATH}`],
      },
    ],
  });
  await addSource(tdb.db, nixa.cipher, simulatedSourceRegistration('citizen_id', wrongSecret.issuer, randomBytes(24).toString('base64url')), 'test', {
    allowHttpLoopback: true,
  });
  await nixa.sources.refresh();
  service = await registerTestClient(tdb.db, { scope: 'openid profile' });
  config = await discover(nixa.config.issuer, service);
});

afterAll(async () => {
  await source?.close();
  await postOnly?.close();
  await wrongSecret?.close();
  await nixa?.close();
  await tdb?.drop();
});

it('signs in at a source that authenticates nixa by private_key_jwt (the source checks nixa’s JWKS), with userinfo on', async () => {
  const s = await federatedSignIn(config, service.redirectUri, { source: 'bank', citizen: 'le-hoang-cuong', consent: 'accept' });
  expect(s.stoppedAt).toBeDefined();
  const claims = (await redeemFederated(config, s)).claims()!;
  expect(claims).toMatchObject({ name: 'Lê Hoàng Cường', birthdate: '2001-11-05', acr: 'urn:nixa:loa:substantial' });
});

it('fails with a clear page when the source drops a claim from userinfo as well as the ID token', async () => {
  source.misbehave({ mode: 'drop-claim', claim: 'id_number' });
  try {
    const s = await federatedSignIn(config, service.redirectUri, { source: 'bank', citizen: 'hoang-minh-duc', consent: 'accept' });
    expect(s.page!.html).toContain('NIXA-FED-missing-claims');
  } finally {
    source.misbehave({ mode: 'normal' });
  }
});

it('signs in at a source that takes only client_secret_post, with a client id containing a dash', async () => {
  const s = await federatedSignIn(config, service.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', consent: 'accept' });
  expect(s.page?.html.match(/NIXA-[A-Z]+-[a-z-]+/)?.[0]).toBeUndefined();
  expect(s.stoppedAt).toBeDefined();
  const claims = (await redeemFederated(config, s)).claims()!;
  expect(claims).toMatchObject({ acr: 'urn:nixa:loa:low' });
});

it('shows a source refusing nixa’s client credentials (invalid_client) as that, not as an answer nixa cannot trust, and writes no account', async () => {
  const count = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM linked_identities')).rows[0]!.n;
  const before = await count();
  const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', consent: 'accept' });
  expect(s.stoppedAt).toBeUndefined();
  expect(s.page!.status).toBe(502);
  expect(s.page!.html).toContain('NIXA-FED-source-refused');
  expect(s.page!.html).toMatch(/từ chối kết nối của nixa/);
  expect(s.page!.html).toContain('refused nixa’s connection');
  expect(s.page!.html).not.toContain('NIXA-FED-bad-response');
  expect(s.page!.html).not.toMatch(/chữ ký|signature/);
  expect(s.page!.html).toMatch(/href="\/interaction\/[^"]+">Chọn nguồn định danh khác/);
  expect(await count()).toBe(before);
  // The operator's log says which OAuth error the source gave.
  const logged = log.lines().filter((l) => l.msg === 'upstream sign-in failed' && l.reason === 'source-refused');
  expect(logged.map((l) => l.detail)).toContainEqual(expect.stringContaining('(invalid_client)'));
});

it('shows an error the source sends back to the callback (it does not accept nixa as a client) as the source refusing nixa, not as a bad answer', async () => {
  // The citizen is at the source's page; the source sends them back with an OAuth error instead of a code.
  const atSource = await federatedSignIn(config, service.redirectUri, { source: 'bank' });
  expect(atSource.page!.url).toContain(new URL(source.issuer).port);
  const { rows } = await tdb.db.query<{ state: string }>('SELECT state FROM upstream_logins ORDER BY created_at DESC LIMIT 1');
  const back = await atSource.agent.follow(`${nixa.config.issuer}${CALLBACK_PATH}?error=unauthorized_client&state=${rows[0]!.state}`);
  expect(back.res.status).toBe(502);
  const html = await back.res.text();
  expect(html).toContain('NIXA-FED-source-refused');
  expect(html).not.toContain('NIXA-FED-bad-response');
  const logged = log.lines().filter((l) => l.msg === 'upstream sign-in failed' && l.reason === 'source-refused');
  expect(logged.map((l) => l.detail)).toContainEqual('source returned error=unauthorized_client');
});
