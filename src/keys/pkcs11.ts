// Signing keys held in a PKCS#11 token (an HSM; SoftHSM2 in tests). Keys are
// generated inside the token as token objects that are sensitive and not
// extractable, found again by their label (= CKA_ID = "nixa:" + kid), and used
// only through C_Sign. Nothing here ever reads private key material.
import { createHash } from 'node:crypto';

import type { JWK } from 'jose';
import pkcs11js from 'pkcs11js';

import type { KeyBackendConfig } from '../config/index.js';
import { ConfigError, SigningUnavailableError } from '../errors/index.js';

type Pkcs11Config = Extract<KeyBackendConfig, { kind: 'pkcs11' }>;
type Handle = Buffer;

// Not named in pkcs11js 2.1.7's constants (PKCS#11 3.0): Edwards curve keys and EdDSA.
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
// DER object identifiers as CKA_EC_PARAMS: P-256 (prime256v1) and Ed25519 (RFC 8410).
const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex');
const ED25519_OID = Buffer.from('06032b6570', 'hex');

/** Why a token operation failed, in a few fixed words (log field and metric label). */
export type TokenFailure = 'pin-refused' | 'token-unavailable' | 'session-lost' | 'key-missing' | 'token-error';

const SESSION_LOST = new Set([
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_KEY_HANDLE_INVALID,
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
  pkcs11js.CKR_DEVICE_ERROR,
]);

function failureOf(err: unknown): TokenFailure {
  const code = err instanceof pkcs11js.Pkcs11Error ? err.code : undefined;
  if (code === pkcs11js.CKR_PIN_INCORRECT || code === pkcs11js.CKR_PIN_LOCKED || code === pkcs11js.CKR_PIN_EXPIRED) return 'pin-refused';
  if (code === pkcs11js.CKR_TOKEN_NOT_PRESENT || code === pkcs11js.CKR_DEVICE_REMOVED || code === pkcs11js.CKR_SLOT_ID_INVALID) return 'token-unavailable';
  if (code !== undefined && SESSION_LOST.has(code)) return 'session-lost';
  if (err instanceof KeyMissing) return 'key-missing';
  return 'token-error';
}

class KeyMissing extends Error {}

/** What a signing algorithm needs from the token: how to generate the pair and how to sign. */
interface AlgMechanisms {
  generate: number;
  /** Mechanisms that sign, best first; `prehash` means the token signs a SHA-256 digest nixa computes. */
  sign: { mechanism: number; prehash?: boolean; parameter?: pkcs11js.RsaPSS }[];
  signatureBytes: number;
}

function mechanisms(alg: string): AlgMechanisms {
  switch (alg) {
    case 'ES256':
      // SoftHSM2 2.6 has CKM_ECDSA only: hashing the input outside the token reveals nothing.
      return { generate: pkcs11js.CKM_EC_KEY_PAIR_GEN, sign: [{ mechanism: pkcs11js.CKM_ECDSA_SHA256 }, { mechanism: pkcs11js.CKM_ECDSA, prehash: true }], signatureBytes: 64 };
    case 'RS256':
      return { generate: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN, sign: [{ mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }], signatureBytes: 512 };
    case 'PS256':
      return {
        generate: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN,
        sign: [
          {
            mechanism: pkcs11js.CKM_SHA256_RSA_PKCS_PSS,
            parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 },
          },
        ],
        signatureBytes: 512,
      };
    case 'EdDSA':
      return { generate: CKM_EC_EDWARDS_KEY_PAIR_GEN, sign: [{ mechanism: CKM_EDDSA }], signatureBytes: 64 };
    default:
      throw new ConfigError('NIXA_SIGNING_ALGS', `one of ES256, RS256, PS256, EdDSA for NIXA_KEY_BACKEND=pkcs11 (got ${alg})`);
  }
}

const MECHANISM_NAMES: Record<number, string> = {
  [CKM_EC_EDWARDS_KEY_PAIR_GEN]: 'CKM_EC_EDWARDS_KEY_PAIR_GEN',
  [CKM_EDDSA]: 'CKM_EDDSA',
  ...Object.fromEntries(
    Object.entries(pkcs11js)
      .filter(([name, v]) => name.startsWith('CKM_') && typeof v === 'number')
      .map(([name, v]) => [v as number, name]),
  ),
};

/** A DER OCTET STRING's content (CKA_EC_POINT is wrapped in one by most tokens), or the bytes as they are. */
function unwrapOctetString(b: Buffer): Buffer {
  if (b[0] !== 0x04 || b.length < 2) return b;
  if (b[1]! < 0x80 && b[1] === b.length - 2) return b.subarray(2);
  if (b[1] === 0x81 && b[2] === b.length - 3) return b.subarray(3);
  return b;
}

const label = (kid: string) => `nixa:${kid}`;

/**
 * The PKCS#11 library is loaded and initialised once per process and path, and
 * finalised when the last user of it releases it (tokens; tests that inspect one) (SoftHSM2 reads its configuration
 * at C_Initialize, which is how each test gets its own token directory).
 */
const libraries = new Map<string, { lib: pkcs11js.PKCS11; users: number }>();

export function loadLibrary(path: string): pkcs11js.PKCS11 {
  const known = libraries.get(path);
  if (known) {
    known.users++;
    return known.lib;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (err) {
    throw new ConfigError('NIXA_PKCS11_MODULE', `a PKCS#11 library that loads (${path}: ${(err as Error).message})`);
  }
  try {
    // Signatures run on libuv's threads (C_SignAsync), several sessions at once:
    // the library must lock. Without this flag PKCS#11 lets it assume one thread,
    // and SoftHSM2 corrupts its memory under concurrent signing.
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (!(err instanceof pkcs11js.Pkcs11Error && err.code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
      throw new ConfigError('NIXA_PKCS11_MODULE', `a PKCS#11 library that initialises (${path}: ${(err as Error).message})`);
    }
  }
  libraries.set(path, { lib, users: 1 });
  return lib;
}

export function unloadLibrary(path: string): void {
  const known = libraries.get(path);
  if (!known || --known.users > 0) return;
  libraries.delete(path);
  try {
    known.lib.C_Finalize();
  } finally {
    known.lib.close();
  }
}

const MAX_SESSIONS = 4;

/**
 * One token. Sessions are pooled (a PKCS#11 session runs one operation at a time;
 * C_SignAsync runs on libuv's pool, off the event loop). A session found lost —
 * closed, logged out, the token reset — is dropped and a fresh one opened and
 * logged in on the same call; a PIN refused or a token gone is reported, never
 * papered over.
 */
export class Pkcs11Token {
  readonly #config: Pkcs11Config;
  readonly #lib: pkcs11js.PKCS11;
  readonly #slot: Handle;
  readonly #tokenName: string;
  readonly #mechanisms: Set<number>;
  #idle: Handle[] = [];
  #open = 0;
  #waiting: ((s: Handle) => void)[] = [];
  #handles = new Map<string, Handle>();
  #closed = false;

  private constructor(config: Pkcs11Config, lib: pkcs11js.PKCS11, slot: Handle, tokenName: string) {
    this.#config = config;
    this.#lib = lib;
    this.#slot = slot;
    this.#tokenName = tokenName;
    this.#mechanisms = new Set(lib.C_GetMechanismList(slot));
  }

  /**
   * Opens the token and logs in, checking that it can do every configured
   * algorithm: a wrong PIN, a missing token or algorithm is a start-up error
   * naming the variable to fix.
   */
  static open(config: Pkcs11Config, algs: readonly string[]): Pkcs11Token {
    const lib = loadLibrary(config.module);
    let token: Pkcs11Token | undefined;
    try {
      const slot = findSlot(lib, config);
      const name = 'label' in config.token ? `"${config.token.label}"` : `in slot ${config.token.slot}`;
      token = new Pkcs11Token(config, lib, slot, name);
      for (const alg of algs) {
        const m = mechanisms(alg);
        const has = (x: number) => token!.#mechanisms.has(x);
        const signing = m.sign.find((x) => has(x.mechanism)) ?? m.sign[0]!;
        const missing = [m.generate, signing.mechanism].filter((x) => !has(x));
        if (missing.length) {
          throw new ConfigError(
            'NIXA_SIGNING_ALGS',
            `only algorithms the token ${name} can do: ${alg} needs ${missing.map((x) => MECHANISM_NAMES[x] ?? `0x${x.toString(16)}`).join(' and ')}`,
          );
        }
      }
      // Log in now, so that a wrong PIN stops the start rather than the first sign-in.
      token.#release(token.#openSession(true));
      return token;
    } catch (err) {
      if (token) token.#closeSessions();
      unloadLibrary(config.module);
      throw err;
    }
  }

  /** Generates a key pair for `alg` inside the token; returns its public JWK and the handle stored in the keys table. */
  async generate(kid: string, alg: string): Promise<{ publicJwk: JWK; handle: string }> {
    const m = mechanisms(alg);
    const id = Buffer.from(label(kid));
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_LABEL, value: label(kid) },
    ];
    const publicTemplate = [...common, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_PRIVATE, value: false }];
    if (alg === 'RS256' || alg === 'PS256') {
      publicTemplate.push({ type: pkcs11js.CKA_MODULUS_BITS, value: 2048 } as never, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) } as never);
    } else {
      publicTemplate.push({ type: pkcs11js.CKA_EC_PARAMS, value: alg === 'EdDSA' ? ED25519_OID : P256_OID } as never);
    }
    const privateTemplate = [
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
    ];
    return this.#withSession(async (s) => {
      const pair = await this.#lib.C_GenerateKeyPairAsync(s, { mechanism: m.generate }, publicTemplate, privateTemplate);
      const base = { kid, alg, use: 'sig' };
      let publicJwk: JWK;
      if (alg === 'RS256' || alg === 'PS256') {
        const [n, e] = this.#lib.C_GetAttributeValue(s, pair.publicKey, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
        publicJwk = { kty: 'RSA', n: (n!.value as Buffer).toString('base64url'), e: (e!.value as Buffer).toString('base64url'), ...base };
      } else {
        const [point] = this.#lib.C_GetAttributeValue(s, pair.publicKey, [{ type: pkcs11js.CKA_EC_POINT }]);
        const raw = unwrapOctetString(point!.value as Buffer);
        publicJwk =
          alg === 'EdDSA'
            ? { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url'), ...base }
            : { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url'), ...base };
      }
      this.#handles.set(kid, pair.privateKey);
      return { publicJwk, handle: label(kid) };
    }, 'generate');
  }

  /** The JWS signature of `input` by the token's key `kid`. */
  async sign(kid: string, alg: string, input: Uint8Array): Promise<Uint8Array> {
    const m = mechanisms(alg);
    const how = m.sign.find((x) => this.#mechanisms.has(x.mechanism))!;
    const data = how.prehash ? createHash('sha256').update(input).digest() : Buffer.from(input);
    return this.#withSession(async (s) => {
      const key = this.#privateKey(s, kid);
      this.#lib.C_SignInit(s, how.parameter ? { mechanism: how.mechanism, parameter: how.parameter } : { mechanism: how.mechanism }, key);
      return new Uint8Array(await this.#lib.C_SignAsync(s, data, Buffer.alloc(m.signatureBytes)));
    }, 'sign');
  }

  /** Destroys both halves of `kid`'s pair (revocation, deletion); true when something was destroyed. */
  async destroy(kid: string): Promise<boolean> {
    return this.#withSession(async (s) => {
      const objects = this.#find(s, [{ type: pkcs11js.CKA_LABEL, value: label(kid) }]);
      for (const o of objects) this.#lib.C_DestroyObject(s, o);
      this.#handles.delete(kid);
      return objects.length > 0;
    }, 'destroy');
  }

  /** The kids of the key pairs nixa made in this token (to find objects left behind). */
  async kids(): Promise<string[]> {
    return this.#withSession(async (s) => {
      const objects = this.#find(s, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
      const labels = objects.map((o) => String(this.#lib.C_GetAttributeValue(s, o, [{ type: pkcs11js.CKA_LABEL }])[0]!.value));
      return labels.filter((l) => l.startsWith('nixa:')).map((l) => l.slice('nixa:'.length));
    }, 'list');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeSessions();
    unloadLibrary(this.#config.module);
  }

  get description(): string {
    return `PKCS#11 token ${this.#tokenName}`;
  }

  #privateKey(s: Handle, kid: string): Handle {
    const known = this.#handles.get(kid);
    if (known) return known;
    const [key] = this.#find(s, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_LABEL, value: label(kid) },
    ]);
    if (!key) throw new KeyMissing(`the token has no private key labelled ${label(kid)}`);
    this.#handles.set(kid, key);
    return key;
  }

  #find(s: Handle, template: pkcs11js.Template): Handle[] {
    this.#lib.C_FindObjectsInit(s, template);
    try {
      return this.#lib.C_FindObjects(s, 100);
    } finally {
      this.#lib.C_FindObjectsFinal(s);
    }
  }

  /** Runs `fn` on a pooled session; a lost session is replaced by a new one and `fn` runs once more. */
  async #withSession<T>(fn: (s: Handle) => Promise<T>, operation: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let session: Handle | undefined;
      try {
        session = await this.#acquire();
        const result = await fn(session);
        this.#release(session);
        return result;
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        const reason = failureOf(err);
        if (session) this.#discard(session, reason !== 'key-missing' && reason !== 'token-error');
        if (reason === 'session-lost' && attempt === 0) continue;
        throw new SigningUnavailableError(`${this.description}: ${operation} failed (${reason}: ${(err as Error).message})`, reason, { cause: err });
      }
    }
  }

  async #acquire(): Promise<Handle> {
    if (this.#closed) throw new Error('the token was closed');
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#open < MAX_SESSIONS) return this.#openSession(false);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(s: Handle): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(s);
    else this.#idle.push(s);
  }

  /**
   * Drops a session after a failure. When the failure says the session is gone
   * (closed, logged out, the token reset), the idle ones went with it, as did the
   * cached key handles: all are dropped, so the retry opens and logs in afresh.
   */
  #discard(s: Handle, lost: boolean): void {
    if (!lost) return this.#release(s);
    this.#handles.clear();
    for (const gone of [s, ...this.#idle.splice(0)]) {
      this.#open--;
      try {
        this.#lib.C_CloseSession(gone);
      } catch {
        // Already gone: that is why it is discarded.
      }
    }
    // Someone waiting for a session gets a fresh one instead.
    const waiter = this.#waiting.shift();
    if (waiter) {
      try {
        waiter(this.#openSession(false));
      } catch {
        this.#waiting.unshift(waiter);
      }
    }
  }

  #openSession(atStart: boolean): Handle {
    const s = this.#lib.C_OpenSession(this.#slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    this.#open++;
    try {
      this.#lib.C_Login(s, pkcs11js.CKU_USER, this.#config.pin.read());
    } catch (err) {
      // Login is per application and token: the other sessions' login covers this one.
      if (err instanceof pkcs11js.Pkcs11Error && err.code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return s;
      this.#open--;
      try {
        this.#lib.C_CloseSession(s);
      } catch {
        // The login failure is what matters.
      }
      if (atStart && failureOf(err) === 'pin-refused') {
        throw new ConfigError(this.#config.pin.from, `the user PIN of the token ${this.#tokenName} (the token refused it: ${(err as Error).message})`);
      }
      throw err;
    }
    return s;
  }

  #closeSessions(): void {
    for (const s of this.#idle.splice(0)) {
      try {
        this.#lib.C_CloseSession(s);
      } catch {
        // Closing anyway.
      }
    }
    this.#open = 0;
  }
}

const slotNumber = (h: Handle) => (h.length >= 8 ? h.readBigUInt64LE(0) : BigInt(h.readUInt32LE(0)));

function findSlot(lib: pkcs11js.PKCS11, config: Pkcs11Config): Handle {
  const slots = lib.C_GetSlotList(true);
  if ('label' in config.token) {
    const wanted = config.token.label;
    const found = slots.find((s) => lib.C_GetTokenInfo(s).label.trim() === wanted);
    if (!found) {
      const seen = slots.map((s) => `"${lib.C_GetTokenInfo(s).label.trim()}"`).join(', ') || 'none';
      throw new ConfigError('NIXA_PKCS11_TOKEN_LABEL', `the label of a token present in ${config.module} (no token "${wanted}"; present: ${seen})`);
    }
    return found;
  }
  const wanted = BigInt(config.token.slot);
  const found = slots.find((s) => slotNumber(s) === wanted);
  if (!found) {
    throw new ConfigError('NIXA_PKCS11_SLOT', `a slot with a token in ${config.module} (present: ${slots.map((s) => slotNumber(s).toString()).join(', ') || 'none'})`);
  }
  return found;
}
