// Control: signed request objects (JAR, RFC 9101).
// Accepted at the PAR endpoint from any service (FAPI 2.0 Security Profile (Final)
// §5.3.2.2 lets a client send its request as a request object there), and required of
// a service that registered require_signed_request_object; §5.4.1 — PS256, ES256 or
// EdDSA only, never none or RS256. PAR, DPoP and private_key_jwt are met here, so only
// the request object is under test.
import { SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../../src/app/index.js';
import { addClient } from '../../../src/clients/index.js';
import { InvalidInputError } from '../../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { clientAssertion, dpopHandle, fapiConfig, JWT_BEARER, keyPair, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { startTestNixa } from '../../support/nixa.js';
import { signIn } from '../../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let service: FapiClient;
let strict: FapiClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  service = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2' });
  strict = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2', require_signed_request_object: true });
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

async function requestParams(c: FapiClient) {
  const verifier = oidc.randomPKCECodeVerifier();
  return {
    verifier,
    params: {
      client_id: c.clientId,
      response_type: 'code',
      redirect_uri: c.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
    },
  };
}

/** A request object (RFC 9101 §4) signed by `key` with `alg`, or unsigned for alg none. */
async function requestObject(c: FapiClient, params: Record<string, string>, o: { alg?: string; key?: CryptoKey; kid?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { ...params, iss: c.clientId, aud: nixa.config.issuer, nbf: now, exp: now + 300, jti: crypto.randomUUID() };
  if (o.alg === 'none') return new UnsecuredJWT(claims).encode();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? c.alg, kid: o.kid ?? (c.publicJwk.kid as string), typ: 'oauth-authz-req+jwt' })
    .sign(o.key ?? c.privateKey);
}

async function push(c: FapiClient, body: Record<string, string>) {
  return fetch(`${nixa.config.issuer}/request`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: c.clientId, ...body, client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(c, nixa.config.issuer) }),
  });
}

describe('signed request objects (RFC 9101)', () => {
  it('accepts a request object signed ES256 at PAR, and the sign-in completes with its parameters', async () => {
    const config = await fapiConfig(nixa.config.issuer, strict);
    const dpop = await dpopHandle(config);
    const s = await signIn(config, strict, {
      authorize: async (p) => {
        const res = await fetch(`${nixa.config.issuer}/request`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            client_id: strict.clientId,
            request: await requestObject(strict, { ...p, client_id: strict.clientId, response_type: 'code' }),
            client_assertion_type: JWT_BEARER,
            client_assertion: await clientAssertion(strict, nixa.config.issuer),
          }),
        });
        expect(res.status).toBe(201);
        const { request_uri } = (await res.json()) as { request_uri: string };
        const url = new URL(`${nixa.config.issuer}/auth`);
        url.searchParams.set('client_id', strict.clientId);
        url.searchParams.set('request_uri', request_uri);
        return url;
      },
      extra: { prompt: 'consent' },
    });
    const tokens = await oidc.authorizationCodeGrant(config, s.callbackUrl, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
    expect(tokens.claims()!.nonce).toBe(s.nonce);
  });

  it('requires one of a service that registered require_signed_request_object: plain PAR parameters are refused', async () => {
    const { params } = await requestParams(strict);
    const res = await push(strict, params);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses an unsigned request object (alg none) and one signed RS256, also from a service that does not require them', async () => {
    const rsa = await keyPair('RS256', 'rsa-jar');
    const es = await keyPair('ES256', 'es-jar');
    const withRsa = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2', jwks: { keys: [es.publicJwk, { ...rsa.publicJwk, alg: undefined }] } });
    const { params } = await requestParams(service);
    const unsigned = await push(service, { request: await requestObject(service, params, { alg: 'none' }) });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ error: 'invalid_request_object' });
    const { params: p2 } = await requestParams(withRsa);
    const rs256 = await fetch(`${nixa.config.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: withRsa.clientId,
        request: await requestObject(withRsa, p2, { alg: 'RS256', key: rsa.privateKey, kid: 'rsa-jar' }),
        client_assertion_type: JWT_BEARER,
        client_assertion: await clientAssertion(withRsa, nixa.config.issuer, { alg: 'ES256', key: es.privateKey, kid: 'es-jar' }),
      }),
    });
    expect(rs256.status).toBe(400);
    expect(await rs256.json()).toMatchObject({ error: 'invalid_request_object' });
  });

  it('refuses a request object signed by a key the service did not register', async () => {
    const stranger = await keyPair('ES256', strict.publicJwk.kid as string);
    const { params } = await requestParams(strict);
    const res = await push(strict, { request: await requestObject(strict, params, { key: stranger.privateKey }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request_object' });
  });

  it('refuses to register require_signed_request_object without the keys to check the objects, naming the field', async () => {
    const err = await addClient(
      tdb.db,
      { name: 'Cổng BHXH', redirect_uris: ['https://bhxh.example.vn/cb'], token_endpoint_auth_method: 'client_secret_basic', require_signed_request_object: true },
      'test',
      { allowHttpLoopback: true, signingAlgs: ['ES256', 'RS256'] },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).toBe('require_signed_request_object');
  });
});
