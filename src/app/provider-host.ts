// Holds the current oidc-provider instance. oidc-provider fixes its signing keys
// at construction, so when the signing key set changes (rotation, revocation) a
// new instance is built from the same database and swapped in; requests already
// running finish on the old one. Nothing is lost: all state lives in PostgreSQL.
import type Koa from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';

import type { KeyRing, KeySnapshot } from '../keys/index.js';
import { buildProvider, type ProviderDeps } from '../protocol/index.js';

export class ProviderHost {
  #provider!: Provider;
  #middleware!: Koa.Middleware;
  #stamp = '';
  #unsubscribe: () => void;
  readonly #origin: string;

  constructor(
    private readonly deps: ProviderDeps,
    keyring: KeyRing,
    private readonly app: Koa,
    /** Called with every provider built, to listen to its events (metrics). */
    private readonly observe: (provider: Provider) => void = () => {},
  ) {
    this.#origin = new URL(deps.config.issuer).origin;
    this.#apply(keyring.snapshot);
    this.#unsubscribe = keyring.onChange((s) => this.#apply(s));
  }

  /** Set when the last key change could not be applied (the previous keys still sign). */
  buildError: string | undefined;

  get provider(): Provider {
    return this.#provider;
  }

  /**
   * oidc-provider builds every URL it publishes (discovery, form actions, the
   * audiences it accepts in client assertions) from the request's href, that is
   * from the Host header (or X-Forwarded-Host, or an absolute request target). The
   * issuer is fixed configuration: the provider sees the issuer's origin, so that
   * `Host: evil.example` cannot make it name evil.example's endpoints.
   */
  readonly middleware: Koa.Middleware = (ctx, next) => {
    Object.defineProperty(ctx.request, 'href', { value: `${this.#origin}${ctx.path}${ctx.search}`, configurable: true });
    return this.#middleware(ctx, next);
  };

  #apply(snapshot: KeySnapshot): void {
    // Cookies are signed by the outer Koa app's keys; updating them in place is enough.
    this.app.keys = snapshot.cookieKeys;
    if (snapshot.signingStamp === this.#stamp) {
      this.#provider.keys = snapshot.cookieKeys;
      return;
    }
    let provider: Provider;
    try {
      provider = buildProvider(this.deps, snapshot);
    } catch (err) {
      // Keep serving with the previous provider; readiness reports the failure.
      this.buildError = (err as Error).message;
      this.deps.logger.error({ err: { message: this.buildError } }, 'provider rebuild with new keys failed');
      if (!this.#provider) throw err;
      return;
    }
    this.buildError = undefined;
    this.observe(provider);
    this.#provider = provider;
    this.#middleware = mount(provider);
    this.#stamp = snapshot.signingStamp;
    this.deps.logger.info({ signingKeys: snapshot.signingStamp.split(',').length }, 'provider built with current signing keys');
  }

  close(): void {
    this.#unsubscribe();
  }
}
