// What an identity source registration must look like: pure validation whose
// errors name the field the operator got wrong.
import { z } from 'zod';

import { LEVELS } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';

export const ATTRIBUTES = ['national_id', 'full_name', 'birthdate', 'gender', 'place_of_origin', 'permanent_address', 'phone_number'] as const;
export type AttributeName = (typeof ATTRIBUTES)[number];
export const SOURCE_KINDS = ['citizen_id', 'telecom', 'bank', 'other'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
/**
 * How nixa signs the browser out of the source (OpenID RP-Initiated Logout):
 * post = its ID token as id_token_hint by POST; hint = client_id and logout_hint by
 * GET (the source asks the citizen itself); link = the source does not send the
 * browser back, so nixa finishes and offers a link. See federation/source-logout.ts.
 */
export const LOGOUT_METHODS = ['post', 'hint', 'link'] as const;
export type LogoutMethod = (typeof LOGOUT_METHODS)[number];
/**
 * How nixa authenticates to a source's token endpoint. client_secret_post exists
 * for sources that do not URL-decode the Basic header (RFC 6749 §2.3.1), as
 * LemonLDAP 2.16: there a client id with "-" is refused as invalid_client.
 */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
/**
 * What a source is for. nixa links accounts by the national ID number, so an
 * identity source must vouch for it; a step-up-only source does not, and only
 * raises the level of an account it is already linked to (see README).
 */
export const SOURCE_ROLES = ['identity', 'step-up-only'] as const;
export type SourceRole = (typeof SOURCE_ROLES)[number];

const level = z.enum(LEVELS, { error: `one of ${LEVELS.join(', ')}` });
const attribute = z.enum(ATTRIBUTES, { error: `one of ${ATTRIBUTES.join(', ')}` });

// A mapping entry names the upstream claim, and optionally translates its values
// (e.g. gioi_tinh "nam" → gender "male").
const mappingEntry = z.union([
  z.string().min(1),
  z.object({ claim: z.string().min(1), values: z.record(z.string(), z.string()).optional() }).strict(),
]);

const httpsUrl = (allowHttpLoopback: boolean) =>
  z.url({ error: 'an absolute URL' }).refine(
    (v) => v.startsWith('https://') || (allowHttpLoopback && /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(v)),
    allowHttpLoopback ? 'an https URL (http only for localhost)' : 'an https URL',
  );

function fields(allowHttpLoopback: boolean) {
  return {
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/, '2 to 41 lowercase letters, digits or dashes'),
    kind: z.enum(SOURCE_KINDS, { error: `one of ${SOURCE_KINDS.join(', ')}` }),
    role: z.enum(SOURCE_ROLES, { error: 'identity or step-up-only' }).optional(),
    name_vi: z.string().trim().min(1, 'is required').max(120),
    name_en: z.string().trim().min(1, 'is required').max(120),
    logo: z
      .string()
      .max(20_000)
      .regex(/^data:image\/(svg\+xml|png);base64,[A-Za-z0-9+/=]+$/, 'a data:image/svg+xml or data:image/png base64 URI (no external assets)')
      .nullable()
      .optional(),
    discovery_url: httpsUrl(allowHttpLoopback),
    client_id: z.string().min(1, 'is required').max(200),
    auth_method: z.enum(AUTH_METHODS, { error: AUTH_METHODS.join(', ').replace(/, (?=[^,]*$)/, ' or ') }),
    client_secret: z.string().min(16, 'at least 16 characters').max(500).optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scope tokens')).refine((s) => s.includes('openid'), 'must include openid'),
    claim_mapping: z.partialRecord(attribute, mappingEntry).refine((m) => Object.keys(m).length > 0, 'map at least one attribute'),
    authoritative_for: z.array(attribute),
    proofing_level: level,
    auth_level: level.nullable().optional(),
    acr_levels: z.record(z.string(), level).optional(),
    max_auth_level: level,
    use_userinfo: z.boolean().optional(),
    timeout_ms: z.number().int().min(100).max(60_000).optional(),
    enabled: z.boolean().optional(),
    logout: z.enum(LOGOUT_METHODS, { error: `one of ${LOGOUT_METHODS.join(', ')}` }).optional(),
    maintenance: z.boolean().optional(),
    maintenance_message_vi: z.string().max(500).nullable().optional(),
    maintenance_message_en: z.string().max(500).nullable().optional(),
    // The claim carrying the minor children the source vouches the person is the
    // legal representative of (each element read with claim_mapping); null removes it.
    wards_claim: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/, 'a claim name (1 to 200 printable characters, no spaces)').nullable().optional(),
  };
}

function crossChecks(s: Partial<SourceInput>, ctx: z.RefinementCtx) {
  if ((s.auth_method === 'client_secret_basic' || s.auth_method === 'client_secret_post') && s.client_secret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: `is required for ${s.auth_method}` });
  }
  if (s.auth_method === 'private_key_jwt' && s.client_secret !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'is not used with private_key_jwt (nixa signs with its own key)' });
  }
  for (const a of s.authoritative_for ?? []) {
    if (s.claim_mapping && !(a in s.claim_mapping)) {
      ctx.addIssue({ code: 'custom', path: ['authoritative_for'], message: `"${a}" has no entry in claim_mapping` });
    }
  }
  // A source nixa cannot link anyone through would be offered to citizens only to refuse them.
  if ((s.role ?? 'identity') === 'identity' && s.claim_mapping) {
    const why = 'nixa links accounts by the national ID number; or set role "step-up-only" for a source that only raises the level of accounts it is already linked to';
    if (!('national_id' in s.claim_mapping)) {
      ctx.addIssue({ code: 'custom', path: ['claim_mapping', 'national_id'], message: `name the claim carrying the national ID number: ${why}` });
    } else if (s.authoritative_for && !s.authoritative_for.includes('national_id')) {
      ctx.addIssue({ code: 'custom', path: ['authoritative_for'], message: `must include national_id: ${why}` });
    }
  }
  if (s.wards_claim != null) {
    // Who is whose child decides who may act for whom: a parent's word, or a weakly
    // proofed source's, would let anyone claim a child. Only the population register's
    // kind of source, which proved the person at level high, is believed.
    if ((s.role ?? 'identity') !== 'identity') {
      ctx.addIssue({ code: 'custom', path: ['wards_claim'], message: 'is only for an identity source (role "identity"): a step-up-only source does not vouch for who the person is, so it cannot say whose child is whose' });
    }
    if (s.proofing_level !== undefined && s.proofing_level !== 'high') {
      ctx.addIssue({ code: 'custom', path: ['wards_claim'], message: `needs proofing_level high (this source is ${s.proofing_level}): only a source that proved identity at level high may say who is whose child` });
    }
    const missing = (['national_id', 'full_name', 'birthdate'] as const).filter((a) => s.claim_mapping && !(a in s.claim_mapping));
    if (missing.length) {
      ctx.addIssue({ code: 'custom', path: ['wards_claim'], message: `each child is read with claim_mapping, which must map national_id, full_name and birthdate (missing: ${missing.join(', ')})` });
    }
  }
  if (!s.auth_level && s.acr_levels && Object.keys(s.acr_levels).length === 0) {
    ctx.addIssue({ code: 'custom', path: ['acr_levels'], message: 'map at least one acr, or set auth_level' });
  }
  if (s.auth_level == null && s.acr_levels === undefined) {
    ctx.addIssue({ code: 'custom', path: ['auth_level'], message: 'set auth_level, or acr_levels to take the level from the returned acr' });
  }
}

export type SourceInput = z.output<z.ZodObject<ReturnType<typeof fields>>>;

const fieldOf = (path: readonly PropertyKey[]) =>
  path.length ? path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('') : 'input';

/** Every problem of a registration, each naming its field: an operator fixes the file once, not once per run. */
function problems(issues: readonly z.core.$ZodIssue[]): { field: string; problem: string }[] {
  return issues.map((issue) =>
    issue.code === 'unrecognized_keys'
      ? { field: 'input', problem: `unknown field(s): ${issue.keys.join(', ')}` }
      : // zod's own words for a missing field ("expected string, received undefined") say less than this.
        { field: fieldOf(issue.path), problem: issue.code === 'invalid_type' && / received undefined$/.test(issue.message) ? 'is required' : issue.message },
  );
}

function fail(list: { field: string; problem: string }[]): never {
  const [first, ...others] = list;
  // The first problem is the error's field (the admin API's `field`); the message lists them all.
  throw new InvalidInputError(first!.field, others.length ? `${first!.problem}${others.map((o) => `\n  ${o.field}: ${o.problem}`).join('')}` : first!.problem);
}

/**
 * The rules between fields, also when some fields are malformed (zod checks them
 * only once every field is well-formed): checked on the well-formed fields.
 */
function crossProblems(input: unknown, shape: ReturnType<typeof fields>): { field: string; problem: string }[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
  const wellFormed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    const r = (shape as Record<string, z.ZodType | undefined>)[k]?.safeParse(v);
    if (r?.success) wellFormed[k] = r.data;
  }
  const res = z.any().superRefine((v, ctx) => crossChecks(v as Partial<SourceInput>, ctx)).safeParse(wellFormed);
  return res.success ? [] : problems(res.error.issues);
}

export function parseSourceInput(input: unknown, opts: { allowHttpLoopback: boolean }): SourceInput {
  const shape = fields(opts.allowHttpLoopback);
  const res = z.object(shape).strict().superRefine(crossChecks).safeParse(input);
  if (res.success) return res.data;
  const list = problems(res.error.issues);
  const key = (p: { field: string; problem: string }) => `${p.field}\u0000${p.problem}`;
  const root = (field: string) => field.split(/[.[]/)[0]!;
  const cross = crossProblems(input, shape);
  const crossKeys = new Set(cross.map(key));
  const listed = new Set(list.map(key));
  // A rule about a field already reported as malformed (or missing) would only say it again.
  const malformed = new Set(list.filter((p) => !crossKeys.has(key(p))).map((p) => root(p.field)));
  list.push(...cross.filter((p) => !listed.has(key(p)) && !malformed.has(root(p.field))));
  fail(list);
}

/** A partial update, validated against the merged result. `id` cannot change. */
export function parseSourceUpdate(current: SourceInput, patch: unknown, opts: { allowHttpLoopback: boolean }): SourceInput {
  const partial = z.object(fields(opts.allowHttpLoopback)).partial().strict().safeParse(patch);
  if (!partial.success) fail(problems(partial.error.issues));
  if (partial.data.id !== undefined && partial.data.id !== current.id) throw new InvalidInputError('id', 'cannot be changed');
  const merged = { ...current, ...partial.data };
  // Switching to private_key_jwt drops the stored secret; a new one sent with it is refused below.
  if (merged.auth_method === 'private_key_jwt' && partial.data.client_secret === undefined) delete merged.client_secret;
  return parseSourceInput(merged, opts);
}
