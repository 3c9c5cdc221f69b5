// Signing keys in a PKCS#11 token, against a real SoftHSM2 token made for this
// file: generated inside it and never extractable, signing for every algorithm
// nixa configures, the same lifecycle as software keys (rotation, revocation,
// deletion destroy the token's objects), start-up errors that name the variable,
// and a lost session re-opened on the next signature.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { compactVerify, importJWK, type JWK } from 'jose';
import pkcs11js from 'pkcs11js';

import { checkCheckpoint, createCheckpoint } from '../../src/audit/index.js';
import type { Config } from '../../src/config/index.js';
import { ConfigError, SigningUnavailableError } from '../../src/errors/index.js';
import { Cipher, KeyRing, listKeyViews, openKeyStore, revokeKey, rotateKeys, signCompact } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testConfig } from '../support/nixa.js';
import { createTestToken, describeWithSoftHsm, TokenInspector, type TestToken } from './pkcs11-token.js';

const ALGS = 'ES256,RS256,PS256,EdDSA';

describeWithSoftHsm(import.meta.url, 'signing keys in a PKCS#11 token (SoftHSM2)', () => {
  let token: TestToken;
  let tdb: TestDatabase;
  let config: Config;
  let cipher: Cipher;
  let ring: KeyRing;
  let inspector: TokenInspector;

  beforeAll(async () => {
    token = createTestToken();
    tdb = await createTestDatabase();
    config = testConfig({ ...token.env, NIXA_SIGNING_ALGS: ALGS });
    cipher = new Cipher(Buffer.from(config.masterKey.kind === 'value' ? config.masterKey.base64 : '', 'base64'));
    ring = new KeyRing(tdb.db, cipher, config, silentLogger);
    await ring.maintain();
    inspector = new TokenInspector(token.label);
  });

  afterAll(async () => {
    inspector?.release();
    await ring?.stop();
    await tdb?.drop();
    token?.remove();
  });

  const rows = async () =>
    (await tdb.db.query<{ kid: string; use: string; alg: string; state: string; backend: string; handle: string | null; private_enc: unknown; public_jwk: JWK | null }>(
      'SELECT kid, use, alg, state, backend, handle, private_enc, public_jwk FROM keys ORDER BY created_at',
    )).rows;

  it('generates every signing key inside the token and keeps only its public JWK and label in the database', async () => {
    const sig = (await rows()).filter((r) => r.use === 'sig' && r.state !== 'revoked');
    expect(sig.map((r) => `${r.alg}:${r.state}`).sort()).toEqual(
      ['EdDSA', 'ES256', 'PS256', 'RS256'].flatMap((a) => [`${a}:active`, `${a}:next`]).sort(),
    );
    for (const r of sig) {
      expect(r).toMatchObject({ backend: 'pkcs11', handle: `nixa:${r.kid}`, private_enc: null });
      expect(Object.keys(r.public_jwk!).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(m))).toEqual([]);
    }
    // Cookie keys are HMAC secrets the web framework holds: they stay software keys.
    expect((await rows()).filter((r) => r.use === 'cookie').every((r) => r.backend === 'software' && r.private_enc !== null)).toBe(true);
  });

  it('makes private keys that are sensitive and not extractable: the token refuses to give out their value', async () => {
    const s = inspector.session(token.pin);
    try {
      const sig = (await rows()).filter((r) => r.use === 'sig' && r.state !== 'revoked');
      for (const r of sig) {
        const { privateKey } = inspector.objects(s, r.kid);
        expect(privateKey).toBeDefined();
        const [extractable, sensitive, onToken] = inspector.lib.C_GetAttributeValue(s, privateKey!, [
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_TOKEN },
        ]);
        expect([extractable!.value, sensitive!.value, onToken!.value]).toEqual([Buffer.from([0]), Buffer.from([1]), Buffer.from([1])]);
        const secret = r.alg === 'RS256' || r.alg === 'PS256' ? pkcs11js.CKA_PRIVATE_EXPONENT : pkcs11js.CKA_VALUE;
        expect(() => inspector.lib.C_GetAttributeValue(s, privateKey!, [{ type: secret }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
        // Nor can it be wrapped out: an unextractable key cannot be exported under any key.
        expect(() => inspector.lib.C_SetAttributeValue(s, privateKey!, [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }])).toThrow(/CKR_ATTRIBUTE_READ_ONLY/);
      }
    } finally {
      inspector.lib.C_CloseSession(s);
    }
  });

  it.each(['ES256', 'RS256', 'PS256', 'EdDSA'])('signs %s in the token: the JWS verifies with the published public key', async (alg) => {
    await ring.refresh();
    const signer = ring.signer(alg);
    const published = ring.snapshot.publicJwks.keys.find((k) => k.kid === signer.kid)!;
    const jws = await signCompact(signer, { typ: 'JWT' }, { iss: config.issuer, sub: 'Nguyễn Thị Thu Hà' });
    const { protectedHeader, payload } = await compactVerify(jws, await importJWK(published, alg));
    expect(protectedHeader).toMatchObject({ alg, kid: signer.kid });
    expect(JSON.parse(Buffer.from(payload).toString())).toMatchObject({ sub: 'Nguyễn Thị Thu Hà' });
    // And a signature over other bytes does not pass for this one.
    const forged = `${jws.split('.').slice(0, 2).join('.')}.${(await signCompact(signer, {}, { other: true })).split('.')[2]}`;
    await expect(compactVerify(forged, await importJWK(published, alg))).rejects.toThrow();
  });

  it('signs many at once over its pool of sessions, off the event loop: every signature verifies', async () => {
    // Several sessions sign on libuv's threads at the same time: the library must
    // have been told to lock (CKF_OS_LOCKING_OK). Without it SoftHSM2 corrupted its
    // memory under this load (RSA at 8 at once) and the process died.
    const algs = ['ES256', 'RS256', 'PS256', 'EdDSA'];
    const until = Date.now() + 1500;
    const signed: { alg: string; jws: string }[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; Date.now() < until; i++) {
          const alg = algs[(w + i) % algs.length]!;
          signed.push({ alg, jws: await signCompact(ring.signer(alg), {}, { w, i }) });
        }
      }),
    );
    expect(signed.length).toBeGreaterThan(100);
    const keys = new Map(await Promise.all(algs.map(async (alg) => [alg, await importJWK(ring.snapshot.publicJwks.keys.find((k) => k.kid === ring.signer(alg).kid)!, alg)] as const)));
    for (const { alg, jws } of signed) await expect(compactVerify(jws, keys.get(alg)!)).resolves.toBeDefined();
  });

  it('signs an audit checkpoint in the token, and the checkpoint verifies', async () => {
    const c = await createCheckpoint(tdb.db, ring.signer('ES256'), config.issuer);
    expect(c).toBeDefined();
    expect(c!.kid).toBe(ring.signer('ES256').kid);
    expect(await checkCheckpoint(c!, undefined)).toBeUndefined();
  });

  it('rotates with the token: the next key signs, a new next key is made in the token, the retired key stays until deleted', async () => {
    const before = ring.signer('ES256').kid;
    await rotateKeys(tdb.db, cipher, config, 'test:operator', { reason: 'xoay khóa trong HSM (kiểm thử)', alg: 'ES256' });
    await ring.refresh();
    const after = ring.signer('ES256').kid;
    expect(after).not.toBe(before);
    const views = await listKeyViews(tdb.db);
    expect(views.find((k) => k.kid === before)?.state).toBe('retired');
    const next = (await rows()).find((r) => r.alg === 'ES256' && r.state === 'next')!;
    expect(next.backend).toBe('pkcs11');

    const s = inspector.session(token.pin);
    try {
      expect(inspector.objects(s, before).privateKey).toBeDefined();
      expect(inspector.objects(s, next.kid).privateKey).toBeDefined();
      // Maintenance past the retired key's deleteAfter deletes it, and its objects in the token with it.
      const deleteAfter = Date.parse(views.find((k) => k.kid === before)!.deleteAfter!);
      await ring.maintain(new Date(deleteAfter + 1000));
      expect((await rows()).some((r) => r.kid === before)).toBe(false);
      expect(inspector.objects(s, before)).toEqual({ privateKey: undefined, publicKey: undefined });
    } finally {
      inspector.lib.C_CloseSession(s);
    }
  });

  it('revokes: the key leaves the published set, its objects are destroyed in the token, and the next key signs', async () => {
    const revoked = ring.signer('RS256').kid;
    await revokeKey(tdb.db, ring.store, revoked, 'test:operator', 'Khóa ký nghi bị lộ (kiểm thử)');
    await ring.refresh();
    expect(ring.snapshot.publicJwks.keys.map((k) => k.kid)).not.toContain(revoked);
    expect(ring.signer('RS256').kid).not.toBe(revoked);
    const s = inspector.session(token.pin);
    try {
      expect(inspector.objects(s, revoked)).toEqual({ privateKey: undefined, publicKey: undefined });
    } finally {
      inspector.lib.C_CloseSession(s);
    }
  });

  it('re-opens a lost session on the next signature (all sessions closed under it)', async () => {
    const signer = ring.signer('ES256');
    await signer.sign(Buffer.from('trước'));
    inspector.lib.C_CloseAllSessions(inspector.slot);
    const jws = await signCompact(signer, {}, { after: 'sau khi mất phiên' });
    const published = ring.snapshot.publicJwks.keys.find((k) => k.kid === signer.kid)!;
    await expect(compactVerify(jws, await importJWK(published, 'ES256'))).resolves.toBeDefined();
  });

  it('fails with a typed 503 error, not another key, when the key is gone from the token', async () => {
    const signer = ring.signer('EdDSA');
    const s = inspector.session(token.pin);
    try {
      const { privateKey } = inspector.objects(s, signer.kid);
      inspector.lib.C_DestroyObject(s, privateKey!);
    } finally {
      inspector.lib.C_CloseSession(s);
    }
    const err = await signer.sign(Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SigningUnavailableError);
    expect(err).toMatchObject({ status: 503, code: 'NIXA-KEY-002', reason: 'key-missing' });
  });

  it('moves signing from software keys into the token when the backend changes: the software key retires at once', async () => {
    const db2 = await createTestDatabase();
    const software = testConfig({ NIXA_SIGNING_ALGS: 'ES256,RS256', NIXA_MASTER_KEY: config.masterKey.kind === 'value' ? config.masterKey.base64 : '' });
    const softRing = new KeyRing(db2.db, cipher, software, silentLogger);
    const hsmRing = new KeyRing(db2.db, cipher, { ...software, keys: { ...software.keys, backend: config.keys.backend } }, silentLogger);
    try {
      await softRing.maintain();
      const old = softRing.signer('ES256').kid;
      await hsmRing.maintain();
      const { rows: after } = await db2.db.query<{ kid: string; state: string; backend: string }>(`SELECT kid, state, backend FROM keys WHERE use = 'sig' AND alg = 'ES256'`);
      expect(after.find((r) => r.kid === old)?.state).toBe('retired');
      expect(after.filter((r) => r.state === 'active' || r.state === 'next').map((r) => r.backend)).toEqual(['pkcs11', 'pkcs11']);
      expect(hsmRing.signer('ES256').kid).not.toBe(old);
    } finally {
      await softRing.stop();
      await hsmRing.stop();
      await db2.drop();
    }
  });
});

describeWithSoftHsm(import.meta.url, 'opening the token at start-up', () => {
  let token: TestToken;
  const cipher = new Cipher(Buffer.alloc(32, 7));

  beforeAll(() => {
    token = createTestToken('khoi-dong');
  });
  afterAll(() => token?.remove());

  const opening = (env: Record<string, string>) => () => openKeyStore(cipher, testConfig({ ...token.env, ...env })).close();

  it('refuses a wrong PIN, naming NIXA_PKCS11_PIN', () => {
    expect(opening({ NIXA_PKCS11_PIN: '000000' })).toThrow(ConfigError);
    expect(opening({ NIXA_PKCS11_PIN: '000000' })).toThrow(/NIXA_PKCS11_PIN .*refused/);
  });

  it('refuses a wrong PIN read from a file, naming NIXA_PKCS11_PIN_FILE', () => {
    const file = join(tmpdir(), `hsm-pin-${process.pid}`);
    writeFileSync(file, '999999\n');
    expect(opening({ NIXA_PKCS11_PIN: '', NIXA_PKCS11_PIN_FILE: file })).toThrow(/NIXA_PKCS11_PIN_FILE/);
    writeFileSync(file, `${token.pin}\n`);
    expect(opening({ NIXA_PKCS11_PIN: '', NIXA_PKCS11_PIN_FILE: file })).not.toThrow();
    rmSync(file);
  });

  it('names NIXA_PKCS11_TOKEN_LABEL when no token has that label, and NIXA_PKCS11_MODULE when the library does not load', () => {
    expect(opening({ NIXA_PKCS11_TOKEN_LABEL: 'khong-co' })).toThrow(/NIXA_PKCS11_TOKEN_LABEL.*khong-co/);
    expect(opening({ NIXA_PKCS11_MODULE: '/usr/lib/khong-co/libpkcs11.so' })).toThrow(/NIXA_PKCS11_MODULE/);
  });

  it('never puts the PIN in the configuration as printed or logged', () => {
    const printed = JSON.stringify(testConfig(token.env));
    expect(printed).not.toContain(token.pin);
    expect(printed).toContain('"from":"NIXA_PKCS11_PIN"');
  });
});

describe('NIXA_KEY_BACKEND=pkcs11 configuration', () => {
  const pkcs11 = { NIXA_KEY_BACKEND: 'pkcs11', NIXA_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so', NIXA_PKCS11_TOKEN_LABEL: 'nixa', NIXA_PKCS11_PIN: '246810' };

  it('stays software by default', () => {
    expect(testConfig().keys.backend).toEqual({ kind: 'software' });
  });

  it.each([
    [{ NIXA_PKCS11_MODULE: '' }, 'NIXA_PKCS11_MODULE'],
    [{ NIXA_PKCS11_MODULE: 'libsofthsm2.so' }, 'NIXA_PKCS11_MODULE'],
    [{ NIXA_PKCS11_TOKEN_LABEL: '' }, 'NIXA_PKCS11_TOKEN_LABEL'],
    [{ NIXA_PKCS11_SLOT: '3' }, 'NIXA_PKCS11_SLOT'],
    [{ NIXA_PKCS11_PIN: '' }, 'NIXA_PKCS11_PIN'],
    [{ NIXA_PKCS11_PIN_FILE: '/run/secrets/pin' }, 'NIXA_PKCS11_PIN_FILE'],
    [{ NIXA_KEY_BACKEND: 'kms' }, 'NIXA_KEY_BACKEND'],
  ])('refuses %j, naming %s', (change, variable) => {
    let err: unknown;
    try {
      testConfig({ ...pkcs11, ...change });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
  });

  it('takes a slot instead of a label', () => {
    const c = testConfig({ ...pkcs11, NIXA_PKCS11_TOKEN_LABEL: '', NIXA_PKCS11_SLOT: '0' });
    expect(c.keys.backend).toMatchObject({ kind: 'pkcs11', token: { slot: 0 } });
  });
});
