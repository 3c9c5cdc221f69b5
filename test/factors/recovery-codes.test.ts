// Recovery codes: readable, single-use, stored only as argon2id hashes; a new set
// voids the old one; two requests racing for one code get it once.
import { randomBytes, randomUUID } from 'node:crypto';

import { NotFoundError } from '../../src/errors/index.js';
import {
  issueRecoveryCodes,
  listFactors,
  RECOVERY_CODE_COUNT,
  remainingRecoveryCodes,
  useRecoveryCode,
  verifyCode,
  type FactorsContext,
} from '../../src/factors/index.js';
import { generateRecoveryCode, normalizeRecoveryCode, RECOVERY_ALPHABET } from '../../src/factors/recovery-codes.js';
import { Cipher } from '../../src/keys/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('the shape of a recovery code', () => {
  it('is ten symbols in two groups of five, without characters people confuse (0/O, 1/I/L, U/V)', () => {
    expect(RECOVERY_ALPHABET).toHaveLength(30);
    for (const c of '01OILU') expect(RECOVERY_ALPHABET).not.toContain(c);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i += 1) {
      const code = generateRecoveryCode();
      expect(code).toMatch(/^[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}$/);
      for (const c of code.replace('-', '')) seen.add(c);
    }
    // Every symbol turns up: the draw is over the whole alphabet.
    expect([...seen].sort().join('')).toBe([...RECOVERY_ALPHABET].sort().join(''));
  });

  it('is read back in any case, with or without spaces and the hyphen', () => {
    expect(normalizeRecoveryCode('7kq2m-xd9fh')).toBe('7KQ2MXD9FH');
    expect(normalizeRecoveryCode(' 7KQ2M XD9FH ')).toBe('7KQ2MXD9FH');
    expect(normalizeRecoveryCode('7KQ2MXD9FH')).toBe('7KQ2MXD9FH');
  });

  it.each(['7KQ2M-XD9F', '7KQ2M-XD9FHH', '7KQ0M-XD9FH', 'OKQ2M-XD9FH', '7KQ2M-XD1FH', '7KQ2M-XDUFH', '7KQ2M_XD9FH', ''])(
    'refuses %j (wrong length or a symbol codes never contain)',
    (typed) => {
      expect(normalizeRecoveryCode(typed)).toBeUndefined();
    },
  );
});

describe('recovery codes on real storage', () => {
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

  async function newAccount(): Promise<string> {
    const id = randomUUID();
    await tdb.db.query('INSERT INTO accounts (id) VALUES ($1)', [id]);
    return id;
  }

  async function auditOf(subject: string) {
    const { rows } = await tdb.db.query<{ event: string; actor: string; details: Record<string, unknown> }>(
      'SELECT event, actor, details FROM audit_events WHERE subject = $1 ORDER BY seq',
      [subject],
    );
    return rows;
  }

  it('issues ten distinct codes, shown once, stored only as argon2id hashes, with the issue audited', async () => {
    const id = await newAccount();
    const codes = await issueRecoveryCodes(ctx, id, T0);
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(10);

    const { rows } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM recovery_codes WHERE account_id = $1', [id]);
    expect(rows).toHaveLength(10);
    const stored = JSON.stringify(rows);
    for (const c of codes) {
      expect(stored).not.toContain(c);
      expect(stored).not.toContain(normalizeRecoveryCode(c));
    }
    for (const r of rows) expect(r.code_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);

    expect(await auditOf(id)).toEqual([
      { event: 'RECOVERY_CODES_ISSUED', actor: `account:${id}`, details: { count: 10, replacedUnused: 0 } },
    ]);
    const trail = JSON.stringify(await auditOf(id));
    for (const c of codes) {
      expect(trail).not.toContain(c);
      expect(trail).not.toContain(normalizeRecoveryCode(c));
    }
    expect(await listFactors(ctx, id)).toEqual({ totp: null, recoveryCodesLeft: 10 });
  });

  it('accepts each code once, as typed in any case, and counts down what remains', async () => {
    const id = await newAccount();
    const codes = await issueRecoveryCodes(ctx, id, T0);
    const first: boolean[] = [];
    for (const [i, c] of codes.entries()) first.push(await useRecoveryCode(ctx, id, i % 2 ? c.toLowerCase() : c.replace('-', ' '), T0));
    expect(first).toEqual(Array(10).fill(true));
    const again = await Promise.all(codes.map((c) => useRecoveryCode(ctx, id, c, T0)));
    expect(again).toEqual(Array(10).fill(false));
    expect(await remainingRecoveryCodes(ctx, id)).toBe(0);

    const used = (await auditOf(id)).filter((e) => e.event === 'FACTOR_USED').map((e) => e.details);
    expect(used).toHaveLength(10);
    expect(used.map((d) => d.method)).toEqual(Array(10).fill('recovery-code'));
    expect(used.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('refuses an unknown code, a malformed one, and another account’s code', async () => {
    const id = await newAccount();
    const other = await newAccount();
    const [otherCode] = await issueRecoveryCodes(ctx, other, T0);
    await issueRecoveryCodes(ctx, id, T0);
    expect(await useRecoveryCode(ctx, id, generateRecoveryCode(), T0)).toBe(false);
    expect(await useRecoveryCode(ctx, id, 'not a code', T0)).toBe(false);
    expect(await useRecoveryCode(ctx, id, otherCode!, T0)).toBe(false);
    expect(await remainingRecoveryCodes(ctx, id)).toBe(10);
    expect(await useRecoveryCode(ctx, other, otherCode!, T0)).toBe(true);
  });

  it('lets exactly one of several parallel uses of one code succeed', async () => {
    const id = await newAccount();
    const [code] = await issueRecoveryCodes(ctx, id, T0);
    const results = await Promise.all([1, 2, 3, 4].map(() => useRecoveryCode(ctx, id, code!, T0)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await remainingRecoveryCodes(ctx, id)).toBe(9);
    expect((await auditOf(id)).filter((e) => e.event === 'FACTOR_USED')).toHaveLength(1);
  });

  it('voids the old set when a new one is issued', async () => {
    const id = await newAccount();
    const old = await issueRecoveryCodes(ctx, id, T0);
    expect(await useRecoveryCode(ctx, id, old[0]!, T0)).toBe(true);
    const fresh = await issueRecoveryCodes(ctx, id, T0);
    expect(fresh.some((c) => old.includes(c))).toBe(false);
    expect(await useRecoveryCode(ctx, id, old[1]!, T0)).toBe(false);
    expect(await useRecoveryCode(ctx, id, fresh[0]!, T0)).toBe(true);
    expect(await remainingRecoveryCodes(ctx, id)).toBe(9);
    expect((await auditOf(id)).filter((e) => e.event === 'RECOVERY_CODES_ISSUED').map((e) => e.details)).toEqual([
      { count: 10, replacedUnused: 0 },
      { count: 10, replacedUnused: 9 },
    ]);
  });

  it('refuses an account that does not exist, writing nothing', async () => {
    const ghost = randomUUID();
    await expect(issueRecoveryCodes(ctx, ghost, T0)).rejects.toThrow(NotFoundError);
    expect(await auditOf(ghost)).toEqual([]);
  });

  it('goes through the lockout at step-up: a wrong code is counted, a right one spent', async () => {
    const id = await newAccount();
    const [code] = await issueRecoveryCodes(ctx, id, T0);
    const ip = '2402:800:6314:5a21::9';
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'recovery-code', code: generateRecoveryCode(), now: T0 })).toEqual({
      ok: false,
      reason: 'wrong-code',
      retryAfterSeconds: 0,
      locked: false,
    });
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'recovery-code', code: 'hello', now: T0 })).toMatchObject({
      reason: 'malformed',
      retryAfterSeconds: 2,
    });
    const later = new Date(T0.getTime() + 2000);
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'recovery-code', code: code!, now: later })).toEqual({ ok: true });
    expect(await verifyCode(ctx, { accountId: id, ip, method: 'recovery-code', code: code!, now: later })).toMatchObject({ reason: 'wrong-code' });
    expect((await auditOf(id)).map((e) => [e.event, e.details.method, e.details.reason])).toEqual([
      ['RECOVERY_CODES_ISSUED', undefined, undefined],
      ['FACTOR_FAILED', 'recovery-code', 'wrong-code'],
      ['FACTOR_FAILED', 'recovery-code', 'malformed'],
      ['FACTOR_USED', 'recovery-code', undefined],
      ['FACTOR_FAILED', 'recovery-code', 'wrong-code'],
    ]);
  });
});
