// A fresh SoftHSM2 token per test file, in its own /tmp/hsm-… directory, and a
// second PKCS#11 session on it to look at (or break) what nixa does, through the
// same library nixa loaded. Tests needing it are skipped, saying why, where
// SoftHSM2 is not installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import pkcs11js from 'pkcs11js';

import { loadLibrary, unloadLibrary } from '../../src/keys/pkcs11.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const hasSoftHsm = existsSync(SOFTHSM_MODULE) && (() => {
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skipReason = hasSoftHsm ? undefined : `skipped: ${SOFTHSM_MODULE} or softhsm2-util not installed (apt-get install softhsm2)`;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** describe() when SoftHSM2 is installed; otherwise describe.skip with the reason in the title and a warning. */
export function describeWithSoftHsm(file: string, title: string, fn: () => void): void {
  if (!hasSoftHsm) console.warn(`${relative(REPO_ROOT, fileURLToPath(file))} ${skipReason}`);
  (hasSoftHsm ? describe : describe.skip)(`${title}${skipReason ? ` (${skipReason})` : ''}`, fn);
}

export interface TestToken {
  label: string;
  pin: string;
  /** The variables that point nixa at this token. */
  env: Record<string, string>;
  remove(): void;
}

/**
 * The SoftHSM2 configuration this process's library reads. SoftHSM2 reads
 * SOFTHSM2_CONF from the C environment once per C_Initialize; Jest gives each test
 * file a copy of process.env that never reaches C, and process.loadEnvFile sets a
 * variable only once. So one configuration per worker process, in /tmp/hsm-<pid>,
 * and a token of its own (its own label) for each test.
 */
function softHsmConf(): string {
  const dir = join(tmpdir(), `hsm-${process.pid}`);
  const conf = join(dir, 'softhsm2.conf');
  // Set by whoever runs the tests: theirs to manage.
  if (process.env.SOFTHSM2_CONF && process.env.SOFTHSM2_CONF !== conf) return process.env.SOFTHSM2_CONF;
  if (!existsSync(conf)) {
    mkdirSync(join(dir, 'tokens'), { recursive: true });
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  }
  const envFile = join(dir, 'env');
  writeFileSync(envFile, `SOFTHSM2_CONF=${conf}\n`);
  process.loadEnvFile(envFile);
  process.env.SOFTHSM2_CONF = conf;
  return conf;
}

let tokens = 0;
let live = 0;

/**
 * Initialises a new token (before nixa first opens one in this file: SoftHSM2
 * sees tokens made while it is initialised only after C_Finalize).
 */
export function createTestToken(name = 'nixa'): TestToken {
  const conf = softHsmConf();
  const label = `${name}-${process.pid}-${++tokens}`.slice(0, 32);
  const pin = '246810';
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '13579111'], { env, stdio: 'ignore' });
  live++;
  return {
    label,
    pin,
    env: { NIXA_KEY_BACKEND: 'pkcs11', NIXA_PKCS11_MODULE: SOFTHSM_MODULE, NIXA_PKCS11_TOKEN_LABEL: label, NIXA_PKCS11_PIN: pin },
    remove: () => {
      execFileSync('softhsm2-util', ['--delete-token', '--token', label], { env, stdio: 'ignore' });
      // The last token of this file: the directory goes (a later file in this process makes it again).
      if (--live === 0) rmSync(dirname(conf), { recursive: true, force: true });
    },
  };
}

/** The test's own view of the token: a session of its own, through the library nixa uses. */
export class TokenInspector {
  readonly lib: pkcs11js.PKCS11;
  readonly slot: Buffer;

  constructor(label: string) {
    this.lib = loadLibrary(SOFTHSM_MODULE);
    const slot = this.lib.C_GetSlotList(true).find((s) => this.lib.C_GetTokenInfo(s).label.trim() === label);
    if (!slot) throw new Error(`no token ${label}`);
    this.slot = slot;
  }

  /** A logged-in session (the login is shared by every session of this process, nixa's included). */
  session(pin: string): Buffer {
    const s = this.lib.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      this.lib.C_Login(s, pkcs11js.CKU_USER, pin);
    } catch (err) {
      if (!(err instanceof pkcs11js.Pkcs11Error && err.code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) throw err;
    }
    return s;
  }

  /** The objects labelled nixa:<kid>, by class. */
  objects(s: Buffer, kid: string): { privateKey: Buffer | undefined; publicKey: Buffer | undefined } {
    const find = (cls: number) => {
      this.lib.C_FindObjectsInit(s, [
        { type: pkcs11js.CKA_CLASS, value: cls },
        { type: pkcs11js.CKA_LABEL, value: `nixa:${kid}` },
      ]);
      const [o] = this.lib.C_FindObjects(s, 2);
      this.lib.C_FindObjectsFinal(s);
      return o;
    };
    return { privateKey: find(pkcs11js.CKO_PRIVATE_KEY), publicKey: find(pkcs11js.CKO_PUBLIC_KEY) };
  }

  release(): void {
    unloadLibrary(SOFTHSM_MODULE);
  }
}
