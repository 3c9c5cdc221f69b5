// `npm start`: runs nixa with the configuration from the environment.
import { startNixa } from './app/index.js';
import { loadConfig } from './config/index.js';
import { ConfigError } from './errors/index.js';
import { createLogger } from './logging/index.js';

async function main(): Promise<void> {
  let config;
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
  const nixa = await startNixa(config, { logger });
  process.stdout.write(`\nnixa is running: ${config.issuer}/.well-known/openid-configuration\n`);

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    nixa.close().then(
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

main().catch((err) => {
  process.stderr.write(`nixa failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
