// Brute-force protection on real storage: counters per account and per client
// address shared through PostgreSQL, parallel guesses counted one by one, repeat
// locks longer, an officer's unlock, every lock and unlock in the audit trail, and
// no client address stored as is.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { addressKey, addressTag } from '../../src/factors/attempts.js';
import {
  checkAllowed,
  purgeFactorState,
  recordFailure,
  recordSuccess,
  startTotpEnrolment,
  unlockAccount,
  withAttempt,
  type FactorsContext,
} from '../../src/factors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;
let ctx: FactorsContext;

beforeAll(async () => {
  tdb = await createTestDatabase();
  ctx = { db: tdb.db, cipher: new Cipher(randomBytes(32)) };
});

afterAll(async () => {
  await tdb?.drop();
});

const T0 = new Date('2025-09-02T08:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
let nextIp = 0;
/** A fresh client address per test (Viettel-like IPv4), so counters never add up across tests. */
const freshIp = () => `27.72.${Math.floor(nextIp / 250) + 1}.${(nextIp++ % 250) + 1}`;

async function newAccount(): Promise<string> {
  const id = randomUUID();
  await tdb.db.query('INSERT INTO accounts (id) VALUES ($1)', [id]);
  return id;
}

/** A passkey-like factor checked elsewhere, under the same lockout: here it always fails (or always succeeds). */
const passkey = (accountId: string, ip: string, now: Date, ok = false, pauseMs = 0) =>
  withAttempt(ctx, { accountId, ip, method: 'passkey', now }, async () => {
    if (pauseMs) await sleep(pauseMs);
    return ok ? { ok: true } : { ok: false, reason: 'bad-signature' };
  });

async function audit(where: string, params: unknown[]) {
  const { rows } = await tdb.db.query<{ event: string; actor: string; subject: string; details: Record<string, unknown> }>(
    `SELECT event, actor, subject, details FROM audit_events WHERE ${where} ORDER BY seq`,
    params,
  );
  return rows;
}

const ipSubject = (ip: string) => `ip:${addressTag(addressKey(ip, ctx.cipher.derive('attempts')))}`;

async function lockAccount(id: string, ip: string, from: number): Promise<number> {
  let t = from;
  for (let i = 0; i < 5; i += 1) {
    const r = await passkey(id, ip, at(t));
    if (!r.ok && r.reason !== 'must-wait' && !r.locked) t += r.retryAfterSeconds;
  }
  return t; // when the lock began
}

describe('failed attempts from one client address', () => {
  it('lock the address across accounts, while those accounts may still try from elsewhere', async () => {
    const ip = freshIp();
    const accounts = await Promise.all([1, 2, 3, 4, 5].map(newAccount));
    // Four wrong answers on each of five accounts, 10 s apart: no account reaches its own limit.
    const results = [];
    for (let i = 0; i < 20; i += 1) {
      // A success on an account of one's own does not clear the address's count.
      if (i === 19) expect(await passkey(await newAccount(), ip, at(i * 10 - 1), true)).toEqual({ ok: true });
      results.push(await passkey(accounts[i % 5]!, ip, at(i * 10)));
    }
    expect(results.slice(0, 19).every((r) => !r.ok && r.reason === 'bad-signature' && !r.locked)).toBe(true);
    expect(results[19]).toEqual({ ok: false, reason: 'bad-signature', retryAfterSeconds: 300, locked: true });

    const stranger = await newAccount();
    expect(await checkAllowed(ctx, stranger, ip, at(200))).toEqual({ allowed: false, retryAfterSeconds: 290, scope: 'ip', locked: true });
    expect(await passkey(stranger, ip, at(200), true)).toEqual({ ok: false, reason: 'must-wait', retryAfterSeconds: 290, scope: 'ip', locked: true });
    expect(await checkAllowed(ctx, accounts[0]!, freshIp(), at(200))).toEqual({ allowed: true });

    const locks = await audit(`event = 'ACCOUNT_LOCKED' AND subject = $1`, [ipSubject(ip)]);
    expect(locks).toEqual([
      {
        event: 'ACCOUNT_LOCKED',
        actor: 'system:lockout',
        subject: ipSubject(ip),
        details: { scope: 'ip', seconds: 300, until: at(490).toISOString(), lockCount: 1, accountId: accounts[4] },
      },
    ]);
    // The address's lock lifts on its own, and that is recorded too.
    expect(await checkAllowed(ctx, stranger, ip, at(490))).toEqual({ allowed: true });
    expect((await audit(`event = 'ACCOUNT_UNLOCKED' AND subject = $1`, [ipSubject(ip)])).map((e) => e.details)).toEqual([
      { scope: 'ip', reason: 'expired', lockedUntil: at(490).toISOString() },
    ]);
  });

  it('are stored and audited without the address itself', async () => {
    const ip = freshIp();
    const id = await newAccount();
    await lockAccount(id, ip, 0);
    const dump = async (table: string) => JSON.stringify((await tdb.db.query(`SELECT * FROM ${table}`)).rows);
    expect(await dump('factor_attempts')).not.toContain(ip);
    expect(await dump('audit_events')).not.toContain(ip);
    expect(await dump('factor_attempts')).not.toContain(ip.split('.').slice(0, 3).join('.'));
  });
});

describe('failed attempts on one account', () => {
  it('are counted one after another even when guesses arrive in parallel', async () => {
    const id = await newAccount();
    const results = await Promise.all(Array.from({ length: 12 }, () => passkey(id, freshIp(), at(0), false, 20)));
    // The first wrong guess costs nothing, the second imposes a 2 s wait, which every other guess then meets.
    expect(results.filter((r) => !r.ok && r.reason === 'bad-signature')).toHaveLength(2);
    expect(results.filter((r) => !r.ok && r.reason === 'must-wait')).toHaveLength(10);
    expect(await audit(`event = 'FACTOR_FAILED' AND subject = $1`, [id])).toHaveLength(2);
  });

  it('lock for twice as long the second time', async () => {
    const id = await newAccount();
    const ip = freshIp();
    const first = await lockAccount(id, ip, 0);
    const second = await lockAccount(id, ip, first + 300);
    expect(await checkAllowed(ctx, id, ip, at(second))).toEqual({ allowed: false, retryAfterSeconds: 600, scope: 'account', locked: true });
    expect((await audit(`subject = $1 AND event IN ('ACCOUNT_LOCKED', 'ACCOUNT_UNLOCKED')`, [id])).map((e) => [e.event, e.details.seconds ?? e.details.reason, e.details.lockCount])).toEqual([
      ['ACCOUNT_LOCKED', 300, 1],
      ['ACCOUNT_UNLOCKED', 'expired', undefined],
      ['ACCOUNT_LOCKED', 600, 2],
    ]);
  });

  it('are forgotten after a success (recordFailure / recordSuccess for factors checked elsewhere)', async () => {
    const id = await newAccount();
    const ip = freshIp();
    const waits = [];
    for (const t of [0, 0, 2, 6]) waits.push(await recordFailure(ctx, { accountId: id, ip, method: 'passkey', reason: 'bad-signature', now: at(t) }));
    expect(waits).toEqual([
      { retryAfterSeconds: 0, locked: false },
      { retryAfterSeconds: 2, locked: false },
      { retryAfterSeconds: 4, locked: false },
      { retryAfterSeconds: 8, locked: false },
    ]);
    expect(await checkAllowed(ctx, id, ip, at(10))).toEqual({ allowed: false, retryAfterSeconds: 4, scope: 'account', locked: false });
    await recordSuccess(ctx, id, at(14));
    expect(await checkAllowed(ctx, id, ip, at(14))).toEqual({ allowed: true });
    // The fifth failure overall is the first since the success: no lock.
    expect(await recordFailure(ctx, { accountId: id, ip, method: 'passkey', reason: 'bad-signature', now: at(15) })).toEqual({
      retryAfterSeconds: 0,
      locked: false,
    });
  });

  it('can be unlocked by a security officer, with a reason in the audit trail', async () => {
    const id = await newAccount();
    const ip = freshIp();
    expect(await unlockAccount(ctx, id, 'cli:security-officer', 'citizen called the hotline', at(0))).toBe(false);
    const lockedAt = await lockAccount(id, ip, 0);
    expect(await unlockAccount(ctx, id, 'cli:security-officer', 'citizen called the hotline', at(lockedAt + 60))).toBe(true);
    expect(await checkAllowed(ctx, id, ip, at(lockedAt + 60))).toEqual({ allowed: true });
    expect(await audit(`subject = $1 AND event = 'ACCOUNT_UNLOCKED'`, [id])).toEqual([
      {
        event: 'ACCOUNT_UNLOCKED',
        actor: 'cli:security-officer',
        subject: id,
        details: { scope: 'account', reason: 'citizen called the hotline', lockedUntil: at(lockedAt + 300).toISOString() },
      },
    ]);
    // The unlock also forgot the lock history: the next lock is a first one again.
    const again = await lockAccount(id, ip, lockedAt + 61);
    expect(await checkAllowed(ctx, id, ip, at(again))).toMatchObject({ retryAfterSeconds: 300 });
  });
});

describe('background clean-up', () => {
  it('deletes expired enrolments and counters that remember nothing, and keeps the rest', async () => {
    const quiet = await newAccount();
    const recent = await newAccount();
    const locked = await newAccount();
    const ip = freshIp();
    await recordFailure(ctx, { accountId: quiet, ip, method: 'passkey', reason: 'bad-signature', now: at(0) });
    await recordFailure(ctx, { accountId: recent, ip: freshIp(), method: 'passkey', reason: 'bad-signature', now: at(1000) });
    await lockAccount(locked, freshIp(), 1000);
    const pending = await newAccount();
    await startTotpEnrolment(ctx, pending, 'Bùi Thị Lan', at(0));

    await purgeFactorState(ctx, at(1100));
    const keys = (await tdb.db.query<{ scope: string; key: string }>('SELECT scope, key FROM factor_attempts')).rows;
    const accountsLeft = keys.filter((k) => k.scope === 'account').map((k) => k.key);
    expect(accountsLeft).not.toContain(quiet); // its window closed at 900
    expect(accountsLeft).toEqual(expect.arrayContaining([recent, locked]));
    expect(keys.filter((k) => k.scope === 'ip')).not.toContainEqual({ scope: 'ip', key: addressKey(ip, ctx.cipher.derive('attempts')) });
    expect((await tdb.db.query('SELECT 1 FROM totp_factors WHERE account_id = $1', [pending])).rows).toHaveLength(0);
  });
});
