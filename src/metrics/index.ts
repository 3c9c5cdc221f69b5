// Prometheus metrics for operations (prom-client). Each nixa instance has its own
// registry (tests run several in one process); counters are labelled only with
// bounded values — source ids, levels, methods, reasons, grant types — never with
// an account, a client secret or anything a citizen typed.
import { timingSafeEqual, createHash } from 'node:crypto';

import type { Context } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { Level } from '../assurance/index.js';

export interface Metrics {
  registry: Registry;
  signIns: Counter<'source' | 'level'>;
  stepUps: Counter<'method' | 'level'>;
  failures: Counter<'reason'>;
  upstreamSeconds: Histogram<'source' | 'outcome'>;
  tokensIssued: Counter<'grant_type'>;
  registryFailures: Counter<'registry' | 'reason'>;
  registrySeconds: Histogram<'registry' | 'outcome'>;
  /** The HSM alert: signatures the key store refused (token removed, PIN refused, session lost), by reason. */
  signingFailures: Counter<'reason'>;
}

/** Gauges read when Prometheus scrapes (a database count is cheaper than keeping them in step). */
export interface GaugeSources {
  activeSessions: () => Promise<number>;
  auditChainLength: () => Promise<number>;
}

export function createMetrics(gauges: GaugeSources): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'nixa' });
  collectDefaultMetrics({ register: registry, prefix: 'nixa_' });
  const gauge = (name: string, help: string, read: () => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await read());
      },
    });
  gauge('nixa_active_sessions', 'Sign-in sessions that have not expired', gauges.activeSessions);
  gauge('nixa_audit_chain_length', 'Events in the audit trail', gauges.auditChainLength);
  return {
    registry,
    signIns: new Counter({ name: 'nixa_sign_ins_total', help: 'Sign-ins through an identity source, by source and level reached', labelNames: ['source', 'level'], registers: [registry] }),
    stepUps: new Counter({ name: 'nixa_step_ups_total', help: 'Sessions raised with a second factor, by method and level reached', labelNames: ['method', 'level'], registers: [registry] }),
    failures: new Counter({
      name: 'nixa_sign_in_failures_total',
      help: 'Sign-in and step-up failures, by reason (NIXA-FED reasons, factor:<reason>)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    upstreamSeconds: new Histogram({
      name: 'nixa_upstream_seconds',
      help: "Time to complete a source's callback (token exchange, ID token check, userinfo), by source and outcome",
      labelNames: ['source', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    tokensIssued: new Counter({ name: 'nixa_tokens_issued_total', help: 'Successful token endpoint responses, by grant type', labelNames: ['grant_type'], registers: [registry] }),
    registryFailures: new Counter({
      name: 'nixa_registry_failures_total',
      help: 'Questions to an organisation registry that got no usable answer, by registry and reason (src/registries/errors.ts)',
      labelNames: ['registry', 'reason'],
      registers: [registry],
    }),
    registrySeconds: new Histogram({
      name: 'nixa_registry_seconds',
      help: 'Time to ask an organisation registry (metadata, token, answer), by registry and outcome (ok or the failure reason)',
      labelNames: ['registry', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
      registers: [registry],
    }),
    signingFailures: new Counter({
      name: 'nixa_signing_failures_total',
      help: 'Signatures the key store could not make (answered 503, never signed with another key), by reason (src/keys/pkcs11.ts TokenFailure)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export const recordSignIn = (m: Metrics | undefined, source: string, level: Level) => m?.signIns.inc({ source, level });
export const recordStepUp = (m: Metrics | undefined, method: string, level: Level) => m?.stepUps.inc({ method, level });
export const recordFailure = (m: Metrics | undefined, reason: string) => m?.failures.inc({ reason });

/**
 * The organisation registries' hook (HttpRegistriesOptions.metrics): every question
 * asked is timed by outcome; every failure is counted by registry and reason, those
 * where nobody was asked (none-enabled, not-enabled) included, under registry
 * "none" when there was no registry to name.
 */
export function registryMetrics(m: Metrics) {
  return (q: { registry: string | null; outcome: string; seconds?: number }): void => {
    const registry = q.registry ?? 'none';
    if (q.outcome !== 'ok') m.registryFailures.inc({ registry, reason: q.outcome });
    if (q.seconds !== undefined) m.registrySeconds.observe({ registry, outcome: q.outcome }, q.seconds);
  };
}

/**
 * GET /metrics. With a token configured, only a request bearing it is served;
 * without one, outside production, only requests from this machine (loopback), so
 * that a scraper beside a development instance works out of the box and the
 * public never sees the figures.
 */
export function metricsEndpoint(m: Metrics, token: string | undefined, allowLoopback: boolean) {
  const expected = token ? createHash('sha256').update(token).digest() : undefined;
  return async (ctx: Context): Promise<void> => {
    ctx.set('Cache-Control', 'no-store');
    if (expected) {
      const given = /^Bearer (.+)$/.exec(ctx.get('Authorization'))?.[1];
      if (!given || !timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="nixa metrics"');
        ctx.body = { error: 'metrics need the bearer token set in NIXA_METRICS_TOKEN' };
        return;
      }
    } else if (!allowLoopback || !isLoopback(ctx.ip)) {
      // In production a reverse proxy on the same machine would make every request
      // look local: there, metrics are served only with a token.
      ctx.status = 403;
      ctx.body = {
        error: allowLoopback
          ? 'metrics are served to this machine only; set NIXA_METRICS_TOKEN to scrape from elsewhere'
          : 'metrics need NIXA_METRICS_TOKEN in production',
      };
      return;
    }
    ctx.type = m.registry.contentType;
    ctx.body = await m.registry.metrics();
  };
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
