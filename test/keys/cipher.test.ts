// Encryption at rest (AES-256-GCM envelopes bound to their row) and loading the
// master key that protects it.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, MasterKeyError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/cipher.js';
import { KeyRing } from '../../src/keys/keyring.js';
import { loadMasterKey } from '../../src/keys/master-key.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase } from '../support/database.js';
import { testConfig } from '../support/nixa.js';

const masterKey = randomBytes(32);
const cipher = new Cipher(masterKey);
const SECRET = JSON.stringify({ kty: 'EC', crv: 'P-256', d: 'c2VjcmV0LXByaXZhdGUtc2NhbGFy', note: 'Khóa bí mật — ключ' });

describe('Cipher', () => {
  it('decrypts what it encrypted under the same associated data', () => {
    const envelope = cipher.encrypt(SECRET, 'key:abc');
    expect(cipher.decrypt(envelope, 'key:abc')).toBe(SECRET);
    // And from a Uint8Array, which is what a bytea column comes back as.
    expect(cipher.decrypt(new Uint8Array(envelope), 'key:abc')).toBe(SECRET);
    expect(cipher.decrypt(cipher.encrypt('', 'key:empty'), 'key:empty')).toBe('');
  });

  it('does not leave the plaintext readable in the envelope, and never repeats an envelope', () => {
    const a = cipher.encrypt(SECRET, 'key:abc');
    const b = cipher.encrypt(SECRET, 'key:abc');
    expect(a.equals(b)).toBe(false);
    expect(a.toString('latin1')).not.toContain('c2VjcmV0LXByaXZhdGUtc2NhbGFy');
    expect(a.toString('latin1')).not.toContain('"d"');
  });

  it('refuses to decrypt under a different master key', () => {
    const envelope = cipher.encrypt(SECRET, 'key:abc');
    const other = new Cipher(randomBytes(32));
    expect(() => other.decrypt(envelope, 'key:abc')).toThrow(MasterKeyError);
  });

  it('refuses a ciphertext moved to another row (different associated data)', () => {
    const envelope = cipher.encrypt(SECRET, 'key:row-a');
    expect(() => cipher.decrypt(envelope, 'key:row-b')).toThrow(MasterKeyError);
    expect(() => cipher.decrypt(envelope, 'client:row-a')).toThrow(MasterKeyError);
  });

  it('refuses an envelope with any single byte altered (IV, tag or body)', () => {
    const envelope = cipher.encrypt(SECRET, 'key:abc');
    // Byte 0 is the version, 1–12 the IV, 13–28 the tag, the rest the body.
    for (const i of [0, 1, 12, 13, 28, 29, envelope.length - 1]) {
      const tampered = Buffer.from(envelope);
      tampered[i] = tampered[i]! ^ 0x01;
      expect(() => cipher.decrypt(tampered, 'key:abc')).toThrow(MasterKeyError);
    }
  });

  it('refuses a truncated or extended envelope', () => {
    const envelope = cipher.encrypt(SECRET, 'key:abc');
    expect(() => cipher.decrypt(envelope.subarray(0, envelope.length - 1), 'key:abc')).toThrow(MasterKeyError);
    expect(() => cipher.decrypt(Buffer.concat([envelope, Buffer.from([0])]), 'key:abc')).toThrow(MasterKeyError);
  });

  it('refuses malformed envelopes with a MasterKeyError, not a crash', () => {
    for (const bad of [Buffer.alloc(0), Buffer.from([1]), Buffer.alloc(28, 1), Buffer.from('{"kty":"RSA","d":"x"}'), Buffer.alloc(64, 0)]) {
      expect(() => cipher.decrypt(bad, 'key:abc')).toThrow(MasterKeyError);
    }
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => new Cipher(randomBytes(16))).toThrow(MasterKeyError);
    expect(() => new Cipher(randomBytes(33))).toThrow(MasterKeyError);
  });
});

describe('key material in the database', () => {
  it('cannot be loaded from a row whose ciphertext was copied from another key', async () => {
    const tdb = await createTestDatabase();
    try {
      const config = testConfig();
      const ring = new KeyRing(tdb.db, cipher, config, silentLogger);
      await ring.maintain();
      expect(ring.snapshot.providerJwks.length).toBeGreaterThan(0);
      // Copy the cookie key's envelope onto the active RS256 key's row.
      await tdb.db.query(
        `UPDATE keys SET private_enc = (SELECT private_enc FROM keys WHERE use = 'cookie' AND state = 'active')
         WHERE alg = 'RS256' AND state = 'active'`,
      );
      const fresh = new KeyRing(tdb.db, cipher, config, silentLogger);
      await expect(fresh.refresh()).rejects.toThrow(MasterKeyError);
      // The same rows under a different master key do not load either.
      const foreign = new KeyRing(tdb.db, new Cipher(randomBytes(32)), config, silentLogger);
      await expect(foreign.refresh()).rejects.toThrow(MasterKeyError);
    } finally {
      await tdb.drop();
    }
  });
});

describe('loadMasterKey', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'nixa-master-key-'));

  it('decodes a key given as a value', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ kind: 'value', base64: key.toString('base64') }).equals(key)).toBe(true);
  });

  it('creates a missing key file, owner-only (0600), when allowed, and reads the same key back', () => {
    const path = join(dir(), 'nested', 'keys', 'master.key');
    const key = loadMasterKey({ kind: 'file', path, createIfMissing: true });
    expect(key).toHaveLength(32);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').equals(key)).toBe(true);
    expect(loadMasterKey({ kind: 'file', path, createIfMissing: true }).equals(key)).toBe(true);
  });

  it('refuses to start, naming NIXA_MASTER_KEY_FILE, when the file is missing and may not be created', () => {
    const path = join(dir(), 'master.key');
    let caught: unknown;
    try {
      loadMasterKey({ kind: 'file', path, createIfMissing: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe('NIXA_MASTER_KEY_FILE');
    expect((caught as ConfigError).message).toContain('NIXA_MASTER_KEY_FILE');
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a key file that does not hold exactly 32 bytes', () => {
    for (const length of [16, 31, 33, 0]) {
      const path = join(dir(), 'master.key');
      writeFileSync(path, `${randomBytes(length).toString('base64')}\n`, { mode: 0o600 });
      let caught: unknown;
      try {
        loadMasterKey({ kind: 'file', path, createIfMissing: true });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).variable).toBe('NIXA_MASTER_KEY_FILE');
      expect((caught as ConfigError).message).toContain(`holds ${length}`);
    }
  });

  it('tightens a key file readable by others to owner-only', () => {
    const path = join(dir(), 'master.key');
    const key = randomBytes(32);
    writeFileSync(path, key.toString('base64'));
    chmodSync(path, 0o644);
    expect(loadMasterKey({ kind: 'file', path, createIfMissing: false }).equals(key)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
