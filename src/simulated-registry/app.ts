// The simulated registry's HTTP surface, in order. oidc-provider is the Koa app
// itself: provider.use() places each of these before its own routes.
//
//   countRequests     counts calls to the API's one route (for callers' caching tests)
//   requestLog        method, path and status only (the national ID is in bodies, never logged)
//   securityHeaders   on every answer
//   errorBoundary     errors of the routes below become OAuth-style JSON
//   control           /__sim/* (loopback only, JSON only; works while "down")
//   outage            "down": 503 for everything else
//   latency           "delay": sleep before anything answers
//   api               POST /api/v1/representations (api.ts)
//   (oidc-provider)   discovery, /token, /jwks, …
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';

import { REPRESENTATIONS_PATH } from '../registries/contract.js';
import { requestLog } from '../simulated-sources/app.js';
import { API_BASE_PATH, registryApi, type RegistryApiDeps } from './api.js';
import { CONTROL_PREFIX, controlEndpoints, latency, outage, type RegistryMisbehaviourState } from './misbehaviour.js';
import type { RegistryRecords } from './records.js';

export interface RegistryAppDeps extends RegistryApiDeps {
  provider: Provider;
  state: RegistryMisbehaviourState;
  records: RegistryRecords;
  logger: Logger;
  /** Called for each request to the API's route, whatever its outcome. */
  onApiRequest: () => void;
  /** Back to the seed, normal behaviour and a zero count. */
  reset: () => void;
}

export function assembleRegistryApp(deps: RegistryAppDeps): void {
  const { provider, state, records, logger } = deps;
  const route = `${API_BASE_PATH}${REPRESENTATIONS_PATH}`;
  const pipeline: Middleware[] = [
    async function countRequests(ctx, next) {
      if (ctx.path === route) deps.onApiRequest();
      await next();
    },
    requestLog(logger, 'simulated registry'),
    securityHeaders,
    errorBoundary(logger),
    (ctx, next) => (ctx.path.startsWith(CONTROL_PREFIX) && ctx.method === 'POST' ? (bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }) as Middleware)(ctx, next) : next()),
    controlEndpoints(state, records, deps.reset),
    outage(state),
    latency(state),
    registryApi(deps),
  ];
  for (const middleware of pipeline) provider.use(middleware);
}


async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } finally {
    if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
  }
}

/** Errors thrown by the routes above oidc-provider's (which answers its own): a malformed control request, a bug. */
function errorBoundary(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; expose?: boolean; message?: string; name?: string; stack?: string };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status >= 500) logger.error({ err: { name: e.name, message: e.message, stack: e.stack }, path: ctx.path }, 'simulated registry: request failed');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = status < 500 ? { error: 'invalid_request', error_description: 'the request is not valid' } : { error: 'server_error', error_description: 'the simulated registry failed' };
    }
  };
}
