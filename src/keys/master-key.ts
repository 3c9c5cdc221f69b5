// Loads the master key that encrypts key material at rest: from NIXA_MASTER_KEY,
// or from a file (keys/master.key by default), which a development machine
// creates on first run with owner-only permissions.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { Config } from '../config/index.js';
import { ConfigError } from '../errors/index.js';

export function loadMasterKey(spec: Config['masterKey']): Buffer {
  if (spec.kind === 'value') return Buffer.from(spec.base64, 'base64');

  if (!existsSync(spec.path)) {
    if (!spec.createIfMissing) {
      throw new ConfigError('NIXA_MASTER_KEY_FILE', `a readable file holding 32 base64 bytes (${spec.path} does not exist)`);
    }
    mkdirSync(dirname(spec.path), { recursive: true });
    // Written whole to a private temporary file, then linked into place: link fails
    // if the key exists, so two processes starting at once agree on one key and
    // neither ever reads a half-written file.
    const tmp = `${spec.path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, spec.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  const mode = statSync(spec.path).mode & 0o077;
  if (mode !== 0) chmodSync(spec.path, 0o600);
  const key = Buffer.from(readFileSync(spec.path, 'utf8').trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError('NIXA_MASTER_KEY_FILE', `a file holding 32 bytes in base64 (${spec.path} holds ${key.length})`);
  }
  return key;
}
