// A token-held key as oidc-provider takes it. In a module of its own, loaded by
// the key ring only when keys live in a token: importing oidc-provider costs the
// CLI's other commands a start-up (and a runtime warning on stderr).
import { createPublicKey, type KeyObject } from 'node:crypto';

import { errors, ExternalSigningKey } from 'oidc-provider';

import { SigningUnavailableError } from '../errors/index.js';
import type { Signer } from './signer.js';

/**
 * A key held in a PKCS#11 token, as oidc-provider's external signing support
 * (features.externalSigningSupport) takes it: the provider hands it the bytes
 * to sign and builds the JWS itself. A failure at the token becomes the OAuth
 * error temporarily_unavailable with HTTP 503 — the provider never falls back to
 * another key, and neither does nixa.
 */
export class TokenSigningKey extends ExternalSigningKey {
  readonly #signer: Signer;
  readonly #verifyOnly: boolean;
  #public: KeyObject | undefined;

  constructor(signer: Signer, verifyOnly: boolean) {
    super();
    this.#signer = signer;
    this.#verifyOnly = verifyOnly;
  }

  // Read-only: both are always set, so the provider never assigns them.
  override get kid(): string {
    return this.#signer.kid;
  }

  override get alg(): string {
    return this.#signer.alg;
  }

  /** Like a retired software key: selected to verify, never to sign. */
  override get key_ops(): string[] | undefined {
    return this.#verifyOnly ? ['verify'] : undefined;
  }

  override keyObject(): KeyObject {
    this.#public ??= createPublicKey({ key: this.#signer.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    return this.#public;
  }

  override async sign(data: Buffer): Promise<Buffer> {
    try {
      return Buffer.from(await this.#signer.sign(data));
    } catch (err) {
      if (!(err instanceof SigningUnavailableError)) throw err;
      const e = new errors.TemporarilyUnavailable('nixa cannot sign right now; try again in a moment', { cause: err });
      Object.assign(e, { status: 503, statusCode: 503 });
      throw e;
    }
  }
}

