// Every signing algorithm nixa manages keys for can sign ID tokens that verify
// against the published JWKS.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { addClient, clientsOptions } from '../../src/clients/index.js';
import { discover, redeem, registerTestClient, signIn } from '../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, { NIXA_SIGNING_ALGS: 'ES256,RS256,PS256,EdDSA' });
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

it('advertises every configured algorithm in discovery', async () => {
  const d = (await (await fetch(`${nixa.url}/.well-known/openid-configuration`)).json()) as { id_token_signing_alg_values_supported: string[] };
  expect(d.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']));
});

it.each(['ES256', 'RS256', 'PS256', 'EdDSA'])('signs ID tokens with %s for a client that registers it', async (alg) => {
  const client = await registerTestClient(tdb.db, { id_token_signed_response_alg: alg }, clientsOptions(nixa.config));
  const config = await discover(nixa.config.issuer, client);
  const tokens = await redeem(config, await signIn(config, client, { account: 'hoang-minh-duc' }));
  expect(decodeProtectedHeader(tokens.id_token!).alg).toBe(alg);
  const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${nixa.config.issuer}/jwks`)), {
    issuer: nixa.config.issuer,
    audience: client.clientId,
  });
  expect(payload.sub).toBe('hoang-minh-duc');
});

it('refuses to register a client for an algorithm nixa has no keys for', async () => {
  await expect(
    addClient(tdb.db, { name: 'X', redirect_uris: ['https://x.gov.vn/cb'], id_token_signed_response_alg: 'ES512' }, 'test', clientsOptions(nixa.config)),
  ).rejects.toThrow(/id_token_signed_response_alg: one of the configured signing algorithms: ES256, RS256, PS256, EdDSA/);
});
