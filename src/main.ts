// `npm start`: runs nixa with the configuration from the environment, and in
// development the demo public service beside it (NIXA_DEMO, on PORT+100).
import { startNixa } from './app/index.js';
import { demoOrigin } from './app/demo.js';
import { loadConfig, type Config } from './config/index.js';
import { startDemoService, type DemoService } from './demo-service/index.js';
import { ConfigError } from './errors/index.js';
import { createLogger } from './logging/index.js';

/**
 * Configuration from the environment. The embedded development default (what a
 * bare `npm start` gives: NIXA_ENV development, no DATABASE_URL, no config file)
 * also turns the test login on, unless NIXA_TEST_LOGIN was set either way: until
 * the federation issue adds identity sources it is the only way to sign in to
 * the demo service. Anything else (PostgreSQL, a config file, test, production)
 * is left exactly as configured, and production refuses the test login anyway.
 */
function configure(): { config: Config; testLoginByDefault: boolean } {
  const config = loadConfig();
  const env = process.env;
  const defaultDevelopment =
    config.env === 'development' && config.database.kind === 'embedded' && !env.NIXA_CONFIG_FILE && !env.NIXA_TEST_LOGIN;
  if (!defaultDevelopment || config.testLogin) return { config, testLoginByDefault: false };
  return { config: loadConfig({ ...env, NIXA_TEST_LOGIN: 'true' }), testLoginByDefault: true };
}

async function main(): Promise<void> {
  let config: Config;
  let testLoginByDefault: boolean;
  try {
    ({ config, testLoginByDefault } = configure());
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
  if (testLoginByDefault) {
    process.stdout.write('Đăng nhập thử nghiệm đang bật / test login enabled (development default; set NIXA_TEST_LOGIN=false to turn it off)\n');
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

main().catch((err) => {
  process.stderr.write(`nixa failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
