// npm run bench: nixa on a throw-away PostgreSQL database against a bare
// oidc-provider (in-memory adapter), both on loopback, loaded from a separate
// driver process; then nixa alone signing citizens in through a simulated
// citizen-ID source; then nixa's database writes per sign-in, test-login and
// federated. See README, Benchmarks.
import { constants, cpus } from 'node:os';
import { relative } from 'node:path';

import { redactUrl } from '../src/storage/index.js';
import { BenchDatabase } from './bench-database.js';
import { Cleanup } from './cleanup.js';
import { DriverProcess } from './driver-process.js';
import { totalStatements } from './metered-database.js';
import { REQUESTS_PER_FEDERATED_SIGN_IN } from './driver/federated-sign-in.js';
import { isSignIn, SCENARIOS, type ComparedScenario, type Job, type ScenarioName, type TargetInfo } from './protocol.js';
import { formatTable, formatWrites, writeResults, type BenchResults, type FederatedResult, type ScenarioResult } from './report.js';
import { readSettings, type BenchSettings } from './settings.js';
import { startBaseline } from './targets/baseline.js';
import { startCitizenIdSource } from './targets/citizen-id-source.js';
import { startNixaTarget, type NixaTarget } from './targets/nixa.js';
import { measureWritesPerSignIn } from './writes.js';

interface Setup {
  settings: BenchSettings;
  driver: DriverProcess;
  nixa: NixaTarget;
  baseline: TargetInfo;
  /** nixa's TargetInfo with its identity source, for the federated sign-in. */
  federated: TargetInfo & { federation: NonNullable<TargetInfo['federation']> };
}

/** Warms a target up on a scenario, then measures it. */
async function measure({ settings, driver }: Setup, scenario: ScenarioName, target: TargetInfo, beforeMeasuring = () => {}) {
  const concurrency = isSignIn(scenario) ? settings.signInLoops : settings.connections;
  const job = (limit: Job['limit']): Job => ({ scenario, target, concurrency, limit });
  await driver.run(job({ seconds: settings.warmupSeconds }));
  beforeMeasuring();
  return driver.run(job({ seconds: settings.seconds }));
}

async function compare(setup: Setup, scenario: ComparedScenario): Promise<ScenarioResult> {
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

/**
 * Citizens whom the sign-in loops sign in: one each, as the test-login loops
 * have one account each.
 */
function federatedCitizens({ settings, federated }: Setup): number {
  return Math.min(settings.signInLoops, federated.federation.citizens.length);
}

/**
 * nixa only: seeds each loop's citizen (first sign-in: account created, consent
 * given), then warms up and measures returning citizens; compared with nixa's
 * test-login round trip of this run.
 */
async function federated(setup: Setup, testLogin: ScenarioResult): Promise<FederatedResult> {
  const { db } = setup.nixa;
  const target = setup.federated;
  const citizens = federatedCitizens(setup);
  await setup.driver.run({ scenario: 'federated_sign_in', target, concurrency: 1, limit: { count: citizens }, seedConsent: true });
  let before = db.counts();
  const m = await measure(setup, 'federated_sign_in', target, () => (before = db.counts()));
  const statements = totalStatements(db.countsSince(before));
  return {
    scenario: 'federated_sign_in',
    operation: 'sign-in',
    source: target.federation.sourceId,
    citizens,
    requestsPerSignIn: REQUESTS_PER_FEDERATED_SIGN_IN,
    nixa: { ...m, statementsPerOperation: statements / m.completed },
    versus: { scenario: 'authorization_code', label: 'nixa test-login round trip', nixa: testLogin.nixa },
    ratio: { throughput: m.perSecond / testLogin.nixa.perSecond, p50: m.p50Ms / testLogin.nixa.p50Ms },
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
  const source = await startCitizenIdSource(nixa);
  cleanup.add('stop the citizen-ID source', () => source.close());
  const driver = new DriverProcess();
  cleanup.add('stop the load driver', async () => driver.stop());
  const setup: Setup = { settings, driver, nixa, baseline: baseline.info, federated: { ...nixa.info, federation: source.federation } };

  console.log(
    `nixa ${nixa.info.origin} (PostgreSQL database ${bench.name}) vs. bare oidc-provider ${baseline.info.origin}; ` +
      `${settings.seconds} s per measurement after ${settings.warmupSeconds} s warm-up; ` +
      `identity source ${source.federation.sourceId} ${source.federation.sourceOrigin}`,
  );
  const scenarios: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    console.log(`  measuring ${scenario}…`);
    scenarios.push(await compare(setup, scenario));
  }
  console.log(`  measuring federated_sign_in (nixa only)…`);
  const testLogin = scenarios.find((s) => s.scenario === 'authorization_code')!;
  const federatedResult = await federated(setup, testLogin);

  const loops = settings.signInLoops;
  console.log(`  counting database writes over ${settings.writeSignIns} test-login sign-ins…`);
  const writesPerSignIn = await measureWritesPerSignIn(
    nixa,
    bench,
    driver,
    { scenario: 'authorization_code', target: nixa.info, concurrency: loops },
    settings.writeSignIns,
  );
  console.log(`  counting database writes over ${settings.writeSignIns} federated sign-ins…`);
  const sourceRequests = source.countRequests();
  const writesPerFederatedSignIn = await measureWritesPerSignIn(
    nixa,
    bench,
    driver,
    { scenario: 'federated_sign_in', target: setup.federated, concurrency: loops },
    settings.writeSignIns,
  );
  writesPerFederatedSignIn.sourceRequests = Object.fromEntries(
    Object.entries(sourceRequests()).map(([request, n]) => [request, n / writesPerFederatedSignIn.signIns]),
  );

  const results: BenchResults = {
    finishedAt: new Date().toISOString(),
    environment: { node: process.version, postgres: await bench.serverVersion(), cpus: cpus().length },
    // The admin URL may carry a password.
    settings: { ...settings, adminUrl: redactUrl(settings.adminUrl) },
    scenarios,
    federated: federatedResult,
    writesPerSignIn,
    writesPerFederatedSignIn,
  };
  console.log(`\n${formatTable(scenarios, federatedResult)}\n\n${formatWrites(writesPerSignIn)}\n\n${formatWrites(writesPerFederatedSignIn)}\n`);
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
