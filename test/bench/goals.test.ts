// Issue 11's goals as npm run bench checks them: met or not from the measured
// figures, and a cause printed for each one not met.
import { checkGoals, formatGoals } from '../../bench/goals.js';
import type { BenchResults, FederatedLevel, ScenarioResult } from '../../bench/report.js';

const side = (perSecond: number, extra: Record<string, unknown> = {}) =>
  ({ completed: 0, seconds: 1, perSecond, p50Ms: 10, p99Ms: 50, cpuMsPerOp: {}, statementsPerOperation: 0, commitsPerOperation: 0, statementsByTable: {}, commitsByTable: {}, ...extra }) as never;

function scenario(name: ScenarioResult['scenario'], nixa: number, bare: number, cpu: number, extra: Record<string, unknown> = {}): ScenarioResult {
  return { scenario: name, concurrency: 8, nixa: side(nixa, extra), baseline: side(bare), ratio: { throughput: nixa / bare, p50: 1, p99: 1, cpu } };
}

function level(users: number, nixa: number, p99Ms: number, stmts: number, commits: number, cpu: number): FederatedLevel {
  return { concurrency: users, nixa: side(nixa, { p99Ms, statementsPerOperation: stmts, commitsPerOperation: commits }), baseline: side(nixa * 2, { p99Ms: 80 }), ratio: { throughput: 0.5, p50: 1, p99: 1, cpu } };
}

function results(over: Partial<BenchResults> = {}): BenchResults {
  return {
    scenarios: [
      scenario('sso_sign_in', 950, 1000, 1.2, { statementsPerOperation: 1, commitsPerOperation: 1 }),
      scenario('client_credentials', 3200, 6000, 2),
      scenario('userinfo', 800, 1000, 1),
      scenario('introspection', 750, 1000, 1),
      scenario('refresh', 850, 1000, 1),
    ],
    federated: { source: 's', citizens: 6, requestsPerSignIn: { nixa: 10, baseline: 10 }, levels: [level(1, 20, 60, 7, 2, 1.8), level(8, 60, 90, 7, 2, 1.9), level(16, 70, 150, 7, 2, 2)] },
    nixaMemory: { rssMb: 240, peakRssMb: 260 },
    ...over,
  } as BenchResults;
}

describe("issue 11's goals in npm run bench", () => {
  it('marks every goal met when the figures meet it, with no cause printed', () => {
    const checks = checkGoals(results());
    expect(checks.filter((c) => !c.met).map((c) => c.goal)).toEqual([]);
    expect(checks).toHaveLength(12);
    expect(formatGoals(checks)).not.toContain('cause:');
  });

  it('names each goal missed with its measured figure and a cause', () => {
    const r = results({
      scenarios: [scenario('sso_sign_in', 600, 1000, 1.9, { statementsPerOperation: 4, commitsPerOperation: 1 }), scenario('introspection', 500, 1000, 2)],
      federated: { source: 's', citizens: 6, requestsPerSignIn: { nixa: 10, baseline: 10 }, levels: [level(1, 20, 60, 9, 3, 3), level(8, 19, 180, 9, 3, 3.1)] },
      nixaMemory: { rssMb: 308, peakRssMb: 310 },
    });
    const missed = checkGoals(r).filter((c) => !c.met);
    expect(missed.map((c) => c.goal)).toEqual([
      'SSO sign-in ≥ 0.9× the bare rate',
      'SSO sign-in ≤ 1.3× the bare CPU per op',
      'SSO sign-in ≤ 3 statements and ≤ 1 commit',
      'introspection ≥ 0.7× the bare rate',
      "federated sign-in: nixa's CPU ≤ 2× the bare pair's",
      'federated sign-in ≤ 8 statements and ≤ 2 commits',
      'federated sign-in p99 at 8 users ≤ 100 ms',
      'federated throughput rising up to 8 users',
      'resident memory ≤ 250 MB after the run',
    ]);
    const text = formatGoals(checkGoals(r));
    expect(text).toContain('NOT MET  SSO sign-in ≥ 0.9× the bare rate: 0.60×');
    expect(text).toContain('NOT MET  resident memory ≤ 250 MB after the run: 308 MB');
    expect(text.match(/cause: /g)?.length).toBeGreaterThanOrEqual(6);
  });
});
