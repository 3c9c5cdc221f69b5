// How the simulated registry can be told to misbehave, so that nixa's handling of
// an absent, slow, broken or key-rotating registry can be tested against a real
// one; and the loopback-only control endpoints that set it (and change the
// records) over HTTP, for demos and for tests that run nixa as a process.
//
//   normal        answers per the contract
//   down          503 on everything (token endpoint and discovery included)
//   delay {ms}    everything answers after ms
//   wrong-answer  the API answers 200 with a body that breaks the contract
//                 (an upgrade changed its format: checkedAt, numeric codes, …)
//   bad-token     the API refuses every access token with 401 invalid_token,
//                 as after a key rotation nixa has not seen; the token endpoint works
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { z } from 'zod';

import { InvalidInputError } from '../errors/index.js';
import { ENTERPRISE_CODE, ORGANISATION_STATUSES } from '../registries/contract.js';
import { isLoopback, MAX_DELAY_MS } from '../simulated-sources/index.js';
import type { RegistryRecords } from './records.js';

export type RegistryMisbehaviour =
  | { mode: 'normal' }
  | { mode: 'down' }
  | { mode: 'delay'; ms: number }
  | { mode: 'wrong-answer' }
  | { mode: 'bad-token' };

const misbehaviourSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('normal') }),
  z.strictObject({ mode: z.literal('down') }),
  z.strictObject({ mode: z.literal('delay'), ms: z.number().int().min(0).max(MAX_DELAY_MS) }),
  z.strictObject({ mode: z.literal('wrong-answer') }),
  z.strictObject({ mode: z.literal('bad-token') }),
]);

const withdrawSchema = z.strictObject({ national_id: z.string().regex(/^\d{12}$/), enterprise_code: z.string().regex(ENTERPRISE_CODE) });
const statusSchema = z.strictObject({ enterprise_code: z.string().regex(ENTERPRISE_CODE), status: z.enum(ORGANISATION_STATUSES) });

function parse<T>(schema: z.ZodType<T>, input: unknown, hint: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InvalidInputError(issue?.path.length ? issue.path.join('.') : 'body', `${issue?.message ?? 'invalid'} (${hint})`);
}

export function parseRegistryMisbehaviour(input: unknown): RegistryMisbehaviour {
  return parse(misbehaviourSchema, input, 'modes: normal, down, delay+ms, wrong-answer, bad-token');
}

/** The registry's current misbehaviour. */
export class RegistryMisbehaviourState {
  #current: RegistryMisbehaviour = { mode: 'normal' };

  constructor(private readonly logger: Logger) {}

  get current(): RegistryMisbehaviour {
    return this.#current;
  }

  set(input: unknown): RegistryMisbehaviour {
    this.#current = parseRegistryMisbehaviour(input);
    this.logger.info({ misbehaviour: this.#current }, 'simulated registry: misbehaviour set');
    return this.#current;
  }
}

export const CONTROL_PREFIX = '/__sim/';

/**
 * The control endpoints, guarded as the simulated sources guard theirs: loopback
 * callers only, JSON only (a web page cannot send application/json cross-origin
 * without a CORS preflight, which is never granted). They answer while "down".
 *   GET|POST /__sim/misbehave        the misbehaviour
 *   POST     /__sim/withdraw-mandate {national_id, enterprise_code}
 *   POST     /__sim/status           {enterprise_code, status}
 *   POST     /__sim/reset            the seed again, normal behaviour, request count 0
 * (POST bodies are parsed by the body parser placed before this.)
 */
export function controlEndpoints(state: RegistryMisbehaviourState, records: RegistryRecords, reset: () => void) {
  const routes: Record<string, (body: unknown) => unknown> = {
    '/__sim/misbehave': (body) => state.set(body),
    '/__sim/withdraw-mandate': (body) => {
      const { national_id, enterprise_code } = parse(withdrawSchema, body, '{national_id, enterprise_code}');
      records.withdrawMandate(national_id, enterprise_code);
      return { withdrawn: true };
    },
    '/__sim/status': (body) => {
      const { enterprise_code, status } = parse(statusSchema, body, '{enterprise_code, status}');
      records.setStatus(enterprise_code, status);
      return { enterprise_code, status };
    },
    '/__sim/reset': () => {
      reset();
      return { reset: true };
    },
  };
  return async function control(ctx: Context, next: Next): Promise<void> {
    const route = Object.hasOwn(routes, ctx.path) ? routes[ctx.path] : undefined;
    if (!route) return next();
    ctx.set('Cache-Control', 'no-store');
    if (!isLoopback(ctx.req.socket.remoteAddress)) {
      ctx.status = 403;
      ctx.body = { error: 'forbidden', error_description: 'only loopback callers may change the simulated registry' };
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/__sim/misbehave') {
      ctx.body = state.current;
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', ctx.path === '/__sim/misbehave' ? 'GET, POST' : 'POST');
      return;
    }
    if (!ctx.is('application/json')) {
      ctx.status = 415;
      ctx.body = { error: 'invalid_request', error_description: 'send application/json' };
      return;
    }
    try {
      ctx.body = route((ctx.request as { body?: unknown }).body);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: err.message };
    }
  };
}

/** "down": every request answers 503, discovery and the token endpoint included. */
export function outage(state: RegistryMisbehaviourState) {
  return async function down(ctx: Context, next: Next): Promise<void> {
    if (state.current.mode !== 'down') return next();
    ctx.status = 503;
    ctx.set('Retry-After', '30');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the simulated registry is down' };
  };
}

/** "delay": every request waits before anything else runs. */
export function latency(state: RegistryMisbehaviourState) {
  return async function delay(_ctx: Context, next: Next): Promise<void> {
    const m = state.current;
    if (m.mode === 'delay' && m.ms > 0) await new Promise((resolve) => setTimeout(resolve, m.ms));
    return next();
  };
}
