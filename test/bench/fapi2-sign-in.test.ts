// The FAPI 2.0 sign-in npm run bench times (bench/driver/fapi2-sign-in.ts) and its
// standard counterpart's userinfo call, against a real nixa with the bench's
// registrations: the sign-in goes through PAR, private_key_jwt and DPoP; one that
// nixa refuses, or a userinfo answer for another citizen, fails the run rather than
// being timed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { fapi2Service, fapi2ServiceKey, fapi2SignIn } from '../../bench/driver/fapi2-sign-in.js';
import { bearerUserinfo, signIn } from '../../bench/driver/sign-in.js';
import type { Fapi2ClientInfo, TargetInfo } from '../../bench/protocol.js';
import { FAPI2_CLIENT, fapi2Registration, WEB_CLIENT } from '../../bench/targets/clients.js';
import type { Nixa } from '../../src/app/index.js';
import { addClient, clientsOptions } from '../../src/clients/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';

let tdb: TestDatabase;
let nixa: Nixa;
let target: TargetInfo;

/** Registers a FAPI 2.0 service as the bench's nixa does, under its own id, with the public half of `publicJwk`. */
async function registerFapi2(clientId: string, publicJwk: Record<string, unknown>): Promise<Omit<Fapi2ClientInfo, 'privateJwk'>> {
  const { client } = await addClient(tdb.db, { ...fapi2Registration(publicJwk), client_id: clientId }, 'test', clientsOptions(nixa.config));
  return { clientId: client.clientId, redirectUri: FAPI2_CLIENT.redirect_uris[0], scope: FAPI2_CLIENT.scope, idTokenSigningAlg: client.idTokenSigningAlg };
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  const web = await addClient(tdb.db, WEB_CLIENT, 'test', clientsOptions(nixa.config));
  target = {
    name: 'nixa',
    origin: nixa.config.issuer,
    webClient: { clientId: web.client.clientId, secret: web.secret!, redirectUri: WEB_CLIENT.redirect_uris[0] },
    serviceClient: { clientId: 'not-used-here', secret: 'not-used-here' },
  };
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

describe('the FAPI 2.0 sign-in the bench times', () => {
  it('is registered fapi2 with private_key_jwt and an ES256 ID token, and signs a returning citizen in with PAR and DPoP-bound tokens', async () => {
    const { publicJwk, privateJwk } = await fapi2ServiceKey();
    const registered = await registerFapi2('bench-fapi2', publicJwk);
    expect(registered.idTokenSigningAlg).toBe('ES256');
    const row = await tdb.db.query<{ security_profile: string }>('SELECT security_profile FROM clients WHERE client_id = $1', ['bench-fapi2']);
    expect(row.rows[0]?.security_profile).toBe('fapi2');
    const fapi2Target = { ...target, fapi2: { ...registered, privateJwk } };
    const config = await fapi2Service(fapi2Target);
    // Twice: the second as the measured loops do, a returning account on the kept configuration.
    await fapi2SignIn(fapi2Target, config, 'bench-citizen-0');
    await fapi2SignIn(fapi2Target, config, 'bench-citizen-0');
  });

  it('fails, rather than being timed, when nixa refuses the service (its assertion signed by a key nixa does not know)', async () => {
    const registeredKey = await fapi2ServiceKey();
    const otherKey = await fapi2ServiceKey();
    const registered = await registerFapi2('bench-fapi2-wrong-key', registeredKey.publicJwk);
    // The kid nixa knows, the private half of another key.
    const fapi2Target = { ...target, fapi2: { ...registered, privateJwk: { ...otherKey.privateJwk, kid: registeredKey.privateJwk.kid } } };
    await expect(fapi2SignIn(fapi2Target, await fapi2Service(fapi2Target), 'bench-citizen-1')).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('names what is missing when the target has no FAPI 2.0 service', () => {
    expect(() => fapi2Service(target)).toThrow('nixa has no FAPI 2.0 service');
  });
});

describe("the standard counterpart's userinfo call", () => {
  it('passes when userinfo names the citizen the ID token names', async () => {
    await bearerUserinfo(target.origin, await signIn(target, 'bench-citizen-2'));
  });

  it('fails when userinfo answers for another citizen than the sign-in', async () => {
    const a = await signIn(target, 'bench-citizen-3');
    const b = await signIn(target, 'bench-citizen-4');
    await expect(bearerUserinfo(target.origin, { ...a, access_token: b.access_token })).rejects.toThrow('GET /me: expected the signed-in citizen, got 200');
  });

  it('fails when userinfo refuses the token', async () => {
    const a = await signIn(target, 'bench-citizen-5');
    await expect(bearerUserinfo(target.origin, { ...a, access_token: `${a.access_token}x` })).rejects.toThrow('GET /me: expected the signed-in citizen, got 401 invalid_token');
  });
});
