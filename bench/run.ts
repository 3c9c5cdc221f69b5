// npm run bench: nixa on a throw-away PostgreSQL database against a bare
// oidc-provider (in-memory adapter), both on loopback, loaded from a separate
// driver process; then nixa's database writes per sign-in. See README, Benchmarks.
import { constants, cpus } from 'node:os';
import { relative } from 'node:path';

import { redactUrl } from '../src/storage/index.js';
import { BenchDatabase } from './bench-database.js';
import { Cleanup } from './cleanup.js';
import { DriverProcess } from './driver-process.js';
import { totalStatements } from './metered-database.js';
import { SCENARIOS, type Job, type ScenarioName, type TargetInfo } from './protocol.js';
import { formatTable, formatWrites, writeResults, type BenchResults, type ScenarioResult } from './report.js';
import { readSettings, type BenchSettings } from './settings.js';
import { startBaseline } from './targets/baseline.js';
import { startNixaTarget, type NixaTarget } from './targets/nixa.js';
import { measureWritesPerSignIn } from './writes.js';

interface Setup {
  settings: BenchSettings;
  driver: DriverProcess;
  nixa: NixaTarget;
  baseline: TargetInfo;
}

/** Warms a target up on a scenario, then measures it. */
async function measure({ settings, driver }: Setup, scenario: ScenarioName, target: TargetInfo, beforeMeasuring = () => {}) {
  const concurrency = scenario === 'authorization_code' ? settings.signInLoops : settings.connections;
  const job = (limit: Job['limit']): Job => ({ scenario, target, concurrency, limit });
  await driver.run(job({ seconds: settings.warmupSeconds }));
  beforeMeasuring();
  return driver.run(job({ seconds: settings.seconds }));
}

async function compare(setup: Setup, scenario: ScenarioName): Promise<ScenarioResult> {
  const { db } = setup.nixa;
  let before = db.counts();
  const nixa = await measure(setup, scenario, setup.nixa.info, () => (before = db.counts()));
  const statements = totalStatements(db.countsSince(before));
  const baseline = await measure(setup, scenario, setup.baseline);
  return {
    scenario,
    operation: scenario === 'authorization_code' ? 'sign-in' : 'request',
    nixa: { ...nixa, statementsPerOperation: statements / nixa.completed },
    baseline,
    ratio: { throughput: nixa.perSecond / baseline.perSecond, p50: nixa.p50Ms / baseline.p50Ms },
  };
}

async function main(cleanup: Cleanup): Promise<void> {
  const settings = readSettings();
  const bench = await BenchDatabase.create(settings.adminUrl);
  cleanup.add(`drop database ${bench.name}`, () => bench.drop());
  const nixa = await startNixaTarget(bench);
  cleanup.add('stop nixa', () => nixa.close());
  const baseline = await startBaseline(nixa.config);
  cleanup.add('stop the baseline', () => baseline.close());
  const driver = new DriverProcess();
  cleanup.add('stop the load driver', async () => driver.stop());
  const setup: Setup = { settings, driver, nixa, baseline: baseline.info };

  console.log(
    `nixa ${nixa.info.origin} (PostgreSQL database ${bench.name}) vs. bare oidc-provider ${baseline.info.origin}; ` +
      `${settings.seconds} s per measurement after ${settings.warmupSeconds} s warm-up`,
  );
  const scenarios: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    console.log(`  measuring ${scenario}…`);
    scenarios.push(await compare(setup, scenario));
  }
  console.log(`  counting database writes over ${settings.writeSignIns} sign-ins…`);
  const writesPerSignIn = await measureWritesPerSignIn(nixa, bench, driver, settings);

  const results: BenchResults = {
    finishedAt: new Date().toISOString(),
    environment: { node: process.version, postgres: await bench.serverVersion(), cpus: cpus().length },
    // The admin URL may carry a password.
    settings: { ...settings, adminUrl: redactUrl(settings.adminUrl) },
    scenarios,
    writesPerSignIn,
  };
  console.log(`\n${formatTable(scenarios)}\n\n${formatWrites(writesPerSignIn)}\n`);
  console.log(`Results written to ${relative(process.cwd(), writeResults(results))}`);
}

const cleanup = new Cleanup();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(128 + constants.signals[signal]));
  });
}
main(cleanup)
  .catch((err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup.run());
