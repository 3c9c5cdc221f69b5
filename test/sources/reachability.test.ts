// The probe asked when a citizen picks a source: one per source for a few seconds
// whatever the crowd, a short timeout, and each failure recorded once.
import { jest } from '@jest/globals';

import { silentLogger } from '../../src/logging/index.js';
import { PICK_PROBE_TIMEOUT_MS, Reachability } from '../../src/sources/index.js';

const telecom = { id: 'sim-telecom', discoveryUrl: 'http://127.0.0.1:4002/.well-known/openid-configuration', timeoutMs: 5000 };
const bank = { id: 'sim-bank', discoveryUrl: 'http://127.0.0.1:4003/.well-known/openid-configuration', timeoutMs: 800 };

function setup(answer: (url: string) => string | null) {
  let now = 1_000_000;
  const probes: { url: string; timeoutMs: number }[] = [];
  const failures: [string, string][] = [];
  const r = new Reachability(
    {
      now: () => now,
      probe: async ({ discoveryUrl, timeoutMs }) => {
        probes.push({ url: discoveryUrl, timeoutMs });
        await new Promise((res) => setTimeout(res, 10));
        return answer(discoveryUrl);
      },
      onFailure: async (id, problem) => void failures.push([id, problem]),
    },
    silentLogger,
  );
  return { r, probes, failures, advance: (ms: number) => (now += ms) };
}

it('probes a source once for a crowd of citizens picking it at the same moment', async () => {
  const { r, probes } = setup(() => null);
  const answers = await Promise.all(Array.from({ length: 50 }, () => r.check(telecom)));
  expect(answers.every((a) => a === null)).toBe(true);
  expect(probes).toHaveLength(1);
});

it('reuses the answer for five seconds, then probes again', async () => {
  const { r, probes, advance } = setup(() => null);
  await r.check(telecom);
  advance(4_999);
  await r.check(telecom);
  expect(probes).toHaveLength(1);
  advance(2);
  await r.check(telecom);
  expect(probes).toHaveLength(2);
});

it('keeps each source’s answer apart', async () => {
  const { r, probes } = setup((url) => (url.includes('4003') ? 'discovery answered HTTP 503' : null));
  expect(await r.check(telecom)).toBeNull();
  expect(await r.check(bank)).toBe('discovery answered HTTP 503');
  expect(await r.check(telecom)).toBeNull();
  expect(probes.map((p) => p.url)).toEqual([telecom.discoveryUrl, bank.discoveryUrl]);
});

it('waits at most the pick timeout, or the source’s own timeout when shorter', async () => {
  const { r, probes } = setup(() => null);
  await r.check(telecom);
  await r.check(bank);
  expect(probes.map((p) => p.timeoutMs)).toEqual([PICK_PROBE_TIMEOUT_MS, 800]);
  expect(PICK_PROBE_TIMEOUT_MS).toBeLessThanOrEqual(2_000);
});

it('records a failure once per probe, not once per citizen, saying it was found at a pick', async () => {
  const { r, failures } = setup(() => 'no answer within 2000 ms');
  await Promise.all(Array.from({ length: 10 }, () => r.check(telecom)));
  expect(failures).toEqual([['sim-telecom', 'when picked: no answer within 2000 ms']]);
});

it('still answers "not answering" when the failure cannot be recorded', async () => {
  const r = new Reachability({ probe: async () => 'ECONNREFUSED', onFailure: () => Promise.reject(new Error('database down')) }, silentLogger);
  await expect(r.check(telecom)).resolves.toBe('ECONNREFUSED');
});

it('probes again at once a source it was told to forget (it recovered)', async () => {
  let down = true;
  const { r, probes } = setup(() => (down ? 'discovery answered HTTP 503' : null));
  expect(await r.check(telecom)).not.toBeNull();
  down = false;
  expect(await r.check(telecom)).not.toBeNull();
  r.forget(telecom.id);
  expect(await r.check(telecom)).toBeNull();
  expect(probes).toHaveLength(2);
});

it('uses the discovery document by default, with the timeout it was given', async () => {
  const fetchSpy = jest.spyOn(globalThis, 'fetch').mockRejectedValue(Object.assign(new Error('fetch failed'), { cause: new Error('connect ECONNREFUSED') }));
  try {
    const r = new Reachability({ onFailure: async () => undefined }, silentLogger);
    expect(await r.check(telecom)).toBe('fetch failed: connect ECONNREFUSED');
    expect(String(fetchSpy.mock.calls[0]![0])).toBe(telecom.discoveryUrl);
  } finally {
    fetchSpy.mockRestore();
  }
});
