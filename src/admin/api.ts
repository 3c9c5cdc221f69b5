// The admin API (JSON, under /admin/api/v1): one table of routes, each naming the
// permission it needs; the OpenAPI document (openapi.ts) describes the same table
// and a test keeps the two equal. Every change takes a reason and is written with
// its audit event in one transaction (the services called here do that).
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';

import type { AccountsContext } from '../accounts/index.js';
import { accountById, lookUpAccount, reinstateAccount, suspendAccount } from '../accounts/index.js';
import { AUDIT_EVENTS, checkReason, searchAudit, verifyTrail } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { ForbiddenError, InvalidInputError, NotFoundError, PreconditionRequiredError, refuseControlCharacters, StateError } from '../errors/index.js';
import { unlockAccount } from '../factors/index.js';
import { addClient, clientsOptions, disableClient, listClients, rotateClientSecret, showClient, updateClient } from '../clients/index.js';
// The file, not my-account/index.js: only the id of nixa's own account client.
import { ACCOUNT_CLIENT_ID } from '../my-account/sign-in.js';
import type { Logger } from '../logging/index.js';
import { listKeyViews, revokeKey, rotateKeys, type Cipher, type KeyRing } from '../keys/index.js';
import { addSource, checkSource, enableSource, getSource, listSources, SOURCE_CALLBACK_PATH, sourcesOptions, updateSource, viewSource, type Source } from '../sources/index.js';
// The file, not protocol/index.js: the admin API does not load the protocol engine.
import { sendBackchannelLogouts } from '../protocol/backchannel.js';
import type { Database } from '../storage/index.js';
import { grantRole, listOperators, revokeRole } from './operators.js';
import { CONSOLE_CLIENT_ID, principalOf } from './principal.js';
import { ADMIN_SCOPES, adminResource, actorOf, allows, permissionsOf, type Permission, type Principal } from './roles.js';

export const ADMIN_API_PREFIX = '/admin/api/v1';

export interface AdminDeps {
  config: Config;
  db: Database;
  cipher: Cipher;
  keyring: KeyRing;
  accounts: AccountsContext;
  provider: () => Provider;
  logger: Logger;
}

interface Call {
  deps: AdminDeps;
  ctx: Context;
  principal: Principal;
  params: Record<string, string>;
  body: Record<string, unknown>;
}

export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI path template: `/keys/{kid}/revoke`. */
  path: string;
  /** undefined: any authenticated caller. */
  permission?: Permission;
  summary: string;
  handle(c: Call): Promise<unknown>;
}

const keyView = async (deps: AdminDeps) => ({ keys: await listKeyViews(deps.db, true) });

const BASE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/me',
    summary: 'Who is calling, and what they may do',
    handle: async ({ principal }) => ({ ...principal, permissions: [...permissionsOf(principal)].sort() }),
  },
  { method: 'GET', path: '/keys', permission: 'keys:read', summary: 'Signing and cookie keys with their lifecycle', handle: ({ deps }) => keyView(deps) },
  {
    method: 'POST',
    path: '/keys/rotate',
    permission: 'keys:write',
    summary: 'Rotate now: the next key starts signing, the active one retires',
    handle: async ({ deps, principal, body }) => {
      const reason = checkReason(body.reason);
      const use = body.use === undefined ? undefined : body.use === 'sig' || body.use === 'cookie' ? body.use : bad('use', 'sig or cookie');
      const alg = body.alg === undefined ? undefined : typeof body.alg === 'string' ? body.alg : bad('alg', 'an algorithm name such as ES256');
      const steps = await rotateKeys(deps.db, deps.cipher, deps.config, actorOf(principal), { reason, ...(alg ? { alg } : {}), ...(use ? { use } : {}) });
      await deps.keyring.refresh();
      return { steps, ...(await keyView(deps)) };
    },
  },
  {
    method: 'POST',
    path: '/keys/{kid}/revoke',
    permission: 'keys:write',
    summary: 'Revoke a compromised key: out of JWKS at once, private part destroyed',
    handle: async ({ deps, principal, params, body }) => {
      const steps = await revokeKey(deps.db, deps.keyring.store, params.kid!, actorOf(principal), checkReason(body.reason));
      await deps.keyring.refresh();
      return { steps, ...(await keyView(deps)) };
    },
  },
  { method: 'GET', path: '/operators', permission: 'operators:read', summary: 'Operators and their roles', handle: async ({ deps }) => ({ operators: await listOperators(deps.db) }) },
  {
    method: 'POST',
    path: '/operators/{accountId}/roles',
    permission: 'operators:write',
    summary: 'Grant a role (a security officer, never on their own account)',
    handle: ({ deps, principal, params, body }) => grantRole(deps.db, principal, { accountId: params.accountId!, role: body.role, reason: body.reason }),
  },
  {
    method: 'POST',
    path: '/operators/{accountId}/roles/{role}/revoke',
    permission: 'operators:write',
    summary: 'Take a role away (a security officer, never on their own account)',
    handle: ({ deps, principal, params, body }) => revokeRole(deps.db, principal, { accountId: params.accountId!, role: params.role, reason: body.reason }),
  },
  {
    method: 'GET',
    path: '/audit/verify',
    permission: 'audit:read',
    summary: 'Walk the audit chain and its signed checkpoints; name the first broken link',
    handle: ({ deps }) => verifyTrail(deps.db),
  },
];

// ── Sources and services: versioned records ─────────────────────────────────
// A record is read with its version as ETag; a change must send it back in
// If-Match, so that two operators cannot silently overwrite each other.

function versioned<T extends { version: number }>(ctx: Context, record: T): T {
  ctx.set('ETag', `"${record.version}"`);
  return record;
}

/** The version an update is based on, from If-Match; a change without one is refused (428). */
function ifMatch(ctx: Context): number {
  const header = ctx.get('If-Match');
  if (!header) {
    throw new PreconditionRequiredError('If-Match: send the ETag of the version you read, so that nobody else’s change is overwritten');
  }
  const m = /^(?:W\/)?"(\d{1,9})"$/.exec(header.trim());
  if (!m) throw new InvalidInputError('If-Match', 'the ETag as nixa sent it, e.g. "3"');
  return Number(m[1]);
}

const sourcesOpts = (deps: AdminDeps) => sourcesOptions(deps.config);

async function changeSource(c: Call, patch: Record<string, unknown>): Promise<unknown> {
  const reason = checkReason(c.body.reason);
  if (patch.enabled === true) bad('enabled', `enable it with POST /sources/${c.params.id!}/enable, which enables it only once its connection test passes`);
  const s = await updateSource(c.deps.db, c.deps.cipher, c.params.id!, patch, actorOf(c.principal), { ...sourcesOpts(c.deps), expectedVersion: ifMatch(c.ctx), reason });
  return versioned(c.ctx, viewSource(s));
}

/** The connection test of `POST /sources/{id}/test` and of enabling: discovery, JWKS, nixa's credentials. */
const testSource = (deps: AdminDeps) => (source: Source) =>
  checkSource(source, { redirectUri: `${deps.config.issuer}${SOURCE_CALLBACK_PATH}`, signingKeys: () => deps.keyring.snapshot.signers });

/** As `nixa sources enable`: the source is offered to citizens only once its connection test passes (409 naming the failed checks otherwise). */
async function enableTested(c: Call): Promise<unknown> {
  const reason = checkReason(c.body.reason);
  const r = await enableSource(c.deps.db, c.deps.cipher, c.params.id!, actorOf(c.principal), {
    ...sourcesOpts(c.deps),
    reason,
    expectedVersion: ifMatch(c.ctx),
    test: testSource(c.deps),
  });
  if (r.outcome === 'test-failed') {
    const failed = r.check.steps.filter((x) => x.status === 'fail').map((x) => `${x.name}: ${x.detail}`);
    throw new StateError(`the source stays disabled: its connection test failed (${failed.join('; ')}); fix it, then enable it again`);
  }
  return versioned(c.ctx, viewSource(r.source));
}

const SOURCE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/sources',
    permission: 'sources:read',
    summary: 'Identity sources (never their secrets), with health',
    handle: async ({ deps }) => ({ sources: (await listSources(deps.db, deps.cipher)).map(viewSource) }),
  },
  {
    method: 'POST',
    path: '/sources',
    permission: 'sources:write',
    summary: 'Register an identity source, disabled (the registration as for `nixa sources add`, plus a reason); enable it once its test passes',
    handle: async (c) => {
      const { reason, ...registration } = c.body;
      const why = checkReason(reason);
      // As the CLI and the console: citizens are offered a source only after a passing connection test (POST /sources/{id}/enable).
      if (registration.enabled === true) bad('enabled', 'a source is registered disabled; enable it with POST /sources/{id}/enable, which enables it only once its connection test passes');
      const s = await addSource(c.deps.db, c.deps.cipher, { ...registration, enabled: false }, actorOf(c.principal), { ...sourcesOpts(c.deps), reason: why });
      c.ctx.status = 201;
      return versioned(c.ctx, viewSource(s));
    },
  },
  {
    method: 'GET',
    path: '/sources/{id}',
    permission: 'sources:read',
    summary: 'One identity source; its version is the ETag',
    handle: async (c) => versioned(c.ctx, viewSource(await getSource(c.deps.db, c.deps.cipher, c.params.id!))),
  },
  {
    method: 'POST',
    path: '/sources/{id}',
    permission: 'sources:write',
    summary: 'Change fields of a source (If-Match: its version)',
    handle: (c) => {
      const { reason: _reason, ...patch } = c.body;
      if (!Object.keys(patch).length) bad('(body)', 'give at least one field to change, and a reason');
      return changeSource(c, patch);
    },
  },
  {
    method: 'POST',
    path: '/sources/{id}/enable',
    permission: 'sources:write',
    summary: 'Test the connection, and offer the source to citizens only if the test passes (If-Match)',
    handle: enableTested,
  },
  { method: 'POST', path: '/sources/{id}/disable', permission: 'sources:write', summary: 'Stop offering the source (If-Match)', handle: (c) => changeSource(c, { enabled: false }) },
  {
    method: 'POST',
    path: '/sources/{id}/test',
    // A write permission: it makes nixa fetch from the source's URLs.
    permission: 'sources:write',
    summary: 'Test the connection: discovery, JWKS, each check named',
    handle: async ({ deps, params }) => testSource(deps)(await getSource(deps.db, deps.cipher, params.id!)),
  },
];

const hasAdminScope = (scope: unknown) => typeof scope === 'string' && scope.split(' ').some((s) => ADMIN_SCOPES.includes(s));

/** nixa's own clients, registered and kept by nixa at every start: what each is, for the refusal. */
const OWN_CLIENTS: Record<string, string> = {
  [CONSOLE_CLIENT_ID]: 'nixa’s console',
  [ACCOUNT_CLIENT_ID]: 'the citizens’ own nixa account',
};

/**
 * What clients:write does not cover. nixa's own clients (the console, the
 * citizens' account pages) are registered by nixa itself and never changed,
 * disabled or given a new secret through the API: the console's redirect URIs
 * and secret are the keys to every operator's admin token, the account's to
 * every citizen's own account. The admin API belongs to the console alone. A
 * client with admin scopes holds admin powers: only a security officer, who
 * grants powers to people, may create one, change one or receive its secret.
 */
async function guardClient(c: Call, clientId: string | undefined, change: Record<string, unknown>): Promise<void> {
  const id = clientId ?? change.client_id;
  if (typeof id === 'string' && Object.hasOwn(OWN_CLIENTS, id)) throw new ForbiddenError(`${OWN_CLIENTS[id]} is registered and kept by nixa itself`);
  if (change.api_resource === adminResource(c.deps.config.issuer)) throw new ForbiddenError('the admin API belongs to nixa’s console');
  const current = clientId ? await showClient(c.deps.db, clientId) : undefined;
  if ((hasAdminScope(change.scope) || hasAdminScope(current?.scope)) && !allows(c.principal, 'operators:write')) {
    throw new ForbiddenError('only a security officer registers or changes a machine client with admin scopes');
  }
}

const CLIENT_ROUTES: Route[] = [
  { method: 'GET', path: '/clients', permission: 'clients:read', summary: 'Relying parties (never their secrets)', handle: async ({ deps }) => ({ clients: await listClients(deps.db) }) },
  {
    method: 'POST',
    path: '/clients',
    permission: 'clients:write',
    summary: 'Register a relying party (as for `nixa clients add --from-json`, plus a reason); a secret is returned once',
    handle: async (c) => {
      const { reason, ...registration } = c.body;
      const why = checkReason(reason);
      await guardClient(c, undefined, registration);
      const { client, secret } = await addClient(c.deps.db, registration, actorOf(c.principal), clientsOptions(c.deps.config), why);
      c.ctx.status = 201;
      return { ...versioned(c.ctx, await showClient(c.deps.db, client.clientId)), ...(secret ? { clientSecret: secret } : {}) };
    },
  },
  {
    method: 'GET',
    path: '/clients/{id}',
    permission: 'clients:read',
    summary: 'One relying party; its version is the ETag',
    handle: async (c) => versioned(c.ctx, await showClient(c.deps.db, c.params.id!)),
  },
  {
    method: 'POST',
    path: '/clients/{id}',
    permission: 'clients:write',
    summary: 'Change the registration: name, redirect URIs, scopes, keys, minimum level, API (If-Match: its version)',
    handle: async (c) => {
      const { reason, ...patch } = c.body;
      const why = checkReason(reason);
      await guardClient(c, c.params.id, patch);
      const client = await updateClient(c.deps.db, c.params.id!, patch, actorOf(c.principal), {
        ...clientsOptions(c.deps.config),
        expectedVersion: ifMatch(c.ctx),
        reason: why,
      });
      return versioned(c.ctx, client);
    },
  },
  {
    method: 'POST',
    path: '/clients/{id}/disable',
    permission: 'clients:write',
    summary: 'Disable the relying party at once',
    handle: async (c) => {
      const reason = checkReason(c.body.reason);
      await guardClient(c, c.params.id, {});
      return versioned(c.ctx, await disableClient(c.deps.db, c.params.id!, actorOf(c.principal), reason));
    },
  },
  {
    method: 'POST',
    path: '/clients/{id}/rotate-secret',
    permission: 'clients:write',
    summary: 'A new secret, returned once; the old one stops working at once',
    handle: async (c) => {
      const reason = checkReason(c.body.reason);
      await guardClient(c, c.params.id, {});
      const { client, secret } = await rotateClientSecret(c.deps.db, c.params.id!, actorOf(c.principal), reason);
      return { ...versioned(c.ctx, client), clientSecret: secret };
    },
  },
];

// ── Citizens' accounts and the audit trail ──────────────────────────────────
// Looking a person up is itself recorded (with the reason), so it is a POST that
// carries the reason, and the ID number never appears in a URL or a log line.

const ACCOUNT_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/accounts/lookup',
    permission: 'accounts:read',
    summary: 'Find an account by national ID number, with a stated reason (always audited; the number is shown masked)',
    handle: async ({ deps, ctx, principal, body }) => {
      if (typeof body.national_id !== 'string') bad('national_id', 'the 12-digit personal identification number, as a string');
      return versioned(ctx, await lookUpAccount(deps.accounts, { nationalId: body.national_id, actor: actorOf(principal), reason: checkReason(body.reason) }));
    },
  },
  {
    method: 'POST',
    path: '/accounts/{id}/view',
    permission: 'accounts:read',
    summary: 'One account by its id, with a stated reason (audited)',
    handle: async ({ deps, ctx, principal, params, body }) => versioned(ctx, await accountById(deps.accounts, params.id!, actorOf(principal), checkReason(body.reason))),
  },
  {
    method: 'POST',
    path: '/accounts/{id}/suspend',
    permission: 'accounts:write',
    summary: 'Suspend an account (If-Match): its sessions and tokens end at once, its services are told (back-channel logout), it cannot sign in',
    handle: async ({ deps, ctx, principal, params, body }) => {
      const { logouts, ...suspension } = await suspendAccount(deps.accounts, { accountId: params.id!, actor: actorOf(principal), reason: checkReason(body.reason), expectedVersion: ifMatch(ctx) });
      // After commit, as when a citizen ends their own sessions; the sids stay out of the answer.
      const told = await sendBackchannelLogouts(deps.provider(), deps.logger, suspension.accountId, logouts, 'a suspension');
      return versioned(ctx, { ...suspension, servicesTold: told });
    },
  },
  {
    method: 'POST',
    path: '/accounts/{id}/reinstate',
    permission: 'accounts:write',
    summary: 'Lift a suspension (If-Match)',
    handle: async ({ deps, ctx, principal, params, body }) =>
      versioned(ctx, await reinstateAccount(deps.accounts, { accountId: params.id!, actor: actorOf(principal), reason: checkReason(body.reason), expectedVersion: ifMatch(ctx) })),
  },
  {
    method: 'POST',
    path: '/accounts/{id}/unlock-factors',
    permission: 'accounts:write',
    summary: 'Lift a second-factor lockout before it expires (a citizen who proved who they are another way)',
    handle: async ({ deps, principal, params, body }) => {
      const reason = checkReason(body.reason);
      if (!(await unlockAccount({ db: deps.db, cipher: deps.cipher }, params.id!, actorOf(principal), reason))) {
        throw new StateError('this account has no second-factor lock in force');
      }
      return { accountId: params.id, unlocked: true };
    },
  },
];

const isoTime = (field: string, v: unknown): Date | undefined => {
  if (v === undefined || v === '') return undefined;
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(v) ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) bad(field, 'a date or time in ISO 8601, e.g. 2026-11-01 or 2026-11-01T08:00:00Z');
  return d;
};
const text = (field: string, v: unknown): string | undefined => {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 200) bad(field, 'at most 200 characters');
  return v;
};
const whole = (field: string, v: unknown, min: number, max: number): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max) bad(field, `a whole number from ${min} to ${max}`);
  return n;
};

const AUDIT_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/audit/events',
    permission: 'audit:read',
    summary: 'Search the audit trail, newest first (from, to, event, actor, subject, limit, before)',
    handle: async ({ deps, ctx }) => {
      const q = ctx.query;
      const event = text('event', q.event);
      if (event && !(event in AUDIT_EVENTS)) bad('event', `one of the event names in the catalogue (${Object.keys(AUDIT_EVENTS).length} names; README: Audit trail)`);
      const from = isoTime('from', q.from);
      const to = isoTime('to', q.to);
      if (from && to && from >= to) bad('to', 'after from');
      const before = whole('before', q.before, 1, Number.MAX_SAFE_INTEGER);
      return searchAudit(deps.db, {
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(event ? { event } : {}),
        ...(text('actor', q.actor) ? { actor: String(q.actor) } : {}),
        ...(text('subject', q.subject) ? { subject: String(q.subject) } : {}),
        ...(before ? { beforeSeq: before } : {}),
        limit: whole('limit', q.limit, 1, 500) ?? 50,
      });
    },
  },
];

function bad(field: string, problem: string): never {
  throw new InvalidInputError(field, problem);
}

export const ROUTES: readonly Route[] = [...BASE_ROUTES, ...SOURCE_ROUTES, ...CLIENT_ROUTES, ...ACCOUNT_ROUTES, ...AUDIT_ROUTES];

const SEGMENT = /^[A-Za-z0-9._~-]{1,128}$/;

/** The route for a method and path below the prefix, with its path parameters. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').slice(1);
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const template = route.path.split('/').slice(1);
    if (template.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = template.every((t, i) => {
      let p: string;
      try {
        p = decodeURIComponent(parts[i]!);
      } catch {
        return false; // not valid percent-encoding: matches no route
      }
      if (t.startsWith('{')) {
        params[t.slice(1, -1)] = p;
        return SEGMENT.test(p);
      }
      return t === p;
    });
    if (ok) return { route, params };
  }
  return undefined;
}

const parseJson = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' }) as Middleware;

export function adminApi(deps: AdminDeps): Middleware {
  return async function admin(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith(`${ADMIN_API_PREFIX}/`)) return next();
    const path = ctx.path.slice(ADMIN_API_PREFIX.length);
    ctx.set('Cache-Control', 'no-store');
    if (path === '/openapi.json' && ctx.method === 'GET') {
      const { openApiDocument } = await import('./openapi.js');
      ctx.body = openApiDocument(deps.config.issuer);
      return;
    }
    const match = matchRoute(ctx.method, path);
    if (!match) throw new NotFoundError('admin API route', `${ctx.method} ${path}`);
    const principal = await principalOf(
      { db: deps.db, keyring: deps.keyring, issuer: deps.config.issuer, clockToleranceSeconds: deps.config.clockToleranceSeconds, provider: deps.provider },
      ctx,
    );
    if (match.route.permission && !allows(principal, match.route.permission)) {
      throw new ForbiddenError(`this needs the permission ${match.route.permission}`);
    }
    let body: Record<string, unknown> = {};
    if (ctx.method === 'POST') {
      if (!ctx.is('application/json')) throw new InvalidInputError('(body)', 'send a JSON object with Content-Type: application/json');
      await parseJson(ctx, async () => {});
      const parsed = (ctx.request as { body?: unknown }).body;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidInputError('(body)', 'a JSON object');
      body = parsed as Record<string, unknown>;
      refuseControlCharacters(body);
    }
    ctx.body = await match.route.handle({ deps, ctx, principal, params: match.params, body });
  };
}
