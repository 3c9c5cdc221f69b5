// The round-trip scenario: a few sign-in loops side by side, each a returning
// citizen signing in from a fresh browser, until the time or count is used up.
import type { Job, Measurement } from '../protocol.js';
import { signIn } from './sign-in.js';
import { summarize } from './summary.js';

export async function signInLoad(job: Job): Promise<Measurement> {
  const { limit, target } = job;
  const deadline = 'seconds' in limit ? performance.now() + limit.seconds * 1000 : Number.POSITIVE_INFINITY;
  const total = 'count' in limit ? limit.count : Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let started = 0;
  let failure: unknown;

  const loop = async (index: number) => {
    while (failure === undefined && started < total && performance.now() < deadline) {
      started += 1;
      const t0 = performance.now();
      try {
        await signIn(target, `bench-citizen-${index}`);
      } catch (err) {
        failure ??= err;
        return;
      }
      latencies.push(performance.now() - t0);
    }
  };

  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, (_, i) => loop(i)));
  if (failure !== undefined) throw failure;
  return summarize(latencies, (performance.now() - t0) / 1000);
}
