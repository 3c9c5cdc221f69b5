// npm run bench: nixa on a throw-away PostgreSQL database against a bare
// oidc-provider (in-memory adapter), each in a process of its own on loopback,
// loaded from a separate driver process; CPU per operation read from /proc for
// each server process and nixa's PostgreSQL backends; nixa's statements and
// commits counted by its MeteredDatabase. Then the federated sign-in, nixa
// through the simulated citizen-ID source against a bare provider federating to
// a bare upstream, at several concurrencies; then the cross-device sign-in (a
// bound phone approves, the computer continues) on nixa alone; then the FAPI 2.0
// sign-in against the standard one on nixa; then nixa's database writes per
// sign-in. See README, Benchmarks.
import { cpus } from 'node:os';
import { relative } from 'node:path';

import { MAX_PHONES, POLL_MILLISECONDS } from '../src/phone/index.js';
import { redactUrl } from '../src/storage/index.js';
import { BenchDatabase } from './bench-database.js';
import { runWithCleanup, type Cleanup } from './cleanup.js';
import { CpuMeter, type PidSource } from './cpu.js';
import { DriverProcess } from './driver-process.js';
import { fapi2ServiceKey } from './driver/fapi2-sign-in.js';
import { countsBetween, totalStatements, type StatementCounts } from './metered-database.js';
import { freeLoopbackPort } from './net.js';
import { isSignIn, SCENARIOS, type ComparedScenario, type Fapi2ClientInfo, type FederationInfo, type Job, type TargetInfo } from './protocol.js';
import {
  fapi2Ratio,
  formatCrossDevice,
  formatFapi2,
  formatFederated,
  formatPerTable,
  formatTable,
  formatWrites,
  ratioOf,
  REQUESTS_PER_BARE_FEDERATED_SIGN_IN,
  REQUESTS_PER_FAPI2_SIGN_IN,
  REQUESTS_PER_FEDERATED_SIGN_IN,
  REQUESTS_PER_STANDARD_SIGN_IN_WITH_USERINFO,
  writeResults,
  pollTitle,
  type BenchResults,
  type CrossDeviceLevel,
  type CrossDeviceResult,
  type Fapi2Result,
  type FederatedLevel,
  type FederatedResult,
  type NixaSide,
  type ScenarioResult,
  type Side,
} from './report.js';
import { onlyScenarios } from './profiling.js';
import { readSettings, type BenchSettings } from './settings.js';
import { memoryOf } from './system.js';
import { TargetProcess } from './target-process.js';
import { randomSecret, type BareUpstreamStarted } from './targets/bare-upstream.js';
import { BARE_CALLBACK_PATH } from './targets/bare-federated.js';
import type { CitizenIdSourceStarted } from './targets/citizen-id-source.js';
import type { Fapi2Registered, NixaStarted } from './targets/nixa.js';
import { checkGoals, formatGoals } from './goals.js';
import { measureWritesPerSignIn, type NixaCounter } from './writes.js';
import { formatTokenSigning, measureTokenSigning } from './token-signing.js';

interface Setup {
  settings: BenchSettings;
  bench: BenchDatabase;
  driver: DriverProcess;
  nixa: { proc: TargetProcess; info: TargetInfo; counter: NixaCounter };
  baseline: { proc: TargetProcess; info: TargetInfo };
  source: TargetProcess;
  /** nixa's TargetInfo with its identity source, for the federated sign-in. */
  nixaFederated: TargetInfo & { federation: FederationInfo };
  bareFederated: { proc: TargetProcess; upstream: TargetProcess; info: TargetInfo & { federation: FederationInfo } };
}

/** Warms a target up on a scenario, then measures it and the CPU of the given processes. */
async function measure<G extends string>(
  { settings, driver }: Setup,
  job: Omit<Job, 'limit'>,
  cpu: Record<G, PidSource>,
  around: { before?: () => Promise<void>; after?: () => Promise<void> } = {},
): Promise<Side> {
  await driver.run({ ...job, limit: { seconds: settings.warmupSeconds } });
  const meter = new CpuMeter(cpu);
  await around.before?.();
  await meter.start();
  const m = await driver.run({ ...job, limit: { seconds: settings.seconds } });
  const used = await meter.stop();
  await around.after?.();
  const cpuMsPerOp = Object.fromEntries(Object.entries(used).map(([group, ms]) => [group, (ms as number) / m.completed]));
  return { ...m, cpuMsPerOp };
}

/** Measures nixa: its process and database backends' CPU, and its statements and commits. */
async function measureNixa(setup: Setup, job: Omit<Job, 'limit'>, extraCpu: Record<string, PidSource> = {}): Promise<NixaSide> {
  const { nixa, bench } = setup;
  let before: StatementCounts | undefined;
  let counted: StatementCounts | undefined;
  const side = await measure(setup, job, { process: () => [nixa.proc.pid], database: () => bench.backendPids(), ...extraCpu }, {
    before: async () => void (before = await nixa.counter.counts()),
    after: async () => void (counted = countsBetween(before!, await nixa.counter.counts())),
  });
  const per = (n: number) => n / side.completed;
  const perRecord = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => [k, per(n)]));
  return {
    ...side,
    statementsPerOperation: per(totalStatements(counted!)),
    commitsPerOperation: per(counted!.commits),
    statementsByTable: Object.fromEntries(
      Object.entries(counted!.byTable)
        .map(([table, verbs]) => [table, perRecord(verbs)] as const)
        .filter(([, verbs]) => Object.keys(verbs).length > 0),
    ),
    commitsByTable: perRecord(counted!.commitsByTable),
  };
}

async function compare(setup: Setup, scenario: ComparedScenario): Promise<ScenarioResult> {
  const { settings } = setup;
  const concurrency = isSignIn(scenario) ? settings.signInLoops : settings.connections;
  const nixa = await measureNixa(setup, { scenario, target: setup.nixa.info, concurrency });
  const baseline = await measure(setup, { scenario, target: setup.baseline.info, concurrency }, { process: () => [setup.baseline.proc.pid] });
  return { scenario, concurrency, nixa, baseline, ratio: ratioOf(nixa, baseline) };
}

/**
 * Seeds nixa's citizens (first sign-in: account created, consent given), then
 * measures returning citizens on nixa and on the bare federated pair, at each
 * concurrency in turn.
 */
async function federated(setup: Setup, users: number[]): Promise<FederatedResult> {
  const { driver, nixaFederated, bareFederated } = setup;
  const citizens = nixaFederated.federation.citizens.length;
  if (users.length) await driver.run({ scenario: 'federated_sign_in', target: nixaFederated, concurrency: 1, limit: { count: citizens }, seedConsent: true });
  const levels: FederatedLevel[] = [];
  for (const concurrency of users) {
    console.log(`  measuring federated_sign_in at ${concurrency} concurrent users…`);
    const nixa = await measureNixa(setup, { scenario: 'federated_sign_in', target: nixaFederated, concurrency }, { source: () => [setup.source.pid] });
    const baseline = await measure(
      setup,
      { scenario: 'federated_sign_in', target: bareFederated.info, concurrency },
      { process: () => [bareFederated.proc.pid], upstream: () => [bareFederated.upstream.pid] },
    );
    levels.push({ concurrency, nixa, baseline, ratio: ratioOf(nixa, baseline) });
  }
  return {
    source: nixaFederated.federation.sourceId,
    citizens,
    requestsPerSignIn: { nixa: REQUESTS_PER_FEDERATED_SIGN_IN, baseline: REQUESTS_PER_BARE_FEDERATED_SIGN_IN },
    levels,
  };
}

/**
 * The cross-device sign-in at each number of concurrent citizens, with the
 * computer polling as its page does and then at once. The phones are bound in
 * the first warm-up at each level (driver/sign-in-load.ts), outside the
 * measurement; a run of its own length (crossDeviceSeconds), as each sign-in
 * waits about one polling interval.
 */
async function crossDevice(setup: Setup, users: number[]): Promise<CrossDeviceResult> {
  const { settings, nixaFederated } = setup;
  const citizens = nixaFederated.federation.citizens.length;
  if (Math.max(0, ...users) > citizens * MAX_PHONES) {
    throw new Error(`NIXA_BENCH_CROSS_DEVICE_USERS: at most ${citizens * MAX_PHONES} concurrent citizens (${citizens} citizens, ${MAX_PHONES} phones each)`);
  }
  const own = { ...setup, settings: { ...settings, seconds: settings.crossDeviceSeconds } };
  const levels: CrossDeviceLevel[] = [];
  for (const concurrency of users) {
    for (const poll of ['page', 'immediate'] as const) {
      console.log(`  measuring cross_device at ${concurrency} concurrent citizens, the computer polling ${pollTitle(poll, POLL_MILLISECONDS)}…`);
      levels.push({ concurrency, poll, nixa: await measureNixa(own, { scenario: 'cross_device', target: nixaFederated, concurrency, poll }) });
    }
  }
  return { pollMilliseconds: POLL_MILLISECONDS, citizens, levels };
}

/**
 * The FAPI 2.0 sign-in against the standard one (issue 15): the FAPI 2.0 service
 * registered on nixa with a key made for this run, then both sign-ins measured one
 * after the other at the main table's concurrency, each with one userinfo call.
 */
async function fapi2(setup: Setup): Promise<Fapi2Result> {
  const { settings, nixa } = setup;
  const { publicJwk, privateJwk } = await fapi2ServiceKey();
  const { webClientIdTokenSigningAlg, ...registered } = await nixa.proc.call<Fapi2Registered>('registerFapi2Client', { publicJwk });
  const target: TargetInfo & { fapi2: Fapi2ClientInfo } = { ...nixa.info, fapi2: { ...registered, privateJwk } };
  const concurrency = settings.signInLoops;
  console.log(`  measuring the standard sign-in, then fapi2_sign_in, each with a userinfo call, at ${concurrency} concurrent users…`);
  const standard = await measureNixa(setup, { scenario: 'authorization_code', target: nixa.info, concurrency, userinfo: true });
  const measured = await measureNixa(setup, { scenario: 'fapi2_sign_in', target, concurrency });
  return {
    concurrency,
    requestsPerSignIn: { standard: REQUESTS_PER_STANDARD_SIGN_IN_WITH_USERINFO, fapi2: REQUESTS_PER_FAPI2_SIGN_IN },
    idTokenAlgs: { standard: webClientIdTokenSigningAlg, fapi2: registered.idTokenSigningAlg },
    standard,
    fapi2: measured,
    ratio: fapi2Ratio(measured, standard),
  };
}

async function start(settings: BenchSettings, cleanup: Cleanup): Promise<Setup> {
  const bench = await BenchDatabase.create(settings.adminUrl);
  cleanup.add(`drop database ${bench.name}`, () => bench.drop());
  const started = async <T>(role: Parameters<typeof TargetProcess.start>[0], params: unknown) => {
    const s = await TargetProcess.start<T>(role, params);
    cleanup.add(`stop ${role}`, () => s.proc.stop());
    return s;
  };

  const nixa = await started<NixaStarted>('nixa', { adminUrl: settings.adminUrl, database: bench.name, store: settings.store, redisUrl: settings.redisUrl });
  const counter: NixaCounter = {
    counts: () => nixa.proc.call<StatementCounts>('counts'),
    replacePool: () => nixa.proc.call<string>('replacePool'),
  };
  const shape = nixa.started.shape;
  const baseline = await started<TargetInfo>('baseline', shape);

  const sourceSecret = randomSecret();
  const source = await started<CitizenIdSourceStarted>('citizen-id-source', { redirectUri: nixa.started.callbackUrl, secret: sourceSecret });
  const registered = await nixa.proc.call<Omit<FederationInfo, 'sourceOrigin' | 'citizens'>>('registerCitizenIdSource', {
    issuer: source.started.issuer,
    secret: sourceSecret,
  });

  // The bare pair: the upstream must know the downstream's callback before the downstream can discover it.
  const barePort = await freeLoopbackPort();
  const upstreamSecret = randomSecret();
  const upstream = await started<BareUpstreamStarted>('bare-upstream', {
    shape,
    redirectUri: `http://127.0.0.1:${barePort}${BARE_CALLBACK_PATH}`,
    secret: upstreamSecret,
  });
  const bare = await started<TargetInfo & { federation: FederationInfo }>('bare-federated', {
    shape,
    port: barePort,
    upstream: { issuer: upstream.started.issuer, secret: upstreamSecret, citizens: upstream.started.citizens },
  });

  const driver = new DriverProcess();
  cleanup.add('stop the load driver', async () => driver.stop());
  return {
    settings,
    bench,
    driver,
    nixa: { proc: nixa.proc, info: nixa.started.info, counter },
    baseline: { proc: baseline.proc, info: baseline.started },
    source: source.proc,
    nixaFederated: { ...nixa.started.info, federation: { ...registered, sourceOrigin: source.started.issuer, citizens: source.started.citizens } },
    bareFederated: { proc: bare.proc, upstream: upstream.proc, info: bare.started },
  };
}

async function main(cleanup: Cleanup): Promise<void> {
  const settings = readSettings();
  const setup = await start(settings, cleanup);
  const { nixa, bench, driver } = setup;
  console.log(
    `nixa ${nixa.info.origin} (PostgreSQL database ${bench.name}, short-lived store ${settings.store}` +
      `${settings.store === 'redis' ? ` at ${redactUrl(settings.redisUrl)}` : ''}) vs. bare oidc-provider ${setup.baseline.info.origin}; ` +
      `${settings.seconds} s per measurement (cross-device ${settings.crossDeviceSeconds} s) after ${settings.warmupSeconds} s warm-up; ` +
      `identity source ${setup.nixaFederated.federation.sourceId} ${setup.nixaFederated.federation.sourceOrigin}; ` +
      `bare federated pair ${setup.bareFederated.info.origin} → ${setup.bareFederated.info.federation.sourceOrigin}`,
  );
  const only = onlyScenarios();
  const scenarios: ScenarioResult[] = [];
  for (const scenario of SCENARIOS.filter((s) => !only || only.has(s))) {
    console.log(`  measuring ${scenario}…`);
    scenarios.push(await compare(setup, scenario));
  }
  const federatedResult = await federated(setup, only && !only.has('federated_sign_in') ? [] : setup.settings.federatedUsers);
  const crossDeviceResult = await crossDevice(setup, only && !only.has('cross_device') ? [] : settings.crossDeviceUsers);
  const fapi2Result = only && !only.has('fapi2_sign_in') ? undefined : await fapi2(setup);
  const tokenSigning = only && !only.has('token_signing') ? undefined : await measureTokenSigning(cleanup);
  const perTable = [
    ...scenarios.map((s) => ({ title: `${s.scenario} (at ${s.concurrency})`, nixa: s.nixa })),
    ...federatedResult.levels.map((l) => ({ title: `federated_sign_in (at ${l.concurrency})`, nixa: l.nixa })),
    ...crossDeviceResult.levels.map((l) => ({ title: `cross_device, polling ${pollTitle(l.poll, crossDeviceResult.pollMilliseconds)} (at ${l.concurrency})`, nixa: l.nixa })),
    ...(fapi2Result
      ? [
          { title: `authorization_code with userinfo (at ${fapi2Result.concurrency})`, nixa: fapi2Result.standard },
          { title: `fapi2_sign_in with userinfo (at ${fapi2Result.concurrency})`, nixa: fapi2Result.fapi2 },
        ]
      : []),
  ];
  if (only) {
    // A partial run: the tables of what was measured, no write counts, no results file.
    console.log(
      [
        '',
        ...(scenarios.length || federatedResult.levels.length ? [formatTable(scenarios, federatedResult, settings)] : []),
        ...(federatedResult.levels.length ? [formatFederated(federatedResult)] : []),
        ...(crossDeviceResult.levels.length ? [formatCrossDevice(crossDeviceResult)] : []),
        ...(fapi2Result ? [formatFapi2(fapi2Result)] : []),
        ...(perTable.length ? [formatPerTable(perTable)] : []),
        ...(only.has('token_signing') ? [formatTokenSigning(tokenSigning)] : []),
        '',
      ].join('\n\n'),
    );
    return;
  }

  const loops = settings.signInLoops;
  console.log(`  counting database writes over ${settings.writeSignIns} test-login sign-ins…`);
  const writesPerSignIn = await measureWritesPerSignIn(
    nixa.counter,
    bench,
    driver,
    { scenario: 'authorization_code', target: nixa.info, concurrency: loops },
    settings.writeSignIns,
  );
  console.log(`  counting database writes over ${settings.writeSignIns} federated sign-ins…`);
  await setup.source.call('startCounting');
  const writesPerFederatedSignIn = await measureWritesPerSignIn(
    nixa.counter,
    bench,
    driver,
    { scenario: 'federated_sign_in', target: setup.nixaFederated, concurrency: loops },
    settings.writeSignIns,
  );
  const sourceRequests = await setup.source.call<Record<string, number>>('stopCounting');
  writesPerFederatedSignIn.sourceRequests = Object.fromEntries(
    Object.entries(sourceRequests).map(([request, n]) => [request, n / writesPerFederatedSignIn.signIns]),
  );

  const nixaMemory = memoryOf(nixa.proc.pid);
  const results: BenchResults = {
    finishedAt: new Date().toISOString(),
    environment: { node: process.version, postgres: await bench.serverVersion(), cpus: cpus().length, store: settings.store },
    // The admin URL may carry a password.
    settings: { ...settings, adminUrl: redactUrl(settings.adminUrl), redisUrl: redactUrl(settings.redisUrl) },
    scenarios,
    federated: federatedResult,
    writesPerSignIn,
    writesPerFederatedSignIn,
    crossDevice: crossDeviceResult,
    ...(fapi2Result ? { fapi2: fapi2Result } : {}),
    ...(nixaMemory ? { nixaMemory } : {}),
    ...(tokenSigning ? { tokenSigning } : {}),
  };
  console.log(
    [
      '',
      formatTable(scenarios, federatedResult, settings),
      formatFederated(federatedResult),
      formatCrossDevice(crossDeviceResult),
      ...(fapi2Result ? [formatFapi2(fapi2Result)] : []),
      formatPerTable(perTable),
      formatWrites(writesPerSignIn),
      formatWrites(writesPerFederatedSignIn),
      formatTokenSigning(tokenSigning),
      '',
    ].join('\n\n'),
  );
  if (nixaMemory) console.log(`nixa's memory at the end of the run: RSS ${nixaMemory.rssMb.toFixed(0)} MB, peak ${nixaMemory.peakRssMb.toFixed(0)} MB`);
  console.log(`\n${formatGoals(checkGoals(results))}\n`);
  console.log(`Results written to ${relative(process.cwd(), writeResults(results))}`);
}

runWithCleanup(main);

