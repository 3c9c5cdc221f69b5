// Control: client authentication with private_key_jwt only.
// FAPI 2.0 Security Profile (Final) §5.3.2.1 — the authorization server "shall only
// support confidential clients", authenticated with mTLS or private_key_jwt (nixa:
// private_key_jwt), and "shall only accept its issuer identifier value" as the
// assertion's audience; §5.4.1 — PS256, ES256 or EdDSA only. The assertion's jti is
// used once (RFC 7523 §3). PAR and DPoP are met here, so only client authentication is
// under test.
import { randomUUID } from 'node:crypto';

import * as oidc from 'openid-client';

import type { Nixa } from '../../../src/app/index.js';
import { addClient } from '../../../src/clients/index.js';
import { InvalidInputError } from '../../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { clientAssertion, dpopHandle, fapiConfig, JWT_BEARER, keyPair, pushed, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { startTestNixa } from '../../support/nixa.js';
import { signIn } from '../../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let service: FapiClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  service = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2' });
  config = await fapiConfig(nixa.config.issuer, service);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

/** A pushed authorization request whose client authentication is whatever `auth` gives. */
async function par(auth: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${nixa.config.issuer}/request`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      client_id: service.clientId,
      response_type: 'code',
      redirect_uri: service.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      ...auth,
    }),
  });
}

const assertion = async (aud: string, o: Parameters<typeof clientAssertion>[2] = {}) => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(service, aud, o) });

describe('private_key_jwt only (FAPI 2.0 §5.3.2.1)', () => {
  it('refuses to register a fapi2 service with a secret or as a public client, naming the field', async () => {
    for (const method of ['client_secret_basic', 'none']) {
      const err = await addClient(
        tdb.db,
        { name: 'Hồ sơ sức khỏe', redirect_uris: ['https://suckhoe.example.vn/cb'], security_profile: 'fapi2', token_endpoint_auth_method: method },
        'test',
        { allowHttpLoopback: true, signingAlgs: ['ES256', 'RS256'] },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).field).toBe('token_endpoint_auth_method');
    }
    expect((await tdb.db.query("SELECT 1 FROM clients WHERE name = 'Hồ sơ sức khỏe'")).rows).toHaveLength(0);
  });

  it('accepts a signed assertion whose aud is the issuer', async () => {
    const res = await par(await assertion(nixa.config.issuer));
    expect(res.status).toBe(201);
  });

  it('refuses a secret presented by a fapi2 service (Basic), whatever it is', async () => {
    const res = await par({}, { authorization: `Basic ${Buffer.from(`${service.clientId}:anything`).toString('base64')}` });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an assertion whose aud is the endpoint, not the issuer', async () => {
    for (const aud of [`${nixa.config.issuer}/request`, `${nixa.config.issuer}/token`]) {
      const res = await par(await assertion(aud));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_client' });
    }
  });

  it('refuses an assertion whose jti was used before', async () => {
    const jti = randomUUID();
    expect((await par(await assertion(nixa.config.issuer, { claims: { jti } }))).status).toBe(201);
    const again = await par(await assertion(nixa.config.issuer, { claims: { jti } }));
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an assertion signed with RS256 (FAPI 2.0 §5.4.1), by a key the service registered', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const withRsa = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2', jwks: { keys: [service.publicJwk, { ...rsa.publicJwk, alg: undefined }] } });
    const res = await fetch(`${nixa.config.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: withRsa.clientId,
        response_type: 'code',
        redirect_uri: withRsa.redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        client_assertion_type: JWT_BEARER,
        client_assertion: await clientAssertion(withRsa, nixa.config.issuer, { alg: 'RS256', key: rsa.privateKey, kid: 'rsa-1' }),
      }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses the token request of a sign-in whose assertion aims at the token endpoint, with PAR and DPoP met', async () => {
    const dpop = await dpopHandle(config);
    const s = await signIn(config, service, { authorize: pushed(config, dpop), extra: { prompt: 'consent' } });
    const res = await fetch(`${nixa.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: s.callbackUrl.searchParams.get('code')!,
        redirect_uri: service.redirectUri,
        code_verifier: s.verifier,
        ...(await assertion(`${nixa.config.issuer}/token`)),
      }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('leaves a standard service its assertion aimed at the token endpoint (RFC 7523 allows it)', async () => {
    const plain = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'standard', id_token_signed_response_alg: 'RS256' });
    const res = await fetch(`${nixa.config.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: plain.clientId,
        response_type: 'code',
        redirect_uri: plain.redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        client_assertion_type: JWT_BEARER,
        client_assertion: await clientAssertion(plain, `${nixa.config.issuer}/request`),
      }),
    });
    expect(res.status).toBe(201);
  });
});
