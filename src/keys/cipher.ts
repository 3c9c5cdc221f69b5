// Envelope encryption of key material and credentials at rest: AES-256-GCM under
// the master key, with the row's identity as associated data so a ciphertext
// copied onto another row does not decrypt.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

import { MasterKeyError } from '../errors/index.js';

const VERSION = 1;

export class Cipher {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new MasterKeyError('the master key must be 32 bytes');
    this.#key = Buffer.from(masterKey);
  }

  /**
   * A 32-byte key for another purpose (e.g. the national ID hash pepper, pairwise
   * subject identifiers), derived with HKDF so that every instance derives the same
   * one and the master key itself is never used twice.
   */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `nixa:${purpose}`, 32));
  }

  encrypt(plaintext: string, associatedData: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  decrypt(envelope: Buffer | Uint8Array, associatedData: string): string {
    const buf = Buffer.from(envelope);
    if (buf.length < 1 + 12 + 16 || buf[0] !== VERSION) {
      throw new MasterKeyError(`stored envelope for ${associatedData} is malformed`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, buf.subarray(1, 13));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(buf.subarray(13, 29));
    try {
      return Buffer.concat([decipher.update(buf.subarray(29)), decipher.final()]).toString('utf8');
    } catch {
      throw new MasterKeyError(
        `cannot decrypt ${associatedData}: the master key is not the one it was encrypted with, or the row was altered`,
      );
    }
  }
}
