// A service registered at minimum level high is FAPI 2.0 by default: a citizen's
// sign-in to it, through the real citizen-ID source, completes only with PAR, DPoP and
// private_key_jwt — each taken away alone stops it (FAPI 2.0 Security Profile (Final)
// §5.3.2.1 and §5.3.2.2; the per-control files in this folder go into each one).
import * as oidc from 'openid-client';

import { showClient } from '../../../src/clients/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { dpopHandle, fapiConfig, pushed, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { federatedSignIn, startFederation, type Federation } from '../../support/federation.js';

let tdb: TestDatabase;
let fed: Federation;
let land: FapiClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  land = await registerFapiClient(tdb.db, { name: 'Đăng ký đất đai', scope: 'openid profile' });
  config = await fapiConfig(fed.nixa.config.issuer, land);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const citizen = { source: 'citizen_id' as const, citizen: 'hoang-minh-duc', consent: 'accept' as const };
const checks = (s: Awaited<ReturnType<typeof federatedSignIn>>) => ({ pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });

it('is fapi2 without anyone asking', async () => {
  expect(await showClient(tdb.db, land.clientId)).toMatchObject({ minLevel: 'high', securityProfile: 'fapi2', tokenEndpointAuthMethod: 'private_key_jwt' });
});

it('signs the citizen in at high with PAR, DPoP and private_key_jwt together', async () => {
  const dpop = await dpopHandle(config);
  const s = await federatedSignIn(config, land.redirectUri, { ...citizen, authorize: pushed(config, dpop) });
  expect(s.stoppedAt).toBeDefined();
  const tokens = await oidc.authorizationCodeGrant(config, new URL(s.stoppedAt!), checks(s), undefined, { DPoP: dpop });
  expect(tokens.claims()!.acr).toBe('urn:nixa:loa:high');
  expect(tokens.token_type.toLowerCase()).toBe('dpop');
});

it('without PAR: the front-channel request is sent back with invalid_request before any page', async () => {
  const s = await federatedSignIn(config, land.redirectUri, citizen);
  expect(s.pages).toEqual([]);
  expect(new URL(s.stoppedAt!).searchParams.get('error')).toBe('invalid_request');
});

it('without DPoP: everything else right, the code does not redeem', async () => {
  const s = await federatedSignIn(config, land.redirectUri, { ...citizen, authorize: pushed(config) });
  await expect(oidc.authorizationCodeGrant(config, new URL(s.stoppedAt!), checks(s))).rejects.toMatchObject({ error: 'invalid_grant' });
});

it('without private_key_jwt: neither the push nor the token request is taken from an unauthenticated service', async () => {
  const unauthenticated = await oidc.discovery(new URL(fed.nixa.config.issuer), land.clientId, { id_token_signed_response_alg: 'ES256' }, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  await expect(federatedSignIn(unauthenticated, land.redirectUri, { ...citizen, authorize: pushed(unauthenticated) })).rejects.toMatchObject({ error: 'invalid_client' });
  const withSecret = await oidc.discovery(new URL(fed.nixa.config.issuer), land.clientId, { id_token_signed_response_alg: 'ES256' }, oidc.ClientSecretBasic('a-guessed-secret'), { execute: [oidc.allowInsecureRequests] });
  // A secret presented in Basic gets RFC 6749's 401 with a Basic challenge naming invalid_client.
  const refused = await federatedSignIn(withSecret, land.redirectUri, { ...citizen, authorize: pushed(withSecret) }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
  expect((refused as oidc.WWWAuthenticateChallengeError).status).toBe(401);
  expect((refused as oidc.WWWAuthenticateChallengeError).cause[0]!.parameters.error).toBe('invalid_client');
  // A code got properly, redeemed without the key: refused too.
  const dpop = await dpopHandle(config);
  const s = await federatedSignIn(config, land.redirectUri, { ...citizen, authorize: pushed(config, dpop) });
  await expect(oidc.authorizationCodeGrant(unauthenticated, new URL(s.stoppedAt!), checks(s), undefined, { DPoP: oidc.getDPoPHandle(unauthenticated, await oidc.randomDPoPKeyPair('ES256')) })).rejects.toMatchObject({
    error: 'invalid_client',
  });
});
