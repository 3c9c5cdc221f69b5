// Starts nixa instances for tests on a random port, on a test database.
import type { OrganisationRegistries } from '../../src/registries/contract.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startNixa, type Nixa } from '../../src/app/index.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { createLogger, silentLogger, type Logger } from '../../src/logging/index.js';
import type { Database } from '../../src/storage/index.js';

export const TEST_MASTER_KEY = randomBytes(32).toString('base64');

/** A test configuration; `env` overrides variables as an operator would. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NIXA_ENV: 'test',
    NIXA_TEST_LOGIN: 'true',
    NIXA_DEMO: 'false',
    NIXA_MASTER_KEY: TEST_MASTER_KEY,
    NIXA_DATA_DIR: mkdtempSync(join(tmpdir(), 'nixa-test-')),
    NIXA_LOG_LEVEL: 'silent',
    PORT: '0',
    NIXA_HOST: '127.0.0.1',
    // NIXA_TEST_REDIS_URL runs every instance with its short-lived state in that
    // Redis, under a prefix of the test process (instances of one test share it, as a deployment's do) (the default is the database's UNLOGGED tables).
    ...(process.env.NIXA_TEST_REDIS_URL
      ? { NIXA_SHORT_LIVED_STORE: 'redis', NIXA_REDIS_URL: process.env.NIXA_TEST_REDIS_URL, NIXA_REDIS_PREFIX: `nixa-test-${process.pid}:` }
      : {}),
    ...env,
  });
}

/** Starts an instance on the given database; its issuer is its own URL on a free port. */
export async function startTestNixa(db: Database, env: Record<string, string> = {}, opts: { logger?: Logger; registries?: OrganisationRegistries } = {}): Promise<Nixa> {
  // NIXA_TEST_LOG=debug shows an instance's logs when a test needs explaining.
  const logger = opts.logger ?? (process.env.NIXA_TEST_LOG ? createLogger(process.env.NIXA_TEST_LOG) : silentLogger);
  // The issuer names the port, so it is chosen before nixa starts; between the
  // check and the listen another process (a parallel test, or any outgoing
  // connection, which takes its port from the same range) may take it. nixa then
  // stops what it started and says PORT is in use: try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = testConfig({ PORT: String(port), NIXA_ISSUER: `http://127.0.0.1:${port}`, ...env });
    try {
      return await startNixa(config, { db, logger, closeDatabase: false, ...(opts.registries ? { registries: opts.registries } : {}) });
    } catch (err) {
      if (attempt >= 5 || !(err instanceof ConfigError && err.variable === 'PORT') || env.PORT) throw err;
    }
  }
}

/**
 * A port that is free now, from 20000–32767: below Linux's ephemeral range
 * (32768–60999), from which the kernel gives ports to outgoing connections and to
 * listen(0). A port chosen there could be taken by any connection between this
 * check and the caller's listen; here only another test choosing the same one
 * could, and startTestNixa tries again when that happens.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const bound = (srv.address() as { port: number }).port;
        srv.close(() => resolve(bound));
      });
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tryPort(20_000 + Math.floor(Math.random() * 12_768));
    if (port !== undefined) return port;
  }
  const any = await tryPort(0);
  if (any === undefined) throw new Error('no free port');
  return any;
}

/**
 * A free port whose next `count - 1` ports are free too: nixa with NIXA_DEMO runs its
 * simulated sources on PORT+1…PORT+3, and a busy one there would fail a sign-in.
 */
export async function freePortRun(count: number): Promise<number> {
  const { createServer } = await import('node:net');
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    if (first + count > 65_535) continue;
    let all = true;
    for (let p = first + 1; all && p < first + count; p++) all = await isFree(p);
    if (all) return first;
  }
  throw new Error(`no run of ${count} free ports found`);
}

/** A logger whose JSON lines are kept in memory, for tests that check what was (not) logged. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void out.push(line) } as never);
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The same URL at another origin: a browser or service reaching instance B behind one issuer. */
export function toOrigin(url: string | URL, origin: string): URL {
  const u = new URL(url);
  const o = new URL(origin);
  u.protocol = o.protocol;
  u.host = o.host;
  return u;
}

/** The kids an instance publishes at /jwks now. */
export async function publishedKids(n: { url: string }): Promise<string[]> {
  const res = await fetch(`${n.url}/jwks`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}
