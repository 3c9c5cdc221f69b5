// The round-trip scenarios: a few sign-in loops side by side, each a returning
// citizen signing in from a fresh browser, until the time or count is used up.
import type { Job, Measurement } from '../protocol.js';
import { federatedSignIn } from './federated-sign-in.js';
import { signIn } from './sign-in.js';
import { summarize } from './summary.js';

/** One sign-in by loop `loop`; `n` counts the sign-ins the job started, from 0. */
type SignInOnce = (loop: number, n: number) => Promise<void>;

function signInFor(job: Job): SignInOnce {
  switch (job.scenario) {
    case 'authorization_code':
      return (loop) => signIn(job.target, `bench-citizen-${loop}`);
    case 'federated_sign_in': {
      const citizens = job.target.federation?.citizens ?? [];
      if (!citizens.length) throw new Error(`${job.target.name} has no citizens to sign in`);
      // Seeding signs each citizen in once; the measured loops keep one citizen each.
      return job.seedConsent
        ? (_loop, n) => federatedSignIn(job.target, citizens[n % citizens.length]!, true)
        : (loop) => federatedSignIn(job.target, citizens[loop % citizens.length]!, false);
    }
    default:
      throw new Error(`${job.scenario} is not a sign-in scenario`);
  }
}

export async function signInLoad(job: Job): Promise<Measurement> {
  const { limit } = job;
  const once = signInFor(job);
  const deadline = 'seconds' in limit ? performance.now() + limit.seconds * 1000 : Number.POSITIVE_INFINITY;
  const total = 'count' in limit ? limit.count : Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let started = 0;
  let failure: unknown;

  const loop = async (index: number) => {
    while (failure === undefined && started < total && performance.now() < deadline) {
      const n = started++;
      const t0 = performance.now();
      try {
        await once(index, n);
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
