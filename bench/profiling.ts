// Switches for looking into where a server's CPU goes (README, Benchmarks):
// NIXA_BENCH_PROFILE=<dir> starts nixa and the bare baseline with --cpu-prof,
// their .cpuprofile files written to <dir> when they exit (summarise them with
// `node dist/bench/profile-summary.js <file>`); NIXA_BENCH_ONLY=a,b measures only
// the named scenarios (federated_sign_in, cross_device and fapi2_sign_in included), so a profile holds little else.
import { resolve } from 'node:path';

import { SCENARIOS, type ScenarioName } from './protocol.js';
import type { Role } from './ipc.js';

const PROFILED: readonly Role[] = ['nixa', 'baseline'];

/** Extra node flags for a role's process: --cpu-prof when NIXA_BENCH_PROFILE names a directory. */
export function profileArgs(role: Role, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = env.NIXA_BENCH_PROFILE;
  if (!dir || !PROFILED.includes(role)) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`, `--cpu-prof-name=${role}-${Date.now()}.cpuprofile`];
}

/** The scenarios NIXA_BENCH_ONLY names, or undefined for all of them. */
export function onlyScenarios(env: NodeJS.ProcessEnv = process.env): Set<ScenarioName | 'token_signing'> | undefined {
  const raw = env.NIXA_BENCH_ONLY;
  if (!raw) return undefined;
  const known: readonly string[] = [...SCENARIOS, 'token_signing', 'federated_sign_in', 'cross_device', 'fapi2_sign_in'];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length || !names.length) throw new Error(`NIXA_BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
  // token_signing runs in the orchestrator alone (token-signing.ts), not through the driver.
  return new Set(names as (ScenarioName | 'token_signing')[]);
}
