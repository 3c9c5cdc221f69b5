// How a simulated source can be told to misbehave, so that nixa's handling of a
// refusing citizen, a slow or absent source, a forged signature or a missing
// claim can be tested against a real OpenID provider.
//
// Where each mode takes effect:
//   deny        interactions.ts finishes the sign-in with access_denied (and
//               provider.ts forces an interaction even when a session exists)
//   delay, down the middlewares below, before anything else answers
//   wrong-key   signing-keys.ts re-signs ID tokens at the token endpoint
//   drop-claim  provider.ts (findAccount) for the source's claims;
//               interactions.ts for acr and amr, which are fixed at sign-in
//   acr, stale-auth-time
//               interactions.ts, where the sign-in's acr and time are set
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { z } from 'zod';

import { InvalidInputError } from '../errors/index.js';

export type Misbehaviour =
  | { mode: 'normal' }
  | { mode: 'deny' } // the citizen refuses: redirect back with error=access_denied
  | { mode: 'delay'; ms: number } // every endpoint answers after ms
  | { mode: 'wrong-key' } // ID tokens signed with a key NOT in the published JWKS (same kid)
  | { mode: 'drop-claim'; claim: string } // omit one claim from ID token and userinfo
  | { mode: 'down' } // every request answers 503
  // The source answers every sign-in with this acr, whatever acr_values asked: a
  // source that cannot, or does not, reach the level it was asked for.
  | { mode: 'acr'; acr: string }
  // The source says the citizen signed in `seconds` ago, whatever prompt=login or
  // max_age asked: a source that answers from its old session (LemonLDAP ignores
  // prompt=login while it has one).
  | { mode: 'stale-auth-time'; seconds: number };

/** Longest a stale sign-in can be made to look: ten days. */
export const MAX_STALE_SECONDS = 10 * 24 * 3600;

/** Long enough to trip any sensible timeout, short enough not to hang a test run. */
export const MAX_DELAY_MS = 120_000;

const schema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('normal') }),
  z.strictObject({ mode: z.literal('deny') }),
  z.strictObject({ mode: z.literal('delay'), ms: z.number().int().min(0).max(MAX_DELAY_MS) }),
  z.strictObject({ mode: z.literal('wrong-key') }),
  z.strictObject({ mode: z.literal('drop-claim'), claim: z.string() }),
  z.strictObject({ mode: z.literal('down') }),
  z.strictObject({ mode: z.literal('acr'), acr: z.string().min(1).max(200) }),
  z.strictObject({ mode: z.literal('stale-auth-time'), seconds: z.number().int().min(1).max(MAX_STALE_SECONDS) }),
]);

/**
 * Validates a misbehaviour (from code or from the HTTP control endpoint).
 * `droppable` are the claims this source can omit; sub cannot be, the protocol
 * requires it.
 */
export function parseMisbehaviour(input: unknown, droppable: readonly string[]): Misbehaviour {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : 'mode';
    throw new InvalidInputError(field, `${issue?.message ?? 'invalid'} (modes: normal, deny, delay+ms, wrong-key, drop-claim+claim, down, acr+acr, stale-auth-time+seconds)`);
  }
  const m = parsed.data;
  if (m.mode === 'drop-claim' && !droppable.includes(m.claim)) {
    throw new InvalidInputError('claim', `this source can drop only ${droppable.join(', ')}`);
  }
  return m;
}

/** The current misbehaviour of one source. */
export class MisbehaviourState {
  #current: Misbehaviour = { mode: 'normal' };

  constructor(
    private readonly droppable: readonly string[],
    private readonly logger: Logger,
  ) {}

  get current(): Misbehaviour {
    return this.#current;
  }

  set(input: unknown): Misbehaviour {
    this.#current = parseMisbehaviour(input, this.droppable);
    this.logger.info({ misbehaviour: this.#current }, 'simulated source: misbehaviour set');
    return this.#current;
  }

  /** Whether the claim must be left out of what this source asserts. */
  drops(claim: string): boolean {
    return this.#current.mode === 'drop-claim' && this.#current.claim === claim;
  }
}

/**
 * POST /__sim/misbehave with a JSON Misbehaviour; GET shows the current one.
 * Loopback callers only, and JSON only: a web page can send a cross-origin POST
 * to localhost, but not with Content-Type application/json without a CORS
 * preflight that this endpoint never grants. It answers even while the source is
 * "down", so a demo can bring it back.
 */
export function controlEndpoint(state: MisbehaviourState) {
  return async function control(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/__sim/misbehave') return next();
    ctx.set('Cache-Control', 'no-store');
    if (!isLoopback(ctx.req.socket.remoteAddress)) {
      ctx.status = 403;
      ctx.body = { error: 'forbidden', message: 'only loopback callers may change a simulated source' };
      return;
    }
    if (ctx.method === 'GET') {
      ctx.body = state.current;
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, POST');
      return;
    }
    if (!ctx.is('application/json')) {
      ctx.status = 415;
      ctx.body = { error: 'unsupported_media_type', message: 'send the misbehaviour as application/json' };
      return;
    }
    try {
      ctx.body = state.set((ctx.request as { body?: unknown }).body);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', message: err.message };
    }
  };
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** "down": every request answers 503, discovery included; a browser gets a page saying so. */
export function outage(state: MisbehaviourState, page: () => string) {
  return async function down(ctx: Context, next: Next): Promise<void> {
    if (state.current.mode !== 'down') return next();
    ctx.status = 503;
    ctx.set('Retry-After', '30');
    ctx.set('Cache-Control', 'no-store');
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      ctx.body = page();
    } else {
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the simulated source is down' };
    }
  };
}

/** "delay": every request waits before anything else runs. */
export function latency(state: MisbehaviourState) {
  return async function delay(_ctx: Context, next: Next): Promise<void> {
    const m = state.current;
    if (m.mode === 'delay' && m.ms > 0) await new Promise((resolve) => setTimeout(resolve, m.ms));
    return next();
  };
}
