// Wards (src/accounts/wards.ts): the minor children a high-level source says a
// person is the legal representative of, kept as it last said it, and the child's
// own account, made once the first time a parent acts for them.
import { randomBytes } from 'node:crypto';

import {
  accountClaims,
  proofingLevelOf,
  recordWards,
  signInFromSource,
  wardAccount,
  wardByAccount,
  wardsOf,
  type AccountsContext,
  type AttributeName,
  type SourceAssertion,
} from '../../src/accounts/index.js';
import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { MasterKeyError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { addSource, updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;
let ctx: AccountsContext;

const PROD = { allowHttpLoopback: false };
const DANCU = 'dancu';
const DANCU_COPY = 'dancu-ban-sao';
const BANK = 'nganhang';

type Child = Partial<Record<AttributeName, string>>;
// As callback.ts hands them over: the source's claims through its claim_mapping.
const KHOI: Child = { national_id: '001216073942', full_name: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', gender: 'male' };
const TRANG: Child = { national_id: '001311058126', full_name: 'Nguyễn Thu Trang', birthdate: '2011-08-09', gender: 'female' };
const NGOC_ANH: Child = { national_id: '031319046273', full_name: 'Vũ Ngọc Anh', birthdate: '2019-02-11', gender: 'female' };

const person = (sourceId: string, subject: string, attributes: SourceAssertion['attributes']): SourceAssertion => ({
  sourceId,
  proofingLevel: 'high',
  authoritativeFor: ['national_id', 'full_name', 'birthdate', 'gender'],
  subject,
  attributes,
});

async function signedIn(a: SourceAssertion): Promise<string> {
  const o = await signInFromSource(ctx, a);
  if (o.outcome !== 'signed-in') throw new Error(`setup sign-in refused: ${o.detail}`);
  return o.accountId;
}

const record = (guardian: string, sourceId: string, wards: Child[]) => ctx.db.transaction((tx) => recordWards(ctx, tx, guardian, sourceId, wards));

async function registerSource(id: string, kind: 'citizen_id' | 'bank'): Promise<void> {
  const secret = `bi-mat-${randomBytes(16).toString('base64url')}`;
  await addSource(tdb.db, ctx.cipher, { ...simulatedSourceRegistration(kind, `https://${id}.example.vn`, secret), id }, 'test', PROD);
}

let an: string;
let dung: string;
let cuong: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  ctx = { db: tdb.db, cipher: new Cipher(randomBytes(32)), pepper: randomBytes(32) };
  await registerSource(DANCU, 'citizen_id');
  await registerSource(DANCU_COPY, 'citizen_id');
  await registerSource(BANK, 'bank');
  an = await signedIn(person(DANCU, 'dancu-an', { national_id: '001085004217', full_name: 'Nguyễn Văn An', birthdate: '1985-03-14', gender: 'male' }));
  dung = await signedIn(person(DANCU, 'dancu-dung', { national_id: '031178052840', full_name: 'Phạm Thị Dung', birthdate: '1978-01-30', gender: 'female' }));
  cuong = await signedIn(person(DANCU, 'dancu-cuong', { national_id: '048201007396', full_name: 'Lê Hoàng Cường', birthdate: '2001-11-05', gender: 'male' }));
});

afterAll(async () => {
  await tdb?.drop();
});

const count = async (sql: string, params: unknown[]) => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

describe('recording what a source says of a person’s minor children', () => {
  it('keeps each child as asserted, oldest first, sealed: no number, name or birthdate readable in the table', async () => {
    expect(await record(an, DANCU, [KHOI, TRANG])).toEqual({ recorded: 2, skipped: 0 });
    const wards = await wardsOf(ctx, an);
    expect(wards).toEqual([
      { nationalId: '001311058126', fullName: 'Nguyễn Thu Trang', birthdate: '2011-08-09', gender: 'female', sourceId: DANCU, assertedAt: expect.any(String) },
      { nationalId: '001216073942', fullName: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', gender: 'male', sourceId: DANCU, assertedAt: expect.any(String) },
    ]);
    const { rows } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM account_wards WHERE guardian_id = $1', [an]);
    expect(rows).toHaveLength(2);
    const text = JSON.stringify(rows.map((r) => Object.values(r).map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))));
    for (const secret of ['001311058126', '001216073942', 'Trang', 'Khôi', '2016-05-20']) expect(text).not.toContain(secret);
  });

  it('replaces what that source said: a child it no longer names is gone, and an empty list leaves none', async () => {
    await record(an, DANCU, [KHOI, TRANG]);
    await record(an, DANCU, [KHOI]);
    expect((await wardsOf(ctx, an)).map((w) => w.fullName)).toEqual(['Nguyễn Minh Khôi']);
    await record(an, DANCU, []);
    expect(await wardsOf(ctx, an)).toEqual([]);
    await record(an, DANCU, [KHOI, TRANG]);
  });

  it('replaces only what that source said, and lists every source vouching for children', async () => {
    await record(an, DANCU_COPY, [KHOI]);
    expect((await wardsOf(ctx, an)).map((w) => `${w.fullName} ${w.sourceId}`)).toEqual([
      `Nguyễn Thu Trang ${DANCU}`,
      `Nguyễn Minh Khôi ${DANCU}`,
      `Nguyễn Minh Khôi ${DANCU_COPY}`,
    ]);
    await record(an, DANCU_COPY, []);
    expect(await wardsOf(ctx, an)).toHaveLength(2);
  });

  it('skips, and only counts, children whose number does not fit their birthdate or gender, or who lack a number, name or birthdate', async () => {
    const result = await record(dung, DANCU, [
      NGOC_ANH,
      { ...NGOC_ANH, national_id: '031319046274', birthdate: '2018-02-11' }, // number says 2019
      { ...NGOC_ANH, national_id: '031319046275', gender: 'male' }, // digit 4 says female
      { ...NGOC_ANH, national_id: '000319046276' }, // no such province
      { ...NGOC_ANH, national_id: '0313190462' }, // ten digits
      { ...NGOC_ANH, national_id: '031319046277', full_name: undefined },
      { ...NGOC_ANH, national_id: '031319046278', full_name: '   ' },
      { ...NGOC_ANH, national_id: '031319046279', birthdate: undefined },
      { full_name: 'Vũ Ngọc Anh', birthdate: '2019-02-11' },
      {},
    ]);
    expect(result).toEqual({ recorded: 1, skipped: 9 });
    expect((await wardsOf(ctx, dung)).map((w) => w.nationalId)).toEqual(['031319046273']);
  });

  it('never makes a person their own ward, and keeps a child named twice once', async () => {
    const self = { national_id: '031178052840', full_name: 'Phạm Thị Dung', birthdate: '1978-01-30', gender: 'female' };
    expect(await record(dung, DANCU, [self, NGOC_ANH, NGOC_ANH])).toEqual({ recorded: 1, skipped: 2 });
    expect((await wardsOf(ctx, dung)).map((w) => w.fullName)).toEqual(['Vũ Ngọc Anh']);
  });

  it('believes only a source registered to vouch for children: the bank’s word is kept nowhere visible, and removing wards_claim withdraws what a source said', async () => {
    await record(cuong, BANK, [NGOC_ANH]);
    expect(await wardsOf(ctx, cuong)).toEqual([]);
    expect(await wardAccount(ctx, cuong, NGOC_ANH.national_id!)).toBeUndefined();

    await record(cuong, DANCU_COPY, [NGOC_ANH]);
    expect(await wardsOf(ctx, cuong)).toHaveLength(1);
    await updateSource(tdb.db, ctx.cipher, DANCU_COPY, { wards_claim: null }, 'test', PROD);
    expect(await wardsOf(ctx, cuong)).toEqual([]);
    await updateSource(tdb.db, ctx.cipher, DANCU_COPY, { wards_claim: 'con_chua_thanh_nien' }, 'test', PROD);
    await record(cuong, DANCU_COPY, []);
  });

  it('seals each child to its guardian: a row copied onto another guardian does not open', async () => {
    await tdb.db.query(
      `INSERT INTO account_wards (guardian_id, source_id, ward_national_id_hash, ward_sealed, asserted_at)
       SELECT $2, source_id, ward_national_id_hash, ward_sealed, asserted_at FROM account_wards WHERE guardian_id = $1 AND source_id = $3`,
      [dung, cuong, DANCU],
    );
    await expect(wardsOf(ctx, cuong)).rejects.toBeInstanceOf(MasterKeyError);
    await tdb.db.query('DELETE FROM account_wards WHERE guardian_id = $1', [cuong]);
  });
});

describe('the child’s account, when a parent acts for them', () => {
  it('is nothing when the number is not asserted as this guardian’s ward (or is not a number)', async () => {
    expect(await wardAccount(ctx, an, NGOC_ANH.national_id!)).toBeUndefined();
    expect(await wardAccount(ctx, cuong, KHOI.national_id!)).toBeUndefined();
    expect(await wardAccount(ctx, an, '00121607394')).toBeUndefined();
    expect(await count('accounts', [])).toBe(3);
  });

  it('is made once, with what the source said, at its level, without a link, audited as the guardian’s act', async () => {
    const [first, concurrent] = await Promise.all([wardAccount(ctx, an, KHOI.national_id!), wardAccount(ctx, an, KHOI.national_id!)]);
    expect(first).toEqual({ accountId: expect.any(String), enabled: true, ward: expect.objectContaining({ nationalId: '001216073942', fullName: 'Nguyễn Minh Khôi', sourceId: DANCU }) });
    expect(concurrent!.accountId).toBe(first!.accountId);
    const again = await wardAccount(ctx, an, KHOI.national_id!);
    expect(again!.accountId).toBe(first!.accountId);

    const khoi = first!.accountId;
    expect(await accountClaims(ctx, khoi)).toEqual({ sub: khoi, national_id: '001216073942', name: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', gender: 'male' });
    expect(await proofingLevelOf(ctx, khoi)).toBe('high');
    expect(await count('linked_identities WHERE account_id = $1', [khoi])).toBe(0);
    const { rows } = await tdb.db.query<{ actor: string; details: Record<string, unknown> }>("SELECT actor, details FROM audit_events WHERE event = 'ACCOUNT_CREATED' AND subject = $1", [khoi]);
    expect(rows).toEqual([{ actor: `account:${an}`, details: { nationalId: '*********942', by: 'guardian', source: DANCU, level: 'high' } }]);
  });

  it('is the same account for a second guardian who is asserted the same child', async () => {
    const forAn = await wardAccount(ctx, an, KHOI.national_id!);
    await record(dung, DANCU, [NGOC_ANH, KHOI]);
    const forDung = await wardAccount(ctx, dung, KHOI.national_id!);
    expect(forDung!.accountId).toBe(forAn!.accountId);
    expect(await count("audit_events WHERE event = 'ACCOUNT_CREATED' AND subject = $1", [forAn!.accountId])).toBe(1);
    await record(dung, DANCU, [NGOC_ANH]);
  });

  it('never overwrites an account the child already has, and says when it is suspended', async () => {
    const trang = await signedIn(person(DANCU, 'dancu-trang', { ...TRANG, full_name: 'Nguyễn Thị Thu Trang' }));
    const found = await wardAccount(ctx, an, TRANG.national_id!);
    expect(found).toEqual({ accountId: trang, enabled: true, ward: expect.objectContaining({ fullName: 'Nguyễn Thu Trang' }) });
    expect((await accountClaims(ctx, trang)).name).toBe('Nguyễn Thị Thu Trang');
    expect(await count("audit_events WHERE event = 'ACCOUNT_CREATED' AND subject = $1", [trang])).toBe(1);

    await tdb.db.query('UPDATE accounts SET disabled_at = now() WHERE id = $1', [trang]);
    expect(await wardAccount(ctx, an, TRANG.national_id!)).toEqual({ accountId: trang, enabled: false, ward: expect.objectContaining({ nationalId: TRANG.national_id }) });
    await tdb.db.query('UPDATE accounts SET disabled_at = NULL WHERE id = $1', [trang]);
  });

  it('is found back from the child’s account while the source still names the child, and no longer once it does not', async () => {
    const khoi = (await wardAccount(ctx, an, KHOI.national_id!))!.accountId;
    expect(await wardByAccount(ctx, an, khoi)).toMatchObject({ nationalId: KHOI.national_id, fullName: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', sourceId: DANCU });
    expect(await wardByAccount(ctx, dung, khoi)).toBeUndefined();
    expect(await wardByAccount(ctx, an, an)).toBeUndefined();
    expect(await wardByAccount(ctx, an, 'no-such-account')).toBeUndefined();

    await record(an, DANCU, [TRANG]);
    expect(await wardByAccount(ctx, an, khoi)).toBeUndefined();
    expect(await wardAccount(ctx, an, KHOI.national_id!)).toBeUndefined();
    // The child's account stays: it is theirs, not the parent's.
    expect(await count('accounts WHERE id = $1', [khoi])).toBe(1);
  });
});
