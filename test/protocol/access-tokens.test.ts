// Access tokens a service's API can check (RFC 8707 resource indicators, RFC 9068
// JWT access tokens, RFC 7662 introspection): they say how the citizen signed in
// (acr, amr, auth_time), and only the service that registered an API gets tokens
// for it. openid-client is the relying party; nixa/verify is the API.
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';

import { createVerifier, type Verifier } from '../../src/verify/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation, type FederatedSignIn } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

const API = 'https://hoso.dichvucong.example.gov.vn/api';

let tdb: TestDatabase;
let fed: Federation;
let records: TestClient;
let recordsConfig: oidc.Configuration;
let other: TestClient;
let otherConfig: oidc.Configuration;
let api: Verifier;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  records = await registerTestClient(tdb.db, {
    name: 'Hồ sơ hộ tịch điện tử',
    scope: 'openid offline_access profile',
    token_endpoint_auth_method: 'client_secret_basic',
    api_resource: API,
  });
  other = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ khác', scope: 'openid offline_access profile', token_endpoint_auth_method: 'client_secret_basic' });
  [recordsConfig, otherConfig] = await Promise.all([discover(fed.nixa.config.issuer, records), discover(fed.nixa.config.issuer, other)]);
  api = createVerifier({ issuer: fed.nixa.config.issuer, audience: API });
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const isJwt = (token: string) => token.split('.').length === 3;

function signInForApi(o: Parameters<typeof federatedSignIn>[2], config = recordsConfig, client = records): Promise<FederatedSignIn> {
  return federatedSignIn(config, client.redirectUri, { consent: 'accept', ...o, extra: { resource: API, ...o.extra } });
}

function errorOf(s: FederatedSignIn): { error: string | null; description: string | null } {
  const answer = new URL(s.stoppedAt!);
  return { error: answer.searchParams.get('error'), description: answer.searchParams.get('error_description') };
}

describe('JWT access tokens for a service API', () => {
  it("carry the acr, amr and auth_time of the sign-in, for the service's own API only", async () => {
    const s = await signInForApi({ source: 'telecom', citizen: 'nguyen-van-an' });
    const tokens = await redeemFederated(recordsConfig, s);
    const idClaims = tokens.claims()!;
    expect(isJwt(tokens.access_token)).toBe(true);
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');

    const result = await api.verifyAccessToken(tokens.access_token);
    if (!result.ok) throw new Error(`token refused: ${result.description}`);
    expect(result.claims).toMatchObject({
      aud: API,
      client_id: records.clientId,
      sub: idClaims.sub,
      acr: 'urn:nixa:loa:low',
      amr: idClaims.amr,
      auth_time: idClaims.auth_time,
    });
    expect(result.claims.amr).toContain('fed');
    // Nothing the citizen shares with the service (name, …) travels to its API in the token.
    expect(result.claims).not.toHaveProperty('name');

    const high = await api.verifyAccessToken(tokens.access_token, { minimumAcr: 'high' });
    expect(high).toMatchObject({ ok: false, error: 'insufficient_user_authentication', acrValues: ['urn:nixa:loa:high'] });

    // Meant for the API, not for the service's client_id, and not usable at userinfo.
    const asClient = createVerifier({ issuer: fed.nixa.config.issuer, audience: records.clientId });
    expect(await asClient.verifyAccessToken(tokens.access_token)).toMatchObject({ ok: false, error: 'invalid_token' });
    await expect(oidc.fetchUserInfo(recordsConfig, tokens.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
  });

  it('carry the raised acr after a step-up, while tokens refreshed from the earlier sign-in keep its values', async () => {
    const low = await signInForApi({ source: 'telecom', citizen: 'tran-thi-binh', scope: 'openid offline_access profile', extra: { prompt: 'consent' } });
    const lowTokens = await redeemFederated(recordsConfig, low);
    expect(lowTokens.refresh_token).toEqual(expect.any(String));
    const lowClaims = (await api.verifyAccessToken(lowTokens.access_token)) as { ok: true; claims: Record<string, unknown> };
    expect(lowClaims.claims.acr).toBe('urn:nixa:loa:low');

    // The API asked for high (RFC 9470): the service sends the citizen back with acr_values.
    const stepUp = await signInForApi({ agent: low.agent, source: 'citizen_id', citizen: 'tran-thi-binh', extra: { acr_values: 'urn:nixa:loa:high' } });
    expect(stepUp.pages[0]).toBe('chooser');
    const highTokens = await redeemFederated(recordsConfig, stepUp);
    const high = await api.verifyAccessToken(highTokens.access_token, { minimumAcr: 'high' });
    if (!high.ok) throw new Error(`token refused: ${high.description}`);
    expect(high.claims.acr).toBe('urn:nixa:loa:high');
    expect(high.claims.sub).toBe(lowClaims.claims.sub);
    expect(high.claims.auth_time).toBe(highTokens.claims()!.auth_time);
    expect(high.claims.auth_time).toBeGreaterThanOrEqual(lowClaims.claims.auth_time as number);

    // The refresh token belongs to the low sign-in: its access tokens stay at low.
    const refreshed = await oidc.refreshTokenGrant(recordsConfig, lowTokens.refresh_token!);
    const again = await api.verifyAccessToken(refreshed.access_token);
    if (!again.ok) throw new Error(`token refused: ${again.description}`);
    expect(again.claims).toMatchObject({ acr: 'urn:nixa:loa:low', amr: lowClaims.claims.amr, auth_time: lowClaims.claims.auth_time, aud: API });
  });

  it('refuses a resource other than the registered API with invalid_target, at authorization and at the token endpoint', async () => {
    const wrong = await signInForApi({ extra: { resource: 'https://hoso.dichvucong.example.gov.vn/other-api' } });
    expect(errorOf(wrong).error).toBe('invalid_target');

    const s = await signInForApi({ source: 'telecom', citizen: 'le-hoang-cuong' });
    await expect(
      oidc.authorizationCodeGrant(recordsConfig, new URL(s.stoppedAt!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, { resource: 'https://attacker.example/api' }),
    ).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it("refuses a service asking for another service's API, or for any API when it registered none", async () => {
    const s = await signInForApi({}, otherConfig, other);
    expect(errorOf(s)).toEqual({ error: 'invalid_target', description: expect.stringMatching(/no API registered/) });
  });

  it('keep the plain code flow as it was: no resource, an opaque access token for userinfo', async () => {
    const s = await federatedSignIn(recordsConfig, records.redirectUri, { source: 'telecom', citizen: 'pham-thi-dung', consent: 'accept' });
    const tokens = await redeemFederated(recordsConfig, s);
    expect(isJwt(tokens.access_token)).toBe(false);
    const info = await oidc.fetchUserInfo(recordsConfig, tokens.access_token, tokens.claims()!.sub);
    expect(info.sub).toBe(tokens.claims()!.sub);
  });
});

describe('token introspection', () => {
  it("states acr, amr and auth_time, and answers only the service the token was issued to", async () => {
    const s = await federatedSignIn(recordsConfig, records.redirectUri, {
      source: 'telecom', citizen: 'hoang-minh-duc', consent: 'accept', scope: 'openid offline_access profile', extra: { prompt: 'consent' },
    });
    const tokens = await redeemFederated(recordsConfig, s);
    const id = tokens.claims()!;

    const own = await oidc.tokenIntrospection(recordsConfig, tokens.access_token);
    expect(own).toMatchObject({ active: true, client_id: records.clientId, sub: id.sub, acr: 'urn:nixa:loa:low', amr: id.amr, auth_time: id.auth_time, token_type: 'Bearer' });
    const refresh = await oidc.tokenIntrospection(recordsConfig, tokens.refresh_token!);
    expect(refresh).toMatchObject({ active: true, acr: 'urn:nixa:loa:low', amr: id.amr, auth_time: id.auth_time });

    // Another service learns nothing: not even that the token exists.
    expect(await oidc.tokenIntrospection(otherConfig, tokens.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(otherConfig, tokens.refresh_token!)).toEqual({ active: false });
  });

  it('leaves JWT access tokens to nixa/verify', async () => {
    const tokens = await redeemFederated(recordsConfig, await signInForApi({ source: 'telecom', citizen: 'dang-thi-ngoc-ha' }));
    await expect(oidc.tokenIntrospection(recordsConfig, tokens.access_token)).rejects.toMatchObject({ error: 'unsupported_token_type' });
  });

  it('is advertised in discovery with the authentication methods nixa accepts', async () => {
    const doc = (await (await fetch(`${fed.nixa.config.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc.introspection_endpoint).toBe(`${fed.nixa.config.issuer}/token/introspection`);
    expect(doc.introspection_endpoint_auth_methods_supported).toEqual(doc.token_endpoint_auth_methods_supported);
    expect(doc.introspection_endpoint_auth_methods_supported).toEqual(['private_key_jwt', 'client_secret_basic', 'none']);
    expect(doc.revocation_endpoint_auth_methods_supported).toEqual(doc.token_endpoint_auth_methods_supported);
    expect(doc.acr_values_supported).toEqual(['urn:nixa:loa:low', 'urn:nixa:loa:substantial', 'urn:nixa:loa:high']);
  });
});
