// NIXA_BENCH_ONLY: which scenarios a partial run measures.
import { describe, expect, it } from '@jest/globals';

import { onlyScenarios } from '../../bench/profiling.js';

describe('choosing scenarios with NIXA_BENCH_ONLY', () => {
  it('measures everything when unset', () => {
    expect(onlyScenarios({})).toBeUndefined();
  });

  it('accepts the cross-device sign-in beside the others', () => {
    expect(onlyScenarios({ NIXA_BENCH_ONLY: 'cross_device' })).toEqual(new Set(['cross_device']));
    expect(onlyScenarios({ NIXA_BENCH_ONLY: 'jwks, cross_device,federated_sign_in' })).toEqual(new Set(['jwks', 'cross_device', 'federated_sign_in']));
  });

  it('accepts the FAPI 2.0 sign-in, which measures its standard counterpart with it', () => {
    expect(onlyScenarios({ NIXA_BENCH_ONLY: 'fapi2_sign_in' })).toEqual(new Set(['fapi2_sign_in']));
  });

  it('refuses an unknown name, listing the known ones', () => {
    expect(() => onlyScenarios({ NIXA_BENCH_ONLY: 'cross-device' })).toThrow(/unknown scenario\(s\) cross-device \(known: .*federated_sign_in, cross_device, fapi2_sign_in\)/);
  });
});
