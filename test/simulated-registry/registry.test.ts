// The simulated business registry (src/simulated-registry): a real HTTP service
// whose token endpoint is driven by a real OAuth client (openid-client v6,
// client_credentials) and whose API is called as nixa will call it, checked
// against the registry contract (src/registries/contract.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';

import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';

import { ENTERPRISE_CODE, REGISTRY_SCOPE, REPRESENTATIONS_PATH, representationsAnswerSchema, type Organisation } from '../../src/registries/contract.js';
import { SEEDED_ENTERPRISES, startSimulatedRegistry, vietnamDate, type SimulatedRegistry, type SimulatedRegistryClient } from '../../src/simulated-registry/index.js';
import { TEST_CITIZENS } from '../../src/simulated-sources/index.js';
import { freePort } from '../support/nixa.js';

const SECRET_CLIENT = { client_id: 'nixa-secret', client_secret: 'a-long-enough-test-secret-for-the-simulated-registry' };
const AN = '001085004217';
const BINH = '079192038561';
const DUNG = '031178052840';
const DUC = '046069113502';
const SONG_HONG = '0108523417';
const HOAN_KIEM = '0106791235';
const BEN_THANH = '0312456780';
const LACH_TRAY = '0201345678';
const SONG_HAN = '0401562893';
const HAI_VAN = '0402218746';
/** The registry's "today" in these tests: 3 December 2026, 21:00 in Hà Nội. */
const TODAY = new Date('2026-12-03T14:00:00Z');

const started: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
});

let signingKey: JWK;
let clientKeys: Awaited<ReturnType<typeof generateKeyPair>>;
let clientJwk: JWK;
let jwksServer: Server;
let jwksUri: string;
let registry: SimulatedRegistry;
let clock: Date;

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  signingKey = { ...(await exportJWK(privateKey)), kid: 'registry-test-key', alg: 'RS256', use: 'sig' };
  clientKeys = await generateKeyPair('ES256', { extractable: true });
  clientJwk = { ...(await exportJWK(clientKeys.publicKey)), kid: 'nixa-client-key', alg: 'ES256', use: 'sig' };
  // A client's keys published at a URL, as an operator's nixa publishes its own.
  jwksServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [clientJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  started.push({ close: () => new Promise<void>((resolve) => jwksServer.close(() => resolve())) });
  registry = await start();
});

beforeEach(() => {
  clock = TODAY;
  registry.reset();
});

async function start(clients?: SimulatedRegistryClient[]): Promise<SimulatedRegistry> {
  const r = await startSimulatedRegistry({
    clients: clients ?? [SECRET_CLIENT, { client_id: 'nixa-keys', jwks: { keys: [clientJwk] } }, { client_id: 'nixa-keys-at-url', jwks_uri: jwksUri }],
    now: () => clock,
    signingKey,
  });
  started.push(r);
  return r;
}

function discoverWithSecret(r = registry, auth: oidc.ClientAuth = oidc.ClientSecretBasic(SECRET_CLIENT.client_secret)) {
  return oidc.discovery(new URL(r.issuer), SECRET_CLIENT.client_id, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

function discoverWithKey(clientId: string) {
  return oidc.discovery(new URL(registry.issuer), clientId, { token_endpoint_auth_signing_alg: 'ES256' }, oidc.PrivateKeyJwt({ key: clientKeys.privateKey, kid: clientJwk.kid }), {
    execute: [oidc.allowInsecureRequests],
  });
}

async function tokenFor(config?: oidc.Configuration, parameters: Record<string, string> = { scope: REGISTRY_SCOPE }): Promise<string> {
  return (await oidc.clientCredentialsGrant(config ?? (await discoverWithSecret()), parameters)).access_token;
}

function post(token: string | undefined, body: unknown, init: { type?: string; raw?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(`${registry.apiUrl}${REPRESENTATIONS_PATH}`, { method: 'POST', headers, body: init.raw ?? JSON.stringify(body) });
}

/** Asks as nixa does, and checks the answer against the contract. */
async function representationsOf(nationalId: string, enterpriseCode?: string): Promise<Organisation[]> {
  const res = await post(await tokenFor(), { national_id: nationalId, ...(enterpriseCode ? { enterprise_code: enterpriseCode } : {}) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const answer = representationsAnswerSchema.parse(await res.json());
  expect(answer.checked_at).toBe('2026-12-03T14:00:00Z');
  return answer.organisations;
}

/** A token signed with the registry's own key, with the claims oidc-provider gives its tokens, changed by `edit`. */
async function mint(edit: (claims: JWTPayload) => JWTPayload = (c) => c, header: { typ?: string; key?: JWK } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = edit({ iss: registry.issuer, aud: registry.apiUrl, sub: SECRET_CLIENT.client_id, client_id: SECRET_CLIENT.client_id, scope: REGISTRY_SCOPE, iat: now, exp: now + 300, jti: `t${now}${Math.random()}` });
  const key = header.key ?? signingKey;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid!, typ: header.typ ?? 'at+jwt' }).sign(await importJWK(key, 'RS256'));
}

describe('seeded enterprises', () => {
  it('have ten-digit codes whose first two digits name a province, names in Vietnamese and English, and a legal representative', () => {
    const provinces: Record<string, string> = { '01': 'Hà Nội', '02': 'Hải Phòng', '03': 'Hồ Chí Minh', '04': 'Đà Nẵng' };
    for (const e of SEEDED_ENTERPRISES) {
      expect(e.enterpriseCode).toMatch(ENTERPRISE_CODE);
      expect(`${e.enterpriseCode} ${e.address}`).toContain(provinces[e.enterpriseCode.slice(0, 2)]!);
      expect(e.nameVi).toMatch(/^Công ty (TNHH|Cổ phần) /);
      expect(e.nameEn).toMatch(/(Company Limited|Joint Stock Company)$/);
      expect(e.legalRepresentatives.length).toBeGreaterThan(0);
      for (const p of [...e.legalRepresentatives, ...e.mandates]) expect(p.nationalId).toMatch(/^\d{12}$/);
    }
    expect(new Set(SEEDED_ENTERPRISES.map((e) => e.enterpriseCode)).size).toBe(SEEDED_ENTERPRISES.length);
  });

  it('name the test citizens by their own national ID numbers and names', () => {
    const byId = new Map(TEST_CITIZENS.map((c) => [c.nationalId, c.fullName]));
    const people = SEEDED_ENTERPRISES.flatMap((e) => [...e.legalRepresentatives, ...e.mandates]);
    for (const id of [AN, BINH, DUNG, DUC]) {
      const named = people.filter((p) => p.nationalId === id);
      expect(named.length).toBeGreaterThan(0);
      for (const p of named) expect(p.fullName).toBe(byId.get(id));
    }
    // Anyone else named is not a test citizen (so no other test citizen represents anything).
    for (const p of people) if (![AN, BINH, DUNG, DUC].includes(p.nationalId)) expect(byId.has(p.nationalId)).toBe(false);
  });

  it('cannot be changed by a running registry', () => {
    registry.setStatus(SONG_HONG, 'dissolved');
    registry.withdrawMandate(BINH, SONG_HONG);
    const songHong = SEEDED_ENTERPRISES.find((e) => e.enterpriseCode === SONG_HONG)!;
    expect(songHong.status).toBe('active');
    expect(songHong.mandates).toHaveLength(1);
    expect(Object.isFrozen(songHong.mandates[0]!.tasks)).toBe(true);
  });
});

describe('token endpoint', () => {
  it('is found by discovery from the issuer, and gives a client_secret_basic client a JWT for the API alone', async () => {
    const config = await discoverWithSecret();
    expect(config.serverMetadata().token_endpoint).toBe(`${registry.issuer}/token`);
    expect(config.serverMetadata().grant_types_supported).toContain('client_credentials');
    expect(config.serverMetadata().scopes_supported).toContain(REGISTRY_SCOPE);
    expect(config.serverMetadata().token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']));
    // Nobody signs in at a registry: no logout, no pushed authorization requests, no userinfo.
    expect(config.serverMetadata()).not.toHaveProperty('end_session_endpoint');
    expect(config.serverMetadata()).not.toHaveProperty('pushed_authorization_request_endpoint');
    expect(config.serverMetadata()).not.toHaveProperty('userinfo_endpoint');
    const answer = await oidc.clientCredentialsGrant(config, { scope: REGISTRY_SCOPE });
    expect(answer.token_type.toLowerCase()).toBe('bearer');
    expect(answer.scope).toBe(REGISTRY_SCOPE);
    expect(answer.expires_in).toBeGreaterThan(60);
    expect(decodeProtectedHeader(answer.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: signingKey.kid });
    expect(decodeJwt(answer.access_token)).toMatchObject({ iss: registry.issuer, aud: registry.apiUrl, client_id: SECRET_CLIENT.client_id, scope: REGISTRY_SCOPE });
    expect((await post(answer.access_token, { national_id: AN })).status).toBe(200);
  });

  it('takes the secret in the body too (client_secret_post)', async () => {
    const token = await tokenFor(await discoverWithSecret(registry, oidc.ClientSecretPost(SECRET_CLIENT.client_secret)));
    expect((await post(token, { national_id: AN })).status).toBe(200);
  });

  it('takes private_key_jwt with the client keys given inline or at a jwks_uri', async () => {
    for (const clientId of ['nixa-keys', 'nixa-keys-at-url']) {
      const token = await tokenFor(await discoverWithKey(clientId));
      expect(decodeJwt(token)).toMatchObject({ client_id: clientId, aud: registry.apiUrl });
      expect(`${clientId} ${(await post(token, { national_id: AN })).status}`).toBe(`${clientId} 200`);
    }
  });

  it('gives the API as the audience when the client names it as the resource, and refuses any other resource', async () => {
    const config = await discoverWithSecret();
    expect(decodeJwt(await tokenFor(config, { scope: REGISTRY_SCOPE, resource: registry.apiUrl })).aud).toBe(registry.apiUrl);
    await expect(tokenFor(config, { scope: REGISTRY_SCOPE, resource: 'https://tax.example.gov.vn/api' })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('refuses a wrong secret, an unknown client and a signed assertion from a key the client did not register', async () => {
    // A refused client gets 401 with a Basic challenge naming invalid_client (RFC 6749 §5.2).
    const invalidClient = { status: 401, cause: [expect.objectContaining({ parameters: expect.objectContaining({ error: 'invalid_client' }) })] };
    await expect(tokenFor(await discoverWithSecret(registry, oidc.ClientSecretBasic('not-the-secret')))).rejects.toMatchObject(invalidClient);
    await expect(tokenFor(await discoverWithSecret(registry, oidc.ClientSecretPost('not-the-secret')))).rejects.toMatchObject({ status: 401, error: 'invalid_client' });
    const unknown = await oidc.discovery(new URL(registry.issuer), 'stranger', undefined, oidc.ClientSecretBasic('whatever-secret'), { execute: [oidc.allowInsecureRequests] });
    await expect(tokenFor(unknown)).rejects.toMatchObject(invalidClient);
    const other = await generateKeyPair('ES256');
    const forged = await oidc.discovery(new URL(registry.issuer), 'nixa-keys', undefined, oidc.PrivateKeyJwt({ key: other.privateKey, kid: clientJwk.kid }), {
      execute: [oidc.allowInsecureRequests],
    });
    await expect(tokenFor(forged)).rejects.toMatchObject({ status: 401, error: 'invalid_client' });
  });
});

describe('POST /v1/representations', () => {
  it('answers Nguyễn Văn An with the two companies he is legal representative of', async () => {
    const orgs = await representationsOf(AN);
    expect(orgs).toEqual(
      expect.arrayContaining([
        { enterprise_code: SONG_HONG, name_vi: 'Công ty TNHH Phần mềm Sông Hồng', name_en: 'Song Hong Software Company Limited', status: 'active', role: 'legal_representative', valid_until: null },
        { enterprise_code: HOAN_KIEM, name_vi: 'Công ty Cổ phần Thực phẩm Hoàn Kiếm', name_en: 'Hoan Kiem Foods Joint Stock Company', status: 'active', role: 'legal_representative', valid_until: null },
      ]),
    );
    expect(orgs).toHaveLength(2);
  });

  it("answers Trần Thị Bình with her mandate from An's company and her dissolved company", async () => {
    const orgs = await representationsOf(BINH);
    expect(orgs).toHaveLength(2);
    expect(orgs.find((o) => o.enterprise_code === SONG_HONG)).toMatchObject({ role: 'mandate', status: 'active', tasks: ['tax_filing', 'social_insurance'], valid_until: '2027-06-30' });
    expect(orgs.find((o) => o.enterprise_code === BEN_THANH)).toMatchObject({ role: 'legal_representative', status: 'dissolved', name_vi: 'Công ty TNHH Thương mại Bến Thành' });
  });

  it('answers Phạm Thị Dung with her suspended company', async () => {
    expect(await representationsOf(DUNG)).toEqual([expect.objectContaining({ enterprise_code: LACH_TRAY, status: 'suspended', role: 'legal_representative' })]);
  });

  it('answers Hoàng Minh Đức with his valid customs mandate only, not the expired one', async () => {
    expect(await representationsOf(DUC)).toEqual([expect.objectContaining({ enterprise_code: SONG_HAN, role: 'mandate', tasks: ['customs'], valid_until: '2027-12-31' })]);
  });

  it("keeps a mandate through its last day in Vietnam's time, and not a second longer", async () => {
    const haiVan = (orgs: Organisation[]) => orgs.filter((o) => o.enterprise_code === HAI_VAN);
    clock = new Date('2025-06-30T16:59:59Z'); // 23:59:59 on 30 June in Hà Nội
    expect(vietnamDate(clock)).toBe('2025-06-30');
    const res = await post(await tokenFor(), { national_id: DUC });
    expect(haiVan(representationsAnswerSchema.parse(await res.json()).organisations)).toEqual([expect.objectContaining({ valid_until: '2025-06-30', tasks: ['tax_filing', 'invoices'] })]);
    clock = new Date('2025-06-30T17:00:00Z'); // midnight, 1 July in Hà Nội
    const after = await post(await tokenFor(), { national_id: DUC });
    expect(haiVan(representationsAnswerSchema.parse(await after.json()).organisations)).toEqual([]);
  });

  it('answers the other test citizens and an unknown person with an empty list (200, not 404)', async () => {
    for (const c of TEST_CITIZENS.filter((c) => ![AN, BINH, DUNG, DUC].includes(c.nationalId))) expect(`${c.key}: ${(await representationsOf(c.nationalId)).length}`).toBe(`${c.key}: 0`);
    expect(await representationsOf('001090000001')).toEqual([]);
  });

  it('answers only the enterprise asked for when enterprise_code is given', async () => {
    expect(await representationsOf(AN, HOAN_KIEM)).toEqual([expect.objectContaining({ enterprise_code: HOAN_KIEM })]);
    expect(await representationsOf(BINH, SONG_HONG)).toEqual([expect.objectContaining({ enterprise_code: SONG_HONG, role: 'mandate' })]);
    expect(await representationsOf(AN, BEN_THANH)).toEqual([]);
    expect(await representationsOf(DUC, HAI_VAN)).toEqual([]);
    expect(await representationsOf(AN, '0100000000')).toEqual([]);
  });

  it('refuses a bad body with 400 and an OAuth-style error', async () => {
    const token = await tokenFor();
    const cases: [string, unknown, string | undefined][] = [
      ['no national_id', { enterprise_code: SONG_HONG }, undefined],
      ['a short national_id', { national_id: '00108500421' }, undefined],
      ['a number', { national_id: 1085004217 }, undefined],
      ['a nine-digit enterprise code', { national_id: AN, enterprise_code: '108523417' }, undefined],
      ['a misspelt field that would widen the answer', { national_id: AN, enterpriseCode: HOAN_KIEM }, undefined],
      ['an array', [{ national_id: AN }], undefined],
      ['broken JSON', undefined, '{"national_id": "001085004217"'],
    ];
    for (const [what, body, raw] of cases) {
      const res = await post(token, body, raw === undefined ? {} : { raw });
      expect(`${what}: ${res.status}`).toBe(`${what}: 400`);
      expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
    }
    const form = await post(token, undefined, { type: 'application/x-www-form-urlencoded', raw: `national_id=${AN}` });
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('has one route, POST only', async () => {
    const token = await tokenFor();
    const get = await fetch(`${registry.apiUrl}${REPRESENTATIONS_PATH}`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const elsewhere = await fetch(`${registry.apiUrl}/v1/enterprises`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(elsewhere.status).toBe(404);
    // The national ID never travels in the URL: nothing answers there.
    expect((await fetch(`${registry.apiUrl}${REPRESENTATIONS_PATH}/${AN}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });
});

describe('bearer tokens', () => {
  async function refused(token: string | undefined, status = 401) {
    const res = await post(token, { national_id: AN });
    expect(res.status).toBe(status);
    return { challenge: res.headers.get('www-authenticate') ?? '', body: (await res.json()) as { error: string } };
  }

  it('asks for a token when there is none (a challenge without an error code, RFC 6750 §3.1)', async () => {
    const { challenge } = await refused(undefined);
    expect(challenge).toMatch(/^Bearer realm="simulated-registry"/);
    expect(challenge).not.toContain('error=');
    const basic = await fetch(`${registry.apiUrl}${REPRESENTATIONS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${SECRET_CLIENT.client_id}:${SECRET_CLIENT.client_secret}`).toString('base64')}` },
      body: JSON.stringify({ national_id: AN }),
    });
    expect(basic.status).toBe(401);
  });

  it('accepts a token minted here with the claims the token endpoint gives (so the refusals below are each for one reason)', async () => {
    expect((await post(await mint(), { national_id: AN })).status).toBe(200);
  });

  it.each<[string, () => Promise<string>]>([
    ['not a JWT', async () => 'not-a-jwt'],
    ['another audience', () => mint((c) => ({ ...c, aud: 'https://tax.example.gov.vn/api' }))],
    ['the issuer as audience', () => mint((c) => ({ ...c, aud: registry.issuer }))],
    ['expired', () => mint((c) => ({ ...c, iat: c.iat! - 600, exp: c.iat! - 1 }))],
    ['another issuer', () => mint((c) => ({ ...c, iss: 'http://localhost:1' }))],
    ['no expiry', () => mint(({ exp: _exp, ...c }) => c)],
    ['an ID token, not an access token (typ JWT)', () => mint((c) => c, { typ: 'JWT' })],
  ])('refuses a token that is %s with 401 invalid_token', async (_what, token) => {
    const { challenge, body } = await refused(await token());
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="invalid_token"');
    expect(body.error).toBe('invalid_token');
  });

  it('refuses a token signed by a key the registry does not publish, even under its kid', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const foreign = { ...(await exportJWK(privateKey)), kid: signingKey.kid };
    expect((await refused(await mint((c) => c, { key: foreign }))).challenge).toContain('error="invalid_token"');
  });

  it('refuses a token from another registry (its own key, issuer and audience)', async () => {
    const other = await startSimulatedRegistry({ clients: [SECRET_CLIENT] });
    started.push(other);
    expect((await refused(await tokenFor(await discoverWithSecret(other)))).challenge).toContain('error="invalid_token"');
  });

  it('refuses a valid token without representation.read with 403 insufficient_scope (RFC 6750 §3.1)', async () => {
    for (const token of [await mint(({ scope: _s, ...c }) => c), await mint((c) => ({ ...c, scope: 'representation.write' })), await tokenFor(undefined, {})]) {
      const { challenge, body } = await refused(token, 403);
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain(`scope="${REGISTRY_SCOPE}"`);
      expect(body.error).toBe('insufficient_scope');
    }
  });

  it('checks the token before the body', async () => {
    const res = await post(undefined, { national_id: 'nonsense' });
    expect(res.status).toBe(401);
  });
});

describe('misbehaviour', () => {
  it('down: 503 on everything, the token endpoint and discovery included; normal brings it back', async () => {
    const config = await discoverWithSecret();
    const token = await tokenFor(config);
    registry.misbehave({ mode: 'down' });
    expect((await post(token, { national_id: AN })).status).toBe(503);
    expect((await fetch(`${registry.issuer}/.well-known/openid-configuration`)).status).toBe(503);
    await expect(tokenFor(config)).rejects.toBeDefined();
    registry.misbehave({ mode: 'normal' });
    expect((await post(token, { national_id: AN })).status).toBe(200);
  });

  it('delay: the API answers no sooner than the delay', async () => {
    const token = await tokenFor();
    registry.misbehave({ mode: 'delay', ms: 300 });
    const t0 = performance.now();
    const res = await post(token, { national_id: AN });
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('wrong-answer: 200 with a body the contract refuses, for a person with organisations and one without', async () => {
    const token = await tokenFor();
    registry.misbehave({ mode: 'wrong-answer' });
    for (const nationalId of [AN, '001090000001']) {
      const res = await post(token, { national_id: nationalId });
      expect(res.status).toBe(200);
      expect(representationsAnswerSchema.safeParse(await res.json()).success).toBe(false);
    }
  });

  it('bad-token: the API refuses every token while the token endpoint still gives them', async () => {
    registry.misbehave({ mode: 'bad-token' });
    const token = await tokenFor();
    const res = await post(token, { national_id: AN });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses an unknown or malformed misbehaviour', () => {
    expect(() => registry.misbehave({ mode: 'deny' } as never)).toThrow(/mode/);
    expect(() => registry.misbehave({ mode: 'delay', ms: -5 })).toThrow(/ms/);
  });
});

describe('changing the records', () => {
  it('withdrawMandate: the mandate is gone from the next answer, the legal representative keeps his companies', async () => {
    registry.withdrawMandate(BINH, SONG_HONG);
    expect(await representationsOf(BINH, SONG_HONG)).toEqual([]);
    expect(await representationsOf(BINH)).toEqual([expect.objectContaining({ enterprise_code: BEN_THANH })]);
    expect(await representationsOf(AN)).toHaveLength(2);
    expect(() => registry.withdrawMandate(BINH, SONG_HONG)).toThrow(/no mandate/);
    expect(() => registry.withdrawMandate(AN, '0199999999')).toThrow(/no enterprise/);
  });

  it("setStatus: a company's status changes for its legal representative and for those it mandated", async () => {
    registry.setStatus(SONG_HONG, 'dissolved');
    expect(await representationsOf(AN, SONG_HONG)).toEqual([expect.objectContaining({ status: 'dissolved' })]);
    expect(await representationsOf(BINH, SONG_HONG)).toEqual([expect.objectContaining({ status: 'dissolved', role: 'mandate' })]);
    expect(() => registry.setStatus(SONG_HONG, 'closed' as never)).toThrow(/status/);
  });

  it('reset: the seed again, normal behaviour and a zero count', async () => {
    registry.withdrawMandate(BINH, SONG_HONG);
    registry.setStatus(HOAN_KIEM, 'suspended');
    registry.misbehave({ mode: 'wrong-answer' });
    registry.reset();
    expect(registry.requests()).toBe(0);
    expect(await representationsOf(BINH, SONG_HONG)).toHaveLength(1);
    expect(await representationsOf(AN, HOAN_KIEM)).toEqual([expect.objectContaining({ status: 'active' })]);
  });

  it('requests(): counts each call to the API, whatever its answer, and no token request', async () => {
    const token = await tokenFor();
    await tokenFor();
    expect(registry.requests()).toBe(0);
    await post(token, { national_id: AN });
    await post(undefined, { national_id: AN });
    await post(token, { national_id: 'x' });
    registry.misbehave({ mode: 'down' });
    await post(token, { national_id: AN });
    expect(registry.requests()).toBe(4);
  });
});

describe('control endpoints', () => {
  const control = (path: string, body: unknown, type = 'application/json', base = registry.url) =>
    fetch(`${base}/__sim/${path}`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });

  it('set the misbehaviour and change the records over HTTP from loopback, also while down', async () => {
    expect((await control('misbehave', { mode: 'down' })).status).toBe(200);
    expect(await (await fetch(`${registry.url}/__sim/misbehave`)).json()).toEqual({ mode: 'down' });
    expect((await control('withdraw-mandate', { national_id: BINH, enterprise_code: SONG_HONG })).status).toBe(200);
    expect((await control('status', { enterprise_code: HOAN_KIEM, status: 'suspended' })).status).toBe(200);
    expect(await (await control('misbehave', { mode: 'normal' })).json()).toEqual({ mode: 'normal' });
    expect(await representationsOf(BINH, SONG_HONG)).toEqual([]);
    expect(await representationsOf(AN, HOAN_KIEM)).toEqual([expect.objectContaining({ status: 'suspended' })]);
    expect((await control('reset', {})).status).toBe(200);
    expect(await representationsOf(BINH, SONG_HONG)).toHaveLength(1);
  });

  it('refuse bad input with 400, non-JSON with 415, other methods with 405', async () => {
    const bad = await control('misbehave', { mode: 'delay', ms: -1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error_description: string }).error_description).toMatch(/^ms:/);
    expect((await control('withdraw-mandate', { national_id: DUC, enterprise_code: SONG_HONG })).status).toBe(400);
    expect((await control('status', { enterprise_code: SONG_HONG, status: 'closed' })).status).toBe(400);
    expect((await control('misbehave', { mode: 'down' }, 'text/plain')).status).toBe(415);
    expect((await fetch(`${registry.url}/__sim/reset`)).status).toBe(405);
    expect(await (await fetch(`${registry.url}/__sim/misbehave`)).json()).toEqual({ mode: 'normal' });
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  (external ? it : it.skip)('refuse callers that are not on loopback', async () => {
    const open = await startSimulatedRegistry({ clients: [SECRET_CLIENT], host: '0.0.0.0' });
    started.push(open);
    const port = new URL(open.url).port;
    const res = await control('misbehave', { mode: 'down' }, 'application/json', `http://${external}:${port}`);
    expect(res.status).toBe(403);
    expect((await fetch(`http://${external}:${port}/.well-known/openid-configuration`)).status).toBe(200);
  });
});

describe('starting and closing', () => {
  it('refuses a client with no way, or two ways, to authenticate, a bad key set or a bad signing key, and releases the port', async () => {
    const port = await freePort();
    await expect(startSimulatedRegistry({ port, clients: [{ client_id: 'none' } as never] })).rejects.toThrow(/exactly one/);
    await expect(startSimulatedRegistry({ port, clients: [{ client_id: 'two', client_secret: 'x'.repeat(32), jwks_uri: jwksUri } as never] })).rejects.toThrow(/exactly one/);
    // A private key given where the client's public keys belong.
    const privateJwk = { ...(await exportJWK(clientKeys.privateKey)), kid: 'oops' };
    await expect(startSimulatedRegistry({ port, clients: [{ client_id: 'bad-keys', jwks: { keys: [privateJwk] } }] })).rejects.toThrow(/bad-keys: .*must not be provided/);
    await expect(startSimulatedRegistry({ port, clients: [SECRET_CLIENT, SECRET_CLIENT] })).rejects.toThrow(/twice/);
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    await expect(startSimulatedRegistry({ port, clients: [SECRET_CLIENT], signingKey: { ...(await exportJWK(publicKey)), kid: 'public-only' } })).rejects.toThrow(/signingKey/);
    await expect(startSimulatedRegistry({ port, clients: [SECRET_CLIENT], signingKey: { ...clientJwk, d: 'x' } })).rejects.toThrow(/RSA/);
    const again = await startSimulatedRegistry({ port, clients: [SECRET_CLIENT] });
    expect(again.issuer).toBe(`http://localhost:${port}`);
    expect(again.apiUrl).toBe(`http://localhost:${port}/api`);
    await again.close();
  });

  it('stops listening', async () => {
    const r = await startSimulatedRegistry({ clients: [] });
    expect((await fetch(`${r.url}/.well-known/openid-configuration`)).status).toBe(200);
    await r.close();
    await expect(fetch(`${r.url}/.well-known/openid-configuration`)).rejects.toBeDefined();
  });
});
