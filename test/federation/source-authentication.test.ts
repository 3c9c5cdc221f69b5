// nixa authenticates to a source with private_key_jwt (signed with its own active
// key, checked by the source against nixa's JWKS) and fetches userinfo when the
// source is configured to.
import { randomBytes } from 'node:crypto';

import type * as oidc from 'openid-client';

import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { SIGNED_OUT_PATH } from '../../src/federation/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { startSimulatedSource, type SimulatedSource } from '../../src/simulated-sources/index.js';
import { addSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated } from '../support/federation.js';
import { startTestNixa } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { Nixa } from '../../src/app/index.js';

let tdb: TestDatabase;
let nixa: Nixa;
let source: SimulatedSource;
let service: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, { NIXA_TEST_LOGIN: 'false' });
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
  await nixa.sources.refresh();
  service = await registerTestClient(tdb.db, { scope: 'openid profile' });
  config = await discover(nixa.config.issuer, service);
});

afterAll(async () => {
  await source?.close();
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
