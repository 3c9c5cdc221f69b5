// The demo's connection to nixa: OpenID Connect discovery with openid-client,
// done lazily and retried. The demo starts even when nixa is down; each page
// that needs nixa asks for the configuration and gets `undefined` while nixa
// cannot be reached.
import { importJWK, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';

import type { Logger } from '../logging/index.js';

export interface NixaClientOptions {
  issuer: string;
  clientId: string;
  /** The service's private key: it authenticates with private_key_jwt (FAPI 2.0). */
  privateJwk: JWK;
  logger: Logger;
  /** Seconds to wait for nixa on each request (discovery, token, JWKS). */
  timeoutSeconds?: number;
  /** Seconds a successful discovery is reused before nixa is asked again. */
  refreshSeconds?: number;
}

export class NixaClient {
  #config: oidc.Configuration | undefined;
  #fetchedAt = 0;
  #inFlight: Promise<oidc.Configuration | undefined> | undefined;
  #reachable: boolean | undefined;
  #key: CryptoKey | undefined;

  constructor(private readonly opts: NixaClientOptions) {}

  /**
   * nixa's configuration, discovered on first use and refreshed every
   * `refreshSeconds` (so that the home page notices when nixa goes away), or
   * `undefined` if nixa cannot be reached right now.
   */
  async get(): Promise<oidc.Configuration | undefined> {
    const fresh = Date.now() - this.#fetchedAt < (this.opts.refreshSeconds ?? 60) * 1000;
    if (this.#config && fresh) return this.#config;
    // Concurrent requests share one discovery attempt.
    this.#inFlight ??= this.#discover().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Forget the cached configuration, e.g. after nixa stopped answering. */
  invalidate(): void {
    this.#config = undefined;
    this.#fetchedAt = 0;
  }

  async #discover(): Promise<oidc.Configuration | undefined> {
    const { issuer, clientId, privateJwk, logger } = this.opts;
    try {
      this.#key ??= (await importJWK(privateJwk, String(privateJwk.alg ?? 'ES256'))) as CryptoKey;
      // Its ID tokens are signed as FAPI 2.0 allows (ES256), not with OpenID Connect's default RS256.
      const metadata = { id_token_signed_response_alg: 'ES256' };
      const config = await oidc.discovery(new URL(issuer), clientId, metadata, oidc.PrivateKeyJwt({ key: this.#key, kid: String(privateJwk.kid) }), {
        // nixa's development issuer is http://localhost; a real service talks to https only.
        execute: [oidc.allowInsecureRequests],
        timeout: this.opts.timeoutSeconds ?? 5,
      });
      this.#config = config;
      this.#fetchedAt = Date.now();
      if (this.#reachable !== true) logger.info({ issuer }, 'demo service: nixa discovered');
      this.#reachable = true;
      return config;
    } catch (err) {
      this.invalidate();
      // Log the transition only, not every page view while nixa is down.
      if (this.#reachable !== false) {
        logger.warn({ issuer, err: describe(err) }, 'demo service: nixa is not reachable; will retry on the next request');
      }
      this.#reachable = false;
      return undefined;
    }
  }
}

function describe(err: unknown): { name: string; message: string; code?: string } {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  return { name: e.name, message: e.message, ...(e.code || e.cause?.code ? { code: e.code ?? e.cause?.code } : {}) };
}

/** Whether an error from openid-client means nixa could not be reached (rather than refused). */
export function isUnreachable(err: unknown): boolean {
  // openid-client may wrap fetch's own error ("something went wrong", cause: TypeError: fetch failed).
  for (let e = err as Cause | undefined, depth = 0; e && depth < 4; e = e.cause as Cause | undefined, depth++) {
    if (e.name === 'TypeError' && e.message === 'fetch failed') return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|UND_ERR_\w+)$/.test(e.code)) return true;
    // An HTML 502 page from a proxy in front of a stopped nixa, for instance.
    if (e.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return true;
    if (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && ((e.cause as { status?: number } | undefined)?.status ?? 500) >= 500) return true;
  }
  return false;
}

interface Cause {
  name?: string;
  message?: string;
  code?: unknown;
  cause?: unknown;
}
