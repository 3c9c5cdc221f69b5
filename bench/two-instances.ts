// node dist/bench/two-instances.js (npm run bench:two): does nixa scale out?
// For each short-lived store (Redis, then PostgreSQL): one nixa instance on a
// fresh database, measured on SSO, federated sign-in and token requests; then a
// second instance (its own process, same database, same issuer and master key)
// joins, and the driver spreads requests over both without stickiness, each
// request of a sign-in going to the other instance than the one before
// (driver/routes.ts). Reports throughput two/one, CPU per operation, what share
// of the machine each process took (where the scaling stops), nixa's memory
// after the run and after a sustained federated run, and a sizing note.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { PROJECT_ROOT } from '../src/paths.js';
import { redactUrl } from '../src/storage/index.js';
import { BenchDatabase } from './bench-database.js';
import { Cleanup, runWithCleanup } from './cleanup.js';
import { CpuMeter, type PidSource } from './cpu.js';
import { DriverProcess } from './driver-process.js';
import { countsBetween, totalStatements, type StatementCounts } from './metered-database.js';
import type { FederationInfo, Job, Measurement, ScenarioName, TargetInfo } from './protocol.js';
import { formatSizing, peakNeed, sizingRow, type SizingInput } from './sizing.js';
import {
  cpuCount,
  loadAverage,
  machineBusyShare,
  machineCpuMs,
  memoryOf,
  postgresServerPids,
  redisServerPids,
  type Memory,
} from './system.js';
import { TargetProcess } from './target-process.js';
import { randomSecret } from './targets/bare-upstream.js';
import type { CitizenIdSourceStarted } from './targets/citizen-id-source.js';
import type { NixaJoined, NixaStarted } from './targets/nixa.js';
import { readTwoInstanceSettings, type TwoInstanceSettings } from './two-instances-settings.js';

const ONE_INSTANCE: ScenarioName[] = ['sso_sign_in', 'federated_sign_in', 'client_credentials', 'refresh', 'userinfo'];
const TWO_INSTANCES: ScenarioName[] = ['sso_sign_in', 'federated_sign_in', 'client_credentials'];
const SIGN_INS = ['sso_sign_in', 'federated_sign_in'];

/** Resident memory, and V8's share of it (process.memoryUsage(), MB). */
interface InstanceMemory extends Memory {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

interface Instance {
  name: string;
  proc: TargetProcess;
}

interface Run extends Measurement {
  scenario: ScenarioName;
  instances: number;
  concurrency: number;
  /** CPU ms per operation by process group. */
  cpuMsPerOp: Record<string, number>;
  /**
   * Share of the whole machine (every core) each group used while measured;
   * "machine" is all of it as /proc/stat counts, "other" what no group accounts for
   * (other users of the machine, the kernel's own threads).
   */
  machineShare: Record<string, number>;
  /** Of both instances together. */
  statementsPerOp: number;
  commitsPerOp: number;
}

interface Scaling {
  scenario: ScenarioName;
  /** Throughput on two instances / on one. */
  throughput: number;
  /** nixa's CPU per operation (both instances) on two / on one. */
  nixaCpuPerOp: number;
}

interface StoreResult {
  store: 'redis' | 'postgres';
  one: Run[];
  two: Run[];
  scaling: Scaling[];
  /** Each instance's memory after the measurements, and after the sustained run. */
  memory: { afterRuns: Record<string, InstanceMemory | undefined>; sustained?: { seconds: number; signIns: number; perSecond: number; memory: Record<string, InstanceMemory | undefined> } };
  sizing: ReturnType<typeof sizingRow>[];
  peak: ReturnType<typeof peakNeed>[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;

async function countsOf(instances: Instance[]): Promise<StatementCounts[]> {
  return Promise.all(instances.map((i) => i.proc.call<StatementCounts>('counts')));
}

/** Warms up, then measures one job: throughput, CPU per group and of the machine, statements of every instance. */
async function measure(
  driver: DriverProcess,
  settings: TwoInstanceSettings,
  job: Omit<Job, 'limit'>,
  instances: Instance[],
  groups: Record<string, PidSource>,
): Promise<Run> {
  await driver.run({ ...job, limit: { seconds: settings.base.warmupSeconds } });
  const before = await countsOf(instances);
  const meter = new CpuMeter(groups);
  const machineBefore = machineCpuMs();
  await meter.start();
  const t0 = performance.now();
  const m = await driver.run({ ...job, limit: { seconds: settings.base.seconds } });
  const used = await meter.stop();
  const wallMs = performance.now() - t0;
  const machineAfter = machineCpuMs();
  const after = await countsOf(instances);
  const counted = after.map((a, i) => countsBetween(before[i]!, a));
  const machineShare: Record<string, number> = {};
  for (const [group, ms] of Object.entries(used)) machineShare[group] = (ms as number) / (wallMs * cpuCount());
  machineShare.machine = machineBusyShare(machineBefore, machineAfter);
  machineShare.other = Math.max(0, machineShare.machine - sum(Object.values(used) as number[]) / (wallMs * cpuCount()));
  return {
    ...m,
    scenario: job.scenario,
    instances: instances.length,
    concurrency: job.concurrency,
    cpuMsPerOp: Object.fromEntries(Object.entries(used).map(([g, ms]) => [g, (ms as number) / m.completed])),
    machineShare,
    statementsPerOp: sum(counted.map(totalStatements)) / m.completed,
    commitsPerOp: sum(counted.map((c) => c.commits)) / m.completed,
  };
}

const nixaMs = (r: Run) => sum(Object.entries(r.cpuMsPerOp).filter(([g]) => g.startsWith('nixa')).map(([, ms]) => ms));

async function runStore(settings: TwoInstanceSettings, store: 'redis' | 'postgres', driver: DriverProcess, cleanup: Cleanup): Promise<StoreResult> {
  const { base } = settings;
  const bench = await BenchDatabase.create(base.adminUrl);
  cleanup.add(`drop database ${bench.name}`, () => bench.drop());
  const started = async <T>(role: Parameters<typeof TargetProcess.start>[0], params: unknown) => {
    const s = await TargetProcess.start<T>(role, params);
    cleanup.add(`stop ${role}`, () => s.proc.stop());
    return s;
  };
  const nixaParams = { adminUrl: base.adminUrl, database: bench.name, store, redisUrl: base.redisUrl };
  const a = await started<NixaStarted>('nixa', nixaParams);
  const sourceSecret = randomSecret();
  const source = await started<CitizenIdSourceStarted>('citizen-id-source', { redirectUri: a.started.callbackUrl, secret: sourceSecret });
  const registered = await a.proc.call<Omit<FederationInfo, 'sourceOrigin' | 'citizens'>>('registerCitizenIdSource', {
    issuer: source.started.issuer,
    secret: sourceSecret,
  });
  const federation: FederationInfo = { ...registered, sourceOrigin: source.started.issuer, citizens: source.started.citizens };
  const one: TargetInfo = { ...a.started.info, federation };
  console.log(`\n[${store}] nixa A ${one.origin} on database ${bench.name}; identity source ${federation.sourceOrigin}`);
  await driver.run({ scenario: 'federated_sign_in', target: one, concurrency: 1, limit: { count: federation.citizens.length }, seedConsent: true });

  const instances: Instance[] = [{ name: 'nixa A', proc: a.proc }];
  const redis = store === 'redis' ? redisServerPids() : [];
  const pgServer = postgresServerPids();
  const groups = (): Record<string, PidSource> => ({
    ...Object.fromEntries(instances.map((i) => [i.name, () => [i.proc.pid]])),
    database: () => bench.backendPids(),
    'postgres server': () => pgServer,
    ...(redis.length ? { redis: () => redis } : {}),
    source: () => [source.proc.pid],
    driver: () => [driver.pid],
    orchestrator: () => [process.pid],
  });
  const concurrency = settings.concurrency;
  const oneRuns: Run[] = [];
  for (const scenario of ONE_INSTANCE) {
    console.log(`  [${store}] one instance: ${scenario} at ${concurrency}…`);
    oneRuns.push(await measure(driver, settings, { scenario, target: one, concurrency }, instances, groups()));
  }

  const b = await started<NixaJoined>('nixa', { ...nixaParams, join: { issuer: one.origin, masterKey: a.started.masterKey } });
  instances.push({ name: 'nixa B', proc: b.proc });
  const two: TargetInfo = { ...one, instances: [one.origin, b.started.origin] };
  console.log(`  [${store}] nixa B ${b.started.origin} joined, same issuer ${one.origin}; requests alternate between A and B`);
  const twoRuns: Run[] = [];
  for (const scenario of TWO_INSTANCES) {
    console.log(`  [${store}] two instances: ${scenario} at ${concurrency}…`);
    twoRuns.push(await measure(driver, settings, { scenario, target: two, concurrency }, instances, groups()));
  }
  const memoryNow = async () =>
    Object.fromEntries(
      await Promise.all(
        instances.map(async (i) => {
          const resident = memoryOf(i.proc.pid);
          const v8 = await i.proc.call<NodeJS.MemoryUsage>('memoryUsage');
          const m = (bytes: number) => bytes / 2 ** 20;
          return [i.name, resident && { ...resident, heapUsedMb: m(v8.heapUsed), heapTotalMb: m(v8.heapTotal), externalMb: m(v8.external) }] as const;
        }),
      ),
    );
  const memory: StoreResult['memory'] = { afterRuns: await memoryNow() };
  if (settings.sustainedSeconds > 0) {
    console.log(`  [${store}] sustained federated sign-ins on both instances for ${settings.sustainedSeconds} s…`);
    const m = await driver.run({ scenario: 'federated_sign_in', target: two, concurrency, limit: { seconds: settings.sustainedSeconds } });
    memory.sustained = { seconds: m.seconds, signIns: m.completed, perSecond: m.perSecond, memory: await memoryNow() };
  }

  const scaling = twoRuns.map((t) => {
    const o = oneRuns.find((r) => r.scenario === t.scenario)!;
    return { scenario: t.scenario, throughput: t.perSecond / o.perSecond, nixaCpuPerOp: nixaMs(t) / nixaMs(o) };
  });
  const inputs: SizingInput[] = oneRuns.map((r) => ({
    scenario: r.scenario,
    nixaMs: nixaMs(r),
    databaseMs: (r.cpuMsPerOp.database ?? 0) + (r.cpuMsPerOp['postgres server'] ?? 0),
    redisMs: r.cpuMsPerOp.redis ?? 0,
    statementsPerOp: r.statementsPerOp,
    commitsPerOp: r.commitsPerOp,
  }));
  return {
    store,
    one: oneRuns,
    two: twoRuns,
    scaling,
    memory,
    sizing: inputs.map(sizingRow),
    peak: inputs.filter((i) => SIGN_INS.includes(i.scenario)).map((i) => peakNeed(i, settings.peakSignInsPerSecond, settings.targetUtilisation)),
  };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const mb = (m: InstanceMemory | undefined) =>
  m ? `RSS ${f(m.rssMb, 0)} MB (peak ${f(m.peakRssMb, 0)} MB; V8 heap ${f(m.heapUsedMb, 0)} of ${f(m.heapTotalMb, 0)} MB, external ${f(m.externalMb, 0)} MB)` : 'gone';

function formatStore(r: StoreResult, settings: TwoInstanceSettings): string {
  const lines = [`== short-lived store: ${r.store} ==`];
  lines.push('  scenario            inst  ops/s   p50 ms  p99 ms  nixa ms/op  db ms/op  stmts/op  commits/op  machine busy');
  for (const run of [...r.one, ...r.two]) {
    lines.push(
      `  ${run.scenario.padEnd(19)} ${String(run.instances).padStart(4)} ${f(run.perSecond, 0).padStart(6)} ${f(run.p50Ms, 1).padStart(8)} ${f(run.p99Ms, 1).padStart(7)} ${f(nixaMs(run), 2).padStart(11)} ${f((run.cpuMsPerOp.database ?? 0) + (run.cpuMsPerOp['postgres server'] ?? 0), 2).padStart(9)} ${f(run.statementsPerOp).padStart(9)} ${f(run.commitsPerOp, 2).padStart(11)} ${pct(run.machineShare.machine ?? 0).padStart(13)}`,
    );
  }
  lines.push('  Two instances / one:');
  for (const s of r.scaling) lines.push(`    ${s.scenario.padEnd(19)} throughput ×${f(s.throughput, 2)}, nixa CPU per op ×${f(s.nixaCpuPerOp, 2)}`);
  lines.push(`  Where it stops: share of the whole machine (${cpuCount()} vCPUs) each process took, two instances:`);
  for (const run of r.two) {
    const shares = Object.entries(run.machineShare)
      .filter(([g]) => g !== 'machine')
      .sort((x, y) => y[1] - x[1])
      .map(([g, s]) => `${g} ${pct(s)}`)
      .join(', ');
    lines.push(`    ${run.scenario.padEnd(19)} machine ${pct(run.machineShare.machine ?? 0)} busy: ${shares}`);
  }
  lines.push(`  Memory after the measurements: ${Object.entries(r.memory.afterRuns).map(([n, m]) => `${n} ${mb(m)}`).join('; ')}`);
  if (r.memory.sustained) {
    const s = r.memory.sustained;
    lines.push(
      `  Memory after ${f(s.seconds, 0)} s of federated sign-ins on both (${s.signIns} sign-ins, ${f(s.perSecond, 0)}/s): ${Object.entries(s.memory).map(([n, m]) => `${n} ${mb(m)}`).join('; ')}`,
    );
  }
  lines.push(formatSizing(`store ${r.store}`, r.sizing, SIGN_INS, settings.peakSignInsPerSecond, settings.targetUtilisation));
  return lines.join('\n');
}

async function main(cleanup: Cleanup): Promise<void> {
  const settings = readTwoInstanceSettings();
  const loadBefore = loadAverage();
  console.log(
    `Two instances on one database: ${settings.stores.join(', ')} short-lived store; ${settings.concurrency} users or connections; ` +
      `${settings.base.seconds} s per measurement after ${settings.base.warmupSeconds} s warm-up; ${cpuCount()} vCPUs; load average before ${loadBefore.join(' ')}`,
  );
  const driver = new DriverProcess();
  cleanup.add('stop the load driver', async () => driver.stop());
  const results: StoreResult[] = [];
  for (const store of settings.stores) {
    const storeCleanup = new Cleanup();
    cleanup.add(`clean up the ${store} run`, () => storeCleanup.run());
    try {
      results.push(await runStore(settings, store, driver, storeCleanup));
    } finally {
      await storeCleanup.run();
    }
  }
  const loadAfter = loadAverage();
  console.log(['', ...results.map((r) => formatStore(r, settings)), '', `Load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`].join('\n\n'));
  const dir = join(PROJECT_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'two-instances.json');
  const { base, ...rest } = settings;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        environment: { node: process.version, cpus: cpuCount(), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
        settings: { ...rest, seconds: base.seconds, warmupSeconds: base.warmupSeconds, adminUrl: redactUrl(base.adminUrl), redisUrl: redactUrl(base.redisUrl) },
        stores: results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`Results written to ${relative(process.cwd(), file)}`);
}

runWithCleanup(main);
