// Relying parties as data: registration, listing, disabling and secret rotation,
// each change written with its audit event in one transaction.
import type { Level } from '../assurance/index.js';
import { appendAudit } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { ConflictError, InvalidInputError, lostRace, NotFoundError, StateError } from '../errors/index.js';
import { NotifiedCache, readThrough, type Database, type NotifiedCacheOptions, type Queryable } from '../storage/index.js';
import * as repo from './repository.js';
import { inputOfMetadata, parseClientInput, parseClientUpdate, toProviderMetadata, type ApplicationType, type ClientInput } from './schema.js';
import { checkSectorDocument } from './sector-document.js';
import { checkReason } from '../audit/reason.js';
import { profileNeedsReason, type SecurityProfile } from './security-profile.js';
import { generateSecret, hashSecret, verifySecret } from './secrets.js';
import { DEFAULT_ENCRYPTION_ENC, ENCRYPTION_FIELDS } from './encryption.js';
import { checkEncryptionKeys } from './encryption-keys.js';

export { parseClientInput, parseClientUpdate, SUPPORTED_SCOPES, AUTH_METHODS, CIBA_GRANT, DEVICE_CODE_GRANT, GRANT_TYPES, APPLICATION_TYPES, type ApplicationType } from './schema.js';
export { nativeRedirectProblem, redirectProvesApp } from './native-redirects.js';
export { verifySecret } from './secrets.js';
export { pairwiseSector } from './sector.js';
export { ENCRYPTION_ALGS, ENCRYPTION_ENCS } from './encryption.js';
export { FAPI_ALGS, FAPI_CODE_TTL_SECONDS, isFapi2, SECURITY_PROFILES, type SecurityProfile } from './security-profile.js';

export interface ClientView {
  clientId: string;
  name: string;
  status: 'enabled' | 'disabled';
  /** web: a site, redirect URIs matched exactly; native: an app on the citizen's device (RFC 8252), a public client. */
  applicationType: ApplicationType;
  tokenEndpointAuthMethod: string;
  grantTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scope: string;
  idTokenSigningAlg: string;
  /** The least assurance level every sign-in to this service reaches, whatever it asks. */
  minLevel: Level | null;
  /** The service's API (RFC 8707 resource indicator) it may ask JWT access tokens for. */
  apiResource: string | null;
  /** pairwise: a sub of the service's own (or of its sector); public: the account id. */
  subjectType: 'pairwise' | 'public';
  /** The sector document that makes the service one sector with others (pairwise only). */
  sectorIdentifierUri: string | null;
  /** standard, or fapi2 (FAPI 2.0: PAR, DPoP, private_key_jwt); see security-profile.ts. */
  securityProfile: SecurityProfile;
  /** Why a service at substantial or high was kept standard (null otherwise). */
  securityProfileReason: string | null;
  /** Its authorization requests must come as signed request objects (RFC 9101). */
  requireSignedRequestObject: boolean;
  /** Its ID tokens are encrypted to its public key (JWE): key management and content algorithms; null: signed only. */
  idTokenEncryption: { alg: string; enc: string } | null;
  /** Userinfo answers as a JWT signed with this algorithm; null: plain JSON. */
  userinfoSigningAlg: string | null;
  /** That JWT is then encrypted to its public key; null: signed only (or plain JSON). */
  userinfoEncryption: { alg: string; enc: string } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

function view(r: repo.ClientRow): ClientView {
  const m = r.metadata as {
    application_type?: ApplicationType;
    token_endpoint_auth_method: string;
    grant_types: string[];
    redirect_uris: string[];
    post_logout_redirect_uris: string[];
    scope: string;
    id_token_signed_response_alg?: string;
    subject_type?: 'pairwise' | 'public';
    sector_identifier_uri?: string;
    require_signed_request_object?: boolean;
    id_token_encrypted_response_alg?: string;
    id_token_encrypted_response_enc?: string;
    userinfo_signed_response_alg?: string;
    userinfo_encrypted_response_alg?: string;
    userinfo_encrypted_response_enc?: string;
  };
  return {
    clientId: r.client_id,
    name: r.name,
    status: r.disabled_at ? 'disabled' : 'enabled',
    applicationType: m.application_type ?? 'web',
    tokenEndpointAuthMethod: m.token_endpoint_auth_method,
    grantTypes: m.grant_types,
    redirectUris: m.redirect_uris,
    postLogoutRedirectUris: m.post_logout_redirect_uris,
    scope: m.scope,
    idTokenSigningAlg: m.id_token_signed_response_alg ?? 'RS256',
    minLevel: (r.min_level as Level | null) ?? null,
    apiResource: r.api_resource ?? null,
    subjectType: m.subject_type ?? 'public',
    sectorIdentifierUri: m.sector_identifier_uri ?? null,
    securityProfile: r.security_profile,
    securityProfileReason: r.security_profile_reason ?? null,
    requireSignedRequestObject: m.require_signed_request_object === true,
    idTokenEncryption: m.id_token_encrypted_response_alg ? { alg: m.id_token_encrypted_response_alg, enc: m.id_token_encrypted_response_enc ?? DEFAULT_ENCRYPTION_ENC } : null,
    userinfoSigningAlg: m.userinfo_signed_response_alg ?? null,
    userinfoEncryption: m.userinfo_encrypted_response_alg ? { alg: m.userinfo_encrypted_response_alg, enc: m.userinfo_encrypted_response_enc ?? DEFAULT_ENCRYPTION_ENC } : null,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    version: r.version,
  };
}

/** What the provider's adapter reads: metadata of enabled clients only. */
export interface ClientStore {
  findMetadata(clientId: string): Promise<Record<string, unknown> | undefined>;
}

/**
 * nixa's own client metadata, beside oidc-provider's (its extraClientMetadata):
 * `min_level` (a Level) and `api_resource` (a resource indicator), absent when unset;
 * `representation`, the kinds of acting for an organisation the service accepts
 * (src/representation/policy.ts), kept in the registration's metadata;
 * `security_profile` (security-profile.ts), from its column.
 */
export const NIXA_CLIENT_METADATA = ['min_level', 'api_resource', 'representation', 'security_profile'] as const;

/**
 * The provider's client metadata held in memory, per client_id (undefined for an
 * unknown or disabled client). Every write to the clients table announces the
 * client (repository.ts), so a disabled client is refused at once on every instance.
 */
export type ClientCache = NotifiedCache<Record<string, unknown> | undefined>;

/** One per instance (not per provider: the provider is rebuilt when keys rotate); start() it before use. */
export function clientCache(db: Database, opts?: NotifiedCacheOptions): ClientCache {
  return new NotifiedCache(db, repo.CLIENTS_CHANNEL, opts);
}

export function clientStore(db: Queryable, cache?: ClientCache): ClientStore {
  const load = async (clientId: string) => {
    const row = await repo.selectEnabledClient(db, clientId);
    if (!row) return undefined;
    const metadata: Record<string, unknown> = { ...row.metadata };
    // oidc-provider wants client_secret for secret-based methods; it holds the
    // argon2 hash, and src/protocol replaces the comparison with argon2.verify.
    if (row.secret_hash) metadata.client_secret = row.secret_hash;
    if (row.min_level) metadata.min_level = row.min_level;
    if (row.api_resource) metadata.api_resource = row.api_resource;
    metadata.security_profile = row.security_profile;
    return metadata;
  };
  return {
    async findMetadata(clientId) {
      const metadata = await readThrough(cache, clientId, () => load(clientId));
      // A copy: what the provider does with it must not change what is held. Through
      // JSON, not structuredClone, whose objects come from the main realm: under a
      // vm context (jest) oidc-provider's isPlainObject refuses them (jwks "invalid").
      return metadata && (JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>);
    },
  };
}

async function checkApiFree(tx: Queryable, apiResource: string | null | undefined, clientId: string): Promise<void> {
  // The unique index refuses it too; this check names the field and the owner.
  const owner = apiResource ? await repo.selectApiOwner(tx, apiResource, clientId) : undefined;
  if (owner) throw new InvalidInputError('api_resource', `"${apiResource}" is already the API of service "${owner}"`);
}

export interface ClientsOptions {
  /** http://localhost redirect URIs are accepted outside production only. */
  allowHttpLoopback: boolean;
  /** Algorithms nixa has keys for (NIXA_SIGNING_ALGS); a client may choose one for its ID tokens. Default: RS256 only. */
  signingAlgs?: readonly string[];
  /** How long a registration waits for the service's sector document (default 5 s). */
  sectorFetchTimeoutMs?: number;
  /** How the sector document is fetched (default: the global fetch); tests reach a local server through it. */
  fetch?: typeof fetch;
}

/**
 * A service with a sector_identifier_uri must be listed, every redirect URI of it,
 * in that document: checked when it is registered and whenever a redirect URI is
 * added (those it had were checked then). Outside any transaction: a slow
 * document holds no lock, and a refusal leaves nothing written.
 */
async function checkSector(c: ClientInput, opts: ClientsOptions, stored?: Record<string, unknown>): Promise<void> {
  if (!c.sector_identifier_uri) return;
  const checked = stored?.sector_identifier_uri === c.sector_identifier_uri ? ((stored.redirect_uris as string[] | undefined) ?? []) : [];
  if (checked.length && c.redirect_uris.every((u) => checked.includes(u))) return;
  await checkSectorDocument(c.sector_identifier_uri, c.redirect_uris, {
    ...(opts.sectorFetchTimeoutMs ? { timeoutMs: opts.sectorFetchTimeoutMs } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}

/** nixa's policy columns of a validated registration. */
function policyOf(c: ClientInput): repo.ClientPolicy {
  return {
    minLevel: c.min_level ?? null,
    apiResource: c.api_resource ?? null,
    securityProfile: c.security_profile,
    // Kept only while it explains an exception: a standard service at substantial or high.
    securityProfileReason: profileNeedsReason(c.security_profile, c.min_level) ? (c.security_profile_reason ?? null) : null,
  };
}

/**
 * The reason an operator gives with an act is the reason a service at substantial or
 * high is kept standard, when the act keeps it so: the registration and the audit
 * event both hold it. checkReason refuses a reason too short to say anything.
 */
function withProfileReason(input: unknown, reason: string | undefined, field = 'reason'): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const c = input as Record<string, unknown>;
  if (c.security_profile !== 'standard' || c.security_profile_reason !== undefined || reason === undefined) return input;
  return { ...c, security_profile_reason: checkReason(reason, field) };
}

export function clientsOptions(config: Config): ClientsOptions {
  return { allowHttpLoopback: config.env !== 'production', signingAlgs: config.keys.signingAlgs };
}

export async function addClient(
  db: Database,
  input: unknown,
  actor: string,
  opts: ClientsOptions,
  reason?: string,
): Promise<{ client: ClientView; secret?: string }> {
  const c = parseClientInput(withProfileReason(input, reason), opts);
  await checkSector(c, opts);
  await checkEncryptionKeys(c, opts.fetch ? { fetch: opts.fetch } : {});
  const clientId = c.client_id ?? `svc-${generateSecret().slice(0, 16)}`;
  const secret = c.token_endpoint_auth_method === 'client_secret_basic' ? generateSecret() : undefined;
  const secretHash = secret ? await hashSecret(secret) : null;
  const metadata = toProviderMetadata(clientId, c);
  return db.transaction(async (tx) => {
    await checkApiFree(tx, c.api_resource, clientId);
    if (!(await repo.insertClient(tx, { clientId, name: c.name, metadata, secretHash, ...policyOf(c) }))) {
      throw new InvalidInputError('client_id', `"${clientId}" is already registered`);
    }
    await appendAudit(tx, {
      event: 'CLIENT_ADDED',
      actor,
      subject: clientId,
      ...(reason ? { reason } : {}),
      details: {
        name: c.name,
        ...(c.application_type === 'native' ? { applicationType: 'native' } : {}),
        method: c.token_endpoint_auth_method,
        grantTypes: c.grant_types,
        redirectUris: c.redirect_uris,
        ...(c.min_level ? { minLevel: c.min_level } : {}),
        ...(c.api_resource ? { apiResource: c.api_resource } : {}),
        securityProfile: c.security_profile,
        ...(profileNeedsReason(c.security_profile, c.min_level) ? { securityProfileReason: c.security_profile_reason } : {}),
      },
    });
    const row = (await repo.selectClient(tx, clientId))!;
    return secret ? { client: view(row), secret } : { client: view(row) };
  });
}

export async function listClients(db: Queryable): Promise<ClientView[]> {
  return (await repo.selectClients(db)).map(view);
}

export async function showClient(db: Queryable, clientId: string): Promise<ClientView> {
  const row = await repo.selectClient(db, clientId);
  if (!row) throw new NotFoundError('client', clientId);
  return view(row);
}

/**
 * Changes a registration: redirect URIs, scopes, keys (jwks or jwks_uri), name,
 * back-channel logout URI, minimum level, API (`null` clears an optional one).
 * The changed registration is validated whole, as a new one would be, so every
 * rule still holds together (exact redirect URIs, admin scopes only on machine
 * clients, …). Takes effect on the next request at every instance: each drops
 * its copy in memory when the change is announced (repository.ts). A change that
 * changes nothing writes nothing: no new version, no audit event.
 */
export async function updateClient(
  db: Database,
  clientId: string,
  patch: unknown,
  actor: string,
  opts: ClientsOptions & { expectedVersion?: number; reason?: string },
): Promise<ClientView> {
  return (await changeClient(db, clientId, patch, actor, opts)).client;
}

/** updateClient, saying which fields changed (none: nothing was written), as the CLI and the API name them. */
export async function changeClient(
  db: Database,
  clientId: string,
  patch: unknown,
  actor: string,
  opts: ClientsOptions & { expectedVersion?: number; reason?: string },
): Promise<{ client: ClientView; changed: string[] }> {
  const p = parseClientUpdate(patch, opts) as Record<string, unknown>;
  const row = await repo.selectClient(db, clientId);
  if (!row) throw new NotFoundError('client', clientId);
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== row.version) {
    throw new ConflictError('client', clientId, opts.expectedVersion, row.version);
  }
  const before = inputOfMetadata(row.metadata as Record<string, unknown>, row.name, {
    minLevel: row.min_level,
    apiResource: row.api_resource,
    securityProfile: row.security_profile,
    securityProfileReason: row.security_profile_reason,
  });
  const method = p.token_endpoint_auth_method;
  if (method !== undefined && method !== before.token_endpoint_auth_method && !(before.token_endpoint_auth_method === 'client_secret_basic' && method === 'private_key_jwt')) {
    throw new InvalidInputError(
      'token_endpoint_auth_method',
      'can change only from client_secret_basic to private_key_jwt (give jwks or jwks_uri with it); a service that needs another method is registered anew',
    );
  }
  const merged: Record<string, unknown> = { ...before };
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  // Naming the profile is the act the reason is about: keeping or making a service
  // standard records this act's reason; fapi2 needs none and drops the old one.
  if (p.security_profile !== undefined) delete merged.security_profile_reason;
  const next = parseClientInput(p.security_profile === 'standard' ? withProfileReason(merged, opts.reason) : merged, opts);
  // Named as the CLI and the API name them; keys by their kids (public, but long).
  const shown = (k: string, v: unknown) =>
    k === 'jwks' ? ((v as { keys?: { kid?: string }[] } | undefined)?.keys ?? []).map((key) => key.kid ?? '(no kid)') : (v ?? null);
  const NAMES: Record<string, string> = {
    min_level: 'minLevel',
    api_resource: 'apiResource',
    security_profile: 'securityProfile',
    require_signed_request_object: 'requireSignedRequestObject',
    id_token_encrypted_response_alg: 'idTokenEncryptionAlg',
    id_token_encrypted_response_enc: 'idTokenEncryptionEnc',
    userinfo_signed_response_alg: 'userinfoSigningAlg',
    userinfo_encrypted_response_alg: 'userinfoEncryptionAlg',
    userinfo_encrypted_response_enc: 'userinfoEncryptionEnc',
  };
  const changed = Object.fromEntries(
    Object.keys(p)
      .filter((k) => canonical(before[k] ?? null) !== canonical(merged[k] ?? null))
      .map((k) => [NAMES[k] ?? k, { from: shown(k, before[k]), to: shown(k, merged[k]) }]),
  );
  if (!Object.keys(changed).length) return { client: view(row), changed: [] };
  await checkSector(next, opts, row.metadata);
  // Fetched again only when what it checks changed: a service's key host being down
  // must not stop an operator from changing its name or redirect URIs.
  if (['jwks_uri', ...ENCRYPTION_FIELDS].some((k) => k in p)) await checkEncryptionKeys(next, opts.fetch ? { fetch: opts.fetch } : {});
  // The write below is refused if the row changed since it was read (its version).
  return db.transaction(async (tx) => {
    await checkApiFree(tx, next.api_resource ?? null, clientId);
    const updated = await repo.updateRegistration(tx, clientId, row.version, {
      name: next.name,
      metadata: toProviderMetadata(clientId, next),
      ...policyOf(next),
      // A service that moved to its key has no secret left to accept.
      clearSecret: next.token_endpoint_auth_method !== 'client_secret_basic',
    });
    if (!updated) throw lostRace('client', clientId, opts.expectedVersion, row.version);
    await appendAudit(tx, { event: 'CLIENT_UPDATED', actor, subject: clientId, details: { changed, reason: opts.reason ?? null } });
    return { client: view((await repo.selectClient(tx, clientId))!), changed: Object.keys(changed) };
  });
}

export async function disableClient(db: Database, clientId: string, actor: string, reason?: string): Promise<ClientView> {
  return db.transaction(async (tx) => {
    const row = await repo.selectClient(tx, clientId);
    if (!row) throw new NotFoundError('client', clientId);
    if (!(await repo.markDisabled(tx, clientId))) throw new StateError(`client "${clientId}" is already disabled`);
    await appendAudit(tx, { event: 'CLIENT_DISABLED', actor, subject: clientId, details: { reason: reason ?? null } });
    return view((await repo.selectClient(tx, clientId))!);
  });
}

export async function rotateClientSecret(db: Database, clientId: string, actor: string, reason?: string): Promise<{ client: ClientView; secret: string }> {
  const row = await repo.selectClient(db, clientId);
  if (!row) throw new NotFoundError('client', clientId);
  if (row.disabled_at) throw new StateError(`client "${clientId}" is disabled`);
  if (!row.secret_hash) {
    throw new StateError(
      `client "${clientId}" uses ${String(row.metadata.token_endpoint_auth_method)} and has no secret to rotate`,
    );
  }
  const secret = generateSecret();
  const hash = await hashSecret(secret);
  return db.transaction(async (tx) => {
    if (!(await repo.replaceSecretHash(tx, clientId, hash))) throw new StateError(`client "${clientId}" changed meanwhile; try again`);
    await appendAudit(tx, { event: 'CLIENT_SECRET_ROTATED', actor, subject: clientId, ...(reason ? { reason } : {}) });
    return { client: view((await repo.selectClient(tx, clientId))!), secret };
  });
}

/**
 * nixa's own clients (the console), registered by nixa at every start: the
 * registration is made to match `input` whole (CLIENT_UPDATED listing what
 * changed, nothing written when nothing did), and the secret is set to the one
 * given (which nixa derives rather than stores; CLIENT_SECRET_ROTATED when it
 * changed). Returns what was done.
 */
export async function ensureClient(
  db: Database,
  input: Record<string, unknown> & { client_id: string },
  secret: string,
  actor: string,
  opts: ClientsOptions,
  reason: string,
): Promise<{ added: boolean; updated: string[]; secretSet: boolean; disabled: boolean }> {
  const c = parseClientInput(withProfileReason(input, reason), opts);
  const clientId = input.client_id;
  const metadata = toProviderMetadata(clientId, c);
  const existing = await repo.selectClient(db, clientId);
  await checkSector(c, opts, existing?.metadata);
  await checkEncryptionKeys(c, opts.fetch ? { fetch: opts.fetch } : {});
  const hash = () => hashSecret(secret);
  if (!existing) {
    const secretHash = await hash();
    await db.transaction(async (tx) => {
      await checkApiFree(tx, c.api_resource, clientId);
      if (!(await repo.insertClient(tx, { clientId, name: c.name, metadata, secretHash, ...policyOf(c) }))) {
        throw new StateError(`client "${clientId}" was registered meanwhile; start again`);
      }
      await appendAudit(tx, { event: 'CLIENT_ADDED', actor, subject: clientId, reason, details: { name: c.name, method: c.token_endpoint_auth_method, grantTypes: c.grant_types, redirectUris: c.redirect_uris } });
    });
    return { added: true, updated: [], secretSet: true, disabled: false };
  }
  const want = { name: c.name, metadata, ...policyOf(c) };
  const have = {
    name: existing.name,
    metadata: existing.metadata,
    minLevel: existing.min_level,
    apiResource: existing.api_resource,
    securityProfile: existing.security_profile,
    securityProfileReason: existing.security_profile_reason,
  };
  const updated = (Object.keys(want) as (keyof typeof want)[]).filter((k) => canonical(want[k]) !== canonical(have[k]));
  if (updated.length) {
    await db.transaction(async (tx) => {
      await checkApiFree(tx, want.apiResource, clientId);
      if (!(await repo.updateRegistration(tx, clientId, existing.version, want))) throw lostRace('client', clientId, undefined, existing.version);
      await appendAudit(tx, { event: 'CLIENT_UPDATED', actor, subject: clientId, reason, details: { changed: updated } });
    });
  }
  // A disabled client stays disabled (an operator's decision) and keeps its hash.
  const secretSet = !existing.disabled_at && (!existing.secret_hash || !(await verifySecret(existing.secret_hash, secret)));
  if (secretSet) {
    const secretHash = await hash();
    await db.transaction(async (tx) => {
      if (!(await repo.replaceSecretHash(tx, clientId, secretHash))) throw new StateError(`client "${clientId}" changed meanwhile; start again`);
      await appendAudit(tx, { event: 'CLIENT_SECRET_ROTATED', actor, subject: clientId, reason });
    });
  }
  return { added: false, updated, secretSet, disabled: Boolean(existing.disabled_at) };
}

/** JSON with object keys sorted: jsonb does not keep key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}
