// `npm start`: runs nixa with the configuration from the environment, and in
// development (NIXA_DEMO) three simulated identity sources on PORT+1..PORT+3 and
// the demo public service on PORT+100.
import { startNixa } from './app/index.js';
import { demoOrigin } from './app/demo.js';
import { startSimulatedBusinessRegistry, startSimulatedSources } from './app/dev-sources.js';
import type { SimulatedRegistry } from './simulated-registry/index.js';
import type { SimulatedSource } from './simulated-sources/index.js';
import { loadConfig, type Config } from './config/index.js';
import { startDemoService, type DemoService } from './demo-service/index.js';
import { ConfigError, StorageUnavailableError } from './errors/index.js';
import { createLogger, type Logger } from './logging/index.js';
import { isConnectionLoss } from './storage/index.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  surviveLostConnections(logger);
  const nixa = await startNixa(config, { logger });
  process.stdout.write(`\nnixa is running: ${config.issuer}/.well-known/openid-configuration\n`);
  let simulated: SimulatedSource[] = [];
  let registry: SimulatedRegistry | undefined;
  if (config.demo) {
    // Development and demos: three simulated identity sources on PORT+1..PORT+3.
    simulated = await startSimulatedSources(nixa.db, nixa.cipher, config, logger);
    await nixa.sources.refresh();
    for (const s of simulated) process.stdout.write(`Nguồn định danh mô phỏng / simulated source (${s.kind}): ${s.issuer}\n`);
    // And the simulated business registry on PORT+4: whom each test citizen may act for.
    registry = await startSimulatedBusinessRegistry(nixa.db, nixa.cipher, config, logger);
    await nixa.registryCatalogue.refresh();
    process.stdout.write(`Cơ quan đăng ký kinh doanh mô phỏng / simulated business registry: ${registry.issuer}\n`);
  }

  let demo: DemoService | undefined;
  if (nixa.demo) {
    try {
      const credentials = nixa.demo;
      if (credentials.origin !== demoOrigin(config)) {
        // Registered by an earlier run with another PORT: the demo listens where its redirect URI points.
        logger.warn({ registered: credentials.origin, expected: demoOrigin(config) }, 'demo service registered for another port');
      }
      demo = await startDemoService({ issuer: config.issuer, credentials, host: config.host, logger });
      process.stdout.write(`Dịch vụ mẫu / demo service: ${demo.url}\n`);
    } catch (err) {
      // nixa itself is fine; say why the demo is missing and carry on.
      logger.error({ err: { message: (err as Error).message } }, 'demo service failed to start');
      process.stdout.write(`Dịch vụ mẫu không khởi động được / demo service failed to start: ${(err as Error).message}\n`);
    }
  }

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    Promise.resolve(demo?.close())
      .then(() => nixa.close())
      .then(() => Promise.all([...simulated.map((s) => s.close()), registry?.close()]))
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err: { message: (err as Error).message } }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/**
 * The last line of defence. Every connection has its own 'error' listener and a
 * request that loses its connection fails alone (storage/postgres.ts), so nothing
 * should reach here; should a lost database connection still escape as an
 * uncaught error or rejection, it is logged by name and survived, since the pool
 * makes new connections. Anything else is a bug: said on stderr, and the process
 * ends as Node would end it.
 */
function surviveLostConnections(logger: Logger): void {
  const escaped = (kind: string) => (err: unknown) => {
    const message = (err as Error | undefined)?.message ?? String(err);
    if (err instanceof StorageUnavailableError || isConnectionLoss(err)) {
      logger.error({ err: { message } }, `database connection lost outside any request (${kind}); carrying on`);
      return;
    }
    process.stderr.write(`nixa: ${kind}: ${(err as Error | undefined)?.stack ?? message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', escaped('uncaught exception'));
  process.on('unhandledRejection', escaped('unhandled rejection'));
}

main().catch((err) => {
  process.stderr.write(`nixa failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
