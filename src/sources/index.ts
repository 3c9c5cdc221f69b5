// Identity sources as data: registration, changes, health, and the registry every
// instance keeps in step with the database (NOTIFY, with polling as a safety net).
import { appendAudit } from '../audit/index.js';
import { lowest, type Level } from '../assurance/index.js';
import type { Config } from '../config/index.js';
import { ConflictError, InvalidInputError, lostRace, NotFoundError, StateError } from '../errors/index.js';
import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { serialised, watch, type Database, type Queryable } from '../storage/index.js';
import type { SourceCheck } from './check.js';
import { Reachability } from './reachability.js';
import * as repo from './repository.js';
import { parseSourceInput, parseSourceUpdate, type AttributeName, type AuthMethod, type LogoutMethod, type SourceInput, type SourceKind, type SourceRole } from './schema.js';

export { ATTRIBUTES, AUTH_METHODS, LOGOUT_METHODS, SOURCE_KINDS, SOURCE_ROLES, type AttributeName, type AuthMethod, type LogoutMethod, type SourceKind, type SourceRole } from './schema.js';
export { SOURCES_CHANNEL, type MappingEntry } from './repository.js';
export { checkSource, discoveryOptions, issuerOf, SOURCE_CALLBACK_PATH, type CheckStep, type SourceCheck } from './check.js';
export { clientAuthentication, oauthError, type SigningKeys } from './client-auth.js';
export { checkAll as checkSourcesHealth, monitorHealth, probe, recheckFailing } from './health.js';
export { DEMO_SOURCE_LOGOS, svgLogo } from './logos.js';
export { levelAdvice, linkedCanReach, type LevelAdvice } from './advice.js';
export { PICK_PROBE_TIMEOUT_MS, PICK_PROBE_TTL_MS, Reachability, type ReachabilityOptions } from './reachability.js';

export interface Source {
  id: string;
  kind: SourceKind;
  /** 'step-up-only': never creates or links an account; offered only to raise a session of an account already linked to it. */
  role: SourceRole;
  name: { vi: string; en: string };
  logo: string | null;
  discoveryUrl: string;
  clientId: string;
  authMethod: AuthMethod;
  clientSecret: string | undefined;
  scopes: string[];
  claimMapping: Partial<Record<AttributeName, repo.MappingEntry>>;
  authoritativeFor: AttributeName[];
  proofingLevel: Level;
  authLevel: Level | null;
  acrLevels: Record<string, Level>;
  maxAuthLevel: Level;
  useUserinfo: boolean;
  timeoutMs: number;
  enabled: boolean;
  /** How the browser is signed out of the source (schema.ts, LOGOUT_METHODS). */
  logout: LogoutMethod;
  maintenance: { on: boolean; message: { vi: string | null; en: string | null } };
  /**
   * The claim carrying the minor children the source vouches the person is the legal
   * representative of, each element read with claimMapping (identity sources at
   * proofing level high only, schema.ts). Unset: the source says nothing about children.
   */
  wardsClaim?: string;
  health: { status: 'unknown' | 'ok' | 'failing'; error: string | null; checkedAt: string | null };
  version: number;
}

export type Availability = 'available' | 'maintenance' | 'failing' | 'disabled';

/** Whether a citizen can use the source now; a failing source is shown, not offered. */
export function availability(s: Source): Availability {
  if (!s.enabled) return 'disabled';
  if (s.maintenance.on) return 'maintenance';
  if (s.health.status === 'failing') return 'failing';
  return 'available';
}

/** The highest level a sign-in through this source can reach. */
export function maxReachableLevel(s: Source): Level {
  return lowest(s.proofingLevel, s.authLevel ?? s.maxAuthLevel);
}

const aad = (id: string) => `source:${id}`;

function toSource(r: repo.SourceRow, cipher: Cipher): Source {
  return {
    id: r.id,
    kind: r.kind,
    role: r.role,
    name: { vi: r.name_vi, en: r.name_en },
    logo: r.logo,
    discoveryUrl: r.discovery_url,
    clientId: r.client_id,
    authMethod: r.auth_method,
    clientSecret: r.client_secret_enc ? cipher.decrypt(r.client_secret_enc, aad(r.id)) : undefined,
    scopes: r.scopes,
    claimMapping: r.claim_mapping,
    authoritativeFor: r.authoritative_for,
    proofingLevel: r.proofing_level,
    authLevel: r.auth_level,
    acrLevels: r.acr_levels,
    maxAuthLevel: r.max_auth_level,
    useUserinfo: r.use_userinfo,
    timeoutMs: r.timeout_ms,
    enabled: r.enabled,
    logout: r.logout,
    maintenance: { on: r.maintenance, message: { vi: r.maintenance_message_vi, en: r.maintenance_message_en } },
    ...(r.wards_claim !== null ? { wardsClaim: r.wards_claim } : {}),
    health: {
      status: r.health_status,
      error: r.health_error,
      checkedAt: r.health_checked_at ? new Date(r.health_checked_at).toISOString() : null,
    },
    version: r.version,
  };
}

function toInput(s: Source): SourceInput {
  return {
    id: s.id,
    kind: s.kind,
    role: s.role,
    name_vi: s.name.vi,
    name_en: s.name.en,
    logo: s.logo,
    discovery_url: s.discoveryUrl,
    client_id: s.clientId,
    auth_method: s.authMethod,
    ...(s.clientSecret !== undefined ? { client_secret: s.clientSecret } : {}),
    scopes: s.scopes,
    claim_mapping: s.claimMapping,
    authoritative_for: s.authoritativeFor,
    proofing_level: s.proofingLevel,
    auth_level: s.authLevel,
    acr_levels: s.acrLevels,
    max_auth_level: s.maxAuthLevel,
    use_userinfo: s.useUserinfo,
    timeout_ms: s.timeoutMs,
    enabled: s.enabled,
    logout: s.logout,
    maintenance: s.maintenance.on,
    maintenance_message_vi: s.maintenance.message.vi,
    maintenance_message_en: s.maintenance.message.en,
    ...(s.wardsClaim !== undefined ? { wards_claim: s.wardsClaim } : {}),
  };
}

function toValues(i: SourceInput, cipher: Cipher): repo.SourceValues {
  return {
    kind: i.kind,
    role: i.role ?? 'identity',
    name_vi: i.name_vi,
    name_en: i.name_en,
    logo: i.logo ?? null,
    discovery_url: i.discovery_url,
    client_id: i.client_id,
    auth_method: i.auth_method,
    client_secret_enc: i.client_secret !== undefined ? cipher.encrypt(i.client_secret, aad(i.id)) : null,
    scopes: i.scopes,
    claim_mapping: i.claim_mapping,
    authoritative_for: i.authoritative_for,
    proofing_level: i.proofing_level,
    auth_level: i.auth_level ?? null,
    acr_levels: i.acr_levels ?? {},
    max_auth_level: i.max_auth_level,
    use_userinfo: i.use_userinfo ?? false,
    timeout_ms: i.timeout_ms ?? 5000,
    enabled: i.enabled ?? true,
    // Without a word from the operator, the way that works whatever the source's cookies.
    logout: i.logout ?? 'hint',
    maintenance: i.maintenance ?? false,
    maintenance_message_vi: i.maintenance_message_vi ?? null,
    maintenance_message_en: i.maintenance_message_en ?? null,
    wards_claim: i.wards_claim ?? null,
  };
}

export interface SourcesOptions {
  allowHttpLoopback: boolean;
}

export function sourcesOptions(config: Config): SourcesOptions {
  return { allowHttpLoopback: config.env !== 'production' };
}

/** What operators see: everything but the secret. */
export type SourceView = Omit<Source, 'clientSecret'> & { hasClientSecret: boolean };

export function viewSource(s: Source): SourceView {
  const { clientSecret, ...rest } = s;
  return { ...rest, hasClientSecret: clientSecret !== undefined };
}

export async function addSource(db: Database, cipher: Cipher, input: unknown, actor: string, opts: SourcesOptions & { reason?: string }): Promise<Source> {
  const i = parseSourceInput(input, opts);
  return db.transaction(async (tx) => {
    if (!(await repo.insertSource(tx, i.id, toValues(i, cipher)))) throw new InvalidInputError('id', `"${i.id}" is already registered`);
    await appendAudit(tx, {
      event: 'SOURCE_ADDED',
      actor,
      subject: i.id,
      ...(opts.reason ? { reason: opts.reason } : {}),
      details: { kind: i.kind, role: i.role ?? 'identity', discoveryUrl: i.discovery_url, authMethod: i.auth_method },
    });
    return toSource((await repo.selectSource(tx, i.id))!, cipher);
  });
}

export async function getSource(db: Queryable, cipher: Cipher, id: string): Promise<Source> {
  const row = await repo.selectSource(db, id);
  if (!row) throw new NotFoundError('identity source', id);
  return toSource(row, cipher);
}

export async function listSources(db: Queryable, cipher: Cipher): Promise<Source[]> {
  return (await repo.selectSources(db)).map((r) => toSource(r, cipher));
}

/** JSON with object keys sorted, so that two equal values compare equal whatever order their keys came in (jsonb reorders them). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * Applies a partial change. With `expectedVersion`, refuses if someone else
 * changed the source meanwhile, instead of silently overwriting their change.
 * A change that changes nothing (disabling a disabled source, setting a field to
 * the value it has) writes nothing: no new version, no audit event. `changed` says
 * which fields did change.
 */
export async function updateSource(
  db: Database,
  cipher: Cipher,
  id: string,
  patch: unknown,
  actor: string,
  opts: SourcesOptions & { expectedVersion?: number; reason?: string },
): Promise<Source> {
  return (await changeSource(db, cipher, id, patch, actor, opts)).source;
}

/** updateSource, saying which fields changed (none: nothing was written). */
export async function changeSource(
  db: Database,
  cipher: Cipher,
  id: string,
  patch: unknown,
  actor: string,
  opts: SourcesOptions & { expectedVersion?: number; reason?: string },
): Promise<{ source: Source; changed: string[] }> {
  return db.transaction(async (tx) => {
    const current = await getSource(tx, cipher, id);
    if (opts.expectedVersion !== undefined && opts.expectedVersion !== current.version) {
      throw new ConflictError('identity source', id, opts.expectedVersion, current.version);
    }
    const before = toInput(current);
    const next = parseSourceUpdate(before, patch, opts);
    const fields = [...new Set([...Object.keys(patch as object), ...(next.auth_method === 'private_key_jwt' ? ['client_secret'] : [])])] as (keyof SourceInput)[];
    const changed = fields.filter((k) => canonical(before[k]) !== canonical(next[k]));
    if (!changed.length) return { source: current, changed: [] };
    if (!(await repo.updateSource(tx, id, current.version, toValues(next, cipher)))) {
      throw lostRace('identity source', id, opts.expectedVersion, current.version);
    }
    await appendAudit(tx, {
      event: next.enabled === false && current.enabled ? 'SOURCE_DISABLED' : 'SOURCE_UPDATED',
      actor,
      subject: id,
      details: { changed: changed.map((k) => (k === 'client_secret' ? 'client_secret (new value not logged)' : k)), reason: opts.reason ?? null },
    });
    return { source: await getSource(tx, cipher, id), changed };
  });
}

/** What `enableSource` did: enabled after a passing test, found it enabled, or left it disabled because the test failed. */
export type EnableResult =
  | { outcome: 'enabled' | 'already-enabled'; source: Source; check: SourceCheck | undefined }
  | { outcome: 'test-failed'; source: Source; check: SourceCheck };

/**
 * Offers a source to citizens only once a connection test passes: the source as
 * stored is tested, then enabled if nobody changed it meanwhile (its version).
 */
export async function enableSource(
  db: Database,
  cipher: Cipher,
  id: string,
  actor: string,
  opts: SourcesOptions & { reason: string; expectedVersion?: number; test: (s: Source) => Promise<SourceCheck> },
): Promise<EnableResult> {
  const source = await getSource(db, cipher, id);
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== source.version) {
    throw new ConflictError('identity source', id, opts.expectedVersion, source.version);
  }
  if (source.enabled) return { outcome: 'already-enabled', source, check: undefined };
  const check = await opts.test(source);
  if (!check.ok) return { outcome: 'test-failed', source, check };
  const enabled = await updateSource(db, cipher, id, { enabled: true }, actor, { ...opts, expectedVersion: source.version });
  return { outcome: 'enabled', source: enabled, check };
}

/** The sources every instance offers, reloaded when any instance or the CLI changes one. */
export class SourceRegistry {
  #sources: Source[] = [];
  #stamp = '';
  #stop: (() => Promise<void>) | undefined;
  #listeners = new Set<(changed: Source[]) => void>();
  readonly #reachability: Reachability;

  constructor(
    private readonly db: Database,
    private readonly cipher: Cipher,
    private readonly logger: Logger,
    private readonly refreshSeconds: number,
  ) {
    this.#reachability = new Reachability({ onFailure: (id, problem) => this.recordHealth(id, false, problem) }, logger);
  }

  list(): Source[] {
    return this.#sources;
  }

  get(id: string): Source | undefined {
    return this.#sources.find((s) => s.id === id);
  }

  onChange(fn: (sources: Source[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Reloads if anything changed; calls never overlap, so an older read cannot win over a newer one. */
  readonly refresh: () => Promise<void> = serialised(() => this.#reload());

  async #reload(): Promise<void> {
    const stamp = await repo.sourcesStamp(this.db);
    if (stamp === this.#stamp) return;
    this.#sources = await listSources(this.db, this.cipher);
    this.#stamp = stamp;
    // A source that recovered (here or on another instance) is not refused by an older probe.
    for (const s of this.#sources) if (s.health.status !== 'failing') this.#reachability.forget(s.id);
    for (const fn of this.#listeners) fn(this.#sources);
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#stop = await watch(this.db, repo.SOURCES_CHANNEL, this.refreshSeconds, this.refresh, this.logger, 'source reload');
  }

  /**
   * Whether the source answers now (null) or what went wrong: asked when a citizen
   * picks it, from a probe shared for a few seconds (reachability.ts). A failure is
   * recorded as the source's health, so no instance offers it until it recovers.
   */
  reachable(source: Source): Promise<string | null> {
    return this.#reachability.check(source);
  }

  /** Records a health check result (shared by all instances through the database). */
  async recordHealth(id: string, ok: boolean, error: string | null, opts: { reload?: boolean } = {}): Promise<void> {
    await repo.recordHealth(this.db, id, ok ? 'ok' : 'failing', ok ? null : error);
    if (opts.reload !== false) await this.refresh();
  }

  async stop(): Promise<void> {
    await this.#stop?.();
    this.#stop = undefined;
  }
}
