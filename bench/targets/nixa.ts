// nixa as operators run it, on the bench database, with the test login enabled.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startNixa, type Nixa } from '../../src/app/index.js';
import { addClient, clientsOptions } from '../../src/clients/index.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import type { BenchDatabase } from '../bench-database.js';
import { MeteredDatabase } from '../metered-database.js';
import { freeLoopbackPort } from '../net.js';
import type { TargetInfo } from '../protocol.js';
import { SERVICE_CLIENT, WEB_CLIENT } from './clients.js';

export interface NixaTarget {
  info: TargetInfo;
  config: Config;
  db: MeteredDatabase;
  /** The running instance: its cipher and source registry, for registering an identity source. */
  instance: Nixa;
  close(): Promise<void>;
}

export async function startNixaTarget(bench: BenchDatabase): Promise<NixaTarget> {
  const port = await freeLoopbackPort();
  const dataDir = mkdtempSync(join(tmpdir(), 'nixa-bench-'));
  const config = loadConfig({
    ...process.env,
    NIXA_ENV: 'test',
    NIXA_TEST_LOGIN: 'true',
    NIXA_DEMO: 'false',
    NIXA_MASTER_KEY: randomBytes(32).toString('base64'),
    DATABASE_URL: bench.url('nixa'),
    PORT: String(port),
    NIXA_HOST: '127.0.0.1',
    NIXA_ISSUER: `http://127.0.0.1:${port}`,
    NIXA_LOG_LEVEL: 'silent',
    NIXA_DATA_DIR: dataDir,
    // The purge deletes expired codes and tokens every minute by default; inside
    // a two-minute run it would land in some measurements and not others.
    NIXA_PURGE_INTERVAL_SECONDS: '3600',
    // Likewise the identity sources' health probe, which writes identity_sources
    // every 30 s by default. Unprobed, a source counts as available.
    NIXA_SOURCE_HEALTH_SECONDS: '3600',
  });
  if (config.database.kind !== 'postgres') throw new Error('the benchmark runs nixa on PostgreSQL');

  // startNixa uses the database it is given instead of opening DATABASE_URL itself.
  const db = await MeteredDatabase.open((name) => bench.url(name), config.database.poolSize);
  let nixa: Nixa | undefined;
  const close = async () => {
    await nixa?.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    nixa = await startNixa(config, { db });
    const opts = clientsOptions(config);
    const web = await addClient(db, WEB_CLIENT, 'bench', opts);
    const service = await addClient(db, SERVICE_CLIENT, 'bench', opts);
    return {
      info: {
        name: 'nixa',
        origin: nixa.url,
        webClient: { clientId: web.client.clientId, secret: web.secret!, redirectUri: WEB_CLIENT.redirect_uris[0] },
        serviceClient: { clientId: service.client.clientId, secret: service.secret! },
      },
      config,
      db,
      instance: nixa,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
