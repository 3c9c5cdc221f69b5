// Authorisations of helpers against a real database (PostgreSQL with
// NIXA_TEST_DATABASE_URL, PGlite without): listed for both people, ended by either
// of them at once and by nobody else, refused with the field named and nothing
// stored, and audited with both people in each one's history.
import { randomBytes } from 'node:crypto';

import { reinstateAccount, signInFromSource, suspendAccount, type AccountsContext, type SourceAssertion } from '../../src/accounts/index.js';
import { accountHistory } from '../../src/audit/index.js';
import { disableClient } from '../../src/clients/index.js';
import { authorise, delegationById, delegationsFor, delegationsGivenBy, inForce, revoke, servicesAcceptingHelpers } from '../../src/delegation/index.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { registerTestClient } from '../support/relying-party.js';

// Seeded test citizens (src/simulated-sources/citizens.ts).
const AN = { nationalId: '001085004217', name: 'Nguyễn Văn An', birthdate: '1985-03-14', gender: 'male' as const };
const CUONG = { nationalId: '048201007396', name: 'Lê Hoàng Cường', birthdate: '2001-11-05', gender: 'male' as const };
const DUNG = { nationalId: '031178052840', name: 'Phạm Thị Dung', birthdate: '1978-01-30', gender: 'female' as const };
// Nobody of that number has signed in to nixa (Hoàng Minh Đức, never seen here).
const DUC = '046069113502';

const TODAY = '2026-12-03';

let tdb: TestDatabase;
let ctx: AccountsContext;
let an: string;
let cuong: string;
let dung: string;
let tax: string;
let insurance: string;
let companiesOnly: string;
let disabled: string;

const person = async (p: { nationalId: string; name: string; birthdate: string; gender: 'male' | 'female' }): Promise<string> => {
  const a: SourceAssertion = {
    sourceId: 'vneid',
    proofingLevel: 'high',
    authoritativeFor: ['national_id', 'full_name', 'birthdate', 'gender'],
    subject: `vneid-${p.nationalId}`,
    attributes: { national_id: p.nationalId, full_name: p.name, birthdate: p.birthdate, gender: p.gender },
  };
  const r = await signInFromSource(ctx, a);
  if (r.outcome !== 'signed-in') throw new Error(`setup sign-in refused: ${r.detail}`);
  return r.accountId;
};

const helperService = async (name: string) =>
  (await registerTestClient(tdb.db, { name, scope: 'openid profile representation', representation: ['helper', 'guardian'] })).clientId;

beforeAll(async () => {
  tdb = await createTestDatabase();
  ctx = { db: tdb.db, cipher: new Cipher(randomBytes(32)), pepper: randomBytes(32) };
  an = await person(AN);
  cuong = await person(CUONG);
  dung = await person(DUNG);
  tax = await helperService('Cổng dịch vụ thuế');
  insurance = await helperService('Bảo hiểm xã hội Việt Nam');
  companiesOnly = (await registerTestClient(tdb.db, { name: 'Hải quan một cửa', scope: 'openid representation', representation: ['legal_representative'] })).clientId;
  disabled = await helperService('Dịch vụ đã ngừng');
  await disableClient(tdb.db, disabled, 'test', 'ngừng dịch vụ');
});

afterAll(async () => {
  await tdb?.drop();
});

const count = async (sql: string, params: unknown[] = []) => (await tdb.db.query<{ n: number }>(sql, params)).rows[0]!.n;
const delegationRows = () => count('SELECT count(*)::int AS n FROM delegations');
const delegationEvents = () => count(`SELECT count(*)::int AS n FROM audit_events WHERE event LIKE 'DELEGATION_%'`);

/** The request An makes for Cường in most tests. */
const anForCuong = { grantorId: '', helperNationalId: CUONG.nationalId, clients: [] as string[], validUntil: '2027-06-30', level: 'substantial' as const };

describe('authorising a helper', () => {
  test('the services offered are the enabled ones that accept helpers', async () => {
    const offered = (await servicesAcceptingHelpers(ctx)).map((s) => s.clientId);
    expect(offered).toEqual(expect.arrayContaining([tax, insurance]));
    expect(offered).not.toContain(companiesOnly);
    expect(offered).not.toContain(disabled);
  });

  test('listed for the grantor and, in force, for the helper; stored without the number', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: an, clients: [tax, insurance, tax] }, TODAY);
    expect(d).toMatchObject({ grantorId: an, helperMasked: '*********396', clients: [tax, insurance], validUntil: '2027-06-30' });
    expect(d.revokedAt).toBeUndefined();
    expect(await delegationsGivenBy(ctx, an)).toEqual([d]);
    expect(await delegationsFor(ctx, CUONG.nationalId, TODAY)).toEqual([d]);
    expect(await delegationById(ctx, d.id)).toEqual(d);
    expect(await delegationsFor(ctx, DUNG.nationalId, TODAY)).toEqual([]);
    expect(inForce(d, tax, TODAY)).toBe(true);
    const { rows } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM delegations WHERE id = $1', [d.id]);
    expect(JSON.stringify(rows[0])).not.toContain(CUONG.nationalId);
  });

  test('a helper who has no nixa account yet may be named, and finds it once they have one', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: dung, helperNationalId: DUC, clients: [tax] }, TODAY);
    expect((await delegationsFor(ctx, DUC, TODAY)).map((x) => x.id)).toEqual([d.id]);
  });

  test('past its last day it is no longer in force for the helper, though the grantor still sees it', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: dung, clients: [insurance], validUntil: '2026-12-10' }, TODAY);
    expect((await delegationsFor(ctx, CUONG.nationalId, '2026-12-10')).map((x) => x.id)).toContain(d.id);
    expect((await delegationsFor(ctx, CUONG.nationalId, '2026-12-11')).map((x) => x.id)).not.toContain(d.id);
    expect(inForce(d, insurance, '2026-12-11')).toBe(false);
    expect((await delegationsGivenBy(ctx, dung)).map((x) => x.id)).toContain(d.id);
  });

  describe('each refusal names its field and stores nothing', () => {
    const refusal = async (input: Partial<typeof anForCuong>): Promise<InvalidInputError> => {
      const [rows, events] = [await delegationRows(), await delegationEvents()];
      const err = await authorise(ctx, { ...anForCuong, grantorId: an, clients: [tax], ...input }, TODAY).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidInputError);
      expect([await delegationRows(), await delegationEvents()]).toEqual([rows, events]);
      expect((err as Error).message).not.toContain(CUONG.nationalId);
      return err as InvalidInputError;
    };

    // Client ids are known only once registered (beforeAll): named here, read at run time.
    const service = { tax: () => tax, companiesOnly: () => companiesOnly, disabled: () => disabled, unknown: () => 'khong-co' };
    test.each<[string, string, Partial<typeof anForCuong> & { services?: (keyof typeof service)[] }]>([
      ['a malformed number', 'helper_national_id', { helperNationalId: '04820100739' }],
      ['an implausible number (no such province)', 'helper_national_id', { helperNationalId: '003201007396' }],
      ["the grantor's own number", 'helper_national_id', { helperNationalId: AN.nationalId }],
      ['no service', 'clients', { services: [] }],
      ['a service that accepts only companies', 'clients', { services: ['tax', 'companiesOnly'] }],
      ['a disabled service', 'clients', { services: ['disabled'] }],
      ['a service that does not exist', 'clients', { services: ['unknown'] }],
      ['today as the last day', 'valid_until', { validUntil: TODAY }],
      ['more than a year ahead', 'valid_until', { validUntil: '2027-12-04' }],
      ['a session at low', 'level', { level: 'low' as never }],
    ])('%s is refused, naming %s', async (_, field, { services, ...input }) => {
      expect((await refusal({ ...input, ...(services ? { clients: services.map((k) => service[k]()) } : {}) })).field).toBe(field);
    });
  });
  test("a suspended grantor's authorisations are not in force for the helper until reinstated", async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: dung, clients: [tax] }, TODAY);
    const officer = { actor: 'cli:security-officer', reason: 'Nghi ngờ tài khoản bị chiếm, chờ công dân xác minh' };
    await suspendAccount(ctx, { accountId: dung, ...officer });
    expect((await delegationsFor(ctx, CUONG.nationalId, TODAY)).map((x) => x.id)).not.toContain(d.id);
    await reinstateAccount(ctx, { accountId: dung, ...officer, reason: 'Công dân đã xác minh tại bộ phận một cửa' });
    expect((await delegationsFor(ctx, CUONG.nationalId, TODAY)).map((x) => x.id)).toContain(d.id);
  });
});

describe('revoking', () => {
  test('by the grantor: at once, for both; again changes nothing', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: an, clients: [tax] }, TODAY);
    const events = await delegationEvents();
    const r = await revoke(ctx, d.id, { accountId: an, as: 'grantor' });
    expect(r).toMatchObject({ id: d.id, revokedBy: 'grantor' });
    expect(Date.now() - Date.parse(r!.revokedAt!)).toBeLessThan(60_000);
    expect((await delegationsFor(ctx, CUONG.nationalId, TODAY)).map((x) => x.id)).not.toContain(d.id);
    expect(inForce(r!, tax, TODAY)).toBe(false);
    // Audited once, for both people (Cường has an account: two rows).
    expect(await delegationEvents()).toBe(events + 2);
    expect(await revoke(ctx, d.id, { accountId: an, as: 'grantor' })).toEqual(r);
    expect(await delegationEvents()).toBe(events + 2);
  });

  test('by the helper, proven by their account’s own number', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: an, clients: [insurance] }, TODAY);
    // Cường's account with another's number proves nothing; the number without its account neither.
    expect(await revoke(ctx, d.id, { accountId: cuong, as: 'helper', nationalId: DUNG.nationalId })).toBeUndefined();
    expect(await revoke(ctx, d.id, { accountId: dung, as: 'helper', nationalId: CUONG.nationalId })).toBeUndefined();
    expect(await revoke(ctx, d.id, { accountId: cuong, as: 'helper' })).toBeUndefined();
    expect((await delegationById(ctx, d.id))!.revokedAt).toBeUndefined();
    const r = await revoke(ctx, d.id, { accountId: cuong, as: 'helper', nationalId: CUONG.nationalId });
    expect(r).toMatchObject({ id: d.id, revokedBy: 'helper' });
    expect((await delegationsFor(ctx, CUONG.nationalId, TODAY)).map((x) => x.id)).not.toContain(d.id);
  });

  test('a third person cannot, as grantor or as helper; nor can the helper as grantor', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: an, clients: [tax] }, TODAY);
    const events = await delegationEvents();
    expect(await revoke(ctx, d.id, { accountId: dung, as: 'grantor' })).toBeUndefined();
    expect(await revoke(ctx, d.id, { accountId: dung, as: 'helper', nationalId: DUNG.nationalId })).toBeUndefined();
    expect(await revoke(ctx, d.id, { accountId: cuong, as: 'grantor' })).toBeUndefined();
    expect(await revoke(ctx, 'not-an-id', { accountId: an, as: 'grantor' })).toBeUndefined();
    expect((await delegationById(ctx, d.id))!.revokedAt).toBeUndefined();
    expect(await delegationEvents()).toBe(events);
  });
});

describe('audit', () => {
  test('granted and revoked each name both people, once in each one’s history; never the full number', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: an, clients: [tax], validUntil: '2027-03-31' }, TODAY);
    await revoke(ctx, d.id, { accountId: cuong, as: 'helper', nationalId: CUONG.nationalId });
    const { rows } = await tdb.db.query<{ event: string; actor: string; subject: string; details: Record<string, unknown> }>(
      `SELECT event, actor, subject, details FROM audit_events WHERE details->>'delegation' = $1 ORDER BY seq`,
      [d.id],
    );
    const both = { delegation: d.id, helper: '*********396', helper_account: cuong, grantor_account: an, clients: [tax], valid_until: '2027-03-31' };
    expect(rows).toEqual([
      { event: 'DELEGATION_GRANTED', actor: `account:${an}`, subject: an, details: { ...both, by: 'grantor' } },
      { event: 'DELEGATION_GRANTED', actor: `account:${an}`, subject: cuong, details: { ...both, by: 'grantor' } },
      { event: 'DELEGATION_REVOKED', actor: `account:${cuong}`, subject: an, details: { ...both, by: 'helper' } },
      { event: 'DELEGATION_REVOKED', actor: `account:${cuong}`, subject: cuong, details: { ...both, by: 'helper' } },
    ]);
    expect(JSON.stringify(rows)).not.toContain(CUONG.nationalId);
    for (const account of [an, cuong]) {
      const history = (await accountHistory(tdb.db, account, { limit: 50 })).events.filter((e) => e.details.delegation === d.id);
      expect(history.map((e) => e.event)).toEqual(['DELEGATION_REVOKED', 'DELEGATION_GRANTED']);
    }
    expect((await accountHistory(tdb.db, dung, { limit: 50 })).events.filter((e) => e.details.delegation === d.id)).toEqual([]);
  });

  test('a helper without an account: one event, the grantor’s, with no helper_account', async () => {
    const d = await authorise(ctx, { ...anForCuong, grantorId: an, helperNationalId: DUC, clients: [tax] }, TODAY);
    const { rows } = await tdb.db.query<{ subject: string; details: Record<string, unknown> }>(`SELECT subject, details FROM audit_events WHERE details->>'delegation' = $1`, [d.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ subject: an, details: { helper: '*********502' } });
    expect(rows[0]!.details.helper_account).toBeUndefined();
  });
});
