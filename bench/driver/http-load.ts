// Single-request scenarios, driven by autocannon over keep-alive connections.
import autocannon from 'autocannon';

import type { Job, LoopScenario, Measurement, ScenarioName, TargetInfo } from '../protocol.js';
import { preparedFor } from './prepared.js';
import { routed, routedUrls } from './routes.js';
import { signIn } from './sign-in.js';
import { summarize } from './summary.js';

type Request = Pick<autocannon.Options, 'method' | 'headers' | 'body'> & { path: string };
type HttpScenario = Exclude<ScenarioName, LoopScenario>;

export function basicAuth(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * Access tokens for userinfo and introspection, one per connection: each from a
 * test-login sign-in of its own account, by the web client. Obtained once per
 * target and kept (prepared.ts); they live far longer than a run.
 */
function accessTokens(target: TargetInfo, n: number): Promise<string[]> {
  return preparedFor(`${target.origin} access tokens ${n}`, async () =>
    (await Promise.all(Array.from({ length: n }, (_, i) => signIn(target, `bench-citizen-${i}`)))).map((t) => t.access_token),
  );
}

/** Introspection must say the token is active, or the benchmark would time a refusal. */
async function checkIntrospection(target: TargetInfo, token: string): Promise<void> {
  const res = await fetch(routed(new URL('/token/introspection', target.origin)), {
    method: 'POST',
    headers: { authorization: basicAuth(target.webClient.clientId, target.webClient.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  const body = (await res.json()) as { active?: unknown };
  if (res.status !== 200 || body.active !== true) throw new Error(`introspection on ${target.name}: expected active, got ${res.status} ${JSON.stringify(body)}`);
}

/** A different header set (and body) per connection: its own access token. */
async function perConnection(job: Job & { scenario: HttpScenario }): Promise<((i: number) => { headers: Record<string, string>; body?: string }) | undefined> {
  const { target } = job;
  switch (job.scenario) {
    case 'userinfo': {
      const tokens = await accessTokens(target, job.concurrency);
      return (i) => ({ headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } });
    }
    case 'introspection': {
      const tokens = await accessTokens(target, job.concurrency);
      await checkIntrospection(target, tokens[0]!);
      return (i) => ({
        headers: {
          authorization: basicAuth(target.webClient.clientId, target.webClient.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: tokens[i % tokens.length]!, token_type_hint: 'access_token' }).toString(),
      });
    }
    default:
      return undefined;
  }
}

function requestFor(scenario: HttpScenario, target: TargetInfo): Request {
  switch (scenario) {
    case 'discovery':
      return { path: '/.well-known/openid-configuration' };
    case 'jwks':
      return { path: '/jwks' };
    case 'client_credentials':
      return {
        path: '/token',
        method: 'POST',
        headers: {
          authorization: basicAuth(target.serviceClient.clientId, target.serviceClient.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      };
    case 'userinfo':
      return { path: '/me' };
    case 'introspection':
      return { path: '/token/introspection', method: 'POST' };
  }
}

export async function httpLoad(job: Job & { scenario: HttpScenario }): Promise<Measurement> {
  const { path, ...request } = requestFor(job.scenario, job.target);
  const setup = await perConnection(job);
  let connection = 0;
  const setupClient = setup
    ? (client: autocannon.Client) => {
        const { headers, body } = setup(connection++);
        client.setHeadersAndBody(headers, body);
      }
    : undefined;
  const limit = 'count' in job.limit ? { amount: job.limit.count } : { duration: job.limit.seconds };
  // autocannon's own histogram keeps whole milliseconds; sub-millisecond
  // endpoints need the exact response times, so keep those instead.
  const latencies: number[] = [];
  const run = autocannon({ url: routedUrls(job.target.origin, path), connections: job.concurrency, timeout: 10, ...limit, ...request, ...(setupClient ? { setupClient } : {}) });
  run.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await run;
  if (result.non2xx || result.errors || result.timeouts) {
    const statuses = Object.entries(result.statusCodeStats).map(([code, { count }]) => `${code}×${count}`).join(', ');
    throw new Error(
      `${job.scenario} on ${job.target.name}: ${result.non2xx} non-2xx (${statuses}), ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return summarize(latencies, result.duration);
}
