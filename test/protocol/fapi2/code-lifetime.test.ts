// Control: authorization code lifetime.
// FAPI 2.0 Security Profile (Final) §5.3.2.2 — the authorization server "shall issue
// authorization codes with a maximum lifetime of 60 seconds", whatever the deployment
// configured for other services (here NIXA_TTL_AUTHORIZATION_CODE=300), and a code is
// redeemed once (RFC 6749 §4.1.2).
import * as oidc from 'openid-client';

import type { Nixa } from '../../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { dpopHandle, fapiConfig, pushed, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { startTestNixa } from '../../support/nixa.js';
import { discover, registerTestClient, signIn, type TestClient } from '../../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let service: FapiClient;
let plain: TestClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  // The store is named so that the code can be read back from it, whatever NIXA_TEST_REDIS_URL says.
  nixa = await startTestNixa(tdb.db, { NIXA_TTL_AUTHORIZATION_CODE: '300', NIXA_SHORT_LIVED_STORE: 'postgres' });
  service = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2' });
  plain = await registerTestClient(tdb.db);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

/** The lifetime (exp - iat) of the code nixa issued last, as its short-lived store holds it, in seconds. */
async function storedLifetime(): Promise<number> {
  const { rows } = await tdb.db.query<{ seconds: number }>(
    "SELECT (payload->>'exp')::int - (payload->>'iat')::int AS seconds FROM short_lived_payloads WHERE model = 'AuthorizationCode' ORDER BY (payload->>'iat')::int DESC, expires_at DESC LIMIT 1",
  );
  return Number(rows[0]!.seconds);
}

describe('authorization codes (FAPI 2.0 §5.3.2.2)', () => {
  it("a fapi2 service's code lives at most 60 seconds, a standard one's as configured", async () => {
    const config = await fapiConfig(nixa.config.issuer, service);
    await signIn(config, service, { authorize: pushed(config, await dpopHandle(config)) });
    expect(await storedLifetime()).toBe(60);
    await signIn(await discover(nixa.config.issuer, plain), plain);
    expect(await storedLifetime()).toBe(300);
  });

  it('a code is redeemed once', async () => {
    const config = await fapiConfig(nixa.config.issuer, service);
    const dpop = await dpopHandle(config);
    const s = await signIn(config, service, { authorize: pushed(config, dpop) });
    const checks = { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce };
    await oidc.authorizationCodeGrant(config, s.callbackUrl, checks, undefined, { DPoP: dpop });
    await expect(oidc.authorizationCodeGrant(config, s.callbackUrl, checks, undefined, { DPoP: dpop })).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
