// The registry's API, per src/registries/contract.ts:
//   POST {api}/v1/representations   Authorization: Bearer <JWT from our token endpoint>
//   { national_id, enterprise_code? }  →  200 { checked_at, organisations }
// Authentication first (so an anonymous caller learns nothing of the body's rules),
// then the body, then the answer from the records as they stand today.
//
// Bearer errors follow RFC 6750 §3: no token → 401 with a bare challenge; a token
// that is not ours, not for this API, expired or forged → 401 invalid_token; a
// valid token without representation.read → 403 insufficient_scope.
import type { Context, Next } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { z } from 'zod';

import { ENTERPRISE_CODE, REGISTRY_SCOPE, REPRESENTATIONS_PATH, type Organisation, type RepresentationsAnswer } from '../registries/contract.js';
import { SIGNING_ALG } from '../simulated-sources/index.js';
import type { RegistryMisbehaviourState } from './misbehaviour.js';
import { vietnamDate, type RegistryRecords } from './records.js';

/** Where the API sits under the registry's origin: the API URL (and tokens' audience) is `${origin}${API_BASE_PATH}`. */
export const API_BASE_PATH = '/api';

const REALM = 'simulated-registry';

/** Unknown fields are refused: a misspelt enterprise_code must not widen the answer to every organisation. */
const requestSchema = z.strictObject({
  national_id: z.string().regex(/^\d{12}$/, 'a national ID number, 12 digits'),
  enterprise_code: z.string().regex(ENTERPRISE_CODE, 'an enterprise code, 10 digits').optional(),
});

export interface RegistryApiDeps {
  issuer: string;
  apiUrl: string;
  /** The token endpoint's public signing key(s). */
  publicKeys: JWK[];
  records: RegistryRecords;
  state: RegistryMisbehaviourState;
  now: () => Date;
}

class BearerError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly error: 'invalid_token' | 'insufficient_scope' | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The whole API under API_BASE_PATH: the one route, and JSON 404/405 for the rest. */
export function registryApi(deps: RegistryApiDeps) {
  const jwks = createLocalJWKSet({ keys: deps.publicKeys });
  const parseJson = bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }) as (ctx: Context, next: Next) => Promise<void>;
  const route = `${API_BASE_PATH}${REPRESENTATIONS_PATH}`;

  async function authenticate(ctx: Context): Promise<void> {
    const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(ctx.get('authorization'));
    if (!m) throw new BearerError(401, undefined, 'a bearer access token is required');
    if (deps.state.current.mode === 'bad-token') throw new BearerError(401, 'invalid_token', 'the access token is not valid');
    let scope: unknown;
    try {
      ({ payload: { scope } } = await jwtVerify(m[1]!, jwks, {
        issuer: deps.issuer,
        audience: deps.apiUrl,
        typ: 'at+jwt',
        algorithms: [SIGNING_ALG],
        requiredClaims: ['exp', 'client_id'],
      }));
    } catch {
      throw new BearerError(401, 'invalid_token', 'the access token is not valid');
    }
    if (typeof scope !== 'string' || !scope.split(' ').includes(REGISTRY_SCOPE)) {
      throw new BearerError(403, 'insufficient_scope', `the access token lacks the ${REGISTRY_SCOPE} scope`);
    }
  }

  return async function api(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== API_BASE_PATH && !ctx.path.startsWith(`${API_BASE_PATH}/`)) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path !== route) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: `the API has one route: POST ${route}` };
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'POST');
      ctx.body = { error: 'invalid_request', error_description: 'use POST' };
      return;
    }
    try {
      await authenticate(ctx);
    } catch (err) {
      if (!(err instanceof BearerError)) throw err;
      const params = [`realm="${REALM}"`, `scope="${REGISTRY_SCOPE}"`];
      if (err.error) params.push(`error="${err.error}"`, `error_description="${err.message}"`);
      ctx.status = err.status;
      ctx.set('WWW-Authenticate', `Bearer ${params.join(', ')}`);
      ctx.body = { error: err.error ?? 'invalid_token', error_description: err.message };
      return;
    }
    if (!ctx.is('application/json')) {
      ctx.status = 415;
      ctx.body = { error: 'invalid_request', error_description: 'send the request as application/json' };
      return;
    }
    try {
      await parseJson(ctx, async () => {});
    } catch {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'the body is not JSON' };
      return;
    }
    const parsed = requestSchema.safeParse((ctx.request as { body?: unknown }).body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` };
      return;
    }
    const now = deps.now();
    const organisations = deps.records.representationsOf(parsed.data.national_id, vietnamDate(now), parsed.data.enterprise_code);
    const checkedAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    ctx.type = 'json';
    ctx.body = deps.state.current.mode === 'wrong-answer' ? brokenAnswer(checkedAt, organisations) : ({ checked_at: checkedAt, organisations } satisfies RepresentationsAnswer);
  };
}

/**
 * What a registry might answer after an upgrade nobody told nixa about: the same
 * facts in another shape (camelCase time, codes as numbers that lose their leading
 * zero, status in words). Every field that matters breaks the contract.
 */
function brokenAnswer(checkedAt: string, organisations: Organisation[]): unknown {
  return {
    checkedAt,
    organisations: organisations.map((o) => ({
      enterprise_code: Number(o.enterprise_code),
      name: o.name_vi,
      status: o.status === 'active' ? 'Đang hoạt động' : 'Ngừng hoạt động',
      role: o.role,
    })),
  };
}
