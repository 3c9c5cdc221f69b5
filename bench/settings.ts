// What a run measures and for how long. Defaults keep a whole run under two minutes.

export interface BenchSettings {
  /** Admin connection to PostgreSQL, used to create and drop the run's database. */
  adminUrl: string;
  /** Measured seconds per scenario and provider. */
  seconds: number;
  /** Unmeasured seconds before each measurement (connections, JIT, caches). */
  warmupSeconds: number;
  /** Keep-alive connections for the single-request scenarios. */
  connections: number;
  /** Concurrent sign-in loops for the round trip. */
  signInLoops: number;
  /** Sign-ins over which nixa's database writes are counted. */
  writeSignIns: number;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return n;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    adminUrl: env.NIXA_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    seconds: positiveNumber(env, 'NIXA_BENCH_SECONDS', 5),
    warmupSeconds: 1,
    connections: 8,
    signInLoops: 4,
    writeSignIns: Math.round(positiveNumber(env, 'NIXA_BENCH_WRITE_SIGN_INS', 100)),
  };
}
