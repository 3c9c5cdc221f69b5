// The keys this instance works with, kept in step with the database: reloaded on
// NOTIFY from any instance (or the CLI) and, as a safety net, by polling. Also
// runs scheduled maintenance (rotation, deletion of expired retired keys).
import type { JWK } from 'jose';

import { type Config, signedArtifactMaxLifetime } from '../config/index.js';
import { SigningUnavailableError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { every, serialised, watch, type Database } from '../storage/index.js';
import type { Cipher } from './cipher.js';
import { isPublished, type KeyPolicy, planMaintenance } from './lifecycle.js';
import { changeKeys, KEYS_CHANNEL, keysStamp, listKeys, sweepRevoked, type StoredKey } from './repository.js';
import type { TokenSigningKey } from './provider-key.js';
import type { Signer } from './signer.js';
import { type KeyStore, openKeyStore } from './store.js';

export type ProviderKey = JWK | TokenSigningKey;

export interface KeySnapshot {
  /**
   * Keys for oidc-provider: active keys sign (no key_ops); retired keys only
   * verify (key_ops ["verify"]). Software keys as private JWKs, token-held keys
   * as TokenSigningKey.
   */
  providerJwks: ProviderKey[];
  /** The active signing keys, one per algorithm, for what nixa signs itself (audit checkpoints, client assertions). */
  signers: Signer[];
  /** The published JWKS: public parts of next, active and unexpired retired keys. */
  publicJwks: { keys: JWK[] };
  /** Cookie signing secrets, the active one first. */
  cookieKeys: string[];
  /** Identifies the set of signing keys; changes when the provider must be rebuilt. */
  signingStamp: string;
}

export function keyPolicies(config: Config): KeyPolicy[] {
  return [
    ...config.keys.signingAlgs.map((alg) => ({
      use: 'sig' as const,
      alg,
      rotationSeconds: config.keys.rotationSeconds,
      retainSeconds: signedArtifactMaxLifetime(config),
      backend: config.keys.backend.kind,
    })),
    {
      use: 'cookie' as const,
      alg: 'HS256',
      rotationSeconds: config.keys.cookieRotationSeconds,
      retainSeconds: Math.max(config.ttl.Session, config.ttl.Interaction) + config.clockToleranceSeconds,
    },
  ];
}

export class KeyRing {
  #snapshot: KeySnapshot | undefined;
  #stamp = '';
  #listeners = new Set<(s: KeySnapshot) => void>();
  #stops: (() => unknown)[] = [];
  #store: KeyStore | undefined;
  #failureListeners = new Set<(reason: string) => void>();

  constructor(
    private readonly db: Database,
    private readonly cipher: Cipher,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  get snapshot(): KeySnapshot {
    if (!this.#snapshot) throw new Error('KeyRing.refresh() has not run yet');
    return this.#snapshot;
  }

  onChange(fn: (s: KeySnapshot) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Called with the reason (pkcs11.ts TokenFailure) each time the key store fails to sign: the alert's metric. */
  onSigningFailure(fn: (reason: string) => void): () => void {
    this.#failureListeners.add(fn);
    return () => this.#failureListeners.delete(fn);
  }

  /** The configured key store, opened on first use (for pkcs11: the token, logged in). */
  get store(): KeyStore {
    this.#store ??= openKeyStore(this.cipher, this.config);
    return this.#store;
  }

  /** The signer of the active key for `alg` (audit checkpoints). */
  signer(alg: string): Signer {
    const found = this.snapshot.signers.find((s) => s.alg === alg);
    if (!found) throw new Error(`there is no active ${alg} signing key`);
    return found;
  }

  /** Creates missing keys, rotates due ones and deletes expired retired ones. */
  async maintain(now = new Date()): Promise<void> {
    const policies = keyPolicies(this.config);
    const { steps, undestroyed } = await changeKeys(this.db, this.store, 'system:key-schedule', (keys) => planMaintenance(keys, policies, now));
    if (steps.length) this.logger.info({ steps: steps.map((s) => s.type) }, 'key maintenance applied');
    if (undestroyed.length) this.logger.error({ kids: undestroyed }, 'revoked keys could not be destroyed in the token; retrying at the next maintenance');
    if (this.store.backend === 'pkcs11') {
      const destroyed = await sweepRevoked(this.db, this.store);
      if (destroyed.length) this.logger.info({ kids: destroyed }, 'revoked keys destroyed in the token');
    }
    await this.refresh();
  }

  /** Reloads keys if anything changed since the last load; calls never overlap (see serialised). */
  readonly refresh: () => Promise<void> = serialised(() => this.#reload());

  /** oidc-provider's ExternalSigningKey, loaded only when keys live in a token (the CLI need not load the provider). */
  #tokenKey: typeof TokenSigningKey | undefined;

  async #reload(): Promise<void> {
    if (this.store.backend === 'pkcs11') this.#tokenKey ??= (await import('./provider-key.js')).TokenSigningKey;
    const stamp = await keysStamp(this.db);
    // Published-set membership also depends on time (retired keys expire), so
    // recompute when the clock passed a retired key's deleteAfter too.
    const expired = this.#snapshot && this.#nextExpiry !== undefined && this.#nextExpiry <= Date.now();
    if (stamp === this.#stamp && this.#snapshot && !expired) return;
    const keys = await listKeys(this.db);
    const snapshot = this.#build(keys, new Date());
    this.#stamp = stamp;
    this.#snapshot = snapshot;
    for (const fn of this.#listeners) fn(snapshot);
  }

  #nextExpiry: number | undefined;

  #build(keys: StoredKey[], now: Date): KeySnapshot {
    const published = keys.filter((k) => isPublished(k, now));
    // The next moment a published retired key must drop out. Keys already past it
    // (waiting for maintenance to delete them) are excluded, or every later reload
    // would count as expired and rebuild for nothing.
    this.#nextExpiry = Math.min(
      ...published.filter((k) => k.state === 'retired' && k.deleteAfter).map((k) => k.deleteAfter!.getTime()),
      Number.POSITIVE_INFINITY,
    );
    const store = this.store;
    const usable = published.filter((k) => (k.state === 'active' || k.state === 'retired') && (k.backend === 'software' || store.backend === 'pkcs11'));
    const providerJwks: ProviderKey[] = usable
      .map((k) => {
        if (k.backend === 'pkcs11') return new this.#tokenKey!(this.#alerting(store.signer(k)), k.state === 'retired');
        const jwk = JSON.parse(this.cipher.decrypt(k.privateEnc!, `key:${k.kid}`)) as JWK;
        // oidc-provider picks signing keys by key_ops: a retired key is marked
        // verify-only; the active key carries none (a private JWK may not list
        // "verify", and the provider must still verify what it signed).
        return k.state === 'active' ? jwk : { ...jwk, key_ops: ['verify'] };
      });
    // A retired cookie key verifies until its deleteAfter, like a retired signing key is published.
    const cookies = keys.filter(
      (k) => k.use === 'cookie' && (k.state === 'active' || (k.state === 'retired' && !!k.deleteAfter && k.deleteAfter > now)),
    );
    cookies.sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.createdAt.getTime() - a.createdAt.getTime()));
    return {
      providerJwks,
      signers: usable.filter((k) => k.state === 'active').map((k) => this.#alerting(store.signer(k))),
      publicJwks: { keys: published.map((k) => k.publicJwk!).filter(Boolean) },
      cookieKeys: cookies.map((k) => this.cipher.decrypt(k.privateEnc!, `key:${k.kid}`)),
      signingStamp: providerJwks.map((k) => `${k.kid}:${k.key_ops ? 'verify' : 'sign'}`).sort().join(','),
    };
  }

  /** The signer, raising the alert (an error log and the failure listeners' metric) when the store cannot sign. */
  #alerting(signer: Signer): Signer {
    return {
      ...signer,
      sign: async (input) => {
        try {
          return await signer.sign(input);
        } catch (err) {
          const reason = err instanceof SigningUnavailableError ? err.reason : 'error';
          this.logger.error({ kid: signer.kid, alg: signer.alg, reason, err: (err as Error).message }, 'signing failed at the key store: answering 503, no other key signs instead');
          for (const fn of this.#failureListeners) fn(reason);
          throw err;
        }
      },
    };
  }

  /** Loads keys, subscribes to changes and starts the refresh and maintenance timers. */
  async start(): Promise<void> {
    await this.maintain();
    this.#stops.push(await watch(this.db, KEYS_CHANNEL, this.config.keys.refreshSeconds, this.refresh, this.logger, 'key reload'));
    this.#stops.push(every(Math.max(60, this.config.keys.refreshSeconds), () => this.maintain(), this.logger, 'key maintenance'));
  }

  async stop(): Promise<void> {
    const stops = this.#stops.splice(0);
    await Promise.all(stops.map((stop) => stop()));
    this.#store?.close();
    this.#store = undefined;
  }
}
