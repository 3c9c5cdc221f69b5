// The loop scenarios: a few loops side by side, each waiting for its answer
// before its next operation, until the time or count is used up. Sign-ins (a
// returning citizen from a fresh browser, SSO from a signed-in one) and refresh
// with rotation (each loop keeps its latest refresh token), and the cross-device
// sign-in (each loop a citizen with a bound phone), timed from the phone's
// approval to the computer continuing rather than whole; the FAPI 2.0 sign-in
// (PAR, private_key_jwt, DPoP) and its standard counterpart, each with one
// userinfo call.
import type { Job, Measurement } from '../protocol.js';
import { bareFederatedSignIn } from './bare-federated-sign-in.js';
import type { Browser } from './browser.js';
import { bindPhone, crossDeviceSignIn, type BoundPhone } from './cross-device-sign-in.js';
import { fapi2Service, fapi2SignIn } from './fapi2-sign-in.js';
import { federatedSignIn } from './federated-sign-in.js';
import { preparedFor } from './prepared.js';
import { bearerUserinfo, signIn, tokenRequest } from './sign-in.js';
import { signedInBrowser, ssoSignIn } from './sso-sign-in.js';
import { summarize } from './summary.js';

/** A scenario as loops run it: per-loop setup (untimed), then one operation at a time. */
interface LoopOps<S> {
  prepare(loop: number): Promise<S>;
  /**
   * One operation by loop `loop`; `n` counts the operations the job started, from
   * 0. Resolves to the milliseconds to count for it when that is not its whole time.
   */
  once(state: S, loop: number, n: number): Promise<void | number>;
}

const none = () => Promise.resolve(undefined);

function opsFor(job: Job): LoopOps<unknown> {
  const { target } = job;
  const key = (what: string, loop: number) => `${target.origin} ${what} ${loop}`;
  switch (job.scenario) {
    case 'authorization_code':
      return job.userinfo
        ? { prepare: none, once: async (_s, loop) => bearerUserinfo(target.origin, await signIn(target, `bench-citizen-${loop}`)) }
        : { prepare: none, once: (_s, loop) => signIn(target, `bench-citizen-${loop}`).then(() => {}) };
    case 'fapi2_sign_in':
      // The same returning accounts as authorization_code's loops, through the FAPI 2.0 service.
      return {
        prepare: () => fapi2Service(target),
        once: (config, loop) => fapi2SignIn(target, config as Awaited<ReturnType<typeof fapi2Service>>, `bench-citizen-${loop}`),
      } as LoopOps<unknown>;
    case 'sso_sign_in':
      return {
        prepare: (loop) => preparedFor(key('sso', loop), () => signedInBrowser(target, `bench-citizen-${loop}`)),
        once: (browser, _loop) => ssoSignIn(target, browser as Browser),
      } as LoopOps<unknown>;
    case 'refresh':
      return {
        // offline_access is granted only with prompt=consent (OpenID Connect Core §11).
        prepare: (loop) =>
          preparedFor(key('refresh', loop), async () => {
            const tokens = await signIn(target, `bench-citizen-${loop}`, { scope: 'openid offline_access', extra: { prompt: 'consent' } });
            if (!tokens.refresh_token) throw new Error(`${target.name} issued no refresh token for offline_access`);
            return { refreshToken: tokens.refresh_token };
          }),
        once: async (state) => {
          const s = state as { refreshToken: string };
          const tokens = await tokenRequest(target.origin, target.webClient, { grant_type: 'refresh_token', refresh_token: s.refreshToken });
          if (!tokens.refresh_token || tokens.refresh_token === s.refreshToken) throw new Error(`${target.name} did not rotate the refresh token`);
          s.refreshToken = tokens.refresh_token;
        },
      };
    case 'federated_sign_in': {
      const citizens = target.federation?.citizens ?? [];
      if (!citizens.length) throw new Error(`${target.name} has no citizens to sign in`);
      if (target.name === 'federated baseline') return { prepare: none, once: (_s, loop) => bareFederatedSignIn(target, citizens[loop % citizens.length]!) };
      // Seeding signs each citizen in once; the measured loops keep one citizen each.
      return job.seedConsent
        ? { prepare: none, once: (_s, _loop, n) => federatedSignIn(target, citizens[n % citizens.length]!, true) }
        : { prepare: none, once: (_s, loop) => federatedSignIn(target, citizens[loop % citizens.length]!, false) };
    }
    case 'cross_device': {
      const citizens = target.federation?.citizens ?? [];
      if (!citizens.length) throw new Error(`${target.name} has no citizens to bind phones to`);
      const poll = job.poll ?? 'page';
      // Loop i is the phone of citizens[i % length] (an account binds a few phones), bound once and kept.
      // A citizen's second phone is bound after the first: their first sign-ins would race to the consent.
      const phoneOf = (loop: number): Promise<BoundPhone> =>
        preparedFor(key('phone', loop), async () => {
          if (loop >= citizens.length) await phoneOf(loop - citizens.length);
          return bindPhone(target, citizens[loop % citizens.length]!, `Điện thoại ${loop + 1}`);
        });
      return {
        prepare: phoneOf,
        once: (phone) => crossDeviceSignIn(target, phone as BoundPhone, poll),
      } as LoopOps<unknown>;
    }
    default:
      throw new Error(`${job.scenario} is not a loop scenario`);
  }
}

export async function signInLoad(job: Job): Promise<Measurement> {
  const { limit } = job;
  const ops = opsFor(job);
  const states = await Promise.all(Array.from({ length: job.concurrency }, (_, i) => ops.prepare(i)));
  const deadline = 'seconds' in limit ? performance.now() + limit.seconds * 1000 : Number.POSITIVE_INFINITY;
  const total = 'count' in limit ? limit.count : Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let started = 0;
  let failure: unknown;

  const loop = async (index: number) => {
    while (failure === undefined && started < total && performance.now() < deadline) {
      const n = started++;
      const t0 = performance.now();
      let counted: void | number;
      try {
        counted = await ops.once(states[index], index, n);
      } catch (err) {
        failure ??= err;
        return;
      }
      latencies.push(typeof counted === 'number' ? counted : performance.now() - t0);
    }
  };

  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, (_, i) => loop(i)));
  if (failure !== undefined) throw failure;
  return summarize(latencies, (performance.now() - t0) / 1000);
}
