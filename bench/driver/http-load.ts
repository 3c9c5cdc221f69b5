// Single-request scenarios, driven by autocannon over keep-alive connections.
import autocannon from 'autocannon';

import type { Job, Measurement, ScenarioName, SignInScenario, TargetInfo } from '../protocol.js';
import { summarize } from './summary.js';

type Request = Pick<autocannon.Options, 'method' | 'headers' | 'body'> & { path: string };

export function basicAuth(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

function requestFor(scenario: Exclude<ScenarioName, SignInScenario>, target: TargetInfo): Request {
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
  }
}

export async function httpLoad(job: Job & { scenario: Exclude<ScenarioName, SignInScenario> }): Promise<Measurement> {
  const { path, ...request } = requestFor(job.scenario, job.target);
  const limit = 'count' in job.limit ? { amount: job.limit.count } : { duration: job.limit.seconds };
  // autocannon's own histogram keeps whole milliseconds; sub-millisecond
  // endpoints need the exact response times, so keep those instead.
  const latencies: number[] = [];
  const run = autocannon({ url: new URL(path, job.target.origin).toString(), connections: job.concurrency, timeout: 10, ...limit, ...request });
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
