// A service that asks for it gets its ID tokens encrypted to its own public key (JWE)
// and userinfo as a JWT signed by nixa, optionally encrypted too; one that does not
// gets them as before. Registration refuses what nixa could not honour, naming the field.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { addClient, clientsOptions, changeClient, showClient, type ClientsOptions } from '../../src/clients/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { dpopHandle, fapiConfig, keyPair, pushed, registerFapiClient } from '../support/fapi.js';
import { DEFAULT_ENCRYPTION_ENC, encryptionMetadata, jwksUriProblem, receivesEncryption } from '../../src/clients/encryption.js';
import { startTestNixa } from '../support/nixa.js';
import { redeem, registerTestClient, signIn } from '../support/relying-party.js';
import { cliRunner } from '../support/cli.js';

let tdb: TestDatabase;
let nixa: Nixa;
let opts: ClientsOptions;
// The services' key host: serves at /<name> the JWK Set the test put under that name.
let keyHost: Server;
let keyHostUrl: string;
const published = new Map<string, unknown>();

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, { NIXA_SIGNING_ALGS: 'ES256,RS256,PS256' });
  opts = clientsOptions(nixa.config);
  keyHost = createServer((req, res) => {
    const set = published.get(req.url!.slice(1));
    res.writeHead(set ? 200 : 404, { 'content-type': 'application/json' }).end(set ? JSON.stringify(set) : '{}');
  });
  await new Promise<void>((resolve) => keyHost.listen(0, '127.0.0.1', resolve));
  keyHostUrl = `http://127.0.0.1:${(keyHost.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => keyHost?.close(resolve));
  await nixa?.close();
  await tdb?.drop();
});

/** The service's encryption key pair; the public half marked use "enc", as a service publishes it. */
async function encryptionKey(alg: 'ECDH-ES' | 'ECDH-ES+A256KW' | 'RSA-OAEP-256', kid = `enc-${alg}-${Math.random().toString(36).slice(2, 8)}`) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, kid, alg, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'enc' } as JWK };
}

type EncKey = Awaited<ReturnType<typeof encryptionKey>>;

/** A standard service with private_key_jwt: its signing key and, when given, its encryption key in jwks. */
async function service(overrides: Record<string, unknown>, enc?: EncKey) {
  const sig = await keyPair('ES256');
  const c = await registerTestClient(
    tdb.db,
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [sig.publicJwk, ...(enc ? [enc.publicJwk] : [])] }, ...overrides },
    opts,
  );
  const config = await oidc.discovery(new URL(nixa.config.issuer), c.clientId, rpMetadata(overrides), oidc.PrivateKeyJwt(sig.privateKey), {
    execute: [oidc.allowInsecureRequests],
  });
  if (enc) oidc.enableDecryptingResponses(config, ['A256GCM', 'A128GCM'], { key: enc.privateKey as CryptoKey, kid: enc.kid, alg: enc.alg });
  return { c, config };
}

/** What openid-client must know of the registration to expect a JWT (and which signature) from userinfo. */
function rpMetadata(o: Record<string, unknown>): Partial<oidc.ClientMetadata> {
  return o.userinfo_signed_response_alg ? { userinfo_signed_response_alg: o.userinfo_signed_response_alg as string } : {};
}

const jwks = () => createRemoteJWKSet(new URL(`${nixa.config.issuer}/jwks`));

/** nixa's userinfo answer as it was sent: content type and body. */
async function userinfoRaw(accessToken: string) {
  const res = await fetch(`${nixa.config.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('discovery', () => {
  it('advertises the encryption and userinfo algorithms nixa offers, never RSA1_5, and no encrypted request objects', async () => {
    const d = (await (await fetch(`${nixa.config.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string[] | undefined>;
    expect(d.id_token_encryption_alg_values_supported).toEqual(['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW']);
    expect(d.id_token_encryption_enc_values_supported).toEqual(['A256GCM', 'A128GCM']);
    expect(d.userinfo_encryption_alg_values_supported).toEqual(['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW']);
    expect(d.userinfo_encryption_enc_values_supported).toEqual(['A256GCM', 'A128GCM']);
    expect(d.userinfo_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256']));
    expect(JSON.stringify(d)).not.toContain('RSA1_5');
    expect(d.request_object_encryption_alg_values_supported ?? []).toEqual([]);
  });
});

describe('encrypted ID tokens', () => {
  it('encrypts the ID token with ECDH-ES to the service key, which decrypts it to an ID token signed by nixa', async () => {
    const enc = await encryptionKey('ECDH-ES');
    const { c, config } = await service({ id_token_encrypted_response_alg: 'ECDH-ES' }, enc);
    const tokens = await redeem(config, await signIn(config, c, { account: 'nguyen-thi-lan' }));
    // What nixa sent: a compact JWE (five parts) to the service's key, A256GCM by default.
    expect(tokens.id_token!.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: enc.kid, cty: 'JWT' });
    // What the service reads: openid-client decrypted it and checked its claims; the inner JWS verifies against nixa's JWKS.
    expect(tokens.claims()).toMatchObject({ sub: 'nguyen-thi-lan', aud: c.clientId });
    const inner = oidc.getDecryptedResponses(tokens) as { id_token?: { token_endpoint?: string } } | undefined;
    const { payload, protectedHeader } = await jwtVerify(inner!.id_token!.token_endpoint!, jwks(), { issuer: nixa.config.issuer, audience: c.clientId });
    expect(payload.sub).toBe('nguyen-thi-lan');
    expect(protectedHeader.alg).toBe('RS256');
  });

  it('encrypts with RSA-OAEP-256 and A128GCM for a service that authenticates with a secret and gives only its encryption key', async () => {
    const enc = await encryptionKey('RSA-OAEP-256');
    const c = await registerTestClient(
      tdb.db,
      { jwks: { keys: [enc.publicJwk] }, id_token_encrypted_response_alg: 'RSA-OAEP-256', id_token_encrypted_response_enc: 'A128GCM', id_token_signed_response_alg: 'PS256' },
      opts,
    );
    const config = await oidc.discovery(new URL(nixa.config.issuer), c.clientId, { id_token_signed_response_alg: 'PS256' }, oidc.ClientSecretBasic(c.secret!), {
      execute: [oidc.allowInsecureRequests],
    });
    oidc.enableDecryptingResponses(config, ['A128GCM'], { key: enc.privateKey as CryptoKey, kid: enc.kid, alg: enc.alg });
    const tokens = await redeem(config, await signIn(config, c, { account: 'tran-van-binh' }));
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A128GCM', kid: enc.kid });
    const inner = (oidc.getDecryptedResponses(tokens) as { id_token: { token_endpoint: string } }).id_token.token_endpoint;
    const { payload, protectedHeader } = await jwtVerify(inner, jwks(), { issuer: nixa.config.issuer, audience: c.clientId });
    expect(protectedHeader.alg).toBe('PS256');
    expect(payload.sub).toBe('tran-van-binh');
  });

  it('encrypts to the key a service publishes at its jwks_uri, checked at registration', async () => {
    const enc = await encryptionKey('ECDH-ES');
    const sig = await keyPair('ES256');
    published.set('thue', { keys: [sig.publicJwk, enc.publicJwk] });
    const c = await registerTestClient(tdb.db, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${keyHostUrl}/thue`, id_token_encrypted_response_alg: 'ECDH-ES' }, opts);
    const config = await oidc.discovery(new URL(nixa.config.issuer), c.clientId, {}, oidc.PrivateKeyJwt(sig.privateKey), { execute: [oidc.allowInsecureRequests] });
    oidc.enableDecryptingResponses(config, ['A256GCM'], { key: enc.privateKey as CryptoKey, kid: enc.kid, alg: enc.alg });
    const tokens = await redeem(config, await signIn(config, c, { account: 'bui-thanh-tam' }));
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'ECDH-ES', kid: enc.kid });
    expect(tokens.claims()?.sub).toBe('bui-thanh-tam');
  });

  it('a service whose key is not the one it encrypted to cannot read the ID token', async () => {
    const registered = await encryptionKey('ECDH-ES', 'enc-registered');
    const other = await encryptionKey('ECDH-ES', 'enc-registered');
    const { c, config } = await service({ id_token_encrypted_response_alg: 'ECDH-ES' }, { ...other, publicJwk: registered.publicJwk });
    await expect(redeem(config, await signIn(config, c))).rejects.toMatchObject({ code: 'OAUTH_DECRYPTION_FAILED' });
  });

  it('keeps signed-only ID tokens and JSON userinfo for a service that asked for neither', async () => {
    const { c, config } = await service({});
    const tokens = await redeem(config, await signIn(config, c, { account: 'le-hoang-cuong' }));
    expect(tokens.id_token!.split('.')).toHaveLength(3);
    await jwtVerify(tokens.id_token!, jwks(), { issuer: nixa.config.issuer, audience: c.clientId });
    const info = await userinfoRaw(tokens.access_token);
    expect(info.type).toMatch(/^application\/json/);
    expect(JSON.parse(info.body)).toMatchObject({ sub: 'le-hoang-cuong' });
  });
});

describe('a FAPI 2.0 service', () => {
  it('gets its ID token encrypted and its userinfo signed and encrypted, with PAR, private_key_jwt and DPoP unchanged', async () => {
    const enc = await encryptionKey('ECDH-ES');
    const sig = await keyPair('ES256');
    // fapi2 by its own choice: the test login does not reach the level high that would make it so.
    const service = await registerFapiClient(tdb.db, {
      min_level: undefined,
      security_profile: 'fapi2',
      jwks: { keys: [sig.publicJwk, enc.publicJwk] },
      id_token_encrypted_response_alg: 'ECDH-ES',
      userinfo_signed_response_alg: 'ES256',
      userinfo_encrypted_response_alg: 'ECDH-ES',
    });
    const fapi = { ...service, privateKey: sig.privateKey, publicJwk: sig.publicJwk };
    const config = await fapiConfig(nixa.config.issuer, fapi);
    oidc.enableDecryptingResponses(config, ['A256GCM'], { key: enc.privateKey as CryptoKey, kid: enc.kid, alg: enc.alg });
    const dpop = await dpopHandle(config);
    const s = await signIn(config, fapi, { account: 'ngo-bao-chau', authorize: pushed(config, dpop) });
    const tokens = await oidc.authorizationCodeGrant(config, s.callbackUrl, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: enc.kid });
    const inner = (oidc.getDecryptedResponses(tokens) as { id_token: { token_endpoint: string } }).id_token.token_endpoint;
    expect((await jwtVerify(inner, jwks(), { issuer: nixa.config.issuer, audience: fapi.clientId })).protectedHeader.alg).toBe('ES256');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, 'ngo-bao-chau', { DPoP: dpop });
    expect(info.sub).toBe('ngo-bao-chau');
    const signedInfo = oidc.getDecryptedResponses(info) as string | undefined;
    expect((await jwtVerify(signedInfo!, jwks(), { issuer: nixa.config.issuer, audience: fapi.clientId })).payload.sub).toBe('ngo-bao-chau');
  });
});

describe('userinfo as a JWT', () => {
  it('answers a service that registered userinfo_signed_response_alg with a JWT signed by nixa for that service', async () => {
    const { c, config } = await service({ userinfo_signed_response_alg: 'ES256' });
    const tokens = await redeem(config, await signIn(config, c, { account: 'pham-minh-chau' }));
    const info = await userinfoRaw(tokens.access_token);
    expect(info.status).toBe(200);
    expect(info.type).toMatch(/^application\/jwt/);
    const { payload, protectedHeader } = await jwtVerify(info.body, jwks(), { issuer: nixa.config.issuer, audience: c.clientId });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe('pham-minh-chau');
    // openid-client, told of the registration, takes the JWT too.
    expect(await oidc.fetchUserInfo(config, tokens.access_token, 'pham-minh-chau')).toMatchObject({ sub: 'pham-minh-chau' });
  });

  it('signs and then encrypts userinfo (ECDH-ES+A256KW) for a service that registered both', async () => {
    const enc = await encryptionKey('ECDH-ES+A256KW');
    const { c, config } = await service({ userinfo_signed_response_alg: 'PS256', userinfo_encrypted_response_alg: 'ECDH-ES+A256KW' }, enc);
    const tokens = await redeem(config, await signIn(config, c, { account: 'vo-thi-dao' }));
    // The ID token was not asked to be encrypted: it stays a JWS.
    expect(tokens.id_token!.split('.')).toHaveLength(3);
    const info = await userinfoRaw(tokens.access_token);
    expect(info.type).toMatch(/^application\/jwt/);
    expect(info.body.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(info.body)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: enc.kid });
    const { plaintext } = await compactDecrypt(info.body, enc.privateKey);
    const { payload, protectedHeader } = await jwtVerify(new TextDecoder().decode(plaintext), jwks(), { issuer: nixa.config.issuer, audience: c.clientId });
    expect(protectedHeader.alg).toBe('PS256');
    expect(payload.sub).toBe('vo-thi-dao');
    expect(await oidc.fetchUserInfo(config, tokens.access_token, 'vo-thi-dao')).toMatchObject({ sub: 'vo-thi-dao' });
  });
});

describe('registration', () => {
  const base = { name: 'Cổng bảo hiểm xã hội', redirect_uris: ['https://bhxh.example.vn/cb'] };
  const add = (extra: Record<string, unknown>) => addClient(tdb.db, { ...base, ...extra }, 'test', opts);

  it('refuses encryption when jwks holds no public key marked use "enc", naming jwks', async () => {
    const sig = await keyPair('ES256');
    await expect(add({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [sig.publicJwk] }, id_token_encrypted_response_alg: 'ECDH-ES' })).rejects.toMatchObject({
      field: 'jwks',
      problem: expect.stringMatching(/no public encryption key for id_token_encrypted_response_alg ECDH-ES/),
    });
    // An EC key unmarked, or an RSA key for ECDH-ES, is not taken for one either.
    const unmarked = { ...(await encryptionKey('ECDH-ES')).publicJwk, use: undefined };
    await expect(add({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [sig.publicJwk, unmarked] }, id_token_encrypted_response_alg: 'ECDH-ES' })).rejects.toMatchObject({ field: 'jwks' });
    const rsa = (await encryptionKey('RSA-OAEP-256')).publicJwk;
    await expect(add({ jwks: { keys: [{ ...rsa, alg: undefined }] }, userinfo_signed_response_alg: 'ES256', userinfo_encrypted_response_alg: 'ECDH-ES' })).rejects.toMatchObject({ field: 'jwks' });
  });

  it('refuses encryption when the jwks_uri holds no encryption key or does not answer, naming jwks_uri', async () => {
    const sig = await keyPair('ES256');
    published.set('chi-ky', { keys: [sig.publicJwk] });
    const withUri = (name: string) => ({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${keyHostUrl}/${name}`, id_token_encrypted_response_alg: 'ECDH-ES' });
    await expect(add(withUri('chi-ky'))).rejects.toMatchObject({ field: 'jwks_uri', problem: expect.stringMatching(/holds no public encryption key for id_token_encrypted_response_alg ECDH-ES/) });
    await expect(add(withUri('khong-co'))).rejects.toMatchObject({ field: 'jwks_uri', problem: expect.stringMatching(/answered 404/) });
    // Without encryption the set is not fetched at registration: a signing-only one is fine.
    await expect(add({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${keyHostUrl}/khong-co` })).resolves.toBeDefined();
  });

  it('refuses encryption for a service without any keys, naming the algorithm field', async () => {
    await expect(add({ id_token_encrypted_response_alg: 'RSA-OAEP-256' })).rejects.toMatchObject({
      field: 'id_token_encrypted_response_alg',
      problem: expect.stringMatching(/public encryption key \(use "enc", an RSA key\) in jwks or jwks_uri/),
    });
  });

  it('refuses RSA1_5 and algorithms outside the list, naming the field', async () => {
    const rsa = (await encryptionKey('RSA-OAEP-256')).publicJwk;
    const keys = { jwks: { keys: [{ ...rsa, alg: undefined }] } };
    await expect(add({ ...keys, id_token_encrypted_response_alg: 'RSA1_5' })).rejects.toMatchObject({ field: 'id_token_encrypted_response_alg', problem: expect.stringMatching(/RSA1_5 is never accepted/) });
    await expect(add({ ...keys, id_token_encrypted_response_alg: 'RSA-OAEP' })).rejects.toMatchObject({ field: 'id_token_encrypted_response_alg' });
    // A symmetric one would derive its key from the secret nixa keeps only as a hash.
    await expect(add({ id_token_encrypted_response_alg: 'A256KW' })).rejects.toMatchObject({ field: 'id_token_encrypted_response_alg' });
    await expect(add({ ...keys, id_token_encrypted_response_alg: 'RSA-OAEP-256', id_token_encrypted_response_enc: 'A128CBC-HS256' })).rejects.toMatchObject({
      field: 'id_token_encrypted_response_enc',
      problem: 'one of A256GCM, A128GCM',
    });
    await expect(add({ ...keys, userinfo_signed_response_alg: 'ES256', userinfo_encrypted_response_alg: 'RSA1_5' })).rejects.toMatchObject({ field: 'userinfo_encrypted_response_alg' });
  });

  it('refuses an enc without its alg, and an encrypted userinfo that is not signed', async () => {
    await expect(add({ id_token_encrypted_response_enc: 'A256GCM' })).rejects.toMatchObject({ field: 'id_token_encrypted_response_enc', problem: expect.stringMatching(/needs id_token_encrypted_response_alg/) });
    const ec = (await encryptionKey('ECDH-ES')).publicJwk;
    await expect(add({ jwks: { keys: [ec] }, userinfo_encrypted_response_alg: 'ECDH-ES' })).rejects.toMatchObject({ field: 'userinfo_signed_response_alg' });
  });

  it('refuses a userinfo signing algorithm nixa has no key for, and a non-FAPI one for a fapi2 service', async () => {
    await expect(add({ userinfo_signed_response_alg: 'ES512' })).rejects.toMatchObject({ field: 'userinfo_signed_response_alg', problem: 'one of the configured signing algorithms: ES256, RS256, PS256' });
    const sig = await keyPair('ES256');
    await expect(add({ min_level: 'high', jwks: { keys: [sig.publicJwk] }, userinfo_signed_response_alg: 'RS256' })).rejects.toMatchObject({ field: 'userinfo_signed_response_alg' });
  });

  it('a change adds encryption to a running service: shown by its view and taken at the next sign-in; "none" through the CLI stops it', async () => {
    const enc = await encryptionKey('ECDH-ES');
    const { c, config } = await service({});
    const before = await showClient(tdb.db, c.clientId);
    expect(before).toMatchObject({ idTokenEncryption: null, userinfoSigningAlg: null, userinfoEncryption: null });
    // The service's registered keys, with its new encryption key beside its signing key.
    const jwksNow = (await tdb.db.query<{ metadata: { jwks: { keys: JWK[] } } }>('SELECT metadata FROM clients WHERE client_id = $1', [c.clientId])).rows[0]!.metadata.jwks;
    const { client, changed } = await changeClient(
      tdb.db,
      c.clientId,
      { jwks: { keys: [...jwksNow.keys, enc.publicJwk] }, id_token_encrypted_response_alg: 'ECDH-ES', userinfo_signed_response_alg: 'ES256' },
      'test',
      { ...opts, reason: 'bảo vệ dữ liệu cá nhân khi truyền qua trình duyệt' },
    );
    expect(changed.sort()).toEqual(['idTokenEncryptionAlg', 'jwks', 'userinfoSigningAlg']);
    expect(client).toMatchObject({ idTokenEncryption: { alg: 'ECDH-ES', enc: 'A256GCM' }, userinfoSigningAlg: 'ES256', userinfoEncryption: null });

    oidc.enableDecryptingResponses(config, ['A256GCM'], { key: enc.privateKey as CryptoKey, kid: enc.kid, alg: enc.alg });
    const tokens = await redeem(config, await signIn(config, c, { account: 'dang-quoc-huy' }));
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'ECDH-ES', kid: enc.kid });
    expect(tokens.claims()?.sub).toBe('dang-quoc-huy');

    const nixaCli = cliRunner(() => tdb.db, { NIXA_SIGNING_ALGS: 'ES256,RS256,PS256' });
    const shown = await nixaCli('clients', 'show', c.clientId);
    expect(shown.stdout).toMatch(/ID token JWE: +ECDH-ES A256GCM/);
    expect(shown.stdout).toMatch(/userinfo: +JWT signed ES256\n/);
    const off = await nixaCli('clients', 'update', c.clientId, '--id-token-encryption', 'none', '--userinfo-alg', 'none', '--reason', 'dịch vụ chưa giải mã được, tạm dừng');
    expect(off.stderr).toBe('');
    expect(off.stdout).toMatch(/ID token JWE: +-\n/);
    expect(off.stdout).toMatch(/userinfo: +JSON\n/);
    const bad = await nixaCli('clients', 'update', c.clientId, '--id-token-encryption', 'RSA1_5', '--reason', 'thử thuật toán bị cấm cho chắc chắn');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/id_token_encrypted_response_alg: RSA1_5 is never accepted/);
  });

  it('a service with a secret stops encryption through the CLI by removing the key it gave for it', async () => {
    const enc = await encryptionKey('RSA-OAEP-256');
    const c = await registerTestClient(tdb.db, { jwks: { keys: [enc.publicJwk] }, id_token_encrypted_response_alg: 'RSA-OAEP-256' }, opts);
    const nixaCli = cliRunner(() => tdb.db, { NIXA_SIGNING_ALGS: 'ES256,RS256,PS256' });
    const why = ['--reason', 'dịch vụ chuyển sang khoá mới, tạm dừng mã hoá'];
    // The key alone is kept only for encryption: without it, jwks has no use for a secret client.
    const keyOnly = await nixaCli('clients', 'update', c.clientId, '--id-token-encryption', 'none', ...why);
    expect(keyOnly.stderr).toMatch(/jwks: only used with private_key_jwt or encrypted responses/);
    const both = await nixaCli('clients', 'update', c.clientId, '--id-token-encryption', 'none', '--jwks-file', 'none', ...why);
    expect(both.stderr).toBe('');
    expect(await showClient(tdb.db, c.clientId)).toMatchObject({ idTokenEncryption: null });
  });
});

describe('policy (no I/O)', () => {
  const ec = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', use: 'enc' };
  it('takes as an encryption key only one marked use "enc", of the type and curve the algorithm needs', () => {
    expect(receivesEncryption(ec, 'ECDH-ES')).toBe(true);
    expect(receivesEncryption({ kty: 'OKP', crv: 'X25519', x: 'x', use: 'enc' }, 'ECDH-ES+A256KW')).toBe(true);
    expect(receivesEncryption({ kty: 'OKP', crv: 'Ed25519', x: 'x', use: 'enc' }, 'ECDH-ES')).toBe(false);
    expect(receivesEncryption({ ...ec, use: 'sig' }, 'ECDH-ES')).toBe(false);
    expect(receivesEncryption({ ...ec, alg: 'ECDH-ES+A256KW' }, 'ECDH-ES')).toBe(false);
    expect(receivesEncryption(ec, 'RSA-OAEP-256')).toBe(false);
    expect(receivesEncryption({ kty: 'RSA', n: 'n', e: 'AQAB', use: 'enc', key_ops: ['verify'] }, 'RSA-OAEP-256')).toBe(false);
    expect(receivesEncryption({ kty: 'RSA', n: 'n', e: 'AQAB', use: 'enc' }, 'RSA1_5')).toBe(false);
  });

  it('records the content encryption whenever an algorithm is registered, A256GCM when none was named', () => {
    expect(DEFAULT_ENCRYPTION_ENC).toBe('A256GCM');
    expect(encryptionMetadata({ security_profile: 'standard', id_token_encrypted_response_alg: 'ECDH-ES' })).toEqual({ id_token_encrypted_response_alg: 'ECDH-ES', id_token_encrypted_response_enc: 'A256GCM' });
    expect(encryptionMetadata({ security_profile: 'standard' })).toEqual({});
  });

  it('says what a fetched jwks_uri document lacks', () => {
    const c = { security_profile: 'standard' as const, jwks_uri: 'https://thue.example.vn/jwks', userinfo_signed_response_alg: 'ES256', userinfo_encrypted_response_alg: 'ECDH-ES' };
    expect(jwksUriProblem(c, [ec])).toMatch(/did not answer a JWK Set/);
    expect(jwksUriProblem(c, { keys: [{ ...ec, use: 'sig' }] })).toMatch(/no public encryption key for userinfo_encrypted_response_alg ECDH-ES/);
    expect(jwksUriProblem(c, { keys: [ec] })).toBeUndefined();
  });
});
