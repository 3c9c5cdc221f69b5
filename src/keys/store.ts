// Where key material is made, used and destroyed: the database (private parts
// encrypted under the master key) or a PKCS#11 token, chosen by NIXA_KEY_BACKEND.
// Cookie keys are HMAC secrets the web framework needs in memory: always software.
import type { JWK } from 'jose';

import type { Config } from '../config/index.js';
import type { Cipher } from './cipher.js';
import { generateKey, newKid } from './generate.js';
import type { KeyBackend, KeyUse } from './lifecycle.js';
import { Pkcs11Token } from './pkcs11.js';
import { type Signer, softwareSigner } from './signer.js';

export interface CreatedKey {
  kid: string;
  backend: KeyBackend;
  publicJwk: JWK | null;
  /** The private JWK or cookie secret, encrypted; null for a key held in a token. */
  privateEnc: Buffer | null;
  /** How the token finds the key (its CKA_LABEL); null for a software key. */
  handle: string | null;
}

/** What the store needs of a keys-table row. */
export interface KeyRow {
  kid: string;
  alg: string;
  backend: KeyBackend;
  publicJwk: JWK | null;
  privateEnc: Buffer | null;
}

export interface KeyStore {
  /** Where new signing keys are made. */
  readonly backend: KeyBackend;
  create(use: KeyUse, alg: string): Promise<CreatedKey>;
  /** A signer for a live signing key. */
  signer(key: KeyRow): Signer;
  /** Destroys a token-held key's objects (a software key's private part goes with its row); true when something was destroyed. */
  destroy(key: Pick<KeyRow, 'kid' | 'backend'>): Promise<boolean>;
  /** Kids of the keys held in the token (empty for software). */
  heldKids(): Promise<string[]>;
  close(): void;
}

class SoftwareKeyStore implements KeyStore {
  readonly backend: KeyBackend = 'software';
  constructor(protected readonly cipher: Cipher) {}

  async create(use: KeyUse, alg: string): Promise<CreatedKey> {
    const g = await generateKey(use, alg);
    return { kid: g.kid, backend: 'software', publicJwk: g.publicJwk, privateEnc: this.cipher.encrypt(g.privateMaterial, `key:${g.kid}`), handle: null };
  }

  signer(key: KeyRow): Signer {
    if (key.backend !== 'software' || !key.privateEnc) {
      throw new Error(`key ${key.kid} is held in a PKCS#11 token; NIXA_KEY_BACKEND=pkcs11 is needed to sign with it`);
    }
    return softwareSigner(JSON.parse(this.cipher.decrypt(key.privateEnc, `key:${key.kid}`)) as JWK);
  }

  async destroy(key: Pick<KeyRow, 'kid' | 'backend'>): Promise<boolean> {
    if (key.backend === 'pkcs11') throw new Error(`key ${key.kid} is held in a PKCS#11 token; NIXA_KEY_BACKEND=pkcs11 is needed to destroy it`);
    return false;
  }

  async heldKids(): Promise<string[]> {
    return [];
  }

  close(): void {}
}

class Pkcs11KeyStore extends SoftwareKeyStore {
  override readonly backend: KeyBackend = 'pkcs11';
  constructor(
    cipher: Cipher,
    private readonly token: Pkcs11Token,
  ) {
    super(cipher);
  }

  override async create(use: KeyUse, alg: string): Promise<CreatedKey> {
    if (use === 'cookie') return super.create(use, alg);
    const kid = newKid();
    const { publicJwk, handle } = await this.token.generate(kid, alg);
    return { kid, backend: 'pkcs11', publicJwk, privateEnc: null, handle };
  }

  override signer(key: KeyRow): Signer {
    if (key.backend !== 'pkcs11') return super.signer(key);
    const { kid, alg } = key;
    return { kid, alg, publicJwk: key.publicJwk!, sign: (input) => this.token.sign(kid, alg, input) };
  }

  override async destroy(key: Pick<KeyRow, 'kid' | 'backend'>): Promise<boolean> {
    return key.backend === 'pkcs11' ? this.token.destroy(key.kid) : false;
  }

  override async heldKids(): Promise<string[]> {
    return this.token.kids();
  }

  override close(): void {
    this.token.close();
  }
}

export const softwareKeyStore = (cipher: Cipher): KeyStore => new SoftwareKeyStore(cipher);

/**
 * The configured store. For pkcs11 this opens the token and logs in (a wrong PIN,
 * a missing token or an algorithm it cannot do is a ConfigError); close() when done.
 */
export function openKeyStore(cipher: Cipher, config: Config): KeyStore {
  const backend = config.keys.backend;
  if (backend.kind === 'software') return new SoftwareKeyStore(cipher);
  return new Pkcs11KeyStore(cipher, Pkcs11Token.open(backend, config.keys.signingAlgs));
}

/** Runs `fn` with the configured store, closing it after (the CLI's one-off commands). */
export async function withKeyStore<T>(cipher: Cipher, config: Config, fn: (store: KeyStore) => Promise<T>): Promise<T> {
  const store = openKeyStore(cipher, config);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
