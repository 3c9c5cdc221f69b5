// What a security officer does to accounts: look a person up (always with a
// reason, always recorded, never seeing the full ID number), suspend and
// reinstate (refused on a stale version, revoking sessions and grants), and
// a suspended account refused at sign-in with only the refusal written.
import { randomBytes } from 'node:crypto';

import {
  accountById,
  lookUpAccount,
  reinstateAccount,
  signInFromSource,
  suspendAccount,
  type AccountsContext,
  type SourceAssertion,
} from '../../src/accounts/index.js';
import { ConflictError, InvalidInputError, NotFoundError, StateError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';


let tdb: TestDatabase;
let ctx: AccountsContext;

const OFFICER = 'admin:lan.nguyen';
const REASON = 'Yêu cầu hỗ trợ số 2025-0142: công dân báo mất điện thoại';

/** Nguyễn Văn An as the citizen-ID source (high) asserts him. */
const citizenId = (o: Partial<SourceAssertion['attributes']> = {}, subject = 'vneid-an'): SourceAssertion => ({
  sourceId: 'vneid',
  proofingLevel: 'high',
  authoritativeFor: ['national_id', 'full_name', 'birthdate', 'gender'],
  subject,
  attributes: { national_id: '001085004217', full_name: 'Nguyễn Văn An', birthdate: '1985-03-14', gender: 'male', ...o },
});
/** The same man at his mobile operator (low): the number and his phone. */
const telecom = (o: Partial<SourceAssertion['attributes']> = {}): SourceAssertion => ({
  sourceId: 'viettel',
  proofingLevel: 'low',
  authoritativeFor: ['national_id', 'phone_number'],
  subject: 'viettel-84912345678',
  attributes: { national_id: '001085004217', phone_number: '+84912345678', ...o },
});

let an: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  ctx = { db: tdb.db, cipher: new Cipher(randomBytes(32)), pepper: randomBytes(32) };
  const first = await signInFromSource(ctx, citizenId());
  if (first.outcome !== 'signed-in') throw new Error(`setup sign-in refused: ${first.detail}`);
  an = first.accountId;
  expect(await signInFromSource(ctx, telecom())).toMatchObject({ outcome: 'signed-in', accountId: an });
  // Factors, as the factor pages would have stored them (only their counts matter here).
  await tdb.db.query(
    `INSERT INTO passkeys (id, account_id, credential_id, public_key, name, device_type, backed_up, enrolled_level, created_at)
     VALUES ('pk-1', $1, 'cred-1', '\\x00', 'điện thoại của tôi', 'multiDevice', true, 'high', now()),
            ('pk-2', $1, 'cred-2', '\\x00', 'khoá USB', 'singleDevice', false, 'high', now())`,
    [an],
  );
  await tdb.db.query(
    `INSERT INTO totp_factors (id, account_id, label, secret_enc, created_at, confirmed_at) VALUES ('totp-1', $1, 'nixa', '\\x00', now(), now())`,
    [an],
  );
  for (let i = 0; i < 10; i++) {
    await tdb.db.query(`INSERT INTO recovery_codes (id, account_id, code_hash, issued_at, used_at) VALUES ($1, $2, 'hash', now(), $3)`, [
      `rc-${i}`,
      an,
      i < 3 ? new Date() : null,
    ]);
  }
});

afterAll(async () => {
  await tdb?.drop();
});

/** Every row of the tables an officer's lookup must not touch, as one string; and the audit trail's length. */
async function snapshot(): Promise<{ rows: string; audit: number }> {
  const tables = ['accounts', 'account_attributes', 'linked_identities', 'oidc_payloads', 'passkeys', 'totp_factors', 'recovery_codes', 'factor_attempts'];
  const parts: string[] = [];
  for (const t of tables) {
    const { rows } = await tdb.db.query<{ s: string | null }>(`SELECT string_agg(t::text, '|' ORDER BY t::text) AS s FROM ${t} t`);
    parts.push(`${t}:${rows[0]?.s ?? ''}`);
  }
  const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
  return { rows: parts.join('\n'), audit: rows[0]!.n };
}

async function lastAudit(event: string) {
  const { rows } = await tdb.db.query<{ event: string; actor: string; subject: string | null; reason: string | null; details: Record<string, unknown> }>(
    'SELECT event, actor, subject, reason, details FROM audit_events WHERE event = $1 ORDER BY seq DESC LIMIT 1',
    [event],
  );
  return rows[0]!;
}

async function fieldOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  return (err as InvalidInputError).field;
}

async function freshAccount(nationalId: string, birthdate: string, gender: 'male' | 'female', name: string): Promise<string> {
  const r = await signInFromSource(ctx, citizenId({ national_id: nationalId, birthdate, gender, full_name: name }, `vneid-${nationalId.slice(-4)}`));
  if (r.outcome !== 'signed-in') throw new Error(r.detail);
  return r.accountId;
}

describe('looking an account up by national ID number', () => {
  it('answers the summary with the number masked, the sources and what each vouches for, and the factor counts', async () => {
    const s = await lookUpAccount(ctx, { nationalId: '001085004217', actor: OFFICER, reason: REASON });
    expect(s).toMatchObject({
      accountId: an,
      disabledAt: null,
      suspended: false,
      version: 1,
      nationalId: '*********217',
      proofingLevel: 'high',
      factors: { passkeys: 2, authenticatorApp: true, recoveryCodesLeft: 7, lockedUntil: null },
    });
    expect(new Date(s.createdAt).getTime()).toBeLessThanOrEqual(Date.now());
    const bySource = Object.fromEntries(s.linkedSources.map((l) => [l.sourceId, l]));
    expect(Object.keys(bySource).sort()).toEqual(['viettel', 'vneid']);
    expect(bySource.vneid!.vouchesFor.map((v) => [v.attribute, v.level]).sort()).toEqual([
      ['birthdate', 'high'],
      ['full_name', 'high'],
      ['gender', 'high'],
      ['national_id', 'high'],
    ]);
    expect(bySource.viettel!.vouchesFor.map((v) => [v.attribute, v.level])).toEqual([['phone_number', 'low']]);
    expect(bySource.viettel!.linkedAt).toEqual(expect.any(String));
    expect(bySource.viettel!.lastLoginAt).toEqual(expect.any(String));
    // Names and levels, never values: no number, name or phone in the answer.
    const text = JSON.stringify(s);
    expect(text).not.toContain('001085004217');
    expect(text).not.toContain('Nguyễn');
    expect(text).not.toContain('912345678');
  });

  it('records the lookup (actor, reason, masked number, found) and writes nothing else', async () => {
    const before = await snapshot();
    await lookUpAccount(ctx, { nationalId: '001085004217', actor: OFFICER, reason: `  ${REASON}  ` });
    const after = await snapshot();
    expect(after.rows).toBe(before.rows);
    expect(after.audit).toBe(before.audit + 1);
    const e = await lastAudit('ACCOUNT_LOOKED_UP');
    expect(e).toEqual({
      event: 'ACCOUNT_LOOKED_UP',
      actor: OFFICER,
      subject: an,
      reason: REASON,
      details: { by: 'national_id', nationalId: '*********217', found: true },
    });
  });

  it('records a lookup that finds nobody too, and answers NotFoundError without the number', async () => {
    const before = await snapshot();
    const err = await lookUpAccount(ctx, { nationalId: '079192038561', actor: OFFICER, reason: REASON }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).not.toContain('079192038561');
    const after = await snapshot();
    expect(after.rows).toBe(before.rows);
    expect(after.audit).toBe(before.audit + 1);
    expect(await lastAudit('ACCOUNT_LOOKED_UP')).toEqual({
      event: 'ACCOUNT_LOOKED_UP',
      actor: OFFICER,
      subject: null,
      reason: REASON,
      details: { by: 'national_id', nationalId: '*********561', found: false },
    });
  });

  it('never puts the full number in the audit trail', async () => {
    const { rows } = await tdb.db.query('SELECT actor, subject, reason, details FROM audit_events');
    const trail = JSON.stringify(rows);
    expect(trail).not.toContain('001085004217');
    expect(trail).not.toContain('079192038561');
  });

  it.each([
    ['eleven digits', '00108500421'],
    ['spaces', '001 085 004 217'],
    ['full-width digits', '００１０８５００４２１７'],
    ['an unknown province code', '999085004217'],
    ['a birth year in the future', '001299004217'],
    ['nothing', ''],
  ])('refuses a number with %s, naming national_id, and writes nothing at all', async (_what, nationalId) => {
    const before = await snapshot();
    const p = lookUpAccount(ctx, { nationalId, actor: OFFICER, reason: REASON });
    expect(await fieldOf(p)).toBe('national_id');
    expect(await p.catch((e: Error) => e.message)).not.toContain(nationalId || '\u0000');
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['missing', undefined],
    ['blank', '   '],
    ['too short once trimmed', '  kiểm tra  '],
  ])('refuses a reason that is %s, naming reason, and writes nothing at all', async (_what, reason) => {
    const before = await snapshot();
    expect(await fieldOf(lookUpAccount(ctx, { nationalId: '001085004217', actor: OFFICER, reason: reason as string }))).toBe('reason');
    expect(await fieldOf(accountById(ctx, an, OFFICER, reason as string))).toBe('reason');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a lookup that does not say who acts, naming actor', async () => {
    const before = await snapshot();
    expect(await fieldOf(lookUpAccount(ctx, { nationalId: '001085004217', actor: ' ', reason: REASON }))).toBe('actor');
    expect(await snapshot()).toEqual(before);
  });
});

describe('looking an account up by account id', () => {
  it('answers the same summary and records the lookup the same way', async () => {
    const byNumber = await lookUpAccount(ctx, { nationalId: '001085004217', actor: OFFICER, reason: REASON });
    const before = await snapshot();
    const byId = await accountById(ctx, an, OFFICER, REASON);
    expect(byId).toEqual(byNumber);
    const after = await snapshot();
    expect(after.rows).toBe(before.rows);
    expect(after.audit).toBe(before.audit + 1);
    expect(await lastAudit('ACCOUNT_LOOKED_UP')).toEqual({
      event: 'ACCOUNT_LOOKED_UP',
      actor: OFFICER,
      subject: an,
      reason: REASON,
      details: { by: 'account_id', nationalId: '*********217', found: true },
    });
  });

  it('records an unknown id as not found', async () => {
    await expect(accountById(ctx, 'khong-ton-tai', OFFICER, REASON)).rejects.toBeInstanceOf(NotFoundError);
    expect(await lastAudit('ACCOUNT_LOOKED_UP')).toMatchObject({ subject: null, details: { by: 'account_id', accountId: 'khong-ton-tai', found: false } });
  });

  it('refuses a malformed id, naming account_id, and writes nothing at all', async () => {
    const before = await snapshot();
    expect(await fieldOf(accountById(ctx, 'two words', OFFICER, REASON))).toBe('account_id');
    expect(await fieldOf(accountById(ctx, '', OFFICER, REASON))).toBe('account_id');
    expect(await snapshot()).toEqual(before);
  });
});

describe('suspending and reinstating an account', () => {
  it('suspends at the version the officer saw, records why, and shows it in the summary', async () => {
    const id = await freshAccount('048201007396', '2001-11-05', 'male', 'Lê Hoàng Cường');
    const seen = await accountById(ctx, id, OFFICER, REASON);
    const s = await suspendAccount(ctx, { accountId: id, actor: OFFICER, reason: 'Nghi ngờ bị chiếm đoạt tài khoản (vụ 77)', expectedVersion: seen.version });
    expect(s).toMatchObject({ accountId: id, suspended: true, version: seen.version + 1, revoked: { sessions: 0, grants: 0, tokens: 0 } });
    expect(s.disabledAt).toEqual(expect.any(String));
    expect(await lastAudit('ACCOUNT_SUSPENDED')).toEqual({
      event: 'ACCOUNT_SUSPENDED',
      actor: OFFICER,
      subject: id,
      reason: 'Nghi ngờ bị chiếm đoạt tài khoản (vụ 77)',
      details: { version: seen.version + 1, revoked: { sessions: 0, grants: 0, tokens: 0 } },
    });
    expect(await accountById(ctx, id, OFFICER, REASON)).toMatchObject({ suspended: true, disabledAt: s.disabledAt, version: s.version });

    const r = await reinstateAccount(ctx, { accountId: id, actor: OFFICER, reason: 'Đã xác minh chính chủ tại quầy', expectedVersion: s.version });
    expect(r).toEqual({ accountId: id, suspended: false, disabledAt: null, version: s.version + 1 });
    expect(await lastAudit('ACCOUNT_REINSTATED')).toMatchObject({
      actor: OFFICER,
      subject: id,
      reason: 'Đã xác minh chính chủ tại quầy',
      details: { version: s.version + 1, suspendedAt: s.disabledAt },
    });
  });

  it('refuses a stale version with ConflictError and writes nothing', async () => {
    const id = await freshAccount('031178052840', '1978-01-30', 'female', 'Phạm Thị Dung');
    const seen = await accountById(ctx, id, OFFICER, REASON);
    await suspendAccount(ctx, { accountId: id, actor: 'admin:minh.tran', reason: 'Yêu cầu của cơ quan điều tra số 12', expectedVersion: seen.version });

    const before = await snapshot();
    const err = await reinstateAccount(ctx, { accountId: id, actor: OFFICER, reason: REASON, expectedVersion: seen.version }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'NIXA-CNF-001', status: 412, expected: seen.version, current: seen.version + 1 });
    const err2 = await suspendAccount(ctx, { accountId: id, actor: OFFICER, reason: REASON, expectedVersion: seen.version }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ConflictError);
    expect(await snapshot()).toEqual(before);
  });

  it('lets one of two officers acting on the same version win; the other gets ConflictError', async () => {
    const id = await freshAccount('046069113502', '1969-09-02', 'male', 'Hoàng Minh Đức');
    const { version } = await accountById(ctx, id, OFFICER, REASON);
    const results = await Promise.allSettled([
      suspendAccount(ctx, { accountId: id, actor: 'admin:a', reason: 'Khiếu nại số 1 của công dân', expectedVersion: version }),
      suspendAccount(ctx, { accountId: id, actor: 'admin:b', reason: 'Khiếu nại số 2 của công dân', expectedVersion: version }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'ACCOUNT_SUSPENDED' AND subject = $1`, [id]);
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses to suspend a suspended account or reinstate an active one (StateError), and an unknown one (NotFoundError), writing nothing', async () => {
    const id = await freshAccount('092303064158', '2003-04-18', 'female', 'Đặng Thị Ngọc Hà');
    await suspendAccount(ctx, { accountId: id, actor: OFFICER, reason: REASON });
    const before = await snapshot();
    await expect(suspendAccount(ctx, { accountId: id, actor: OFFICER, reason: REASON })).rejects.toBeInstanceOf(StateError);
    await expect(reinstateAccount(ctx, { accountId: an, actor: OFFICER, reason: REASON })).rejects.toBeInstanceOf(StateError);
    await expect(suspendAccount(ctx, { accountId: 'khong-ton-tai', actor: OFFICER, reason: REASON })).rejects.toBeInstanceOf(NotFoundError);
    expect(await fieldOf(suspendAccount(ctx, { accountId: an, actor: OFFICER, reason: 'vì sao' }))).toBe('reason');
    expect(await fieldOf(suspendAccount(ctx, { accountId: an, actor: OFFICER, reason: REASON, expectedVersion: 0 }))).toBe('expected_version');
    expect(await fieldOf(reinstateAccount(ctx, { accountId: id, actor: '', reason: REASON }))).toBe('actor');
    expect(await snapshot()).toEqual(before);
  });

  it("revokes the account's sessions, grants and everything issued under them, and nobody else's", async () => {
    const id = await freshAccount('001199027483', '1999-12-25', 'female', 'Bùi Thị Lan');
    const put = (model: string, rowId: string, payload: Record<string, unknown>, grantId: string | null = null) =>
      tdb.db.query(`INSERT INTO oidc_payloads (model, id, payload, grant_id, expires_at) VALUES ($1, $2, $3::jsonb, $4, now() + interval '1 hour')`, [
        model,
        rowId,
        JSON.stringify(payload),
        grantId,
      ]);
    // Hers: a session, a grant, a code, an access and a refresh token under it.
    await put('Session', 'sess-lan', { accountId: id, kind: 'Session' });
    await put('Grant', 'grant-lan', { accountId: id, clientId: 'svc', kind: 'Grant' }, 'grant-lan');
    await put('AuthorizationCode', 'code-lan', { accountId: id, grantId: 'grant-lan', kind: 'AuthorizationCode' }, 'grant-lan');
    await put('AccessToken', 'at-lan', { accountId: id, grantId: 'grant-lan', kind: 'AccessToken' }, 'grant-lan');
    await put('RefreshToken', 'rt-lan', { accountId: id, grantId: 'grant-lan', kind: 'RefreshToken' }, 'grant-lan');
    // Someone else's, and a service's own token: untouched.
    await put('Session', 'sess-an', { accountId: an, kind: 'Session' });
    await put('Grant', 'grant-an', { accountId: an, clientId: 'svc', kind: 'Grant' }, 'grant-an');
    await put('AccessToken', 'at-an', { accountId: an, grantId: 'grant-an', kind: 'AccessToken' }, 'grant-an');
    await put('ClientCredentials', 'cc-svc', { clientId: 'svc', kind: 'ClientCredentials' });

    const s = await suspendAccount(ctx, { accountId: id, actor: OFFICER, reason: 'Công dân báo bị lừa đảo qua điện thoại' });
    expect(s.revoked).toEqual({ sessions: 1, grants: 1, tokens: 3 });
    const { rows } = await tdb.db.query<{ id: string }>('SELECT id FROM oidc_payloads ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['at-an', 'cc-svc', 'grant-an', 'sess-an']);
    expect((await lastAudit('ACCOUNT_SUSPENDED')).details).toEqual({ version: s.version, revoked: { sessions: 1, grants: 1, tokens: 3 } });
    await tdb.db.query('DELETE FROM oidc_payloads');
  });
});

describe('signing in to a suspended account', () => {
  let binh: string;
  beforeAll(async () => {
    binh = await freshAccount('079192038561', '1992-07-12', 'female', 'Trần Thị Bình');
    await suspendAccount(ctx, { accountId: binh, actor: OFFICER, reason: 'Tài khoản bị báo cáo giả mạo' });
  });

  const binhAt = (sourceId: string, subject: string, withNumber = true): SourceAssertion => ({
    sourceId,
    proofingLevel: 'substantial',
    authoritativeFor: ['national_id', 'full_name'],
    subject,
    attributes: { ...(withNumber ? { national_id: '079192038561' } : {}), full_name: 'Trần Thị Bình' },
  });

  it.each([
    ['through the source that created it', citizenId({ national_id: '079192038561', birthdate: '1992-07-12', gender: 'female', full_name: 'Trần Thị Bình' }, 'vneid-8561')],
    ['through a source not linked yet', binhAt('vietcombank', 'vcb-0192')],
    ['through a linked source that does not repeat the number', citizenId({ national_id: undefined }, 'vneid-8561')],
  ])('is refused %s, recording only the refusal', async (_how, assertion) => {
    const a = { ...assertion, attributes: Object.fromEntries(Object.entries(assertion.attributes).filter(([, v]) => v !== undefined)) };
    const before = await snapshot();
    const r = await signInFromSource(ctx, a, { level: 'high', amr: ['pwd', 'fed'], client: 'dichvucong' });
    expect(r).toEqual({ outcome: 'refused', reason: 'account-suspended', detail: 'the account is suspended' });
    const after = await snapshot();
    expect(after.rows).toBe(before.rows);
    expect(after.audit).toBe(before.audit + 1);
    expect(await lastAudit('SIGN_IN_REFUSED')).toEqual({
      event: 'SIGN_IN_REFUSED',
      actor: `source:${a.sourceId}`,
      subject: binh,
      reason: null,
      details: { level: 'high', amr: ['pwd', 'fed'], client: 'dichvucong', reason: 'account-suspended' },
    });
  });

  it('signs in again once reinstated', async () => {
    await reinstateAccount(ctx, { accountId: binh, actor: OFFICER, reason: 'Đã xác minh chính chủ tại quầy' });
    expect(await signInFromSource(ctx, binhAt('vietcombank', 'vcb-0192'))).toMatchObject({ outcome: 'signed-in', accountId: binh, linked: true });
  });
});
