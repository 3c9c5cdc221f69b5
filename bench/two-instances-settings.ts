// What `node dist/bench/two-instances.js` measures and for how long; the rest
// (database, Redis URL, seconds per measurement) comes from the main bench's settings.
import { readSettings, type BenchSettings } from './settings.js';

export interface TwoInstanceSettings {
  base: BenchSettings;
  /** The short-lived stores to run with, in turn (NIXA_BENCH_TWO_STORES, default redis,postgres). */
  stores: BenchSettings['store'][];
  /** Concurrent users for the sign-ins, and connections for the token requests, on one and on two instances alike. */
  concurrency: number;
  /** A federated run this long on both instances before their memory is read again (0: none). */
  sustainedSeconds: number;
  /** The national peak the sizing note scales to, sign-ins per second. */
  peakSignInsPerSecond: number;
  /** How busy an instance's CPU may be at the peak, for the sizing note. */
  targetUtilisation: number;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, ok: (n: number) => boolean): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!ok(n)) throw new Error(`${name} is out of range (got "${raw}")`);
  return n;
}

export function readTwoInstanceSettings(env: NodeJS.ProcessEnv = process.env): TwoInstanceSettings {
  const stores = (env.NIXA_BENCH_TWO_STORES || 'redis,postgres').split(',').map((s) => s.trim());
  for (const s of stores) if (s !== 'redis' && s !== 'postgres') throw new Error(`NIXA_BENCH_TWO_STORES: redis or postgres, comma-separated (got "${s}")`);
  return {
    base: readSettings(env),
    stores: stores as BenchSettings['store'][],
    concurrency: number(env, 'NIXA_BENCH_TWO_CONCURRENCY', 16, (n) => Number.isInteger(n) && n > 0),
    sustainedSeconds: number(env, 'NIXA_BENCH_SUSTAINED_SECONDS', 60, (n) => Number.isFinite(n) && n >= 0),
    peakSignInsPerSecond: number(env, 'NIXA_BENCH_PEAK_SIGN_INS', 5000, (n) => Number.isFinite(n) && n > 0),
    targetUtilisation: 0.7,
  };
}
