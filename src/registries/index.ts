// Organisation registries as data: registration, changes, enabling and disabling
// (audited, with the operator's reason), and the catalogue every instance keeps in
// step with the database (NOTIFY, with polling as a safety net), as for sources.
// client.ts asks the registries; contract.ts is what they answer.
import { appendAudit } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { ConflictError, InvalidInputError, lostRace, NotFoundError } from '../errors/index.js';
import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { serialised, watch, type Database, type Queryable } from '../storage/index.js';
import * as repo from './repository.js';
import { DEFAULT_TIMEOUT_MS, parseRegistryInput, parseRegistryUpdate, type AuthMethod, type RegistryInput, type RegistryKind } from './schema.js';

export * from './contract.js';
export { REGISTRY_FAILURE_REASONS, RegistryUnavailableError, type RegistryFailure, type RegistryFailureReason } from './errors.js';
export { DEFAULT_TIMEOUT_MS, REGISTRY_KINDS, type RegistryKind } from './schema.js';
export { REGISTRIES_CHANNEL } from './repository.js';
export { checkRegistry, HttpOrganisationRegistries, type HttpRegistriesOptions, type LookupOutcome, type RegistryCheck, type RegistryCheckStep, type RegistryQuestion } from './client.js';
export { checkRegistriesHealth, monitorRegistriesHealth, probeRegistry } from './health.js';

export interface OrganisationRegistry {
  id: string;
  kind: RegistryKind;
  name: { vi: string; en: string };
  /** The OAuth authorization server's issuer; its metadata (RFC 8414) names the token endpoint. */
  issuer: string;
  /** Base URL of the contract's API: nixa POSTs to {apiUrl}/v1/representations. */
  apiUrl: string;
  clientId: string;
  authMethod: AuthMethod;
  clientSecret: string | undefined;
  /** Bound on one whole question to the registry: metadata, token and answer together. */
  timeoutMs: number;
  enabled: boolean;
  health: { status: repo.HealthStatus; error: string | null; checkedAt: string | null };
  version: number;
}

const aad = (id: string) => `registry:${id}`;

function toRegistry(r: repo.RegistryRow, cipher: Cipher): OrganisationRegistry {
  return {
    id: r.id,
    kind: r.kind,
    name: { vi: r.name_vi, en: r.name_en },
    issuer: r.issuer,
    apiUrl: r.api_url,
    clientId: r.client_id,
    authMethod: r.auth_method,
    clientSecret: r.client_secret_enc ? cipher.decrypt(r.client_secret_enc, aad(r.id)) : undefined,
    timeoutMs: r.timeout_ms,
    enabled: r.enabled,
    health: { status: r.health_status, error: r.health_error, checkedAt: r.health_checked_at ? new Date(r.health_checked_at).toISOString() : null },
    version: r.version,
  };
}

function toInput(r: OrganisationRegistry): RegistryInput {
  return {
    id: r.id,
    kind: r.kind,
    name_vi: r.name.vi,
    name_en: r.name.en,
    issuer: r.issuer,
    api_url: r.apiUrl,
    client_id: r.clientId,
    auth_method: r.authMethod,
    ...(r.clientSecret !== undefined ? { client_secret: r.clientSecret } : {}),
    timeout_ms: r.timeoutMs,
    enabled: r.enabled,
  };
}

function toValues(i: RegistryInput, cipher: Cipher): repo.RegistryValues {
  return {
    kind: i.kind,
    name_vi: i.name_vi,
    name_en: i.name_en,
    issuer: i.issuer,
    api_url: i.api_url,
    client_id: i.client_id,
    auth_method: i.auth_method,
    client_secret_enc: i.client_secret !== undefined ? cipher.encrypt(i.client_secret, aad(i.id)) : null,
    timeout_ms: i.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    enabled: i.enabled ?? false,
  };
}

export interface RegistriesOptions {
  /** Plain http to localhost or 127.0.0.1 (development and tests); never in production. */
  allowHttpLoopback: boolean;
}

export function registriesOptions(config: Config): RegistriesOptions {
  return { allowHttpLoopback: config.env !== 'production' };
}

/** What operators see: everything but the secret. */
export type RegistryView = Omit<OrganisationRegistry, 'clientSecret'> & { hasClientSecret: boolean };

export function viewRegistry(r: OrganisationRegistry): RegistryView {
  const { clientSecret, ...rest } = r;
  return { ...rest, hasClientSecret: clientSecret !== undefined };
}

/**
 * Registers a registry, disabled unless the input says `enabled: true` (the CLI
 * refuses that: `registries enable` tests the connection first). Audited as
 * REGISTRY_ADDED with the reason.
 */
export async function addRegistry(db: Database, cipher: Cipher, input: unknown, actor: string, opts: RegistriesOptions & { reason: string }): Promise<OrganisationRegistry> {
  const i = parseRegistryInput(input, opts);
  return db.transaction(async (tx) => {
    if (!(await repo.insertRegistry(tx, i.id, toValues(i, cipher)))) throw new InvalidInputError('id', `"${i.id}" is already registered`);
    await appendAudit(tx, {
      event: 'REGISTRY_ADDED',
      actor,
      subject: i.id,
      reason: opts.reason,
      details: { kind: i.kind, issuer: i.issuer, apiUrl: i.api_url, authMethod: i.auth_method, enabled: i.enabled ?? false },
    });
    return toRegistry((await repo.selectRegistry(tx, i.id))!, cipher);
  });
}

export async function getRegistry(db: Queryable, cipher: Cipher, id: string): Promise<OrganisationRegistry> {
  const row = await repo.selectRegistry(db, id);
  if (!row) throw new NotFoundError('organisation registry', id);
  return toRegistry(row, cipher);
}

export async function listRegistries(db: Queryable, cipher: Cipher): Promise<OrganisationRegistry[]> {
  return (await repo.selectRegistries(db)).map((r) => toRegistry(r, cipher));
}

/**
 * Applies a partial change, audited as REGISTRY_CHANGED with the reason and the
 * fields that changed. With `expectedVersion`, refuses if someone else changed the
 * registry meanwhile. A change that changes nothing writes nothing (no version,
 * no event); `changed` is then empty.
 */
export async function changeRegistry(
  db: Database,
  cipher: Cipher,
  id: string,
  patch: unknown,
  actor: string,
  opts: RegistriesOptions & { reason: string; expectedVersion?: number },
): Promise<{ registry: OrganisationRegistry; changed: string[] }> {
  return db.transaction(async (tx) => {
    const current = await getRegistry(tx, cipher, id);
    if (opts.expectedVersion !== undefined && opts.expectedVersion !== current.version) {
      throw new ConflictError('organisation registry', id, opts.expectedVersion, current.version);
    }
    const before = toInput(current);
    const next = parseRegistryUpdate(before, patch, opts);
    const asked = patch && typeof patch === 'object' ? Object.keys(patch) : [];
    const fields = [...new Set([...asked, ...(next.auth_method === 'private_key_jwt' ? ['client_secret'] : [])])] as (keyof RegistryInput)[];
    const changed = fields.filter((k) => before[k] !== next[k]);
    if (!changed.length) return { registry: current, changed: [] };
    if (!(await repo.updateRegistry(tx, id, current.version, toValues(next, cipher)))) {
      throw lostRace('organisation registry', id, opts.expectedVersion, current.version);
    }
    await appendAudit(tx, {
      event: 'REGISTRY_CHANGED',
      actor,
      subject: id,
      reason: opts.reason,
      details: {
        changed: changed.map((k) => (k === 'client_secret' ? 'client_secret (new value not logged)' : k)),
        enabled: next.enabled ?? false,
      },
    });
    return { registry: await getRegistry(tx, cipher, id), changed };
  });
}

/** Stops asking a registry; a sign-in no longer shows what it knew. */
export async function disableRegistry(db: Database, cipher: Cipher, id: string, actor: string, opts: RegistriesOptions & { reason: string }) {
  return changeRegistry(db, cipher, id, { enabled: false }, actor, opts);
}

/** What `enableRegistry` did: enabled after a passing test, found it enabled, or left it disabled because the test failed. */
export type EnableRegistryResult<Check extends { ok: boolean }> =
  | { outcome: 'enabled' | 'already-enabled'; registry: OrganisationRegistry; check: Check | undefined }
  | { outcome: 'test-failed'; registry: OrganisationRegistry; check: Check };

/**
 * Asks a registry only once a connection test passes (client.ts checkRegistry):
 * the registry as stored is tested, then enabled if nobody changed it meanwhile.
 */
export async function enableRegistry<Check extends { ok: boolean }>(
  db: Database,
  cipher: Cipher,
  id: string,
  actor: string,
  opts: RegistriesOptions & { reason: string; expectedVersion?: number; test: (r: OrganisationRegistry) => Promise<Check> },
): Promise<EnableRegistryResult<Check>> {
  const registry = await getRegistry(db, cipher, id);
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== registry.version) {
    throw new ConflictError('organisation registry', id, opts.expectedVersion, registry.version);
  }
  if (registry.enabled) return { outcome: 'already-enabled', registry, check: undefined };
  const check = await opts.test(registry);
  if (!check.ok) return { outcome: 'test-failed', registry, check };
  const { registry: enabled } = await changeRegistry(db, cipher, id, { enabled: true }, actor, { ...opts, expectedVersion: registry.version });
  return { outcome: 'enabled', registry: enabled, check };
}

/** The registries every instance asks, reloaded when any instance or the CLI changes one. */
export class RegistryCatalogue {
  #registries: OrganisationRegistry[] = [];
  #stamp = '';
  #stop: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly cipher: Cipher,
    private readonly logger: Logger,
    private readonly refreshSeconds: number,
  ) {}

  list(): readonly OrganisationRegistry[] {
    return this.#registries;
  }

  get(id: string): OrganisationRegistry | undefined {
    return this.#registries.find((r) => r.id === id);
  }

  /** Reloads if anything changed; calls never overlap. */
  readonly refresh: () => Promise<void> = serialised(async () => {
    const stamp = await repo.registriesStamp(this.db);
    if (stamp === this.#stamp) return;
    this.#registries = await listRegistries(this.db, this.cipher);
    this.#stamp = stamp;
  });

  async start(): Promise<void> {
    await this.refresh();
    this.#stop = await watch(this.db, repo.REGISTRIES_CHANNEL, this.refreshSeconds, this.refresh, this.logger, 'registry reload');
  }

  /** Records a health check result, shared by all instances through the database. */
  async recordHealth(id: string, problem: string | null, opts: { reload?: boolean } = {}): Promise<void> {
    await repo.recordRegistryHealth(this.db, id, problem === null ? 'ok' : 'failing', problem);
    if (opts.reload !== false) await this.refresh();
  }

  async stop(): Promise<void> {
    await this.#stop?.();
    this.#stop = undefined;
  }
}
