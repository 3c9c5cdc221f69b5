// Authenticator apps on real storage: enrolment confirmed by a first code, the ±1
// step window, codes never accepted twice, the secret encrypted at rest and bound
// to its row, and a wrong code five times locking the account for a stated wait.
import { randomBytes, randomUUID } from 'node:crypto';

import { generate } from 'otplib';

import { InvalidInputError, MasterKeyError, NotFoundError, StateError } from '../../src/errors/index.js';
import {
  checkAllowed,
  confirmTotpEnrolment,
  listFactors,
  removeTotp,
  startTotpEnrolment,
  verifyCode,
  verifyTotp,
  waitInWords,
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

// A step boundary (1756800000 is a multiple of 30), so at(30 * n) starts step n after T0's.
const T0 = new Date('2025-09-02T08:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const STEP0 = T0.getTime() / 30_000;
const codeAt = (secret: string, when: Date) => generate({ secret, epoch: Math.floor(when.getTime() / 1000) });

/** A six-digit code that is not valid for any step within two of `when`. */
async function wrongCodeAt(secret: string, when: Date): Promise<string> {
  const valid = new Set(await Promise.all([-2, -1, 0, 1, 2].map((d) => codeAt(secret, new Date(when.getTime() + d * 30_000)))));
  for (let n = 0; ; n += 1) {
    const code = String(n * 7919).padStart(6, '0').slice(-6);
    if (!valid.has(code)) return code;
  }
}

async function newAccount(): Promise<string> {
  const id = randomUUID();
  await tdb.db.query('INSERT INTO accounts (id) VALUES ($1)', [id]);
  return id;
}

/** An account with a confirmed app (the confirming code is T0's); returns the secret. */
async function enrolled(accountId: string, label = 'Nguyễn Văn An'): Promise<string> {
  const e = await startTotpEnrolment(ctx, accountId, label, T0);
  const confirmed = await confirmTotpEnrolment(ctx, accountId, e.factorId, await codeAt(e.secret, T0), T0);
  expect(confirmed).toEqual({ ok: true, factorId: e.factorId });
  return e.secret;
}

async function auditOf(subject: string) {
  const { rows } = await tdb.db.query<{ event: string; actor: string; details: Record<string, unknown> }>(
    'SELECT event, actor, details FROM audit_events WHERE subject = $1 ORDER BY seq',
    [subject],
  );
  return rows;
}

/** Every column of every row, as text a leak could be found in (bytea both as UTF-8 and as hex). */
async function tableText(table: string): Promise<string> {
  const { rows } = await tdb.db.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
  return rows
    .flatMap((r) => Object.values(r))
    .map((v) => (v instanceof Uint8Array ? `${Buffer.from(v).toString('latin1')} ${Buffer.from(v).toString('hex')}` : v instanceof Date ? v.toISOString() : JSON.stringify(v)))
    .join('\n');
}

function base32Bytes(secret: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...secret].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
  return Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}

describe('enrolling an authenticator app', () => {
  it('gives a base32 secret, an otpauth URI for "nixa" with the citizen’s label, and a QR code drawn as SVG by nixa', async () => {
    const id = await newAccount();
    const e = await startTotpEnrolment(ctx, id, 'Nguyễn Văn An', T0);
    expect(e.secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
    const uri = new URL(e.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/nixa:Nguyễn Văn An');
    expect(uri.searchParams.get('secret')).toBe(e.secret);
    expect(uri.searchParams.get('issuer')).toBe('nixa');
    expect(e.qrSvg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
    expect(e.qrSvg).not.toMatch(/<script|href=|url\(/i); // nothing to fetch, nothing to run
    expect(e.qrDataUri.startsWith('data:image/svg+xml;base64,')).toBe(true);
    expect(Buffer.from(e.qrDataUri.split(',')[1]!, 'base64').toString('utf8')).toBe(e.qrSvg);
    expect(e.expiresAt).toEqual(at(600));
  });

  it('is no factor until a first correct code confirms it, and the confirmation is audited', async () => {
    const id = await newAccount();
    const e = await startTotpEnrolment(ctx, id, '*********217', T0);
    expect(await verifyTotp(ctx, id, await codeAt(e.secret, T0), T0)).toEqual({ ok: false, reason: 'not-enrolled' });
    expect(await listFactors(ctx, id)).toEqual({ totp: null, recoveryCodesLeft: 0 });
    expect(await auditOf(id)).toEqual([]);

    expect(await confirmTotpEnrolment(ctx, id, e.factorId, await wrongCodeAt(e.secret, T0), T0)).toEqual({ ok: false, reason: 'wrong-code' });
    expect(await confirmTotpEnrolment(ctx, id, e.factorId, '12 34', T0)).toEqual({ ok: false, reason: 'malformed' });
    expect(await confirmTotpEnrolment(ctx, id, e.factorId, await codeAt(e.secret, at(20)), at(20))).toEqual({ ok: true, factorId: e.factorId });

    expect(await listFactors(ctx, id)).toEqual({
      totp: { factorId: e.factorId, label: '*********217', enrolledAt: at(20), lastUsedAt: at(20) },
      recoveryCodesLeft: 0,
    });
    expect(await auditOf(id)).toEqual([
      { event: 'FACTOR_ENROLLED', actor: `account:${id}`, details: { method: 'totp', factorId: e.factorId } },
    ]);
    // Confirming twice changes nothing.
    expect(await confirmTotpEnrolment(ctx, id, e.factorId, await codeAt(e.secret, at(40)), at(40))).toEqual({ ok: false, reason: 'not-found' });
  });

  it('spends the confirming code: it cannot then be used for step-up', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    expect(await verifyTotp(ctx, id, await codeAt(secret, T0), at(10))).toEqual({ ok: false, reason: 'reused' });
  });

  it('expires an enrolment not confirmed within 10 minutes', async () => {
    const id = await newAccount();
    const e = await startTotpEnrolment(ctx, id, 'Trần Thị Bình', T0);
    expect(await confirmTotpEnrolment(ctx, id, e.factorId, await codeAt(e.secret, at(600)), at(600))).toEqual({ ok: false, reason: 'expired' });
    expect(await confirmTotpEnrolment(ctx, id, e.factorId, await codeAt(e.secret, at(599)), at(599))).toEqual({ ok: true, factorId: e.factorId });
  });

  it('keeps one enrolment in progress: starting again replaces the first', async () => {
    const id = await newAccount();
    const first = await startTotpEnrolment(ctx, id, 'Lê Hoàng Cường', T0);
    const second = await startTotpEnrolment(ctx, id, 'Lê Hoàng Cường', at(5));
    expect(await confirmTotpEnrolment(ctx, id, first.factorId, await codeAt(first.secret, at(10)), at(10))).toEqual({ ok: false, reason: 'not-found' });
    expect(await confirmTotpEnrolment(ctx, id, second.factorId, await codeAt(second.secret, at(10)), at(10))).toEqual({ ok: true, factorId: second.factorId });
    const { rows } = await tdb.db.query('SELECT id FROM totp_factors WHERE account_id = $1', [id]);
    expect(rows).toEqual([{ id: second.factorId }]);
  });

  it.each(['Phạm Thị Dung 031178052840', '031 178 052 840', '031-178-052-840', '079192038', 'nixa:An', 'An\u0007', '', '   ', 'A'.repeat(65)])(
    'refuses the label %j (a full ID number, the issuer separator, control characters, empty, too long)',
    async (label) => {
      const id = await newAccount();
      const err = await startTotpEnrolment(ctx, id, label, T0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).field).toBe('label');
      expect(await tableText('totp_factors')).not.toContain(id);
    },
  );

  it('refuses an account that does not exist', async () => {
    await expect(startTotpEnrolment(ctx, randomUUID(), 'Hoàng Minh Đức', T0)).rejects.toThrow(NotFoundError);
  });

  it('refuses a second app until the first is removed; removal is audited and takes effect at once', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    await expect(startTotpEnrolment(ctx, id, 'Điện thoại mới', at(30))).rejects.toThrow(StateError);

    const { factorId } = (await listFactors(ctx, id)).totp!;
    expect(await removeTotp(ctx, id)).toBe(true);
    expect(await removeTotp(ctx, id)).toBe(false);
    expect(await verifyTotp(ctx, id, await codeAt(secret, at(60)), at(60))).toEqual({ ok: false, reason: 'not-enrolled' });
    expect((await auditOf(id)).map((e) => [e.event, e.details])).toEqual([
      ['FACTOR_ENROLLED', { method: 'totp', factorId }],
      ['FACTOR_REMOVED', { method: 'totp', factorId, recoveryCodesDeleted: 0 }],
    ]);
    await expect(startTotpEnrolment(ctx, id, 'Điện thoại mới', at(90))).resolves.toMatchObject({ secret: expect.any(String) });
  });
});

describe('checking a code', () => {
  it('accepts a good code once; the same code again, or an earlier one, is refused as reused', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    const code = await codeAt(secret, at(60));
    expect(await verifyTotp(ctx, id, code, at(60))).toEqual({ ok: true, factorId: expect.any(String), timeStep: STEP0 + 2 });
    expect(await verifyTotp(ctx, id, code, at(61))).toEqual({ ok: false, reason: 'reused' });
    // The previous step's code is inside the window, but older than the accepted one.
    expect(await verifyTotp(ctx, id, await codeAt(secret, at(30)), at(62))).toEqual({ ok: false, reason: 'reused' });
    // The next step's code is new.
    expect(await verifyTotp(ctx, id, await codeAt(secret, at(90)), at(90))).toMatchObject({ ok: true, timeStep: STEP0 + 3 });

    const used = (await auditOf(id)).filter((e) => e.event === 'FACTOR_USED');
    expect(used.map((e) => e.details)).toEqual([
      { method: 'totp', factorId: expect.any(String), drift: 0 },
      { method: 'totp', factorId: expect.any(String), drift: 0 },
    ]);
  });

  it('accepts a code one step before or after now (clock drift), and refuses one two steps away', async () => {
    const behind = await newAccount();
    const behindSecret = await enrolled(behind);
    expect(await verifyTotp(ctx, behind, await codeAt(behindSecret, at(60)), at(90))).toMatchObject({ ok: true, timeStep: STEP0 + 2 });

    const ahead = await newAccount();
    const aheadSecret = await enrolled(ahead);
    expect(await verifyTotp(ctx, ahead, await codeAt(aheadSecret, at(120)), at(90))).toMatchObject({ ok: true, timeStep: STEP0 + 4 });

    const far = await newAccount();
    const farSecret = await enrolled(far);
    expect(await verifyTotp(ctx, far, await codeAt(farSecret, at(60)), at(120))).toEqual({ ok: false, reason: 'wrong-code' });
    expect(await verifyTotp(ctx, far, await codeAt(farSecret, at(180)), at(120))).toEqual({ ok: false, reason: 'wrong-code' });
    // The same codes are fine at their own time.
    expect(await verifyTotp(ctx, far, await codeAt(farSecret, at(180)), at(180))).toMatchObject({ ok: true });
  });

  it('reads a code as typed ("123 456"), and refuses anything that is not six digits', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    for (const bad of ['12345', '1234567', 'abcdef', '', '１２３４５６']) {
      expect(await verifyTotp(ctx, id, bad, at(60))).toEqual({ ok: false, reason: 'malformed' });
    }
    const code = await codeAt(secret, at(60));
    expect(await verifyTotp(ctx, id, ` ${code.slice(0, 3)} ${code.slice(3)} `, at(60))).toMatchObject({ ok: true });
  });

  it('accepts a code once even when two requests bring it at the same instant', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    const code = await codeAt(secret, at(60));
    const results = await Promise.all([1, 2, 3].map(() => verifyTotp(ctx, id, code, at(60))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([
      { ok: false, reason: 'reused' },
      { ok: false, reason: 'reused' },
    ]);
    expect((await auditOf(id)).filter((e) => e.event === 'FACTOR_USED')).toHaveLength(1);
  });
});

describe('the secret at rest', () => {
  it('is kept only encrypted: neither its base32 text nor its bytes appear in the table or the audit trail', async () => {
    const id = await newAccount();
    const pending = await startTotpEnrolment(ctx, id, 'Đặng Thị Ngọc Hà', T0);
    const texts = async () => `${await tableText('totp_factors')}\n${await tableText('audit_events')}`;
    const leaks = (text: string, secret: string) => [
      text.toUpperCase().includes(secret),
      text.includes(base32Bytes(secret).toString('latin1')),
      text.includes(base32Bytes(secret).toString('hex')),
    ];
    expect(leaks(await texts(), pending.secret)).toEqual([false, false, false]);
    await confirmTotpEnrolment(ctx, id, pending.factorId, await codeAt(pending.secret, T0), T0);
    await verifyTotp(ctx, id, await codeAt(pending.secret, at(30)), at(30));
    expect(leaks(await texts(), pending.secret)).toEqual([false, false, false]);
  });

  it('is bound to its account and factor: an envelope copied onto another account does not decrypt', async () => {
    const victim = await newAccount();
    const victimSecret = await enrolled(victim);
    const other = await newAccount();
    await enrolled(other);
    await tdb.db.query(
      'UPDATE totp_factors SET secret_enc = (SELECT secret_enc FROM totp_factors WHERE account_id = $1) WHERE account_id = $2',
      [victim, other],
    );
    await expect(verifyTotp(ctx, other, await codeAt(victimSecret, at(30)), at(30))).rejects.toThrow(MasterKeyError);
  });
});

describe('codes under the lockout', () => {
  // Each test from its own address (a VNPT-like IPv4), so address counters do not add up across tests.
  let ip = '';
  beforeEach(() => {
    ip = `113.161.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  });

  /** Five wrong codes, each after the wait the previous one imposed. */
  async function fiveWrong(id: string, secret: string, from: number) {
    const results = [];
    let t = from;
    for (let i = 0; i < 5; i += 1) {
      const r = await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: await wrongCodeAt(secret, at(t)), now: at(t) });
      results.push(r);
      if (!r.ok) t += r.retryAfterSeconds;
    }
    return results;
  }

  it('a wrong code five times locks the account, and the citizen is told how long to wait', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    const results = await fiveWrong(id, secret, 60);
    expect(results).toEqual([
      { ok: false, reason: 'wrong-code', retryAfterSeconds: 0, locked: false },
      { ok: false, reason: 'wrong-code', retryAfterSeconds: 2, locked: false },
      { ok: false, reason: 'wrong-code', retryAfterSeconds: 4, locked: false },
      { ok: false, reason: 'wrong-code', retryAfterSeconds: 8, locked: false },
      { ok: false, reason: 'wrong-code', retryAfterSeconds: 300, locked: true },
    ]);
    const lockedAt = 60 + 2 + 4 + 8;
    const allowed = await checkAllowed(ctx, id, ip, at(lockedAt));
    expect(allowed).toEqual({ allowed: false, retryAfterSeconds: 300, scope: 'account', locked: true });
    expect(waitInWords(300)).toEqual({ vi: '5 phút', en: '5 minutes' });

    // During the lock even the right code is refused unread, and is not spent.
    const good = await codeAt(secret, at(lockedAt + 100));
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: good, now: at(lockedAt + 100) })).toEqual({
      ok: false,
      reason: 'must-wait',
      retryAfterSeconds: 200,
      scope: 'account',
      locked: true,
    });
    // From another address too: the lock is the account's.
    expect(await checkAllowed(ctx, id, '2402:800:6314:5a21::9', at(lockedAt + 100))).toMatchObject({ allowed: false, scope: 'account' });

    const trail = await auditOf(id);
    expect(trail.map((e) => e.event)).toEqual(['FACTOR_ENROLLED', ...Array(5).fill('FACTOR_FAILED'), 'ACCOUNT_LOCKED']);
    expect(trail[1]!.details).toEqual({ method: 'totp', reason: 'wrong-code', address: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(trail.at(-1)).toEqual({
      event: 'ACCOUNT_LOCKED',
      actor: 'system:lockout',
      details: { scope: 'account', seconds: 300, until: at(lockedAt + 300).toISOString(), lockCount: 1 },
    });
  });

  it('a wait between wrong codes is enforced: trying too soon is refused without being counted', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    for (let i = 0; i < 2; i += 1) await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: await wrongCodeAt(secret, at(60)), now: at(60) });
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: await codeAt(secret, at(61)), now: at(61) })).toEqual({
      ok: false,
      reason: 'must-wait',
      retryAfterSeconds: 1,
      scope: 'account',
      locked: false,
    });
    expect((await auditOf(id)).filter((e) => e.event === 'FACTOR_FAILED')).toHaveLength(2);
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: await codeAt(secret, at(62)), now: at(62) })).toEqual({ ok: true });
  });

  it('the lock expires on its own: its lifting is recorded once, the good code then works and the count starts afresh', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    await fiveWrong(id, secret, 60);
    const lockEnds = 60 + 14 + 300;
    expect(await checkAllowed(ctx, id, ip, at(lockEnds - 1))).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    const checks = await Promise.all([1, 2, 3].map(() => checkAllowed(ctx, id, ip, at(lockEnds))));
    expect(checks).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);

    const unlocked = (await auditOf(id)).filter((e) => e.event === 'ACCOUNT_UNLOCKED');
    expect(unlocked).toEqual([
      { event: 'ACCOUNT_UNLOCKED', actor: 'system:lockout', details: { scope: 'account', reason: 'expired', lockedUntil: at(lockEnds).toISOString() } },
    ]);

    const now = at(lockEnds + 5);
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: await codeAt(secret, now), now })).toEqual({ ok: true });
    // The success forgot the failures: the next wrong code costs no wait.
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code: await wrongCodeAt(secret, now), now })).toMatchObject({
      reason: 'wrong-code',
      retryAfterSeconds: 0,
    });
  });

  it('a reused code counts as a failure, and an account without an app cannot be probed for free', async () => {
    const id = await newAccount();
    const secret = await enrolled(id);
    const code = await codeAt(secret, at(60));
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code, now: at(60) })).toEqual({ ok: true });
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'totp', code, now: at(61) })).toMatchObject({ reason: 'reused', retryAfterSeconds: 0 });

    const none = await newAccount();
    expect(await verifyCode(ctx, { accountId: none, ip, method: 'totp', code, now: at(61) })).toMatchObject({ reason: 'not-enrolled' });
    expect((await auditOf(none)).map((e) => e.event)).toEqual(['FACTOR_FAILED']);
  });
});
