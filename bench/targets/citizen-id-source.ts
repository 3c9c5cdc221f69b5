// The upstream of nixa's federated sign-in: one simulated citizen-ID source (a
// real oidc-provider, src/simulated-sources) on loopback, in a process of its
// own, so that its CPU is apart from nixa's. nixa registers it (targets/nixa.ts).
import { pino } from 'pino';

import { citizensKnownTo, startSimulatedSource } from '../../src/simulated-sources/index.js';
import type { Started } from './main.js';

export interface CitizenIdSourceParams {
  /** nixa's callback, the only redirect URI of the source's client "nixa". */
  redirectUri: string;
  secret: string;
}

export interface CitizenIdSourceStarted {
  issuer: string;
  /** Picker keys of the citizens the source knows. */
  citizens: string[];
}

/** "GET /interaction/:uid", from a request the source logged. */
const requestName = (method: string, path: string) => `${method} ${path.replace(/^\/(interaction|auth)\/[^/]+/, '/$1/:uid')}`;

/**
 * The source's log, read rather than printed: its debug line per request says
 * which endpoints a sign-in used, nixa's server-to-server calls included; its
 * protocol errors and warnings go to stderr, as they explain a failed run.
 */
function sourceLog() {
  let counts: Record<string, number> | undefined;
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        // Serialised for every request while measuring too: parse only what is used.
        if (line.includes('"msg":"simulated source: request"')) {
          if (!counts) return;
          const e = JSON.parse(line) as { method?: string; path?: string };
          if (e.method && e.path) {
            const name = requestName(e.method, e.path);
            counts[name] = (counts[name] ?? 0) + 1;
          }
        } else if (Number(/"level":(\d+)/.exec(line)?.[1]) >= 40 || line.includes('"msg":"simulated source: protocol error"')) {
          process.stderr.write(`citizen-ID source: ${line}`);
        }
      },
    },
  );
  return {
    logger,
    startCounting: () => void (counts = {}),
    stopCounting: () => {
      const mine = counts ?? {};
      counts = undefined;
      return mine;
    },
  };
}

export async function startCitizenIdSourceRole(params: CitizenIdSourceParams): Promise<Started> {
  const log = sourceLog();
  const source = await startSimulatedSource({
    kind: 'citizen_id',
    logger: log.logger,
    host: '127.0.0.1',
    // Not "localhost": nixa and the driver reach it by address, no name lookup.
    issuerHost: '127.0.0.1',
    clients: [{ client_id: 'nixa', client_secret: params.secret, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [params.redirectUri] }],
  });
  return {
    result: { issuer: source.issuer, citizens: citizensKnownTo('citizen_id').map((c) => c.key) } satisfies CitizenIdSourceStarted,
    handlers: { startCounting: log.startCounting, stopCounting: log.stopCounting },
    close: () => source.close(),
  };
}
