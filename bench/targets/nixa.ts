// nixa as operators run it, on the bench database, with the test login enabled,
// in a process of its own (targets/main.ts). Its Database is a MeteredDatabase,
// whose statement and commit counts the orchestrator reads with the "counts" call.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SIMULATED_SOURCE_IDS, simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { startNixa, type Nixa } from '../../src/app/index.js';
import { addClient, clientsOptions } from '../../src/clients/index.js';
import { loadConfig } from '../../src/config/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { addSource } from '../../src/sources/index.js';
import { urlFor } from '../bench-database.js';
import { MeteredDatabase } from '../metered-database.js';
import { freeLoopbackPort } from '../net.js';
import type { Fapi2ClientInfo, FederationInfo, TargetInfo } from '../protocol.js';
import { FAPI2_CLIENT, fapi2Registration, FEDERATED_CLIENT, SERVICE_CLIENT, WEB_CLIENT } from './clients.js';
import type { Started } from './main.js';

export interface NixaParams {
  adminUrl: string;
  database: string;
  /** NIXA_SHORT_LIVED_STORE for nixa; the Redis URL only with 'redis'. */
  store: 'postgres' | 'redis';
  redisUrl: string;
  /**
   * Another instance of a nixa already running on this database (bench/two-instances.ts):
   * the same issuer and master key (the keys and sources' secrets are stored
   * encrypted with it), and nothing registered, the first instance did that.
   */
  join?: { issuer: string; masterKey: string };
}

/** What the baseline copies from nixa's configuration, so that both do the same work. */
export interface ProviderShape {
  signingAlgs: string[];
  ttl: Record<string, number>;
  clockToleranceSeconds: number;
}

export interface NixaStarted {
  info: TargetInfo;
  shape: ProviderShape;
  /** Where an identity source sends the citizen back to nixa. */
  callbackUrl: string;
  /** The database pool's application name prefix, to find nixa's backends in pg_stat_activity. */
  applicationNamePrefix: string;
  /** The master key, base64, for a second instance to join with. */
  masterKey: string;
}

/** What a joining instance answers: where it listens. */
export interface NixaJoined {
  origin: string;
}

/** What registering the FAPI 2.0 service answers; the web client's ID token algorithm, for the comparison's report. */
export type Fapi2Registered = Omit<Fapi2ClientInfo, 'privateJwk'> & { webClientIdTokenSigningAlg: string };

export interface SourceRegistration {
  issuer: string;
  secret: string;
}

export async function startNixaRole(params: NixaParams): Promise<Started> {
  const port = await freeLoopbackPort();
  const masterKey = params.join?.masterKey ?? randomBytes(32).toString('base64');
  const dataDir = mkdtempSync(join(tmpdir(), 'nixa-bench-'));
  const url = (applicationName: string) => urlFor(params.adminUrl, params.database, applicationName);
  const store = params.store === 'redis' ? { NIXA_SHORT_LIVED_STORE: 'redis', NIXA_REDIS_URL: params.redisUrl } : { NIXA_SHORT_LIVED_STORE: 'postgres' };
  const issuer = params.join?.issuer ?? `http://127.0.0.1:${port}`;
  // An IP address cannot be a WebAuthn RP ID, and without passkeys nixa offers no
  // sign-in with a phone: the bench's phones (a software authenticator) say they
  // are on localhost at the issuer's port, the same server by its name, as a
  // deployment's are on its domain.
  const passkeys = { rpId: 'localhost', origin: `http://localhost:${new URL(issuer).port}` };
  const config = loadConfig({
    ...process.env,
    NIXA_ENV: 'test',
    NIXA_TEST_LOGIN: 'true',
    NIXA_DEMO: 'false',
    NIXA_MASTER_KEY: masterKey,
    DATABASE_URL: url('nixa'),
    PORT: String(port),
    NIXA_HOST: '127.0.0.1',
    NIXA_ISSUER: issuer,
    NIXA_PASSKEY_RP_ID: passkeys.rpId,
    NIXA_PASSKEY_ORIGINS: passkeys.origin,
    NIXA_LOG_LEVEL: 'silent',
    NIXA_DATA_DIR: dataDir,
    // The purge deletes expired codes and tokens every minute by default; inside
    // a two-minute run it would land in some measurements and not others.
    NIXA_PURGE_INTERVAL_SECONDS: '3600',
    // Likewise the identity sources' health probe, which writes identity_sources
    // every 30 s by default. Unprobed, a source counts as available.
    NIXA_SOURCE_HEALTH_SECONDS: '3600',
    // Passed through whether or not this nixa knows them yet (loadConfig ignores unknown names).
    ...store,
  });
  if (config.database.kind !== 'postgres') throw new Error('the benchmark runs nixa on PostgreSQL');

  // startNixa uses the database it is given instead of opening DATABASE_URL itself.
  const db = await MeteredDatabase.open(url, config.database.poolSize);
  let nixa: Nixa | undefined;
  const close = async () => {
    await nixa?.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    nixa = await startNixa(config, { db });
    const instance = nixa;
    if (params.join) {
      return { result: { origin: nixa.url } satisfies NixaJoined, handlers: { counts: () => db.counts(), memoryUsage: () => process.memoryUsage() }, close };
    }
    const opts = clientsOptions(config);
    const web = await addClient(db, WEB_CLIENT, 'bench', opts);
    const service = await addClient(db, SERVICE_CLIENT, 'bench', opts);
    const started: NixaStarted = {
      info: {
        name: 'nixa',
        origin: nixa.url,
        webClient: { clientId: web.client.clientId, secret: web.secret!, redirectUri: WEB_CLIENT.redirect_uris[0] },
        serviceClient: { clientId: service.client.clientId, secret: service.secret! },
        passkeys,
      },
      shape: { signingAlgs: [...config.keys.signingAlgs], ttl: { ...config.ttl }, clockToleranceSeconds: config.clockToleranceSeconds },
      callbackUrl: `${config.issuer}${CALLBACK_PATH}`,
      applicationNamePrefix: 'nixa-bench-',
      masterKey,
    };
    return {
      result: started,
      handlers: {
        counts: () => db.counts(),
        // What the resident memory is made of: V8's heap, buffers, the rest native.
        memoryUsage: () => process.memoryUsage(),
        replacePool: () => db.replacePool(),
        /**
         * Registers the simulated citizen-ID source as an operator would (as
         * test/support/federation.ts does), and a service asking for the
         * attributes it vouches for.
         */
        registerCitizenIdSource: async (p) => {
          const { issuer, secret } = p as SourceRegistration;
          await addSource(db, instance.cipher, simulatedSourceRegistration('citizen_id', issuer, secret), 'bench', { allowHttpLoopback: true });
          await instance.sources.refresh();
          const fed = await addClient(db, FEDERATED_CLIENT, 'bench', opts);
          return {
            sourceId: SIMULATED_SOURCE_IDS.citizen_id,
            client: { clientId: fed.client.clientId, secret: fed.secret!, redirectUri: FEDERATED_CLIENT.redirect_uris[0] },
            scope: FEDERATED_CLIENT.scope,
          } satisfies Omit<FederationInfo, 'sourceOrigin' | 'citizens'>;
        },
        /**
         * Registers the FAPI 2.0 service with the public half of the run's key
         * (the orchestrator keeps the private half for the driver; nixa never sees it).
         */
        registerFapi2Client: async (p) => {
          const { publicJwk } = p as { publicJwk: Record<string, unknown> };
          const fapi2 = await addClient(db, fapi2Registration(publicJwk), 'bench', opts);
          return {
            clientId: fapi2.client.clientId,
            redirectUri: FAPI2_CLIENT.redirect_uris[0],
            scope: FAPI2_CLIENT.scope,
            idTokenSigningAlg: fapi2.client.idTokenSigningAlg,
            webClientIdTokenSigningAlg: web.client.idTokenSigningAlg,
          } satisfies Fapi2Registered;
        },
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
