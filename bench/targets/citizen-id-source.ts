// The upstream of the federated sign-in: one simulated citizen-ID source (a real
// oidc-provider, src/simulated-sources) on loopback, registered in the bench's
// nixa as an operator would (as test/support/federation.ts does), and a service
// in nixa that asks for the attributes the source vouches for.
import { randomBytes } from 'node:crypto';

import { pino } from 'pino';

import { SIMULATED_SOURCE_IDS, simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { addClient, clientsOptions } from '../../src/clients/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { citizensKnownTo, startSimulatedSource } from '../../src/simulated-sources/index.js';
import { addSource } from '../../src/sources/index.js';
import type { FederationInfo } from '../protocol.js';
import { FEDERATED_CLIENT } from './clients.js';
import type { NixaTarget } from './nixa.js';

export interface CitizenIdSource {
  federation: FederationInfo;
  /** Starts counting the requests the source answers; the returned function stops and reads the count. */
  countRequests(): () => Record<string, number>;
  close(): Promise<void>;
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
    countRequests: () => {
      const mine: Record<string, number> = (counts = {});
      return () => {
        if (counts === mine) counts = undefined;
        return mine;
      };
    },
  };
}

export async function startCitizenIdSource(nixa: NixaTarget): Promise<CitizenIdSource> {
  const secret = randomBytes(24).toString('base64url');
  const log = sourceLog();
  const source = await startSimulatedSource({
    kind: 'citizen_id',
    logger: log.logger,
    host: '127.0.0.1',
    // Not "localhost": nixa and the driver reach it by address, no name lookup.
    issuerHost: '127.0.0.1',
    clients: [
      {
        client_id: 'nixa',
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${nixa.config.issuer}${CALLBACK_PATH}`],
      },
    ],
  });
  try {
    const { cipher, sources } = nixa.instance;
    await addSource(nixa.db, cipher, simulatedSourceRegistration('citizen_id', source.issuer, secret), 'bench', { allowHttpLoopback: true });
    await sources.refresh();
    const service = await addClient(nixa.db, FEDERATED_CLIENT, 'bench', clientsOptions(nixa.config));
    return {
      federation: {
        sourceId: SIMULATED_SOURCE_IDS.citizen_id,
        sourceOrigin: source.issuer,
        citizens: citizensKnownTo('citizen_id').map((c) => c.key),
        client: { clientId: service.client.clientId, secret: service.secret!, redirectUri: FEDERATED_CLIENT.redirect_uris[0] },
        scope: FEDERATED_CLIENT.scope,
      },
      countRequests: log.countRequests,
      close: () => source.close(),
    };
  } catch (err) {
    await source.close();
    throw err;
  }
}
