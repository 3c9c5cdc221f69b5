import { describe, expect, it } from '@jest/globals';

import { formatSizing, peakNeed, sizingRow, type SizingInput } from '../../bench/sizing.js';

const federated: SizingInput = { scenario: 'federated_sign_in', nixaMs: 4, databaseMs: 1, redisMs: 0, statementsPerOp: 12, commitsPerOp: 3 };

describe('the sizing note', () => {
  it('derives operations per vCPU from the measured CPU per operation', () => {
    const row = sizingRow(federated);
    expect(row.nixaPerVcpu).toBeCloseTo(250);
    expect(row.stackPerVcpu).toBeCloseTo(200);
  });

  it('scales a peak to instances at the target utilisation, rounding up, and to commits per second', () => {
    const need = peakNeed(federated, 5000, 0.7);
    expect(need.nixaVcpus).toBeCloseTo(20);
    expect(need.instances).toBe(29); // 20 / 0.7 = 28.6
    expect(need.databaseVcpus).toBeCloseTo(5);
    expect(need.commitsPerSecond).toBe(15000);
  });

  it('prints a dash, not Infinity, for an operation that used no measurable CPU', () => {
    const text = formatSizing('t', [{ ...federated, scenario: 'jwks', nixaMs: 0, databaseMs: 0 }], [], 5000, 0.7);
    expect(text).not.toContain('Infinity');
  });
});
