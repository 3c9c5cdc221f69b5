// nixa/verify at a FAPI 2.0 service's API (issue 15 §2, RFC 9449 §4.3, §7):
// DPoP-bound access tokens issued by a real nixa over HTTP to a real relying party
// (openid-client with a DPoP key), presented to an API guarded by requireLevel with
// { dpop }. One test per check of the proof, named after the control; each asserts
// the exact refusal, so that it fails when its check is removed.
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { base64url, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';

import {
  createVerifier,
  dpopNonces,
  memoryReplayStore,
  requireLevel,
  type DPoPGuardOutcome,
  type DPoPReplayStore,
  type ProtectedRequest,
  type Verifier,
  type VerifierOptions,
} from '../../src/verify/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

/** The records API of a FAPI 2.0 service: the audience of its tokens, and the URL a client calls. */
const API = 'https://hoso.dichvucong.example.gov.vn/api';
const RECORDS_URL = 'https://hoso.dichvucong.example.gov.vn/api/ho-so';
const ALGS = 'ES256 ES384 ES512 PS256 PS384 PS512 EdDSA Ed25519';

let tdb: TestDatabase;
let fed: Federation;
let records: TestClient;
let config: oidc.Configuration;
let issuer: string;
/** The relying party's DPoP key, as openid-client holds it. */
let clientKey: ProofKey;
/** An access token nixa bound to clientKey (cnf.jkt), at level low (telecom). */
let boundToken: string;
/** An access token nixa issued without DPoP: a bearer token. */
let bearerToken: string;

interface ProofKey {
  pair: oidc.CryptoKeyPair;
  publicJwk: JWK;
  alg: string;
}

async function newKey(alg = 'ES256'): Promise<ProofKey> {
  const pair = (await generateKeyPair(alg, { extractable: true })) as oidc.CryptoKeyPair;
  return { pair, publicJwk: await exportJWK(pair.publicKey), alg };
}

/** Signs in nguyen-van-an through the telecom source for the API; redeems the code, with DPoP when given a key. */
async function tokenFromNixa(dpop?: ProofKey): Promise<oidc.TokenEndpointResponse> {
  const s = await federatedSignIn(config, records.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', consent: 'accept', extra: { resource: API } });
  if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.url}`);
  return oidc.authorizationCodeGrant(
    config,
    new URL(s.stoppedAt),
    { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce },
    undefined,
    dpop ? { DPoP: oidc.getDPoPHandle(config, dpop.pair) } : {},
  );
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  issuer = fed.nixa.config.issuer;
  records = await registerTestClient(tdb.db, {
    name: 'Hồ sơ hộ tịch điện tử',
    scope: 'openid profile',
    token_endpoint_auth_method: 'client_secret_basic',
    api_resource: API,
  });
  config = await discover(issuer, records);
  clientKey = await newKey();
  const bound = await tokenFromNixa(clientKey);
  expect(bound.token_type.toLowerCase()).toBe('dpop');
  boundToken = bound.access_token;
  bearerToken = (await tokenFromNixa()).access_token;
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

// --- helpers ---------------------------------------------------------------

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sha256 = async (text: string) => base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));

interface ProofOptions {
  token?: string;
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  /** null: no ath claim. */
  ath?: string | null;
  nonce?: string;
  header?: Record<string, unknown>;
}

/** A DPoP proof (RFC 9449 §4.2) for GET RECORDS_URL with boundToken, signed by the key unless options say otherwise. */
async function proof(key: ProofKey = clientKey, o: ProofOptions = {}): Promise<string> {
  const ath = o.ath === undefined ? await sha256(o.token ?? boundToken) : o.ath;
  return new SignJWT({
    jti: o.jti ?? randomUUID(),
    htm: o.htm ?? 'GET',
    htu: o.htu ?? RECORDS_URL,
    iat: o.iat ?? now(),
    ...(ath === null ? {} : { ath }),
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
  })
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...o.header })
    .sign(key.pair.privateKey);
}

const verifierFor = (opts: Partial<VerifierOptions> = {}) => createVerifier({ issuer, audience: API, ...opts });
const guardFor = (verifier: Verifier = verifierFor(), minimum: 'low' | 'high' = 'low') => requireLevel(verifier, minimum, { dpop: 'required' });

/** GET RECORDS_URL with the DPoP scheme, the bound token and the proof. */
const dpopRequest = (dpop: string | string[] | undefined, token = boundToken): ProtectedRequest => ({ authorization: `DPoP ${token}`, dpop, method: 'GET', url: RECORDS_URL });

function expectRefused(outcome: DPoPGuardOutcome, error: string, description: string) {
  expect(outcome).toMatchObject({ status: 401, failure: { error, description } });
  expect((outcome as { wwwAuthenticate: string }).wwwAuthenticate).toBe(`DPoP error="${error}", error_description="${description}", algs="${ALGS}"`);
}

/** A records API over real HTTP, as a service would write it with the guard. */
async function startApi(guard: (request: ProtectedRequest) => Promise<DPoPGuardOutcome>): Promise<{ url: URL; statuses: number[]; close(): Promise<void> }> {
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url}`;
    guard({ authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method!, url }).then(
      (outcome) => {
        statuses.push(outcome.status);
        if (outcome.dpopNonce) res.setHeader('DPoP-Nonce', outcome.dpopNonce);
        res.setHeader('content-type', 'application/json');
        if (outcome.status !== 200) {
          res.statusCode = outcome.status;
          res.setHeader('WWW-Authenticate', outcome.wwwAuthenticate);
          res.end(JSON.stringify({ error: outcome.failure?.error ?? 'invalid_request' }));
          return;
        }
        res.end(JSON.stringify({ sub: outcome.claims.sub, level: outcome.level, jkt: outcome.jkt }));
      },
      () => {
        res.statusCode = 503;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/ho-so`),
    statuses,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// --- tests -----------------------------------------------------------------

describe('a DPoP-bound access token from nixa', () => {
  it('is bound by nixa to the relying party’s key (cnf.jkt) and passes at the API over HTTP, proof made by openid-client', async () => {
    const claims = decodeJwt(boundToken) as { cnf?: { jkt?: string } };
    expect(claims.cnf?.jkt).toBe(await calculateJwkThumbprint(clientKey.publicJwk));

    const api = await startApi(guardFor());
    try {
      const res = await oidc.fetchProtectedResource(config, boundToken, api.url, 'GET', undefined, undefined, { DPoP: oidc.getDPoPHandle(config, clientKey.pair) });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ level: 'low', jkt: claims.cnf!.jkt });
      expect(api.statuses).toEqual([200]);
    } finally {
      await api.close();
    }
  });

  it('passes with a proof made with jose, and the verifier states the key (jkt)', async () => {
    const outcome = await guardFor()(dpopRequest(await proof()));
    expect(outcome).toMatchObject({ status: 200, level: 'low', acr: 'urn:nixa:loa:low', jkt: await calculateJwkThumbprint(clientKey.publicJwk) });
    expect(outcome).not.toHaveProperty('dpopNonce');
  });
});

describe('each check of the DPoP proof (RFC 9449 §4.3)', () => {
  it('htm: a proof for another method is refused', async () => {
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { htm: 'POST' }))), 'invalid_dpop_proof', "The DPoP proof htm claim must be the request's method, GET");
  });

  it('htu: a proof for another URL is refused; scheme and host case, the default port, query and fragment do not matter', async () => {
    expectRefused(
      await guardFor()(dpopRequest(await proof(clientKey, { htu: 'https://hoso.dichvucong.example.gov.vn/api/ho-so-khac' }))),
      'invalid_dpop_proof',
      `The DPoP proof htu claim must be the request's URL, ${RECORDS_URL}`,
    );
    expectRefused(
      await guardFor()(dpopRequest(await proof(clientKey, { htu: 'https://hoso.dichvucong.example.gov.vn:8443/api/ho-so' }))),
      'invalid_dpop_proof',
      `The DPoP proof htu claim must be the request's URL, ${RECORDS_URL}`,
    );
    const guard = guardFor();
    expect(await guard(dpopRequest(await proof(clientKey, { htu: 'HTTPS://HOSO.dichvucong.example.gov.vn:443/api/ho-so?trang=2#dau' })))).toMatchObject({ status: 200 });
    expect(await guard({ ...dpopRequest(await proof()), url: `${RECORDS_URL}?trang=2` })).toMatchObject({ status: 200 });
  });

  it('ath: a proof without ath, or with the hash of another token, is refused', async () => {
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { ath: null }))), 'invalid_dpop_proof', 'The DPoP proof lacks the ath claim');
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { token: bearerToken }))), 'invalid_dpop_proof', 'The DPoP proof ath claim is not the hash of this access token');
  });

  it('jkt: a sound proof by another key than the token’s (a stolen token, the thief’s key) is refused as invalid_token', async () => {
    const thief = await newKey();
    expectRefused(await guardFor()(dpopRequest(await proof(thief))), 'invalid_token', 'The token is bound to another key than the DPoP proof');
    // Another algorithm does not help either.
    expectRefused(await guardFor()(dpopRequest(await proof(await newKey('EdDSA')))), 'invalid_token', 'The token is bound to another key than the DPoP proof');
  });

  it('iat: a stale proof is refused, beyond the window plus clock tolerance; the window is configurable', async () => {
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { iat: now() - 60 - 15 - 5 }))), 'invalid_dpop_proof', 'The DPoP proof is older than 60 seconds');
    expect(await guardFor()(dpopRequest(await proof(clientKey, { iat: now() - 60 })))).toMatchObject({ status: 200 });
    const strict = guardFor(verifierFor({ clockToleranceSeconds: 0, dpop: { proofLifetimeSeconds: 10 } }));
    expectRefused(await strict(dpopRequest(await proof(clientKey, { iat: now() - 30 }))), 'invalid_dpop_proof', 'The DPoP proof is older than 10 seconds');
    expect(() => verifierFor({ dpop: { proofLifetimeSeconds: -1 } })).toThrow(/dpop.proofLifetimeSeconds/);
  });

  it('iat: a proof from the future is refused beyond the clock tolerance', async () => {
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { iat: now() + 60 }))), 'invalid_dpop_proof', 'The DPoP proof was issued in the future');
    expect(await guardFor()(dpopRequest(await proof(clientKey, { iat: now() + 10 })))).toMatchObject({ status: 200 });
  });

  it('jti: a replayed proof is refused, at this instance and at another sharing the store', async () => {
    const guard = guardFor();
    const once = await proof();
    expect(await guard(dpopRequest(once))).toMatchObject({ status: 200 });
    expectRefused(await guard(dpopRequest(once)), 'invalid_dpop_proof', 'The DPoP proof was used before');
    // A new proof reusing the jti is a replay too.
    const jti = randomUUID();
    expect(await guard(dpopRequest(await proof(clientKey, { jti })))).toMatchObject({ status: 200 });
    expectRefused(await guard(dpopRequest(await proof(clientKey, { jti, iat: now() - 1 }))), 'invalid_dpop_proof', 'The DPoP proof was used before');

    // Two instances of the service, one shared store (here the in-memory one; Redis in production).
    const keys: [string, number][] = [];
    const memory = memoryReplayStore();
    const shared: DPoPReplayStore = { seen: (key, expiresAt) => (keys.push([key, expiresAt]), memory.seen(key, expiresAt)) };
    const [a, b] = [guardFor(verifierFor({ dpop: { replay: shared } })), guardFor(verifierFor({ dpop: { replay: shared } }))];
    const p = await proof();
    expect(await a(dpopRequest(p))).toMatchObject({ status: 200 });
    expectRefused(await b(dpopRequest(p)), 'invalid_dpop_proof', 'The DPoP proof was used before');
    const iat = (decodeJwt(p) as { iat: number }).iat;
    expect(keys[0]).toEqual([`dpop:${await calculateJwkThumbprint(clientKey.publicJwk)}:${(decodeJwt(p) as { jti: string }).jti}`, iat + 60 + 15]);
  });

  it('alg: a proof with alg none or HS256 (a shared secret) is refused, as is one not typed dpop+jwt', async () => {
    const claims = { jti: randomUUID(), htm: 'GET', htu: RECORDS_URL, iat: now(), ath: await sha256(boundToken) };
    const none = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: clientKey.publicJwk })}.${b64(claims)}.AAAA`;
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: clientKey.publicJwk })
      .sign(new TextEncoder().encode('một-bí-mật-dùng-chung-đủ-dài-32-byte'));
    for (const p of [none, hs256]) expectRefused(await guardFor()(dpopRequest(p)), 'invalid_dpop_proof', `The DPoP proof must be signed with one of ${ALGS.split(' ').join(', ')}`);
    // RS256 (RSASSA-PKCS1-v1_5) is not among FAPI 2.0's algorithms.
    expectRefused(await guardFor()(dpopRequest(await proof(await newKey('RS256')))), 'invalid_dpop_proof', `The DPoP proof must be signed with one of ${ALGS.split(' ').join(', ')}`);
    // The list is the service's to narrow, and the challenge says so.
    const es256Only = requireLevel(verifierFor({ dpop: { algorithms: ['ES256'] } }), 'low', { dpop: 'required' });
    expect(await es256Only(dpopRequest(await proof(await newKey('PS256'))))).toMatchObject({
      wwwAuthenticate: 'DPoP error="invalid_dpop_proof", error_description="The DPoP proof must be signed with one of ES256", algs="ES256"',
    });
    expect(() => verifierFor({ dpop: { algorithms: ['HS256' as never] } })).toThrow(/dpop.algorithms/);

    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { header: { typ: 'JWT' } }))), 'invalid_dpop_proof', 'The DPoP proof must have typ dpop+jwt');
  });

  it('jwk: a proof whose jwk header holds the private key is refused; so is one without jwk, or not signed by its jwk', async () => {
    const privateJwk = await exportJWK(clientKey.pair.privateKey);
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { header: { jwk: privateJwk } }))), 'invalid_dpop_proof', 'The DPoP proof jwk header must be a public key, without private parts');
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { header: { jwk: undefined } }))), 'invalid_dpop_proof', 'The DPoP proof must carry its public key in the jwk header');
    // Signed by the thief's key but naming the token's key: the signature gives it away.
    const thief = await newKey();
    expectRefused(await guardFor()(dpopRequest(await proof(thief, { header: { jwk: clientKey.publicJwk } }))), 'invalid_dpop_proof', 'The DPoP proof signature does not verify with its jwk');
  });

  it('one proof: several DPoP headers, or none, are refused with invalid_dpop_proof', async () => {
    const [p1, p2] = [await proof(), await proof()];
    expectRefused(await guardFor()(dpopRequest([p1, p2])), 'invalid_dpop_proof', 'Send one DPoP proof');
    expectRefused(await guardFor()(dpopRequest(`${p1}, ${p2}`)), 'invalid_dpop_proof', 'Send one DPoP proof');
    expectRefused(await guardFor()(dpopRequest(undefined)), 'invalid_dpop_proof', 'The request has no DPoP proof');
    expectRefused(await guardFor()(dpopRequest('a.b')), 'invalid_dpop_proof', 'The DPoP proof is not a well-formed signed JWT');

    // Over HTTP: two DPoP header lines reach the service joined, and are refused.
    const api = await startApi(guardFor());
    try {
      const answer = await new Promise<{ status: number; challenge: string }>((resolve, reject) => {
        const req = httpRequest(api.url, { method: 'GET', headers: { authorization: `DPoP ${boundToken}`, dpop: [p1, p2] } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, challenge: String(res.headers['www-authenticate']) });
        });
        req.on('error', reject);
        req.end();
      });
      expect(answer).toEqual({ status: 401, challenge: `DPoP error="invalid_dpop_proof", error_description="Send one DPoP proof", algs="${ALGS}"` });
    } finally {
      await api.close();
    }
  });
});

describe('the scheme and the binding (RFC 9449 §7)', () => {
  it('bearer use of a bound token: refused by every guard and by verifyAccessToken', async () => {
    const description = 'The token is bound to a DPoP key: present it with the DPoP scheme and a proof';
    expect(await verifierFor().verifyAccessToken(boundToken)).toEqual({ ok: false, error: 'invalid_token', description });
    expect(await requireLevel(verifierFor(), 'low')(`Bearer ${boundToken}`)).toMatchObject({ status: 401, wwwAuthenticate: `Bearer error="invalid_token", error_description="${description}"` });
    const allowed = requireLevel(verifierFor(), 'low', { dpop: 'allowed' });
    expect(await allowed({ authorization: `Bearer ${boundToken}`, dpop: await proof(), method: 'GET', url: RECORDS_URL })).toMatchObject({
      status: 401,
      wwwAuthenticate: `Bearer error="invalid_token", error_description="${description}"`,
    });
    expectRefused(await guardFor()({ authorization: `Bearer ${boundToken}`, dpop: await proof(), method: 'GET', url: RECORDS_URL }), 'invalid_token', 'This API accepts only DPoP-bound tokens, with the DPoP scheme and a proof');
  });

  it('DPoP use of an unbound token: refused, though its proof is sound; as Bearer it passes only where DPoP is merely allowed', async () => {
    expect(decodeJwt(bearerToken)).not.toHaveProperty('cnf');
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { token: bearerToken }), bearerToken)), 'invalid_token', 'The token is not bound to a DPoP key: present it as a Bearer token');
    const allowed = requireLevel(verifierFor(), 'low', { dpop: 'allowed' });
    expect(await allowed({ authorization: `Bearer ${bearerToken}`, dpop: undefined, method: 'GET', url: RECORDS_URL })).toMatchObject({ status: 200, level: 'low' });
    expect(await allowed(dpopRequest(await proof()))).toMatchObject({ status: 200, jkt: await calculateJwkThumbprint(clientKey.publicJwk) });
    expectRefused(await guardFor()({ authorization: `Bearer ${bearerToken}`, dpop: undefined, method: 'GET', url: RECORDS_URL }), 'invalid_token', 'This API accepts only DPoP-bound tokens, with the DPoP scheme and a proof');
  });

  it('answers a request without a token with the bare DPoP challenge (and Bearer too where allowed), and a malformed one with invalid_request', async () => {
    for (const authorization of [undefined, null, '', 'Basic dHJhbi10aGktYmluaDptYXQta2hhdQ==']) {
      expect(await guardFor()({ authorization, dpop: undefined, method: 'GET', url: RECORDS_URL })).toEqual({ status: 401, wwwAuthenticate: `DPoP algs="${ALGS}"` });
    }
    expect(await requireLevel(verifierFor(), 'low', { dpop: 'allowed' })({ authorization: undefined, dpop: undefined, method: 'GET', url: RECORDS_URL })).toEqual({
      status: 401,
      wwwAuthenticate: `Bearer, DPoP algs="${ALGS}"`,
    });
    for (const authorization of ['DPoP', 'DPoP a b', [`DPoP ${boundToken}`, `DPoP ${boundToken}`]]) {
      const outcome = await guardFor()({ authorization, dpop: await proof(), method: 'GET', url: RECORDS_URL });
      expect({ authorization, status: outcome.status }).toEqual({ authorization, status: 400 });
      expect((outcome as { wwwAuthenticate: string }).wwwAuthenticate).toMatch(/^DPoP error="invalid_request", error_description="[^"]+"$/);
    }
    expect(() => requireLevel(verifierFor(), 'low', { dpop: 'sometimes' as never })).toThrow(/dpop must be 'required' or 'allowed'/);
    // The service's own mistakes are thrown, naming what to fix, not blamed on the client.
    await expect(guardFor()({ ...dpopRequest(await proof()), url: '/api/ho-so' })).rejects.toThrow(/url must be the absolute http\(s\) URL/);
    expect(() => verifierFor({ dpop: { replay: {} as never } })).toThrow(/dpop.replay must have a seen/);
    expect(() => verifierFor({ dpop: { nonces: { current: () => 'x' } as never } })).toThrow(/dpop.nonces must have/);
  });

  it('a token nixa did not sign is invalid_token even with a sound proof', async () => {
    const [h, p] = boundToken.split('.');
    const forged = `${h}.${p}.${'A'.repeat(86)}`;
    expectRefused(await guardFor()(dpopRequest(await proof(clientKey, { token: forged }), forged)), 'invalid_token', 'The token signature is invalid');
  });
});

describe('the server-provided nonce (RFC 9449 §9)', () => {
  const secret = 'bí-mật-chung-của-mọi-máy-chủ-dịch-vụ-hồ-sơ-32';

  it('a proof without the nonce gets use_dpop_nonce and a DPoP-Nonce; the nonce then works, at every instance sharing the secret', async () => {
    const guard = guardFor(verifierFor({ dpop: { nonces: dpopNonces({ secret }) } }));
    const first = await guard(dpopRequest(await proof()));
    expectRefused(first, 'use_dpop_nonce', 'The DPoP proof must carry the nonce from DPoP-Nonce');
    const nonce = first.dpopNonce!;
    expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);

    const ok = await guard(dpopRequest(await proof(clientKey, { nonce })));
    // Every answer carries the current nonce (equal to `nonce` unless its 5-minute slot just ended).
    expect(ok).toMatchObject({ status: 200, dpopNonce: expect.stringMatching(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/) });
    const otherInstance = guardFor(verifierFor({ dpop: { nonces: dpopNonces({ secret }) } }));
    expect(await otherInstance(dpopRequest(await proof(clientKey, { nonce })))).toMatchObject({ status: 200 });

    // A nonce made up by the client, or from a service with another secret, is not current.
    for (const wrong of ['abc', `${nonce.split('.')[0]}.${'A'.repeat(43)}`, (await dpopNonces({ secret: `${secret}-khac` }).current())]) {
      const outcome = await guard(dpopRequest(await proof(clientKey, { nonce: wrong })));
      expectRefused(outcome, 'use_dpop_nonce', 'The DPoP proof nonce is not current');
      expect(outcome.dpopNonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    }
    expect(() => dpopNonces({ secret: 'ngắn' })).toThrow(/at least 32 bytes/);
  });

  it('openid-client retries with the nonce by itself, over HTTP', async () => {
    const api = await startApi(guardFor(verifierFor({ dpop: { nonces: dpopNonces({ secret }) } })));
    try {
      const res = await oidc.fetchProtectedResource(config, boundToken, api.url, 'GET', undefined, undefined, { DPoP: oidc.getDPoPHandle(config, clientKey.pair) });
      expect(res.status).toBe(200);
      expect(res.headers.get('dpop-nonce')).toMatch(/\./);
      expect(api.statuses).toEqual([401, 200]);
    } finally {
      await api.close();
    }
  });
});

describe('step-up (RFC 9470) with DPoP', () => {
  it('answers a sound DPoP request below the level with the DPoP-scheme insufficient_user_authentication challenge', async () => {
    const outcome = await requireLevel(verifierFor(), 'high', { dpop: 'required', maxAge: 600 })(dpopRequest(await proof()));
    expect(outcome).toMatchObject({ status: 401, failure: { error: 'insufficient_user_authentication', level: 'low', acrValues: ['urn:nixa:loa:high'] } });
    expect((outcome as { wwwAuthenticate: string }).wwwAuthenticate).toBe(
      'DPoP error="insufficient_user_authentication", ' +
        'error_description="Authentication at assurance level high or above is required; the token is at low", ' +
        `acr_values="urn:nixa:loa:high", max_age="600", algs="${ALGS}"`,
    );
    // The step-up comes only after the proof: a bad proof is answered as such.
    expectRefused(await guardFor(verifierFor(), 'high')(dpopRequest(await proof(clientKey, { htm: 'DELETE' }))), 'invalid_dpop_proof', "The DPoP proof htm claim must be the request's method, GET");
  });
});
