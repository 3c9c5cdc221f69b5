// Control: sender-constrained access tokens with DPoP (RFC 9449).
// FAPI 2.0 Security Profile (Final) §5.3.2.1 — the authorization server "shall only
// issue sender-constrained access tokens" (DPoP here); refresh tokens of its
// confidential clients are bound to the client (private_key_jwt) and not rotated.
// §5.3.4 (resource servers) — a bound token presented as a bearer token is refused.
// Replay of a proof is refused across instances (the replay store is shared), and with
// NIXA_DPOP_NONCE every proof carries a nonce nixa handed out (RFC 9449 §8).
// PAR and private_key_jwt are met in every test here, so only DPoP is under test.
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { clientAssertion, dpopHandle, fapiConfig, JWT_BEARER, pushed, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { startTestNixa } from '../../support/nixa.js';
import { signIn } from '../../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let second: Nixa;
let service: FapiClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  // A second instance on the same database: what one saw, the other knows.
  second = await startTestNixa(tdb.db);
  service = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2', scope: 'openid offline_access', api_resource: 'https://hoso.example.vn/api' });
  config = await fapiConfig(nixa.config.issuer, service);
});

afterAll(async () => {
  await second?.close();
  await nixa?.close();
  await tdb?.drop();
});

/** A sign-in up to the code, pushed with PAR and bound to `dpop` when given. */
async function code(dpop?: oidc.DPoPHandle, scope = 'openid offline_access') {
  return signIn(config, service, { scope, authorize: pushed(config, dpop), extra: { prompt: 'consent' } });
}

/** A DPoP proof made by hand (RFC 9449 §4.2), so that each claim can be bent. */
async function proof(o: { htm?: string; htu: string; key?: Awaited<ReturnType<typeof generateKeyPair>>; jti?: string; iat?: number; ath?: string; nonce?: string }) {
  const key = o.key ?? (await generateKeyPair('ES256', { extractable: true }));
  return {
    key,
    jwt: await new SignJWT({ htm: o.htm ?? 'POST', htu: o.htu, jti: o.jti ?? crypto.randomUUID(), iat: o.iat ?? Math.floor(Date.now() / 1000), ...(o.ath ? { ath: o.ath } : {}), ...(o.nonce ? { nonce: o.nonce } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
      .sign(key.privateKey),
  };
}

/** The token request for a code, made by hand: the client assertion is right, the DPoP header is what the test gives. */
async function redeemRaw(s: Awaited<ReturnType<typeof code>>, dpopHeader: string | undefined, issuer = nixa.config.issuer) {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpopHeader ? { dpop: dpopHeader } : {}) },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: s.callbackUrl.searchParams.get('code')!,
      redirect_uri: service.redirectUri,
      code_verifier: s.verifier,
      client_assertion_type: JWT_BEARER,
      client_assertion: await clientAssertion(service, issuer),
    }),
  });
}

describe('DPoP required (FAPI 2.0 §5.3.2.1)', () => {
  it('refuses the token request of a fapi2 service without a DPoP proof, with PAR and private_key_jwt met', async () => {
    const s = await code();
    const res = await redeemRaw(s, undefined);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    // The refusal spends nothing: the service that holds the key redeems the same code with its proof.
    expect((await redeemRaw(s, (await proof({ htu: `${nixa.config.issuer}/token` })).jwt)).status).toBe(200);
  });

  it('binds the access token to the proof key (cnf.jkt) and says token_type DPoP', async () => {
    const s = await code();
    const p = await proof({ htu: `${nixa.config.issuer}/token` });
    const res = await redeemRaw(s, p.jwt);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token_type: string; access_token: string };
    expect(body.token_type).toBe('DPoP');
    const introspected = await (
      await fetch(`${nixa.config.issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: body.access_token, client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(service, nixa.config.issuer) }),
      })
    ).json();
    expect(introspected).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await calculateJwkThumbprint(await exportJWK(p.key.publicKey)) } });
  });

  it('refuses a proof for another endpoint (htu) or method (htm)', async () => {
    for (const bent of [{ htu: `${nixa.config.issuer}/userinfo` }, { htu: `${nixa.config.issuer}/token`, htm: 'GET' }]) {
      const s = await code();
      const res = await redeemRaw(s, (await proof(bent)).jwt);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    }
  });

  it('refuses a stale proof (iat ten minutes ago) and one from the future', async () => {
    for (const iat of [Math.floor(Date.now() / 1000) - 600, Math.floor(Date.now() / 1000) + 600]) {
      const s = await code();
      const res = await redeemRaw(s, (await proof({ htu: `${nixa.config.issuer}/token`, iat })).jwt);
      expect(res.status).toBe(400);
      // RFC 9449 §8: a proof too old or too new to trust may be made anew with a nonce nixa gives.
      expect(await res.json()).toMatchObject({ error: 'use_dpop_nonce' });
      expect(res.headers.get('dpop-nonce')).toBeTruthy();
    }
  });

  it('refuses a proof signed by a key other than the one in its header', async () => {
    const s = await code();
    const other = await generateKeyPair('ES256', { extractable: true });
    const jwt = await new SignJWT({ htm: 'POST', htu: `${nixa.config.issuer}/token`, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey) })
      .sign(other.privateKey);
    const res = await redeemRaw(s, jwt);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('refuses a proof used before at the same instance', async () => {
    const p = await proof({ htu: `${nixa.config.issuer}/token` });
    expect((await redeemRaw(await code(), p.jwt)).status).toBe(200);
    const here = await redeemRaw(await code(), p.jwt);
    expect(here.status).toBe(400);
    expect(await here.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses at a second instance a proof (its jti) the first one accepted: the replay store is shared', async () => {
    const p = await proof({ htu: `${nixa.config.issuer}/token` });
    expect((await redeemRaw(await code(), p.jwt)).status).toBe(200);
    // The second instance has its own issuer URL, so the replayed proof is the same key and jti made for its endpoint.
    const jti = String(decodeJwt(p.jwt).jti);
    const elsewhere = await code();
    const replayed = await proof({ htu: `${second.config.issuer}/token`, key: p.key, jti });
    const onSecond = await redeemRaw(elsewhere, replayed.jwt, second.config.issuer);
    expect(onSecond.status).toBe(400);
    expect(await onSecond.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a bound access token used as a bearer token at userinfo, and takes it with a proof of the same key', async () => {
    const dpop = await dpopHandle(config);
    const s = await code(dpop);
    const tokens = await oidc.authorizationCodeGrant(config, s.callbackUrl, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
    const bearer = await fetch(`${nixa.config.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate') ?? '').toMatch(/invalid_token/);
    // A proof by another key does not make it the holder's.
    const stranger = await proof({ htm: 'GET', htu: `${nixa.config.issuer}/me` });
    const stolen = await fetch(`${nixa.config.issuer}/me`, { headers: { authorization: `DPoP ${tokens.access_token}`, dpop: stranger.jwt } });
    expect(stolen.status).toBe(401);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP: dpop });
    expect(info.sub).toBe(tokens.claims()!.sub);
  });

  it('a refresh needs a proof of the same key, and keeps the refresh token (no rotation for a fapi2 service)', async () => {
    const dpop = await dpopHandle(config);
    const s = await code(dpop);
    const tokens = await oidc.authorizationCodeGrant(config, s.callbackUrl, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
    expect(tokens.refresh_token).toBeTruthy();
    const without = await fetch(`${nixa.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(service, nixa.config.issuer) }),
    });
    expect(without.status).toBe(400);
    expect(await without.json()).toMatchObject({ error: 'invalid_grant' });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type.toLowerCase()).toBe('dpop');
    expect(refreshed.refresh_token ?? tokens.refresh_token).toBe(tokens.refresh_token);
    // The same refresh token works again: a lost answer does not strand the service.
    const again = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(again.access_token).toBeTruthy();
  });
});

describe('DPoP nonce (NIXA_DPOP_NONCE, RFC 9449 §8)', () => {
  let strict: Nixa;
  let strictConfig: oidc.Configuration;
  beforeAll(async () => {
    strict = await startTestNixa(tdb.db, { NIXA_DPOP_NONCE: 'true' });
    strictConfig = await fapiConfig(strict.config.issuer, service);
  });
  afterAll(async () => strict?.close());

  it('answers use_dpop_nonce with a DPoP-Nonce header, and takes the proof that carries it', async () => {
    const s = await signIn(strictConfig, service, { authorize: pushed(strictConfig), extra: { prompt: 'consent' } });
    const key = await generateKeyPair('ES256', { extractable: true });
    const body = (nonce?: string) => async () => redeemRaw(s, (await proof({ htu: `${strict.config.issuer}/token`, key, ...(nonce ? { nonce } : {}) })).jwt, strict.config.issuer);
    const first = await body()();
    expect(first.status).toBe(400);
    expect(await first.json()).toMatchObject({ error: 'use_dpop_nonce' });
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const second = await body(nonce!)();
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ token_type: 'DPoP' });
  });
});
