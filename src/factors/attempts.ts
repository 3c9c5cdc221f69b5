// Brute-force protection policy: how many wrong second-factor codes an account or
// a client address may send, how long it then waits, and how repeat locks grow.
// Pure: a state comes in, the next state goes out; lockout.ts stores it in
// PostgreSQL so that every instance enforces the same counters.
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

export type AttemptScope = 'account' | 'ip';

export interface ScopePolicy {
  /** Failures are counted in a window that opens at the first one; older failures are forgotten. */
  windowSeconds: number;
  /** The failure, within one window, that locks. */
  lockAfter: number;
  /** Wait imposed after the 1st, 2nd, … failure of a window, before the lock (missing entries: none). */
  delaysSeconds: readonly number[];
  /** The first lock lasts this long; each consecutive lock doubles it, up to maxLockSeconds. */
  firstLockSeconds: number;
  maxLockSeconds: number;
  /** A lock that ended longer ago than this no longer makes the next one longer. */
  forgetLocksAfterSeconds: number;
}

export type LockoutPolicy = Record<AttemptScope, ScopePolicy>;

const MINUTE = 60;
const HOUR = 60 * MINUTE;

/**
 * Per account: a typing slip costs nothing, then each wrong code makes the citizen
 * wait longer, and the fifth within 15 minutes locks for 5 minutes, doubling on
 * each repeat up to a day (5, 10, 20 … minutes; the history is forgotten a day
 * after the last lock ends). A sustained attacker gets about 50 codes in the first
 * two days, then about five a day, each with 3 chances in a million (three codes
 * are valid at a time, ±1 step). A code is asked only for step-up, after a
 * sign-in at a source, so locking an account needs that sign-in first: a stranger
 * cannot lock a citizen out.
 *
 * Per client address: many citizens share one address behind carrier-grade NAT,
 * so the threshold is higher, there are no delays, and the lock is capped at an
 * hour. It stops one address from trying a few codes on each of many accounts.
 */
export const LOCKOUT_POLICY: LockoutPolicy = {
  account: {
    windowSeconds: 15 * MINUTE,
    lockAfter: 5,
    delaysSeconds: [0, 2, 4, 8],
    firstLockSeconds: 5 * MINUTE,
    maxLockSeconds: 24 * HOUR,
    forgetLocksAfterSeconds: 24 * HOUR,
  },
  ip: {
    windowSeconds: 15 * MINUTE,
    lockAfter: 20,
    delaysSeconds: [],
    firstLockSeconds: 5 * MINUTE,
    maxLockSeconds: HOUR,
    forgetLocksAfterSeconds: 24 * HOUR,
  },
};

export interface AttemptState {
  /** Failures in the current window. */
  failures: number;
  windowStartedAt: Date | null;
  lastFailureAt: Date | null;
  /** The lock in force, or an expired one whose lifting is not yet recorded. */
  lockedUntil: Date | null;
  /** Consecutive locks so far. */
  lockCount: number;
  lastLockEndsAt: Date | null;
}

export const NO_ATTEMPTS: AttemptState = Object.freeze({
  failures: 0,
  windowStartedAt: null,
  lastFailureAt: null,
  lockedUntil: null,
  lockCount: 0,
  lastLockEndsAt: null,
});

const seconds = (ms: number) => Math.ceil(ms / 1000);
const plus = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

/** How long a lock lasts when `priorLocks` consecutive locks came before it. */
export function lockSeconds(policy: ScopePolicy, priorLocks: number): number {
  // 2 ** priorLocks overflows to Infinity long after the cap applies; min() keeps it finite.
  return Math.min(policy.firstLockSeconds * 2 ** priorLocks, policy.maxLockSeconds);
}

export function isLocked(state: AttemptState, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil > now;
}

/** A lock whose time is over but which is still recorded as in force: its lifting is to be recorded. */
export function lockHasExpired(state: AttemptState, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil <= now;
}

/** The state once an expired lock is lifted: the lock history stays, for doubling. */
export function liftExpiredLock(state: AttemptState): AttemptState {
  return { ...state, lockedUntil: null };
}

export interface Wait {
  /** Whole seconds before the next attempt is allowed; 0 when it is allowed now. */
  seconds: number;
  /** true for a lock, false for a growing delay between attempts. */
  locked: boolean;
}

export function waitBeforeNextAttempt(policy: ScopePolicy, state: AttemptState, now: Date): Wait {
  if (isLocked(state, now)) return { seconds: seconds(state.lockedUntil!.getTime() - now.getTime()), locked: true };
  if (state.failures > 0 && state.lastFailureAt) {
    const until = plus(state.lastFailureAt, policy.delaysSeconds[state.failures - 1] ?? 0);
    if (until > now) return { seconds: seconds(until.getTime() - now.getTime()), locked: false };
  }
  return { seconds: 0, locked: false };
}

export interface FailureOutcome {
  state: AttemptState;
  /** Set when this failure locked: how long, and until when. */
  lock?: { seconds: number; until: Date };
}

/**
 * Counts one wrong code. Call only when an attempt was allowed; a failure during
 * a lock is not counted, so that nobody can lengthen someone else's lock.
 */
export function afterFailure(policy: ScopePolicy, state: AttemptState, now: Date): FailureOutcome {
  if (isLocked(state, now)) return { state };
  const windowOpen = state.windowStartedAt !== null && now.getTime() - state.windowStartedAt.getTime() < policy.windowSeconds * 1000;
  const failures = windowOpen ? state.failures + 1 : 1;
  const windowStartedAt = windowOpen ? state.windowStartedAt : now;
  if (failures < policy.lockAfter) return { state: { ...state, failures, windowStartedAt, lastFailureAt: now } };

  const remembered =
    state.lastLockEndsAt !== null && now.getTime() - state.lastLockEndsAt.getTime() < policy.forgetLocksAfterSeconds * 1000;
  const priorLocks = remembered ? state.lockCount : 0;
  const lockFor = lockSeconds(policy, priorLocks);
  const until = plus(now, lockFor);
  return {
    // The lock starts a fresh window: after it, the full allowance again (then a longer lock).
    state: { failures: 0, windowStartedAt: null, lastFailureAt: now, lockedUntil: until, lockCount: priorLocks + 1, lastLockEndsAt: until },
    lock: { seconds: lockFor, until },
  };
}

/**
 * After a correct code on the account: the citizen proved themselves, so the
 * failures and the lock history are forgotten. Not applied to the client
 * address: an attacker must not clear it by signing in to an account of their own.
 */
export function afterSuccess(state: AttemptState): AttemptState {
  return { ...NO_ATTEMPTS, lockedUntil: state.lockedUntil };
}

/** A row that says nothing any more (no lock in force, nothing to remember) can be deleted. */
export function isForgettable(policy: ScopePolicy, state: AttemptState, now: Date): boolean {
  const t = now.getTime();
  return (
    state.lockedUntil === null &&
    (state.windowStartedAt === null || t - state.windowStartedAt.getTime() >= policy.windowSeconds * 1000) &&
    (state.lastLockEndsAt === null || t - state.lastLockEndsAt.getTime() >= policy.forgetLocksAfterSeconds * 1000)
  );
}

/**
 * The address counted for a client: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by
 * its /64, since one subscriber is routinely given a whole /64 and could
 * otherwise change address at every attempt. Anything else counts as itself.
 */
export function clientAddress(ip: string): string {
  const raw = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(raw);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  if (isIP(raw) === 4) return raw;
  if (isIP(raw) !== 6) return `other:${raw}`;
  return `${expandIpv6(raw.split('%')[0]!).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  let text = ip;
  // A trailing dotted IPv4 part fills the last two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** The stored key of a client address: an HMAC, so the table holds no addresses. */
export function addressKey(ip: string, key: Buffer): string {
  return createHmac('sha256', key).update(clientAddress(ip)).digest('hex');
}

/** A short form of an address key for the audit trail: enough to correlate, not to reverse. */
export const addressTag = (storedKey: string) => storedKey.slice(0, 16);

/** The wait in plain words, as the citizen is told it (rounded up: never promise less). */
export function waitInWords(totalSeconds: number): { vi: string; en: string } {
  if (totalSeconds < 60) {
    const s = Math.max(1, Math.ceil(totalSeconds));
    return { vi: `${s} giây`, en: `${s} second${s === 1 ? '' : 's'}` };
  }
  const minutes = Math.ceil(totalSeconds / 60);
  if (minutes < 60) return { vi: `${minutes} phút`, en: `${minutes} minute${minutes === 1 ? '' : 's'}` };
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const en = `${hours} hour${hours === 1 ? '' : 's'}` + (rest ? ` ${rest} minute${rest === 1 ? '' : 's'}` : '');
  return { vi: `${hours} giờ` + (rest ? ` ${rest} phút` : ''), en };
}
