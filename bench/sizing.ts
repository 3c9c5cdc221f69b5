// The sizing note, derived from measured CPU per operation (nixa's processes and
// its database's), never from hard-coded rates: what one vCPU does, and what a
// national peak would need. Pure: the numbers in, the figures and text out.

/** One scenario as measured on one instance. */
export interface SizingInput {
  scenario: string;
  /** CPU ms per operation of nixa's processes. */
  nixaMs: number;
  /** CPU ms per operation of its PostgreSQL backends and the server's own processes (WAL writer…). */
  databaseMs: number;
  /** CPU ms per operation of Redis, when it holds the short-lived state (0 otherwise). */
  redisMs: number;
  statementsPerOp: number;
  commitsPerOp: number;
}

export interface SizingRow extends SizingInput {
  /** Operations per second one vCPU of nixa serves (its database elsewhere). */
  nixaPerVcpu: number;
  /** Operations per second one vCPU serves when nixa, PostgreSQL and Redis share it. */
  stackPerVcpu: number;
}

export interface PeakNeed {
  scenario: string;
  perSecond: number;
  nixaVcpus: number;
  /** Instances of one vCPU each, kept at most `targetUtilisation` busy. */
  instances: number;
  databaseVcpus: number;
  redisVcpus: number;
  commitsPerSecond: number;
  statementsPerSecond: number;
}

export function sizingRow(s: SizingInput): SizingRow {
  return { ...s, nixaPerVcpu: 1000 / s.nixaMs, stackPerVcpu: 1000 / (s.nixaMs + s.databaseMs + s.redisMs) };
}

/**
 * What `perSecond` operations need. An instance is counted as one vCPU: nixa
 * runs its requests on one Node.js event loop, so a second core helps an
 * instance little beyond garbage collection and libuv's threads.
 */
export function peakNeed(s: SizingInput, perSecond: number, targetUtilisation: number): PeakNeed {
  const nixaVcpus = (perSecond * s.nixaMs) / 1000;
  return {
    scenario: s.scenario,
    perSecond,
    nixaVcpus,
    instances: Math.ceil(nixaVcpus / targetUtilisation),
    databaseVcpus: (perSecond * s.databaseMs) / 1000,
    redisVcpus: (perSecond * s.redisMs) / 1000,
    commitsPerSecond: perSecond * s.commitsPerOp,
    statementsPerSecond: perSecond * s.statementsPerOp,
  };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const r = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

export function formatSizing(title: string, rows: SizingInput[], signIns: string[], peak: number, targetUtilisation: number): string {
  const lines = [
    `Sizing (${title}; from CPU ms per operation on one instance; the identity source's CPU left out):`,
    '  operation              nixa ms  db ms  redis ms  stmts  commits   ops/s per nixa vCPU   ops/s per vCPU, all on it',
  ];
  for (const row of rows.map(sizingRow)) {
    lines.push(
      `  ${row.scenario.padEnd(22)} ${f(row.nixaMs, 2).padStart(7)} ${f(row.databaseMs, 2).padStart(6)} ${f(row.redisMs, 2).padStart(9)} ${f(row.statementsPerOp).padStart(6)} ${f(row.commitsPerOp, 2).padStart(8)} ${r(row.nixaPerVcpu).padStart(21)} ${r(row.stackPerVcpu).padStart(27)}`,
    );
  }
  lines.push(`  A national peak of ${r(peak)} sign-ins/s (instances of one vCPU at ≤ ${Math.round(targetUtilisation * 100)} % busy):`);
  for (const s of rows.filter((x) => signIns.includes(x.scenario))) {
    const p = peakNeed(s, peak, targetUtilisation);
    lines.push(
      `    all ${s.scenario}: nixa ${f(p.nixaVcpus)} vCPU → ${p.instances} instances; PostgreSQL ${f(p.databaseVcpus)} vCPU, ${r(p.commitsPerSecond)} commits/s, ${r(p.statementsPerSecond)} statements/s` +
        (p.redisVcpus > 0 ? `; Redis ${f(p.redisVcpus)} vCPU` : ''),
    );
  }
  return lines.join('\n');
}
