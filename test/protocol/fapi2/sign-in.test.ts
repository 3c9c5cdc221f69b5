// A fapi2 service signs a citizen in as FAPI 2.0 says: PAR, private_key_jwt, DPoP.
// The happy path every control test below departs from.
import * as oidc from 'openid-client';

import type { Nixa } from '../../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { dpopHandle, fapiConfig, pushed, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { startTestNixa } from '../../support/nixa.js';
import { signIn } from '../../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let service: FapiClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  service = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2', scope: 'openid offline_access' });
  config = await fapiConfig(nixa.config.issuer, service);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

it('signs in with PAR, private_key_jwt and DPoP, and the tokens are bound to the DPoP key', async () => {
  const dpop = await dpopHandle(config);
  const s = await signIn(config, service, { scope: 'openid offline_access', authorize: pushed(config, dpop), extra: { prompt: 'consent' } });
  expect(s.callbackUrl.searchParams.get('iss')).toBe(nixa.config.issuer);
  const tokens = await oidc.authorizationCodeGrant(config, s.callbackUrl, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
  expect(tokens.token_type.toLowerCase()).toBe('dpop');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP: dpop });
  expect(info.sub).toBe(tokens.claims()!.sub);
});

it('discovery advertises what a FAPI 2.0 service needs', async () => {
  const doc = (await (await fetch(`${nixa.config.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  expect(doc.pushed_authorization_request_endpoint).toBe(`${nixa.config.issuer}/request`);
  expect(doc.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'PS256', 'EdDSA']));
  expect(doc.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
  expect(doc.request_object_signing_alg_values_supported).toEqual(['PS256', 'ES256', 'EdDSA']);
  expect(doc.authorization_response_iss_parameter_supported).toBe(true);
  expect(doc.code_challenge_methods_supported).toEqual(['S256']);
  // Not every service is FAPI 2.0: PAR is required per service, not of all.
  expect(doc.require_pushed_authorization_requests).toBeUndefined();
});
