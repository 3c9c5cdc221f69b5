// What an organisation registry registration must look like: pure validation
// whose errors name the field, every problem at once (as sources/schema.ts).
import { z } from 'zod';

import { InvalidInputError } from '../errors/index.js';
import { AUTH_METHODS, type AuthMethod } from '../sources/index.js';

export { AUTH_METHODS, type AuthMethod };

/** What a registry knows. Only business registers today; guardianship comes from the citizen-ID source. */
export const REGISTRY_KINDS = ['business'] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

/** How long nixa waits for one registry's whole answer (token included) when the registration says nothing. */
export const DEFAULT_TIMEOUT_MS = 3000;

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/;

const httpsUrl = (allowHttpLoopback: boolean) =>
  z
    .url({ error: 'an absolute URL', abort: true })
    .refine((v) => v.startsWith('https://') || (allowHttpLoopback && LOOPBACK.test(v)), allowHttpLoopback ? 'an https URL (http only for localhost)' : 'an https URL')
    .refine((v) => !/[?#]/.test(v), 'no query or fragment');

function fields(allowHttpLoopback: boolean) {
  return {
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,40}$/, '2 to 41 lowercase letters, digits or dashes'),
    kind: z.enum(REGISTRY_KINDS, { error: `one of ${REGISTRY_KINDS.join(', ')}` }),
    name_vi: z.string().trim().min(1, 'is required').max(120),
    name_en: z.string().trim().min(1, 'is required').max(120),
    // The authorization server's issuer identifier: nixa reads its metadata (RFC 8414) for the token endpoint.
    issuer: httpsUrl(allowHttpLoopback).refine((v) => !v.includes('/.well-known/'), 'the issuer identifier itself, not its /.well-known/ metadata URL'),
    api_url: httpsUrl(allowHttpLoopback),
    client_id: z.string().min(1, 'is required').max(200),
    auth_method: z.enum(AUTH_METHODS, { error: AUTH_METHODS.join(', ').replace(/, (?=[^,]*$)/, ' or ') }),
    client_secret: z.string().min(16, 'at least 16 characters').max(500).optional(),
    timeout_ms: z.number().int('a whole number of milliseconds').min(100, 'at least 100 ms').max(60_000, 'at most 60000 ms').optional(),
    enabled: z.boolean().optional(),
  };
}

export type RegistryInput = z.output<z.ZodObject<ReturnType<typeof fields>>>;

function crossChecks(r: Partial<RegistryInput>, ctx: z.RefinementCtx) {
  if ((r.auth_method === 'client_secret_basic' || r.auth_method === 'client_secret_post') && r.client_secret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: `is required for ${r.auth_method}` });
  }
  if (r.auth_method === 'private_key_jwt' && r.client_secret !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'is not used with private_key_jwt (nixa signs with its own key)' });
  }
}

interface Problem {
  field: string;
  problem: string;
}

const fieldOf = (path: readonly PropertyKey[]) => (path.length ? path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('') : 'input');

function problems(issues: readonly z.core.$ZodIssue[], input?: unknown): Problem[] {
  // A field that is not there at all is "required", whatever a format check would say of undefined.
  const absent = (path: readonly PropertyKey[]) =>
    path.length === 1 && input !== null && typeof input === 'object' && (input as Record<PropertyKey, unknown>)[path[0]!] === undefined;
  return issues.map((issue) =>
    issue.code === 'unrecognized_keys'
      ? { field: 'input', problem: `unknown field(s): ${issue.keys.join(', ')}` }
      : { field: fieldOf(issue.path), problem: issue.code !== 'custom' && absent(issue.path) ? 'is required' : issue.message },
  );
}

function fail(list: Problem[]): never {
  const [first, ...others] = list;
  throw new InvalidInputError(first!.field, others.length ? `${first!.problem}${others.map((o) => `\n  ${o.field}: ${o.problem}`).join('')}` : first!.problem);
}

/** The rule between fields, on the fields that are well-formed (zod runs it only once all are). */
function crossProblems(input: unknown, shape: ReturnType<typeof fields>): Problem[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
  const wellFormed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    const r = (shape as Record<string, z.ZodType | undefined>)[k]?.safeParse(v);
    if (r?.success) wellFormed[k] = r.data;
  }
  const res = z.any().superRefine((v, ctx) => crossChecks(v as Partial<RegistryInput>, ctx)).safeParse(wellFormed);
  return res.success ? [] : problems(res.error.issues);
}

export function parseRegistryInput(input: unknown, opts: { allowHttpLoopback: boolean }): RegistryInput {
  const shape = fields(opts.allowHttpLoopback);
  const res = z.object(shape).strict().superRefine(crossChecks).safeParse(input);
  if (res.success) return res.data;
  const list = problems(res.error.issues, input);
  const malformed = new Set(list.map((p) => p.field));
  // client_secret's rule is about client_secret: said once, whether it is malformed or missing.
  list.push(...crossProblems(input, shape).filter((p) => !malformed.has(p.field)));
  fail(list);
}

/** A partial update, validated against the merged result. `id` cannot change. */
export function parseRegistryUpdate(current: RegistryInput, patch: unknown, opts: { allowHttpLoopback: boolean }): RegistryInput {
  const partial = z.object(fields(opts.allowHttpLoopback)).partial().strict().safeParse(patch);
  if (!partial.success) fail(problems(partial.error.issues));
  if (partial.data.id !== undefined && partial.data.id !== current.id) throw new InvalidInputError('id', 'cannot be changed');
  const merged = { ...current, ...partial.data };
  // Switching to private_key_jwt drops the stored secret; a new one sent with it is refused.
  if (merged.auth_method === 'private_key_jwt' && partial.data.client_secret === undefined) delete merged.client_secret;
  return parseRegistryInput(merged, opts);
}
