// The pure rules of a citizen letting another act for them (src/delegation/policy.ts).
import { authorisationRefusal, inForce, latestValidUntil, nextDay, statusOf, todayInVietnam, type Delegation } from '../../src/delegation/policy.js';

const TODAY = '2026-12-03';
const AN = '001085004217'; // Nguyễn Văn An, Hà Nội, 1985
const facts = { helperAccountId: 'account-cuong', grantorId: 'account-an', acceptingHelpers: new Set(['thue', 'bhxh']) };
const request = { helperNationalId: AN, clients: ['thue'], validUntil: '2027-06-30', level: 'substantial' as const };

describe('what an authorisation may be', () => {
  test('a well-formed request at substantial is accepted, and at high too', () => {
    expect(authorisationRefusal(request, facts, TODAY)).toBeUndefined();
    expect(authorisationRefusal({ ...request, level: 'high' }, facts, TODAY)).toBeUndefined();
  });

  test('a helper who has no nixa account yet may be named', () => {
    expect(authorisationRefusal(request, { ...facts, helperAccountId: undefined }, TODAY)).toBeUndefined();
  });

  test('a session below substantial is refused first, naming level', () => {
    expect(authorisationRefusal({ ...request, level: 'low', helperNationalId: 'x' }, facts, TODAY)).toMatchObject({ field: 'level' });
  });

  test.each([
    ['too short', '00108500421'],
    ['letters', '00108500421A'],
    ['spaces', '001 085 004 217'],
    ['an unknown province', '003085004217'],
    ['a birth year in the future', '001299004217'],
  ])('a number with %s is refused, naming helper_national_id, and the problem never repeats it', (_, n) => {
    const r = authorisationRefusal({ ...request, helperNationalId: n }, facts, TODAY);
    expect(r).toMatchObject({ field: 'helper_national_id' });
    expect(r!.problem).not.toContain(n);
  });

  test("one's own number is refused, naming helper_national_id", () => {
    expect(authorisationRefusal(request, { ...facts, helperAccountId: 'account-an' }, TODAY)).toMatchObject({ field: 'helper_national_id', problem: expect.stringContaining('own') });
  });

  test('no service, or one that does not accept helpers, is refused, naming clients', () => {
    expect(authorisationRefusal({ ...request, clients: [] }, facts, TODAY)).toMatchObject({ field: 'clients' });
    expect(authorisationRefusal({ ...request, clients: ['thue', 'hai-quan'] }, facts, TODAY)).toMatchObject({ field: 'clients' });
  });

  test.each([
    ['today', TODAY],
    ['yesterday', '2026-12-02'],
    ['a year and a day ahead', '2027-12-04'],
    ['not a calendar date', '2027-02-30'],
    ['written another way', '30/06/2027'],
    ['empty', ''],
  ])('a last day that is %s is refused, naming valid_until', (_, day) => {
    expect(authorisationRefusal({ ...request, validUntil: day }, facts, TODAY)).toMatchObject({ field: 'valid_until' });
  });

  test('tomorrow and exactly one year ahead are accepted', () => {
    expect(authorisationRefusal({ ...request, validUntil: '2026-12-04' }, facts, TODAY)).toBeUndefined();
    expect(authorisationRefusal({ ...request, validUntil: '2027-12-03' }, facts, TODAY)).toBeUndefined();
  });
});

describe('dates in Vietnam', () => {
  test("today is Vietnam's day (UTC+7): 17:00 UTC is already tomorrow there", () => {
    expect(todayInVietnam(new Date('2026-12-03T16:59:00Z'))).toBe('2026-12-03');
    expect(todayInVietnam(new Date('2026-12-03T17:00:00Z'))).toBe('2026-12-04');
  });

  test('a year on from 29 February is 1 March; the day after the last of a month is the first of the next', () => {
    expect(latestValidUntil('2028-02-29')).toBe('2029-03-01');
    expect(latestValidUntil(TODAY)).toBe('2027-12-03');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });
});

describe('when an authorisation is in force', () => {
  const d: Delegation = { id: 'd1', grantorId: 'account-an', helperMasked: '*********396', clients: ['thue'], validUntil: '2026-12-31', createdAt: '2026-12-01T02:00:00.000Z' };

  test('at a named service, up to and including its last day', () => {
    expect(inForce(d, 'thue', TODAY)).toBe(true);
    expect(inForce(d, 'thue', '2026-12-31')).toBe(true);
    expect(statusOf(d, TODAY)).toBe('in-force');
  });

  test('not the day after its last day', () => {
    expect(inForce(d, 'thue', '2027-01-01')).toBe(false);
    expect(statusOf(d, '2027-01-01')).toBe('expired');
  });

  test('not at a service it does not name', () => {
    expect(inForce(d, 'bhxh', TODAY)).toBe(false);
  });

  test('not once revoked, whoever revoked it', () => {
    expect(inForce({ ...d, revokedAt: '2026-12-02T00:00:00.000Z', revokedBy: 'helper' }, 'thue', TODAY)).toBe(false);
    expect(statusOf({ ...d, revokedAt: '2026-12-02T00:00:00.000Z', revokedBy: 'grantor' }, TODAY)).toBe('revoked');
  });
});
