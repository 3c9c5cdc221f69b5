// What a run measures and for how long. Defaults keep a whole run to about three minutes.

export interface BenchSettings {
  /** Admin connection to PostgreSQL, used to create and drop the run's database. */
  adminUrl: string;
  /** Measured seconds per scenario and provider. */
  seconds: number;
  /** Unmeasured seconds before each measurement (connections, JIT, caches). */
  warmupSeconds: number;
  /** Keep-alive connections for the single-request scenarios, loops for refresh. */
  connections: number;
  /** Concurrent users (sign-in loops) for the sign-in scenarios of the main table. */
  signInLoops: number;
  /** Concurrent users at which the federated sign-in is measured, on nixa and its bare counterpart. */
  federatedUsers: number[];
  /** Concurrent citizens at which the cross-device sign-in (approval on the phone → the computer continues) is measured. */
  crossDeviceUsers: number[];
  /**
   * Measured seconds per cross-device level and way of polling. Longer than
   * `seconds`: with the page's polling each sign-in waits about a second, so a
   * citizen completes about one a second.
   */
  crossDeviceSeconds: number;
  /** Sign-ins over which nixa's database writes are counted. */
  writeSignIns: number;
  /** Where nixa keeps short-lived protocol state (NIXA_SHORT_LIVED_STORE). */
  store: 'postgres' | 'redis';
  /** NIXA_REDIS_URL, passed to nixa when the store is redis. */
  redisUrl: string;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return n;
}

function positiveIntegers(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} must be positive integers separated by commas (got "${raw}")`);
  return list;
}

function store(env: NodeJS.ProcessEnv): BenchSettings['store'] {
  const raw = env.NIXA_BENCH_STORE || 'postgres';
  if (raw !== 'postgres' && raw !== 'redis') throw new Error(`NIXA_BENCH_STORE must be postgres or redis (got "${raw}")`);
  return raw;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const concurrency = Math.round(positiveNumber(env, 'NIXA_BENCH_CONCURRENCY', 8));
  return {
    adminUrl: env.NIXA_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    seconds: positiveNumber(env, 'NIXA_BENCH_SECONDS', 5),
    warmupSeconds: 1,
    connections: concurrency,
    signInLoops: concurrency,
    federatedUsers: positiveIntegers(env, 'NIXA_BENCH_FEDERATED_USERS', [1, 4, 8, 16]),
    crossDeviceUsers: positiveIntegers(env, 'NIXA_BENCH_CROSS_DEVICE_USERS', [1, 8]),
    crossDeviceSeconds: positiveNumber(env, 'NIXA_BENCH_CROSS_DEVICE_SECONDS', 10),
    writeSignIns: Math.round(positiveNumber(env, 'NIXA_BENCH_WRITE_SIGN_INS', 50)),
    store: store(env),
    redisUrl: env.NIXA_BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
  };
}
