// What a run measures, from the environment: the cross-device sign-in's levels and length.
import { describe, expect, it } from '@jest/globals';

import { readSettings } from '../../bench/settings.js';

describe("the benchmark's settings for the cross-device sign-in", () => {
  it('measures 1 and 8 concurrent citizens for 10 s each by default, apart from the other scenarios’ length', () => {
    const s = readSettings({ NIXA_BENCH_SECONDS: '3' });
    expect(s.crossDeviceUsers).toEqual([1, 8]);
    expect(s.crossDeviceSeconds).toBe(10);
    expect(s.seconds).toBe(3);
  });

  it('takes other levels and another length from the environment', () => {
    const s = readSettings({ NIXA_BENCH_CROSS_DEVICE_USERS: '2, 4,16', NIXA_BENCH_CROSS_DEVICE_SECONDS: '4.5' });
    expect(s.crossDeviceUsers).toEqual([2, 4, 16]);
    expect(s.crossDeviceSeconds).toBe(4.5);
  });

  it('refuses levels and lengths that are not positive', () => {
    expect(() => readSettings({ NIXA_BENCH_CROSS_DEVICE_USERS: '1,0' })).toThrow(/NIXA_BENCH_CROSS_DEVICE_USERS must be positive integers/);
    expect(() => readSettings({ NIXA_BENCH_CROSS_DEVICE_USERS: '1.5' })).toThrow(/NIXA_BENCH_CROSS_DEVICE_USERS/);
    expect(() => readSettings({ NIXA_BENCH_CROSS_DEVICE_SECONDS: '-2' })).toThrow(/NIXA_BENCH_CROSS_DEVICE_SECONDS must be a positive number/);
  });
});
