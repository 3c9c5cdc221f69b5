// The lockout policy as pure functions: delays, locks, doubling, forgetting, and
// how client addresses are counted. No database.
import { randomBytes } from 'node:crypto';

import {
  addressKey,
  afterFailure,
  afterSuccess,
  clientAddress,
  isForgettable,
  lockSeconds,
  LOCKOUT_POLICY,
  NO_ATTEMPTS,
  waitBeforeNextAttempt,
  waitInWords,
  type AttemptState,
  type ScopePolicy,
} from '../../src/factors/attempts.js';

const ACCOUNT = LOCKOUT_POLICY.account;
const IP = LOCKOUT_POLICY.ip;
const T0 = new Date('2025-09-02T08:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** Fails at each of the given times (seconds after T0); returns the final state and the locks placed. */
function failAt(policy: ScopePolicy, times: number[], start: AttemptState = NO_ATTEMPTS) {
  let state = start;
  const locks: number[] = [];
  for (const t of times) {
    const out = afterFailure(policy, state, at(t));
    state = out.state;
    if (out.lock) locks.push(out.lock.seconds);
  }
  return { state, locks };
}

describe('lockout policy for an account', () => {
  it('states its numbers: 5 failures in 15 minutes lock for 5 minutes, with waits of 2, 4 and 8 seconds before', () => {
    expect(ACCOUNT).toEqual({
      windowSeconds: 900,
      lockAfter: 5,
      delaysSeconds: [0, 2, 4, 8],
      firstLockSeconds: 300,
      maxLockSeconds: 86_400,
      forgetLocksAfterSeconds: 86_400,
    });
  });

  it('lets a single typing slip go without a wait, then makes each further wrong code wait longer', () => {
    const waits: number[] = [];
    let state = NO_ATTEMPTS;
    for (let i = 0; i < 4; i += 1) {
      state = afterFailure(ACCOUNT, state, T0).state;
      waits.push(waitBeforeNextAttempt(ACCOUNT, state, T0).seconds);
    }
    expect(waits).toEqual([0, 2, 4, 8]);
    expect(waitBeforeNextAttempt(ACCOUNT, state, at(7))).toEqual({ seconds: 1, locked: false });
    expect(waitBeforeNextAttempt(ACCOUNT, state, at(8))).toEqual({ seconds: 0, locked: false });
  });

  it('locks at the fifth failure within the window, for 5 minutes, and says so', () => {
    const { state, locks } = failAt(ACCOUNT, [0, 10, 20, 30, 40]);
    expect(locks).toEqual([300]);
    expect(state.lockedUntil).toEqual(at(340));
    expect(waitBeforeNextAttempt(ACCOUNT, state, at(40))).toEqual({ seconds: 300, locked: true });
    expect(waitBeforeNextAttempt(ACCOUNT, state, at(339.2))).toEqual({ seconds: 1, locked: true });
    expect(waitBeforeNextAttempt(ACCOUNT, state, at(340))).toEqual({ seconds: 0, locked: false });
  });

  it('forgets failures older than the window: five failures spread over more than 15 minutes do not lock', () => {
    const { state, locks } = failAt(ACCOUNT, [0, 240, 480, 720, 960]);
    expect(locks).toEqual([]);
    // The fifth opened a new window.
    expect(state.failures).toBe(1);
    expect(state.windowStartedAt).toEqual(at(960));
  });

  it('doubles each repeat lock and caps it at a day', () => {
    expect([0, 1, 2, 3, 4, 8, 9, 50, 2000].map((n) => lockSeconds(ACCOUNT, n))).toEqual([
      300, 600, 1200, 2400, 4800, 76_800, 86_400, 86_400, 86_400,
    ]);
    // Through the state: after the first lock ends, five more failures lock for twice as long.
    const first = failAt(ACCOUNT, [0, 10, 20, 30, 40]);
    const second = failAt(ACCOUNT, [340, 350, 360, 370, 380], first.state);
    expect(second.locks).toEqual([600]);
    expect(second.state.lockCount).toBe(2);
  });

  it('forgets the lock history a day after the last lock ended', () => {
    const first = failAt(ACCOUNT, [0, 10, 20, 30, 40]); // locked until 340
    // The next lock falls 23 h 59 min 59 s after the first ended: still remembered.
    const fiveEndingAt = (t: number) => [t - 40, t - 30, t - 20, t - 10, t];
    expect(failAt(ACCOUNT, fiveEndingAt(340 + 86_399), first.state).locks).toEqual([600]);
    expect(failAt(ACCOUNT, fiveEndingAt(340 + 86_400), first.state).locks).toEqual([300]);
  });

  it('does not count failures during a lock, so nobody can lengthen a lock by trying', () => {
    const { state } = failAt(ACCOUNT, [0, 10, 20, 30, 40]);
    expect(afterFailure(ACCOUNT, state, at(100))).toEqual({ state });
  });

  it('forgets failures and lock history after a correct code, but keeps a lock in force', () => {
    const some = failAt(ACCOUNT, [0, 10, 20]).state;
    expect(afterSuccess(some)).toEqual(NO_ATTEMPTS);
    const locked = failAt(ACCOUNT, [0, 10, 20, 30, 40]).state;
    expect(afterSuccess(locked)).toEqual({ ...NO_ATTEMPTS, lockedUntil: at(340) });
  });

  it('lets a row go once it remembers nothing: no lock, window closed, lock history forgotten', () => {
    const some = failAt(ACCOUNT, [0]).state;
    expect(isForgettable(ACCOUNT, some, at(899))).toBe(false);
    expect(isForgettable(ACCOUNT, some, at(900))).toBe(true);
    const locked = failAt(ACCOUNT, [0, 10, 20, 30, 40]).state;
    expect(isForgettable(ACCOUNT, locked, at(400))).toBe(false); // lock still recorded
    const lifted = { ...locked, lockedUntil: null };
    expect(isForgettable(ACCOUNT, lifted, at(340 + 86_399))).toBe(false);
    expect(isForgettable(ACCOUNT, lifted, at(340 + 86_400))).toBe(true);
  });
});

describe('lockout policy for a client address', () => {
  it('tolerates more failures (carrier-grade NAT), without delays, and caps its lock at an hour', () => {
    const nineteen = failAt(IP, Array.from({ length: 19 }, (_, i) => i));
    expect(nineteen.locks).toEqual([]);
    expect(waitBeforeNextAttempt(IP, nineteen.state, at(19))).toEqual({ seconds: 0, locked: false });
    expect(afterFailure(IP, nineteen.state, at(19)).lock?.seconds).toBe(300);
    expect([0, 1, 2, 3, 4].map((n) => lockSeconds(IP, n))).toEqual([300, 600, 1200, 2400, 3600]);
  });
});

describe('client addresses', () => {
  it('counts IPv4 as is, and IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(clientAddress('203.113.131.7')).toBe('203.113.131.7');
    expect(clientAddress('::ffff:203.113.131.7')).toBe('203.113.131.7');
    expect(clientAddress(' 203.113.131.7 ')).toBe('203.113.131.7');
  });

  it('counts IPv6 by /64, whatever the spelling, so one subscriber cannot rotate addresses inside it', () => {
    const a = clientAddress('2001:ee0:4f1c:2a10::1');
    expect(a).toBe('2001:ee0:4f1c:2a10::/64');
    expect(clientAddress('2001:0EE0:4F1C:2A10:ABCD:1234:5678:9ABC')).toBe(a);
    expect(clientAddress('2001:ee0:4f1c:2a10:0:0:0:1%eth0')).toBe(a);
    expect(clientAddress('2001:ee0:4f1c:2a11::1')).not.toBe(a);
    expect(clientAddress('::1')).toBe('0:0:0:0::/64');
    expect(clientAddress('64:ff9b::203.113.131.7')).toBe('64:ff9b:0:0::/64');
  });

  it('counts anything that is not an address as itself', () => {
    expect(clientAddress('')).toBe('other:');
    expect(clientAddress('unknown')).toBe('other:unknown');
  });

  it('stores an address only as a keyed hash', () => {
    const key = randomBytes(32);
    const k = addressKey('203.113.131.7', key);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(k).toBe(addressKey('::ffff:203.113.131.7', key));
    expect(k).not.toBe(addressKey('203.113.131.7', randomBytes(32)));
    // Not the address in any spelling (a random hex digest may contain "203" by chance, so look for the whole address).
    for (const spelling of ['203.113.131.7', Buffer.from([203, 113, 131, 7]).toString('hex')]) expect(k).not.toContain(spelling);
  });
});

describe('the wait in plain words', () => {
  it.each([
    [1, '1 giây', '1 second'],
    [0.2, '1 giây', '1 second'],
    [8, '8 giây', '8 seconds'],
    [60, '1 phút', '1 minute'],
    [61, '2 phút', '2 minutes'],
    [300, '5 phút', '5 minutes'],
    [3600, '1 giờ', '1 hour'],
    [5400, '1 giờ 30 phút', '1 hour 30 minutes'],
    [86_400, '24 giờ', '24 hours'],
  ])('%s s → "%s" / "%s" (rounded up, never less than the real wait)', (seconds, vi, en) => {
    expect(waitInWords(seconds)).toEqual({ vi, en });
  });
});
