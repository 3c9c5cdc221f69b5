// The FAPI 2.0 sign-in against the standard one in npm run bench's output: the
// ratio is of nixa's own CPU on both sides (process and database), and the table
// gives each sign-in's rate, latency, CPU, statements and commits.
import { describe, expect, it } from '@jest/globals';

import { fapi2Ratio, formatFapi2, type Fapi2Result, type NixaSide } from '../../bench/report.js';

const side = (perSecond: number, p50Ms: number, p99Ms: number, cpu: { process: number; database: number }, statements: number, commits: number): NixaSide => ({
  completed: perSecond * 5,
  seconds: 5,
  perSecond,
  p50Ms,
  p99Ms,
  cpuMsPerOp: cpu,
  statementsPerOperation: statements,
  commitsPerOperation: commits,
  statementsByTable: {},
  commitsByTable: {},
});

describe('the FAPI 2.0 comparison', () => {
  const standard = side(40, 200, 400, { process: 15, database: 5 }, 16, 9);
  const fapi2 = side(30, 300, 500, { process: 20, database: 10 }, 30, 16);

  it('divides the FAPI 2.0 sign-in by the standard one, CPU as process plus database on both sides', () => {
    expect(fapi2Ratio(fapi2, standard)).toEqual({ throughput: 0.75, p50: 1.5, p99: 1.25, cpu: 1.5 });
  });

  it('prints both sign-ins, the requests each makes, and the ratios with where the CPU went', () => {
    const result: Fapi2Result = {
      concurrency: 8,
      requestsPerSignIn: { standard: 6, fapi2: 7 },
      idTokenAlgs: { standard: 'RS256', fapi2: 'ES256' },
      standard,
      fapi2,
      ratio: fapi2Ratio(fapi2, standard),
    };
    const text = formatFapi2(result);
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('standard '))!.split(/\s{2,}/)).toEqual(['standard', '8', '6', '40.0', '200.0', '400.0', '20.00 (5.00 db)', '16.00', '9.00']);
    expect(lines.find((l) => /^FAPI 2\.0 {2,}\d/.test(l))!.split(/\s{2,}/)).toEqual(['FAPI 2.0', '8', '7', '30.0', '300.0', '500.0', '30.00 (10.00 db)', '30.00', '16.00']);
    expect(text).toContain('FAPI 2.0 / standard: rate 0.75×, CPU per sign-in 1.50× (process 15.00 → 20.00 ms, database 5.00 → 10.00 ms), p50 1.50×, p99 1.25×.');
    expect(text).toContain('(ID token RS256)');
    expect(text).toContain('(ID token ES256)');
  });
});
