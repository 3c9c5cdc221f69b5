// nixa/verify as a public service uses it: against a running nixa over real HTTP,
// its discovery document and JWKS. Tokens at given levels are signed with nixa's
// own active signing key (the test login states urn:nixa:test, which is no level),
// exactly as nixa signs them: same key, same kid, same issuer.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK, type JWTHeaderParameters, SignJWT } from 'jose';

import type { Nixa } from '../../src/app/index.js';
import { ACR_VALUES, acrFor, atLeast, LEVELS, levelOfAcr } from '../../src/assurance/index.js';
import { rotateKeys } from '../../src/keys/index.js';
import * as published from '../../src/verify/index.js';
import { createVerifier, NixaUnavailableError, requireLevel, type VerifierOptions, type VerifyFailure } from '../../src/verify/index.js';
import { atLeast as publishedAtLeast } from '../../src/verify/levels.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, startTestNixa } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The resource identifier of a service's API, the audience of its JWT access tokens. */
const API = 'https://api.dichvucong.example.gov.vn/ho-tich';
const CITIZEN = { sub: 'tran-thi-binh', name: 'Trần Thị Bình' };

let tdb: TestDatabase;
let nixa: Nixa;
let client: TestClient;
let issuer: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, { NIXA_TEST_LOGIN: 'true' });
  issuer = nixa.config.issuer;
  client = await registerTestClient(tdb.db);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

// --- helpers ---------------------------------------------------------------

type Alg = 'ES256' | 'RS256';

/** nixa's active signing key for an algorithm, private part included (the one without key_ops). */
function activeKey(alg: Alg = 'ES256'): JWK {
  const jwk = nixa.keyring.snapshot.providerJwks.find((k) => !k.key_ops && k.alg === alg);
  if (!jwk) throw new Error(`nixa has no active ${alg} key`);
  return jwk;
}

const now = () => Math.floor(Date.now() / 1000);

interface MintOptions {
  alg?: Alg;
  jwk?: JWK;
  /** null: no kid in the header. */
  kid?: string | null;
  typ?: string;
}

/** A token as nixa would sign it: an ID token at high for CITIZEN unless claims say otherwise (undefined drops a claim). */
async function mint(claims: Record<string, unknown> = {}, opts: MintOptions = {}): Promise<string> {
  const alg = opts.alg ?? 'ES256';
  const jwk = opts.jwk ?? activeKey(alg);
  const header: JWTHeaderParameters = { alg };
  const kid = opts.kid === undefined ? jwk.kid : opts.kid;
  if (kid) header.kid = kid;
  if (opts.typ) header.typ = opts.typ;
  const t = now();
  return new SignJWT({
    iss: issuer,
    aud: client.clientId,
    ...CITIZEN,
    iat: t,
    exp: t + 600,
    auth_time: t - 30,
    acr: acrFor('high'),
    amr: ['hwk', 'user', 'fed'],
    ...claims,
  })
    .setProtectedHeader(header)
    .sign(await importJWK(jwk, alg));
}

/** A JWT access token (RFC 9068) for the service's API. */
function mintAccessToken(claims: Record<string, unknown> = {}, opts: MintOptions = {}): Promise<string> {
  return mint({ aud: API, client_id: client.clientId, jti: `at-${Math.random().toString(36).slice(2)}`, scope: 'openid', ...claims }, { typ: 'at+jwt', ...opts });
}

/** A fetch that records what the verifier asked nixa for. */
function countingFetch() {
  const urls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  return {
    fetch: counted,
    jwks: () => urls.filter((u) => new URL(u).pathname === '/jwks').length,
    discovery: () => urls.filter((u) => u.endsWith('/.well-known/openid-configuration')).length,
  };
}

const verifierFor = (opts: Partial<VerifierOptions> = {}) => createVerifier({ issuer, audience: client.clientId, ...opts });

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function expectInvalid(result: unknown, description: string) {
  expect(result).toEqual({ ok: false, error: 'invalid_token', description });
}

// --- tests -----------------------------------------------------------------

describe('a token nixa signed', () => {
  it('is accepted with its claims, acr and level, signed with ES256 or RS256', async () => {
    const verifier = verifierFor();
    for (const alg of ['ES256', 'RS256'] as const) {
      const result = await verifier.verifyIdToken(await mint({}, { alg }));
      expect(result).toMatchObject({ ok: true, acr: 'urn:nixa:loa:high', level: 'high' });
      if (!result.ok) throw new Error(result.description);
      expect(result.claims).toMatchObject({ iss: issuer, aud: client.clientId, sub: 'tran-thi-binh', name: 'Trần Thị Bình', amr: ['hwk', 'user', 'fed'] });
    }
  });

  it('is checked for real: the ID token from a sign-in at nixa passes signature, issuer and audience, and is refused only for its test acr, which is no nixa level', async () => {
    const rp = await discover(issuer, client);
    const idToken = (await redeem(rp, await signIn(rp, client, { account: 'tran-thi-binh' }))).id_token!;
    const result = await verifierFor().verifyIdToken(idToken);
    expect(result).toMatchObject({
      ok: false,
      error: 'insufficient_user_authentication',
      acr: 'urn:nixa:test',
      acrValues: ['urn:nixa:loa:low'],
      description: 'Authentication at assurance level low or above is required; the token is at no nixa level',
    });
    expect((result as { level?: string }).level).toBeUndefined();
    expect((result as { claims: { sub: string } }).claims.sub).toBe('tran-thi-binh');

    expectInvalid(await verifierFor({ audience: 'another-service' }).verifyIdToken(idToken), 'The token is meant for another audience');
  });

  it('accepts a JWT access token (typ at+jwt) for the API, and keeps ID tokens and access tokens apart', async () => {
    const verifier = verifierFor({ audience: API });
    const accessToken = await mintAccessToken();
    expect(await verifier.verifyAccessToken(accessToken)).toMatchObject({ ok: true, level: 'high', claims: { client_id: client.clientId, aud: API } });
    expectInvalid(await verifier.verifyAccessToken(await mint({ aud: API })), 'The token is not a JWT access token');
    expectInvalid(await verifier.verifyIdToken(accessToken), 'The token is not an ID token');
    expectInvalid(await verifier.verifyAccessToken(await mintAccessToken({ client_id: undefined })), 'The token lacks the client_id claim');
    expectInvalid(await verifier.verifyAccessToken(await mintAccessToken({ jti: undefined })), 'The token lacks the jti claim');
    // RFC 9449 §7.2: a token bound to a key is not a bearer token, whatever the binding.
    expectInvalid(
      await verifier.verifyAccessToken(await mintAccessToken({ cnf: { jkt: 'kL1yGzXf0wV0mQ3eVb3x5S3tDq2mX1mVwYx0bY3aZcE' } })),
      'The token is bound to a DPoP key: present it with the DPoP scheme and a proof',
    );
    expectInvalid(await verifier.verifyAccessToken(await mintAccessToken({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } })), 'The token is bound to a key (cnf): it is not a bearer token');
  });
});

describe('a token refused as invalid_token (RFC 6750)', () => {
  it('is refused when meant for another audience', async () => {
    const verifier = verifierFor();
    const result = await verifier.verifyIdToken(await mint({ aud: 'cong-thue-dien-tu' }));
    expectInvalid(result, 'The token is meant for another audience');
    expect(verifier.challenge(result as VerifyFailure)).toBe('Bearer error="invalid_token", error_description="The token is meant for another audience"');
    // Several audiences: one must be ours and azp must name us.
    expectInvalid(await verifier.verifyIdToken(await mint({ aud: [client.clientId, 'cong-thue-dien-tu'] })), 'The token has several audiences and no azp');
    expectInvalid(
      await verifier.verifyIdToken(await mint({ aud: [client.clientId, 'cong-thue-dien-tu'], azp: 'cong-thue-dien-tu' })),
      'The token was issued to another client (azp)',
    );
    expect(await verifier.verifyIdToken(await mint({ aud: [client.clientId, 'cong-thue-dien-tu'], azp: client.clientId }))).toMatchObject({ ok: true });
  });

  it('is refused when issued by another issuer, even when signed with a key nixa publishes', async () => {
    expectInvalid(await verifierFor().verifyIdToken(await mint({ iss: 'https://id.gia-mao.example' })), 'The token was not issued by this nixa');
    expectInvalid(await verifierFor().verifyIdToken(await mint({ iss: `${issuer}/` })), 'The token was not issued by this nixa');
  });

  it('is refused once expired beyond the clock tolerance, and accepted within it', async () => {
    const verifier = verifierFor({ clockToleranceSeconds: 15 });
    const t = now();
    const expired = await verifier.verifyIdToken(await mint({ iat: t - 700, exp: t - 60 }));
    expectInvalid(expired, 'The token has expired');
    expect(verifier.challenge(expired as VerifyFailure)).toBe('Bearer error="invalid_token", error_description="The token has expired"');
    expect(await verifier.verifyIdToken(await mint({ iat: t - 605, exp: t - 5 }))).toMatchObject({ ok: true });
    expectInvalid(await verifierFor({ clockToleranceSeconds: 0 }).verifyIdToken(await mint({ iat: t - 605, exp: t - 5 })), 'The token has expired');
    expectInvalid(await verifier.verifyIdToken(await mint({ exp: undefined })), 'The token lacks the exp claim');
    expectInvalid(await verifier.verifyIdToken(await mint({ nbf: t + 120 })), 'The token is not valid yet');
    expectInvalid(await verifier.verifyIdToken(await mint({ iat: t + 120 })), 'The token was issued in the future');
  });

  it('is refused when signed by a key nixa does not publish, without refetching nixa’s JWKS more than once per cooldown', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const stranger = { ...(await exportJWK(privateKey)), kid: 'khoa-la-khong-ro-nguon-goc', alg: 'ES256' };

    const counter = countingFetch();
    const verifier = verifierFor({ fetch: counter.fetch });
    expect(await verifier.verifyIdToken(await mint())).toMatchObject({ ok: true });
    expect(counter.jwks()).toBe(1);
    expectInvalid(await verifier.verifyIdToken(await mint({}, { jwk: stranger })), 'The token is signed with a key nixa does not publish');
    expectInvalid(await verifier.verifyIdToken(await mint({}, { jwk: stranger })), 'The token is signed with a key nixa does not publish');
    expect(counter.jwks()).toBe(1); // within the 30 s cooldown: the unknown kid is not worth a refetch

    const eager = countingFetch();
    const noCooldown = verifierFor({ fetch: eager.fetch, jwksCooldownSeconds: 0 });
    expect(await noCooldown.verifyIdToken(await mint())).toMatchObject({ ok: true });
    expectInvalid(await noCooldown.verifyIdToken(await mint({}, { jwk: stranger })), 'The token is signed with a key nixa does not publish');
    expect(eager.jwks()).toBe(2); // looked again, found nothing
    expect(eager.discovery()).toBe(1);

    // A stranger's key passing itself off under nixa's kid: the signature gives it away.
    expectInvalid(await verifier.verifyIdToken(await mint({}, { jwk: stranger, kid: activeKey().kid! })), 'The token signature is invalid');
  });

  it('is refused when malformed, tampered with, unsigned or signed with a shared secret', async () => {
    const verifier = verifierFor();
    const good = await mint({ acr: acrFor('low') });
    const [header, , signature] = good.split('.');
    const kid = activeKey().kid!;
    const hs256 = await new SignJWT({ iss: issuer, aud: client.clientId, sub: CITIZEN.sub, exp: now() + 600, iat: now(), acr: acrFor('high') })
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode('một-bí-mật-dùng-chung-đủ-dài-32-byte'));
    const notJson = await new CompactSign(new TextEncoder().encode('không phải JSON'))
      .setProtectedHeader({ alg: 'ES256', kid })
      .sign(await importJWK(activeKey(), 'ES256'));

    const cases: [string, unknown, string][] = [
      ['nothing', '', 'No token was given'],
      ['undefined', undefined, 'No token was given'],
      ['an object', { token: good }, 'No token was given'],
      ['a word', 'abc', 'The token is not a well-formed signed JWT'],
      ['three junk parts', 'a.b.c', 'The token is not a well-formed signed JWT'],
      ['a header that is not JSON', `${b64('{alg')}.${b64({ sub: 'x' })}.${signature}`, 'The token is not a well-formed signed JWT'],
      ['two parts', `${header}.${signature}`, 'The token is not a well-formed signed JWT'],
      ['an encrypted token (JWE)', 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d', 'The token is not a well-formed signed JWT'],
      ['surrounding spaces', ` ${good} `, 'The token is not a well-formed signed JWT'],
      ['an oversized token', `${header}.${'A'.repeat(20_000)}.${signature}`, 'The token is too long'],
      ['alg none, no signature', `${b64({ alg: 'none', kid })}.${b64({ iss: issuer, aud: client.clientId, sub: 'x', acr: acrFor('high') })}.`, 'The token is not a well-formed signed JWT'],
      ['alg none, with a fake signature', `${b64({ alg: 'none', kid })}.${b64({ iss: issuer, aud: client.clientId, sub: 'x' })}.AAAA`, 'The token is signed with an algorithm nixa does not use'],
      ['HS256 under nixa’s kid', hs256, 'The token is signed with an algorithm nixa does not use'],
      ['no kid', await mint({}, { kid: null }), 'The token does not name its signing key (kid)'],
      ['a payload raised to high after signing', `${header}.${b64({ ...JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString()), acr: acrFor('high') })}.${signature}`, 'The token signature is invalid'],
      ['a signed payload that is not JSON', notJson, 'The token is not a well-formed signed JWT'],
      ['a logout token', await mint({ events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }, { typ: 'logout+jwt' }), 'The token is not an ID token'],
      ['a logout token without typ', await mint({ events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }), 'The token is not an ID token'],
      ['a non-string sub', await mint({ sub: 42 }), "The token's sub claim is malformed"],
      ['a non-numeric auth_time', await mint({ auth_time: 'hôm qua' }), "The token's auth_time claim is malformed"],
    ];
    for (const [what, token, description] of cases) {
      const result = await verifier.verifyIdToken(token as string);
      expect({ what, result }).toEqual({ what, result: { ok: false, error: 'invalid_token', description } });
      expect(verifier.challenge(result as VerifyFailure)).toBe(`Bearer error="invalid_token", error_description="${description.replace(/"/g, "'")}"`);
    }
    expect(await verifier.verifyIdToken(good)).toMatchObject({ ok: true, level: 'low' });
  });
});

describe('assurance (RFC 9470)', () => {
  it('refuses a token below the minimum with insufficient_user_authentication and the exact challenge', async () => {
    const verifier = verifierFor({ minimumAcr: 'urn:nixa:loa:high' });
    const result = await verifier.verifyIdToken(await mint({ acr: acrFor('substantial') }));
    expect(result).toMatchObject({
      ok: false,
      error: 'insufficient_user_authentication',
      acr: 'urn:nixa:loa:substantial',
      level: 'substantial',
      acrValues: ['urn:nixa:loa:high'],
      claims: { sub: 'tran-thi-binh' },
    });
    expect(verifier.challenge(result as VerifyFailure)).toBe(
      'Bearer error="insufficient_user_authentication", ' +
        'error_description="Authentication at assurance level high or above is required; the token is at substantial", ' +
        'acr_values="urn:nixa:loa:high"',
    );
  });

  it('orders the levels low < substantial < high: a token passes every minimum at or below its level', async () => {
    const verifier = verifierFor();
    for (const tokenLevel of LEVELS) {
      const token = await mint({ acr: acrFor(tokenLevel) });
      for (const minimum of LEVELS) {
        const result = await verifier.verifyIdToken(token, { minimumAcr: minimum });
        const expected = LEVELS.indexOf(tokenLevel) >= LEVELS.indexOf(minimum);
        expect({ tokenLevel, minimum, ok: result.ok }).toEqual({ tokenLevel, minimum, ok: expected });
        if (!result.ok) expect(result.error).toBe('insufficient_user_authentication');
      }
    }
  });

  it('treats a token without acr, or with an acr that is no nixa level, as below every level', async () => {
    const verifier = verifierFor();
    for (const acr of [undefined, 'urn:nixa:test', 'urn:nixa:loa:HIGH', 'http://eidas.europa.eu/LoA/high']) {
      const result = await verifier.verifyIdToken(await mint({ acr }));
      expect(result).toMatchObject({ ok: false, error: 'insufficient_user_authentication', acrValues: ['urn:nixa:loa:low'] });
    }
  });

  it('asks for a fresh authentication with max_age when auth_time is older than asked, and states the level needed too', async () => {
    const verifier = verifierFor({ maxAge: 300, minimumAcr: 'substantial' });
    const t = now();
    expect(await verifier.verifyIdToken(await mint({ auth_time: t - 290 }))).toMatchObject({ ok: true });
    const old = await verifier.verifyIdToken(await mint({ auth_time: t - 3600 }));
    expect(old).toMatchObject({ ok: false, error: 'insufficient_user_authentication', maxAge: 300, level: 'high' });
    expect(verifier.challenge(old as VerifyFailure)).toBe(
      'Bearer error="insufficient_user_authentication", error_description="Authentication within the last 300 seconds is required", ' +
        'acr_values="urn:nixa:loa:substantial", max_age="300"',
    );
    const both = await verifier.verifyIdToken(await mint({ auth_time: undefined, acr: acrFor('low') }));
    expect(verifier.challenge(both as VerifyFailure)).toBe(
      'Bearer error="insufficient_user_authentication", ' +
        'error_description="Authentication at assurance level substantial or above is required; the token is at low; Authentication within the last 300 seconds is required", ' +
        'acr_values="urn:nixa:loa:substantial", max_age="300"',
    );
    // A call's own requirements replace the verifier's.
    expect(await verifier.verifyIdToken(await mint({ auth_time: t - 3600, acr: acrFor('low') }), { minimumAcr: 'low', maxAge: 7200 })).toMatchObject({ ok: true });
  });

  it('names the option when a level is misspelt', () => {
    expect(() => verifierFor({ minimumAcr: 'cao' as never })).toThrow(/minimumAcr must be one of low, substantial, high, urn:nixa:loa:low/);
    expect(() => requireLevel(verifierFor(), 'urn:nixa:loa:very-high' as never)).toThrow(TypeError);
    expect(() => verifierFor({ issuer: 'id.example.gov.vn' })).toThrow(/issuer must be nixa's issuer URL/);
    expect(() => verifierFor({ audience: '' })).toThrow(/audience/);
  });
});

describe('requireLevel', () => {
  const guard = () => requireLevel(verifierFor({ audience: API }), 'high');

  it('lets a request through with the claims when its access token is at the level', async () => {
    const outcome = await guard()(`Bearer ${await mintAccessToken()}`);
    expect(outcome).toMatchObject({ status: 200, level: 'high', acr: 'urn:nixa:loa:high', claims: { sub: 'tran-thi-binh', client_id: client.clientId } });
    expect(await guard()(`bearer ${await mintAccessToken()}`)).toMatchObject({ status: 200 });
  });

  it('answers 401 with the RFC 9470 challenge when the level is too low', async () => {
    const outcome = await guard()(`Bearer ${await mintAccessToken({ acr: acrFor('substantial') })}`);
    expect(outcome).toMatchObject({ status: 401 });
    expect((outcome as { wwwAuthenticate: string }).wwwAuthenticate).toBe(
      'Bearer error="insufficient_user_authentication", ' +
        'error_description="Authentication at assurance level high or above is required; the token is at substantial", ' +
        'acr_values="urn:nixa:loa:high"',
    );
    const withAge = await requireLevel(verifierFor({ audience: API }), 'high', { maxAge: 60 })(`Bearer ${await mintAccessToken({ auth_time: now() - 600 })}`);
    expect((withAge as { wwwAuthenticate: string }).wwwAuthenticate).toBe(
      'Bearer error="insufficient_user_authentication", error_description="Authentication within the last 60 seconds is required", ' +
        'acr_values="urn:nixa:loa:high", max_age="60"',
    );
  });

  it('answers 401 invalid_token for a bad token, 401 with a bare challenge without one, and 400 for a malformed header', async () => {
    const check = guard();
    expect(await check(`Bearer ${await mint()}`)).toMatchObject({
      status: 401,
      wwwAuthenticate: 'Bearer error="invalid_token", error_description="The token is not a JWT access token"',
    });
    expect(await check(`Bearer ${await mintAccessToken({ exp: now() - 3600, iat: now() - 4200 })}`)).toMatchObject({
      status: 401,
      wwwAuthenticate: 'Bearer error="invalid_token", error_description="The token has expired"',
    });
    expect(await check('Bearer a.b.c')).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer error="invalid_token", error_description="The token is not a well-formed signed JWT"' });
    for (const missing of [undefined, null, '', '   ', 'Basic dHJhbi10aGktYmluaDptYXQta2hhdQ==', 'Bearerx']) {
      expect({ missing, outcome: await check(missing) }).toEqual({ missing, outcome: { status: 401, wwwAuthenticate: 'Bearer' } });
    }
    for (const malformed of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "token"', ['Bearer a.b.c', 'Bearer d.e.f']]) {
      const outcome = await check(malformed);
      expect({ malformed, status: outcome.status }).toEqual({ malformed, status: 400 });
      expect((outcome as { wwwAuthenticate: string }).wwwAuthenticate).toMatch(/^Bearer error="invalid_request", error_description="[^"]+"$/);
    }
  });
});

describe('nixa’s keys', () => {
  it('fetches discovery and JWKS once and reuses them across calls', async () => {
    const counter = countingFetch();
    const verifier = verifierFor({ fetch: counter.fetch });
    await Promise.all([verifier.verifyIdToken(await mint()), verifier.verifyIdToken(await mint({}, { alg: 'RS256' }))]);
    for (let i = 0; i < 5; i++) expect(await verifier.verifyIdToken(await mint())).toMatchObject({ ok: true });
    expect({ discovery: counter.discovery(), jwks: counter.jwks() }).toEqual({ discovery: 1, jwks: 1 });
  });

  it('throws NixaUnavailableError (not a verdict on the token) when nixa cannot be reached, and tries again on the next call', async () => {
    const token = await mint();
    const nowhere = createVerifier({ issuer: `http://127.0.0.1:${await freePort()}`, audience: client.clientId, timeoutMs: 2_000 });
    await expect(nowhere.verifyIdToken(token)).rejects.toThrow(NixaUnavailableError);
    await expect(requireLevel(nowhere, 'low')(`Bearer ${await mintAccessToken()}`)).rejects.toThrow(NixaUnavailableError);

    // A discovery document naming another issuer is refused: its keys are not nixa's.
    const counter = countingFetch();
    const misnamed = createVerifier({ issuer: `${issuer}/`, audience: client.clientId, fetch: counter.fetch });
    await expect(misnamed.verifyIdToken(token)).rejects.toThrow(/names the issuer/);
    await expect(misnamed.verifyIdToken(token)).rejects.toThrow(NixaUnavailableError);
    expect(counter.discovery()).toBe(2);
  });

  it('verifies a token signed by a freshly rotated key without being recreated, and still the tokens of the retired key', async () => {
    const counter = countingFetch();
    const verifier = verifierFor({ fetch: counter.fetch, minimumAcr: 'high' });
    const before = await mint();
    expect(await verifier.verifyIdToken(before)).toMatchObject({ ok: true });

    await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { reason: 'kiểm thử xoay khóa' });
    await nixa.keyring.refresh();
    const after = await mint();
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);

    expect(await verifier.verifyIdToken(after)).toMatchObject({ ok: true, level: 'high' });
    expect(await verifier.verifyIdToken(before)).toMatchObject({ ok: true });
    expect(await verifier.verifyIdToken(await mint({}, { alg: 'RS256' }))).toMatchObject({ ok: true });
    // nixa published the new key as "next" before it signed: the cached JWKS already had it.
    expect(counter.jwks()).toBe(1);
  });

  it('fetches the JWKS again for a kid it has not seen: a key created after its last fetch', async () => {
    const counter = countingFetch();
    const verifier = verifierFor({ fetch: counter.fetch, jwksCooldownSeconds: 0 });
    expect(await verifier.verifyIdToken(await mint())).toMatchObject({ ok: true });

    // Two rotations: the key that signs now was created (as "next") after the verifier fetched.
    for (let i = 0; i < 2; i++) {
      await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { reason: 'kiểm thử xoay khóa' });
      await nixa.keyring.refresh();
    }
    const fresh = await mint();
    expect(await verifier.verifyIdToken(fresh)).toMatchObject({ ok: true });
    expect(counter.jwks()).toBe(2);
    expect(await verifier.verifyIdToken(fresh)).toMatchObject({ ok: true });
    expect(counter.jwks()).toBe(2);
  });
});

describe('the published module', () => {
  it('is exported as nixa/verify with its types', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    expect(pkg.exports?.['./verify']).toEqual({ types: './dist/src/verify/index.d.ts', default: './dist/src/verify/index.js' });
  });

  it('states the same levels, in the same order, with the same acr values as nixa’s assurance policy', () => {
    expect(published.LEVELS).toEqual(LEVELS);
    expect(published.LEVELS.map(published.acrFor)).toEqual(ACR_VALUES);
    for (const acr of [...ACR_VALUES, 'urn:nixa:test', '']) expect(published.levelOfAcr(acr)).toBe(levelOfAcr(acr));
    for (const a of LEVELS) for (const b of LEVELS) expect(publishedAtLeast(a, b)).toBe(atLeast(a, b));
  });

  it('compiles on its own, from src/verify and the import-free levels file, into JavaScript that imports nothing but jose', () => {
    // Under the project, so that the built module finds jose in node_modules as a service's would.
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    const out = mkdtempSync(join(ROOT, 'test-output', 'verify-build-'));
    try {
      execFileSync(
        process.execPath,
        [
          'node_modules/typescript/bin/tsc',
          'src/verify/index.ts',
          ...['--outDir', out, '--rootDir', '.', '--declaration', '--strict', '--skipLibCheck'],
          ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node'],
        ],
        { cwd: ROOT, stdio: 'pipe' },
      );
      const files = (readdirSync(out, { recursive: true }) as string[]).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts')).map((f) => relative(out, join(out, f)));
      const modules = files.filter((f) => f.endsWith('.js'));
      expect(modules.filter((f) => !f.startsWith('src/verify/'))).toEqual(['src/assurance/levels.js']);
      expect(files).toEqual(expect.arrayContaining(['src/verify/index.d.ts', 'src/verify/index.js']));
      const specifiers = modules.flatMap((f) => [...readFileSync(join(out, f), 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]!));
      expect([...new Set(specifiers.filter((s) => !s.startsWith('.')))]).toEqual(['jose']);

      const exported = execFileSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(join(out, 'src/verify/index.js'))}).then((m) => console.log(Object.keys(m).sort().join(',')))`], {
        cwd: ROOT,
      }).toString();
      expect(exported.trim()).toBe('DPOP_ALGORITHMS,LEVELS,NixaUnavailableError,acrFor,bearerChallenge,createVerifier,dpopChallenge,dpopNonces,levelOfAcr,memoryReplayStore,requireLevel');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
