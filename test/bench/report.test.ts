// The cross-device sign-in's table in npm run bench's output.
import { describe, expect, it } from '@jest/globals';

import { formatCrossDevice, pollTitle, type CrossDeviceResult, type NixaSide } from '../../bench/report.js';

const side = (completed: number, perSecond: number, p50Ms: number, p99Ms: number): NixaSide => ({
  completed,
  seconds: completed / perSecond,
  perSecond,
  p50Ms,
  p99Ms,
  cpuMsPerOp: { process: 40.5, database: 12.25 },
  statementsPerOperation: 53.4,
  commitsPerOperation: 15,
  statementsByTable: {},
  commitsByTable: {},
});

describe('the cross-device table', () => {
  const result: CrossDeviceResult = {
    pollMilliseconds: 1000,
    citizens: 6,
    levels: [
      { concurrency: 1, poll: 'page', nixa: side(7, 0.7, 512.34, 998.1) },
      { concurrency: 1, poll: 'immediate', nixa: side(120, 12, 31.8, 97.26) },
    ],
  };

  it('names the way of polling by the page’s interval', () => {
    expect(pollTitle('page', 1000)).toBe('every 1000 ms');
    expect(pollTitle('immediate', 1000)).toBe('at once');
  });

  it('gives, per level, the sign-ins measured, approval → continue p50 and p99, and CPU per sign-in', () => {
    const lines = formatCrossDevice(result).split('\n');
    const page = lines.find((l) => l.startsWith('every 1000 ms'))!;
    expect(page.split(/\s{2,}/)).toEqual(['every 1000 ms', '1', '0.7', '7', '512.3', '998.1', '52.75 (12.25 db)', '53.40', '15.00']);
    const immediate = lines.find((l) => l.startsWith('at once'))!;
    expect(immediate.split(/\s{2,}/)).toEqual(['at once', '1', '12.0', '120', '31.8', '97.3', '52.75 (12.25 db)', '53.40', '15.00']);
    expect(formatCrossDevice(result)).toContain('(6 citizens;');
  });
});
