// Brute-force protection in PostgreSQL: the counters of attempts.ts, per account
// and per client address, shared by every instance. withAttempt is the one safe
// way to check a factor: it serialises attempts on the account and the address,
// refuses while a wait is due, and records the outcome with its audit events, all
// in one transaction.
import { appendAudit } from '../audit/index.js';
import type { Cipher } from '../keys/index.js';
import type { Queryable } from '../storage/index.js';
import {
  addressKey,
  addressTag,
  afterFailure,
  afterSuccess,
  isLocked,
  liftExpiredLock,
  lockHasExpired,
  LOCKOUT_POLICY,
  NO_ATTEMPTS,
  waitBeforeNextAttempt,
  type AttemptScope,
  type AttemptState,
  type LockoutPolicy,
  type ScopePolicy,
} from './attempts.js';
import { citizen, LOCKOUT_ACTOR, type FactorsContext } from './context.js';
import { purgeChallenges } from './passkey-repository.js';
import * as repo from './repository.js';

const addressKeys = new WeakMap<Cipher, Buffer>();

/** The HMAC key for client addresses, the same on every instance (derived from the master key). */
function addressHmacKey(cipher: Cipher): Buffer {
  let k = addressKeys.get(cipher);
  if (!k) {
    k = cipher.derive('attempts');
    addressKeys.set(cipher, k);
  }
  return k;
}

const policyOf = (ctx: FactorsContext): LockoutPolicy => ctx.policy ?? LOCKOUT_POLICY;

/** Account first, then address: every transaction takes the advisory locks in this order. */
function keysFor(ctx: FactorsContext, accountId: string, ip: string): [repo.AttemptKey, repo.AttemptKey] {
  return [
    { scope: 'account', key: accountId },
    { scope: 'ip', key: addressKey(ip, addressHmacKey(ctx.cipher)) },
  ];
}

/** What the audit trail names: the account, or a short tag of the address key (never the address). */
const subjectOf = (k: repo.AttemptKey) => (k.scope === 'account' ? k.key : `ip:${addressTag(k.key)}`);

interface Tracked {
  key: repo.AttemptKey;
  policy: ScopePolicy;
  state: AttemptState;
}

/** Loads the counters, recording the lifting of any lock whose time is over (once, whichever instance sees it first). */
async function load(tx: Queryable, ctx: FactorsContext, keys: repo.AttemptKey[], now: Date): Promise<Tracked[]> {
  const out: Tracked[] = [];
  for (const key of keys) {
    let state = await repo.selectAttempts(tx, key);
    if (lockHasExpired(state, now)) {
      if (await repo.clearLock(tx, key, state.lockedUntil!, now)) {
        await appendAudit(tx, {
          event: 'ACCOUNT_UNLOCKED',
          actor: LOCKOUT_ACTOR,
          subject: subjectOf(key),
          details: { scope: key.scope, reason: 'expired', lockedUntil: state.lockedUntil!.toISOString() },
        });
      }
      state = liftExpiredLock(state);
    }
    out.push({ key, policy: policyOf(ctx)[key.scope], state });
  }
  return out;
}

export type Allowed = { allowed: true } | { allowed: false; retryAfterSeconds: number; scope: AttemptScope; locked: boolean };

/** The longest wait any counter imposes. */
function longestWait(tracked: Tracked[], now: Date): Allowed {
  let worst: Allowed = { allowed: true };
  for (const t of tracked) {
    const w = waitBeforeNextAttempt(t.policy, t.state, now);
    if (w.seconds > 0 && (worst.allowed || w.seconds > worst.retryAfterSeconds)) {
      worst = { allowed: false, retryAfterSeconds: w.seconds, scope: t.key.scope, locked: w.locked };
    }
  }
  return worst;
}

/**
 * Whether the account may try a code from this address now, and if not, for how
 * many seconds it must wait (for the page that asks for a code).
 */
export function checkAllowed(ctx: FactorsContext, accountId: string, ip: string, now = new Date()): Promise<Allowed> {
  return ctx.db.transaction(async (tx) => longestWait(await load(tx, ctx, keysFor(ctx, accountId, ip), now), now));
}

export interface Attempt {
  accountId: string;
  /** The client's address as nixa sees it (behind a trusted proxy: the forwarded one). Stored only as an HMAC. */
  ip: string;
  /** 'totp', 'recovery-code', 'passkey', …: named in the audit trail. */
  method: string;
  now?: Date;
}

export interface FailureWait {
  /** 0: the citizen may try again at once. */
  retryAfterSeconds: number;
  /** true when this failure locked the account or the address. */
  locked: boolean;
}

async function countFailure(tx: Queryable, tracked: Tracked[], a: Attempt, reason: string, now: Date): Promise<FailureWait> {
  const locks: { key: repo.AttemptKey; seconds: number; until: Date; lockCount: number }[] = [];
  for (const t of tracked) {
    const next = afterFailure(t.policy, t.state, now);
    t.state = next.state;
    await repo.saveAttempts(tx, t.key, next.state, now);
    if (next.lock) locks.push({ key: t.key, ...next.lock, lockCount: next.state.lockCount });
  }
  const address = tracked.find((t) => t.key.scope === 'ip')!.key;
  await appendAudit(tx, {
    event: 'FACTOR_FAILED',
    actor: citizen(a.accountId),
    subject: a.accountId,
    details: { method: a.method, reason, address: addressTag(address.key) },
  });
  for (const l of locks) {
    await appendAudit(tx, {
      event: 'ACCOUNT_LOCKED',
      actor: LOCKOUT_ACTOR,
      subject: subjectOf(l.key),
      details: {
        scope: l.key.scope,
        seconds: l.seconds,
        until: l.until.toISOString(),
        lockCount: l.lockCount,
        ...(l.key.scope === 'ip' ? { accountId: a.accountId } : {}),
      },
    });
  }
  const wait = longestWait(tracked, now);
  return wait.allowed ? { retryAfterSeconds: 0, locked: false } : { retryAfterSeconds: wait.retryAfterSeconds, locked: wait.locked };
}

const comparable = (v: AttemptState[keyof AttemptState]) => (v instanceof Date ? v.getTime() : v);
const sameState = (a: AttemptState, b: AttemptState) =>
  (Object.keys(a) as (keyof AttemptState)[]).every((k) => comparable(a[k]) === comparable(b[k]));

async function countSuccess(tx: Queryable, account: Tracked, now: Date): Promise<void> {
  const next = afterSuccess(account.state);
  // A clean account has nothing to reset: no write on the common path.
  if (!sameState(next, account.state)) await repo.saveAttempts(tx, account.key, next, now);
}

/**
 * Counts a wrong code (for a factor checked elsewhere); prefer withAttempt, which
 * also refuses while a wait is due and cannot be raced.
 */
export function recordFailure(ctx: FactorsContext, a: Attempt & { reason: string }): Promise<FailureWait> {
  const now = a.now ?? new Date();
  return ctx.db.transaction(async (tx) => {
    const keys = keysFor(ctx, a.accountId, a.ip);
    await repo.lockAttemptKeys(tx, keys);
    return countFailure(tx, await load(tx, ctx, keys, now), a, a.reason, now);
  });
}

/**
 * After a correct code: the account's failures and lock history are forgotten
 * (the address's are not). The factor's own FACTOR_USED event records the success.
 */
export function recordSuccess(ctx: FactorsContext, accountId: string, now = new Date()): Promise<void> {
  return ctx.db.transaction(async (tx) => {
    const key: repo.AttemptKey = { scope: 'account', key: accountId };
    await repo.lockAttemptKeys(tx, [key]);
    const [account] = await load(tx, ctx, [key], now);
    await countSuccess(tx, account!, now);
  });
}

export type VerifyOutcome<R extends string> = { ok: true } | { ok: false; reason: R };

export type AttemptResult<R extends string> =
  | { ok: true }
  /** Refused before the code was looked at: a lock or a delay is due. Nothing was counted. */
  | { ok: false; reason: 'must-wait'; retryAfterSeconds: number; scope: AttemptScope; locked: boolean }
  /** The code was wrong (reason says how); counted, and perhaps now a wait is due. */
  | ({ ok: false; reason: R } & FailureWait);

/**
 * Runs one factor check under the lockout: refuses while the account or the
 * address must wait; otherwise runs `verify` in the same transaction and counts
 * its outcome, with FACTOR_FAILED / ACCOUNT_LOCKED written alongside. Attempts
 * on one account, or from one address, are serialised across instances for the
 * length of the check, so parallel guesses cannot slip past the count.
 */
export function withAttempt<R extends string>(
  ctx: FactorsContext,
  a: Attempt,
  verify: (tx: Queryable) => Promise<VerifyOutcome<R>>,
): Promise<AttemptResult<R>> {
  const now = a.now ?? new Date();
  return ctx.db.transaction(async (tx): Promise<AttemptResult<R>> => {
    const keys = keysFor(ctx, a.accountId, a.ip);
    await repo.lockAttemptKeys(tx, keys);
    const tracked = await load(tx, ctx, keys, now);
    const allowed = longestWait(tracked, now);
    if (!allowed.allowed) return { ok: false, reason: 'must-wait', retryAfterSeconds: allowed.retryAfterSeconds, scope: allowed.scope, locked: allowed.locked };
    const outcome = await verify(tx);
    if (outcome.ok) {
      await countSuccess(tx, tracked[0]!, now);
      return { ok: true };
    }
    return { ok: false, reason: outcome.reason, ...(await countFailure(tx, tracked, a, outcome.reason, now)) };
  });
}

/** A security officer lifts an account's lock (with a reason); false if none was in force. */
export function unlockAccount(ctx: FactorsContext, accountId: string, actor: string, reason: string, now = new Date()): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const key: repo.AttemptKey = { scope: 'account', key: accountId };
    await repo.lockAttemptKeys(tx, [key]);
    const [account] = await load(tx, ctx, [key], now);
    if (!isLocked(account!.state, now)) return false;
    await repo.saveAttempts(tx, key, NO_ATTEMPTS, now);
    await appendAudit(tx, {
      event: 'ACCOUNT_UNLOCKED',
      actor,
      subject: accountId,
      details: { scope: 'account', reason, lockedUntil: account!.state.lockedUntil!.toISOString() },
    });
    return true;
  });
}

/** Background clean-up: expired pending enrolments, expired passkey challenges, and counters that remember nothing any more. */
export function purgeFactorState(ctx: FactorsContext, now = new Date(), batchSize = 500): Promise<number> {
  const p = policyOf(ctx);
  const before = (s: number) => new Date(now.getTime() - s * 1000);
  const cutoffs = Object.fromEntries(
    (Object.keys(p) as AttemptScope[]).map((scope) => [
      scope,
      { windowBefore: before(p[scope].windowSeconds), lockEndedBefore: before(p[scope].forgetLocksAfterSeconds) },
    ]),
  ) as Record<AttemptScope, { windowBefore: Date; lockEndedBefore: Date }>;
  return Promise.all([repo.purge(ctx.db, now, cutoffs, batchSize), purgeChallenges(ctx.db, now)]).then(([a, b]) => a + b);
}
