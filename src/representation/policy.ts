// Acting for an organisation, as policy: what a service accepts, what a request
// asks, which of a person's organisations may be chosen for it (and why not), and
// what the token then says. Pure: the registries' answers come in as data.
//
// A service registers which kinds of representation it accepts (client metadata
// `representation`):
//   legal_representative      a company's legal representative (người đại diện theo pháp luật)
//   mandate:<task>            a person the legal representative mandated for that task
//   mandate:*                 a mandate for any task
//   guardian                  a parent acting for their child under 14 (the relation asserted by the citizen-ID source)
//   helper                    a citizen another citizen authorised, at /account, to act for them at this service
// and asks for one organisation per sign-in with the `representation` scope, or
// with a Rich Authorization Request (RFC 9396) of type nixa_representation naming
// the tasks it needs (`actions`) and optionally the enterprise (`identifier`).
import { z } from 'zod';

import { ENTERPRISE_CODE, type Organisation, type RepresentationLookup } from '../registries/contract.js';

export const REPRESENTATION_SCOPE = 'representation';
export const REPRESENTATION_CLAIM = 'organisation';
export const RAR_TYPE = 'nixa_representation';

const ACCEPT = /^(legal_representative|guardian|helper|mandate:(\*|[a-z][a-z0-9_]{1,39}))$/;

/** A service's registered `representation` metadata. */
export const representationAcceptsSchema = z
  .array(z.string().regex(ACCEPT, 'legal_representative, mandate:<task> (a task code), mandate:*, guardian or helper'))
  .min(1, 'name at least one kind of representation the service accepts')
  .max(50);

/** Persons acting for persons (RFC 8693 `act`): a parent for a child, a helper for whoever authorised them. */
export type PersonRelation = 'guardian' | 'helper';
export const PERSON_RELATIONS: readonly PersonRelation[] = ['guardian', 'helper'];

/** Whether a service accepts tokens in which someone acts for another person, and which kinds. */
export function personRelationsAccepted(accepts: readonly string[]): PersonRelation[] {
  return PERSON_RELATIONS.filter((r) => accepts.includes(r));
}

/** Whether a service accepts acting for an organisation at all (a role or a mandate). */
export function acceptsOrganisations(accepts: readonly string[]): boolean {
  return accepts.some((a) => a === 'legal_representative' || a.startsWith('mandate:'));
}

/** What one sign-in asks for: any accepted representation (scope), or organisations that cover `tasks` (RAR). */
export interface RepresentationAsk {
  via: 'scope' | 'rar';
  /** Tasks the organisation must be represented for (RAR `actions`); empty: any the service accepts. */
  tasks: string[];
  /** One enterprise only (RAR `identifier`). */
  enterpriseCode?: string;
}

/** RFC 9396 detail of type nixa_representation, as a service sends it. */
export const rarRequestSchema = z
  .object({
    type: z.literal(RAR_TYPE),
    actions: z.array(z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, 'task codes')).max(20).optional(),
    identifier: z.string().regex(ENTERPRISE_CODE, 'an enterprise code (ten digits)').optional(),
  })
  .strict();

export type RarRequest = z.infer<typeof rarRequestSchema>;

/** What the request asks, from its scopes and authorization_details; undefined when it asks no representation. */
export function representationAsked(scopes: readonly string[], details: readonly unknown[] | undefined): RepresentationAsk | undefined {
  const rar = (details ?? []).filter((d): d is RarRequest => typeof d === 'object' && d !== null && (d as { type?: unknown }).type === RAR_TYPE);
  if (rar.length) {
    const first = rarRequestSchema.parse(rar[0]);
    return { via: 'rar', tasks: [...new Set(rar.flatMap((d) => d.actions ?? []))].sort(), ...(first.identifier ? { enterpriseCode: first.identifier } : {}) };
  }
  return scopes.includes(REPRESENTATION_SCOPE) ? { via: 'scope', tasks: [] } : undefined;
}

/**
 * What an authorization request's parameters ask (its scopes limited to those the
 * service registered, and its authorization_details as sent, a JSON string); the
 * one reading of the request for the provider's prompt check and the choice page.
 */
export function representationAskedIn(params: Record<string, unknown>, registeredScopes: readonly string[]): RepresentationAsk | undefined {
  const scopes = String(params.scope ?? '')
    .split(' ')
    .filter((x) => registeredScopes.includes(x));
  let details: unknown;
  try {
    details = typeof params.authorization_details === 'string' ? JSON.parse(params.authorization_details) : undefined;
  } catch {
    details = undefined; // oidc-provider refused a malformed one before any interaction
  }
  return representationAsked(scopes, Array.isArray(details) ? details : undefined);
}

/** Why an organisation cannot be chosen for this sign-in. */
export type Unchoosable = 'dissolved' | 'suspended' | 'not-accepted' | 'tasks' | 'expired' | 'other-enterprise';

export interface Choice {
  registry: RepresentationLookup['registry'];
  checkedAt: string;
  organisation: Organisation;
  /** undefined: it can be chosen. */
  refused?: Unchoosable;
}

function covers(accepts: readonly string[], org: Organisation, tasks: readonly string[]): boolean {
  if (org.role === 'legal_representative') return accepts.includes('legal_representative');
  const held = org.tasks ?? [];
  const acceptedTasks = held.filter((t) => accepts.includes('mandate:*') || accepts.includes(`mandate:${t}`));
  if (!acceptedTasks.length) return false;
  return tasks.every((t) => acceptedTasks.includes(t));
}

/** A mandate past its last day (the registry should not answer it; nixa does not trust that it did not). */
function expired(org: Organisation, today: string): boolean {
  return org.role === 'mandate' && typeof org.valid_until === 'string' && org.valid_until < today;
}

/**
 * Each organisation of the registries' answers, with whether this service and
 * this request allow choosing it. Shown all (a refused one with its reason), in
 * the registries' order; `today` is YYYY-MM-DD.
 */
export function choices(lookups: readonly RepresentationLookup[], accepts: readonly string[], ask: RepresentationAsk, today: string): Choice[] {
  return lookups.flatMap((l) =>
    l.organisations.map((organisation): Choice => {
      const refused: Unchoosable | undefined =
        organisation.status === 'dissolved'
          ? 'dissolved'
          : organisation.status === 'suspended'
            ? 'suspended'
            : expired(organisation, today)
              ? 'expired'
              : ask.enterpriseCode !== undefined && ask.enterpriseCode !== organisation.enterprise_code
                ? 'other-enterprise'
                : !covers(accepts, organisation, [])
                  ? 'not-accepted'
                  : !covers(accepts, organisation, ask.tasks)
                    ? 'tasks'
                    : undefined;
      return { registry: l.registry, checkedAt: l.checkedAt, organisation, ...(refused ? { refused } : {}) };
    }),
  );
}

/**
 * The `organisation` claim (and the granted RAR detail's `organisation` member):
 * one organisation, the grounds the person acts on, the registry that said so
 * and when. Never a list: a service gets the one organisation chosen.
 */
export interface OrganisationClaim {
  enterprise_code: string;
  name: string;
  name_en?: string;
  status: Organisation['status'];
  role: Organisation['role'];
  /** A mandate's tasks (those the service accepts) and last day. */
  tasks?: string[];
  valid_until?: string;
  registry: string;
  /** When the registry answered, seconds since the epoch (as iat and auth_time are). */
  checked_at: number;
}

export function organisationClaim(choice: Pick<Choice, 'registry' | 'checkedAt' | 'organisation'>, accepts: readonly string[]): OrganisationClaim {
  const o = choice.organisation;
  const tasks = o.role === 'mandate' ? (o.tasks ?? []).filter((t) => accepts.includes('mandate:*') || accepts.includes(`mandate:${t}`)) : undefined;
  return {
    enterprise_code: o.enterprise_code,
    name: o.name_vi,
    ...(o.name_en ? { name_en: o.name_en } : {}),
    status: o.status,
    role: o.role,
    ...(tasks ? { tasks } : {}),
    ...(o.role === 'mandate' && o.valid_until ? { valid_until: o.valid_until } : {}),
    registry: choice.registry.id,
    checked_at: Math.floor(Date.parse(choice.checkedAt) / 1000),
  };
}

/** The RAR detail nixa grants (and keeps on the code and refresh token): the request's, with the organisation. */
export interface GrantedDetail {
  type: typeof RAR_TYPE;
  actions?: string[];
  identifier: string;
  organisation: OrganisationClaim;
}

export function grantedDetail(ask: RepresentationAsk, claim: OrganisationClaim): GrantedDetail {
  return { type: RAR_TYPE, ...(ask.tasks.length ? { actions: ask.tasks } : {}), identifier: claim.enterprise_code, organisation: claim };
}

export function isGrantedDetail(d: unknown): d is GrantedDetail {
  return typeof d === 'object' && d !== null && (d as { type?: unknown }).type === RAR_TYPE && typeof (d as { organisation?: unknown }).organisation === 'object';
}

/**
 * At refresh: the registry's answer for the chosen organisation now. Undefined
 * when the person may still act for it under the same grounds (same role, still
 * active, a mandate still covering the granted tasks); otherwise why not.
 */
export function stillHolds(granted: GrantedDetail, now: Organisation | undefined, accepts: readonly string[], today: string): Unchoosable | 'withdrawn' | undefined {
  if (!now) return 'withdrawn';
  const [c] = choices([{ registry: { id: granted.organisation.registry, name: { vi: '', en: '' } }, checkedAt: new Date().toISOString(), organisations: [now] }], accepts, { via: 'rar', tasks: granted.actions ?? [], enterpriseCode: granted.identifier }, today);
  if (c!.refused) return c!.refused;
  if (now.role !== granted.organisation.role) return 'withdrawn';
  return undefined;
}
