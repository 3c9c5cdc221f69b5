// Starts and stops a nixa instance: storage, migrations, keys, the provider and
// the HTTP server, with background purge and graceful shutdown.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type Koa from 'koa';

import { accountCache, type AccountCache, type AccountsContext } from '../accounts/index.js';
import { clientCache, type ClientCache } from '../clients/index.js';
import { consentCache, type ConsentCache } from '../consent/index.js';
import { auditChainLength, startAuditJobs } from '../audit/index.js';
import { controlSocketPath, serveControlSocket } from '../cli/main.js';
import { consoleClient, registerConsoleClient } from '../console/index.js';
import { CALLBACK_PATH } from '../interactions/index.js';
import { accountClient, registerAccountClient } from '../my-account/index.js';
import { purgeFactorState } from '../factors/index.js';
import { KEPT_AFTER_EXPIRY_SECONDS, purgeRequests } from '../phone/index.js';
import { purgeUpstreamSessions, Upstream, type SourceLogoutDeps } from '../federation/index.js';
import { monitorHealth, SourceRegistry } from '../sources/index.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import { Cipher, KeyRing, loadMasterKey } from '../keys/index.js';
import { createLogger, type Logger } from '../logging/index.js';
import { countActiveSessions, openShortLivedState, purgeExpired, recordCache, type RecordCache, type ShortLivedState } from '../protocol/index.js';
import { createMetrics, registryMetrics, type Metrics } from '../metrics/index.js';
import { notifyPhone as notifyPhoneByPush, purgePushSubscriptions, type PushDeps } from '../push/index.js';
import { migrate, openDatabase, type Database } from '../storage/index.js';
import { type DemoCredentials, seedDemo } from './demo.js';
import { createHttpApp } from './http.js';
import { ProviderHost } from './provider-host.js';
import { personRelations } from '../representation/relations.js';
import { purgeEndedActingFor } from '../representation/repository.js';
import { HttpOrganisationRegistries, monitorRegistriesHealth, RegistryCatalogue, type OrganisationRegistries } from '../registries/index.js';

export interface Nixa {
  config: Config;
  db: Database;
  keyring: KeyRing;
  cipher: Cipher;
  app: Koa;
  server: Server;
  /** The origin the server listens on (the issuer may differ behind a proxy). */
  url: string;
  logger: Logger;
  host: ProviderHost;
  sources: SourceRegistry;
  /** The organisation registries this instance asks (src/registries), kept in step with the database. */
  registryCatalogue: RegistryCatalogue;
  /** The demo service's registration, when NIXA_DEMO is on. */
  demo: DemoCredentials | undefined;
  metrics: Metrics;
  /** Web Push to bound phones (src/push), one per instance: it keeps the VAPID key once read. */
  push: PushDeps;
  /** Reads served from memory, one set per instance (src/storage/notified-cache.ts). */
  caches: ReadCaches;
  close(): Promise<void>;
}

export interface ReadCaches {
  clients: ClientCache;
  accounts: AccountCache;
  consents: ConsentCache;
  /** Sessions and grants (protocol/record-cache.ts). */
  records: RecordCache['cache'];
}

export interface StartOptions {
  logger?: Logger;
  /** Use this database instead of opening one from config (tests share one). */
  db?: Database;
  /** Whether close() also closes the database (default: only if nixa opened it). */
  closeDatabase?: boolean;
  /** The organisation registries asked whom a person may act for (default: those registered, over HTTP). */
  registries?: OrganisationRegistries;
}

export async function startNixa(config: Config, opts: StartOptions = {}): Promise<Nixa> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = opts.db ?? (await openDatabase(config, logger));
  const closeDb = opts.closeDatabase ?? !opts.db;
  let shortLived: ShortLivedState | undefined;
  /** Whether a failed start has already stopped what it started (close() below). */
  let stopped = false;
  try {
    const report = await migrate(db);
    if (report.applied.length) logger.info({ applied: report.applied }, 'migrations applied');
    shortLived = await openShortLivedState(config, db, logger);
    const state = shortLived;

    const cipher = new Cipher(loadMasterKey(config.masterKey));
    const keyring = new KeyRing(db, cipher, config, logger);
    await keyring.start();
    const sources = new SourceRegistry(db, cipher, logger, config.keys.refreshSeconds);
    await sources.start();
    const stopHealth = monitorHealth(sources, logger, config.sourceHealthSeconds);
    // Organisation registries, kept in step with the database like sources (src/registries).
    const registryCatalogue = new RegistryCatalogue(db, cipher, logger, config.keys.refreshSeconds);
    await registryCatalogue.start();
    const stopRegistryHealth = monitorRegistriesHealth(registryCatalogue, logger, config.sourceHealthSeconds);
    // Audit partitions ahead of time and signed checkpoints (src/audit).
    const stopAudit = await startAuditJobs({ db, config, logger, signingKey: async () => keyring.signer(config.keys.signingAlgs[0]!) });
    const upstream = new Upstream(sources, keyring, `${config.issuer}${CALLBACK_PATH}`, state.upstreamLogins);
    // Once per instance: the provider, rebuilt when keys change, shares them.
    const records = recordCache(db);
    const caches: ReadCaches = { clients: clientCache(db), accounts: accountCache(db), consents: consentCache(db), records: records.cache };
    // One after another: the LISTENs share one connection, which runs one statement at a time.
    for (const cache of Object.values(caches)) await cache.start();
    const accounts: AccountsContext = { db, cipher, pepper: cipher.derive('national-id-hash'), cache: caches.accounts };
    const sourceLogout: SourceLogoutDeps = { db, cipher, sources, upstream, issuer: config.issuer, sessionTtlSeconds: config.ttl.Session, logger };
    const push: PushDeps = { db, cipher, config: config.push, logger: logger.child({ component: 'push' }) };
    const metrics = createMetrics({ activeSessions: () => countActiveSessions(db), auditChainLength: () => auditChainLength(db) });
    // The HSM alert's metric; the key ring logs the error itself (src/keys/keyring.ts).
    keyring.onSigningFailure((reason) => metrics.signingFailures.inc({ reason }));

    const registries =
      opts.registries ?? new HttpOrganisationRegistries({ registries: () => registryCatalogue.list(), signingKeys: () => keyring.snapshot.signers, logger, metrics: registryMetrics(metrics) });
    let shuttingDown = false;
    let host!: ProviderHost;
    const app = createHttpApp({
      config,
      db,
      keyring,
      logger,
      host: () => host,
      isShuttingDown: () => shuttingDown,
      sources,
      upstream,
      accounts,
      consents: caches.consents,
      sourceLogout,
      metrics,
      console: consoleClient(config, cipher),
      account: accountClient(config, cipher),
      shortLived: state,
      push,
      registries,
    });
    const pairwiseKey = cipher.derive('pairwise-subject');
    // A CIBA request notifies the citizen's bound phones (push is a convenience: the phone also lists it at /p).
    const notifyPhone = (phoneId: string, message: { type: 'ciba'; id: string }) => notifyPhoneByPush(push, phoneId, message);
    // DPoP nonces (NIXA_DPOP_NONCE) are HMACs under this key: any instance accepts another's.
    const dpopNonceKey = cipher.derive('dpop-nonce');
    host = new ProviderHost({ config, db, logger, accounts, pairwiseKey, dpopNonceKey, clients: caches.clients, consents: caches.consents, records, shortLived: state, notifyPhone, registries, relations: personRelations(accounts) }, keyring, app, (provider) =>
      provider.on('grant.success', (ctx: { oidc?: { params?: { grant_type?: unknown } } }) =>
        metrics.tokensIssued.inc({ grant_type: String(ctx.oidc?.params?.grant_type ?? 'unknown') }),
      ),
    );

    // Always, production too: operators sign in to the console through this nixa.
    await registerConsoleClient(db, config, cipher, logger);
    // And citizens sign in to their own account through it, from nixa's home page.
    await registerAccountClient(db, config, cipher, logger);
    const demo = config.demo ? await seedDemo(db, config, logger) : undefined;

    const purge = setInterval(() => {
      Promise.all([purgeExpired(db, config.purge.batchSize), state.upstreamLogins.purge(), purgeUpstreamSessions(db), purgeFactorState({ db, cipher }), purgeRequests(db, new Date(), KEPT_AFTER_EXPIRY_SECONDS), purgePushSubscriptions(db, config.purge.batchSize), purgeEndedActingFor(db, config.purge.batchSize)])
        .then((counts) => counts.some(Boolean) && logger.debug({ deleted: counts }, 'expired artifacts purged'))
        .catch((err) => logger.warn({ err: { message: (err as Error).message } }, 'purge failed'));
    }, config.purge.intervalSeconds * 1000);
    purge.unref();

    // On the embedded database only this process may open it: the `nixa` command
    // reaches it through a socket in the data directory (src/cli/control-socket.ts).
    const stopControl =
      config.database.kind === 'embedded' && !opts.db
        ? await serveControlSocket(controlSocketPath(config.dataDir), { config, db: async () => db, cipher: () => cipher }, logger)
        : undefined;

    const server = createServer(app.callback());
    server.keepAliveTimeout = 5_000;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        shuttingDown = true;
        clearInterval(purge);
        // Stop accepting, let in-flight requests finish, then drop idle keep-alive sockets.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceSeconds * 1000);
        await closed;
        clearTimeout(grace);
        host.close();
        await stopControl?.();
        stopHealth();
        stopRegistryHealth();
        await registryCatalogue.stop();
        stopAudit();
        await sources.stop();
        await keyring.stop();
        await Promise.all(Object.values(caches).map((c) => c.stop()));
        await state.close();
        if (closeDb) await db.close();
        logger.info('nixa stopped');
      })());

    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve());
      });
    } catch (err) {
      // Everything started above (timers, listeners, the database) stops again, so a
      // caller that tries another port, or a test, is not left with a half-started nixa.
      stopped = true;
      await close().catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new ConfigError('PORT', `is ${config.port} on ${config.host}, which another program is already using`);
      if (code === 'EACCES') throw new ConfigError('PORT', `is ${config.port} on ${config.host}, which this user may not open (ports below 1024 need privileges)`);
      throw err;
    }
    const addr = server.address() as AddressInfo;
    const hostname = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${hostname === '0.0.0.0' || hostname === '[::]' ? 'localhost' : hostname}:${addr.port}`;
    logger.info({ url, issuer: config.issuer, database: db.engine }, 'nixa listening');

    return { config, db, keyring, cipher, app, server, url, logger, host, sources, registryCatalogue, demo, metrics, push, caches, close };
  } catch (err) {
    if (!stopped) {
      await shortLived?.close().catch(() => {});
      if (closeDb) await db.close().catch(() => {});
    }
    throw err;
  }
}
