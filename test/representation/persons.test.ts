// Persons acting for persons, as policy: the age rule and whom a person may choose.
import { describe, expect, it } from '@jest/globals';

import { actClaim, ageOn, guardianMayAct, personChoices, wardAssertionFresh, WARD_ASSERTION_MAX_DAYS, type HelpedView, type WardView } from '../../src/representation/persons.js';

const khoi: WardView = { nationalId: '001216004521', fullName: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', sourceId: 'sim-citizen-id', assertedAt: '2026-12-01T08:00:00.000Z' };
const trang: WardView = { nationalId: '001311007832', fullName: 'Nguyễn Thu Trang', birthdate: '2011-08-09', sourceId: 'sim-citizen-id', assertedAt: '2026-12-01T08:00:00.000Z' };
const fromBinh: HelpedView = { delegationId: '6f1c7a52-1d7e-4c55-9d3a-2f1f0e6b9a10', grantorId: 'acc-binh', grantorName: 'Trần Thị Bình', clients: ['hanh-chinh-cong'], validUntil: '2027-06-30' };

describe('the age rule for a parent acting for a child', () => {
  it('counts whole years the way a birthday does', () => {
    expect(ageOn('2012-12-03', '2026-12-02')).toBe(13);
    expect(ageOn('2012-12-03', '2026-12-03')).toBe(14);
    expect(ageOn('2012-02-29', '2026-02-28')).toBe(13);
    expect(ageOn('2012-02-29', '2026-03-01')).toBe(14);
  });

  it('lets a parent act until the day before the 14th birthday, not on it', () => {
    expect(guardianMayAct('2012-12-03', '2026-12-02')).toBe(true);
    expect(guardianMayAct('2012-12-03', '2026-12-03')).toBe(false);
    expect(guardianMayAct('2016-05-20', '2026-12-03')).toBe(true);
  });

  it('refuses a birthdate it cannot read rather than guessing', () => {
    expect(guardianMayAct('20/05/2016', '2026-12-03')).toBe(false);
    expect(guardianMayAct('', '2026-12-03')).toBe(false);
  });
});

describe('how long what the source said of a family is trusted', () => {
  it(`trusts an assertion for ${WARD_ASSERTION_MAX_DAYS} days, not a moment more, and never one it cannot read`, () => {
    const at = '2026-11-03T00:00:00.000Z';
    expect(wardAssertionFresh(at, new Date('2026-12-03T00:00:00.000Z'))).toBe(true);
    expect(wardAssertionFresh(at, new Date('2026-12-03T00:00:00.001Z'))).toBe(false);
    expect(wardAssertionFresh('not a time', new Date('2026-12-03T00:00:00.000Z'))).toBe(false);
  });
});

describe('whom a person may act for at a service', () => {
  const base = { wards: [khoi, trang], helped: [fromBinh], clientId: 'hanh-chinh-cong', today: '2026-12-03', now: new Date('2026-12-03T09:00:00+07:00') };

  it('offers a child under 14 and shows one of 14 or over as refused, when the service accepts guardians', () => {
    const c = personChoices({ ...base, accepted: ['guardian'] });
    expect(c.map((x) => [x.name, x.relation, x.refused ?? null])).toEqual([
      ['Nguyễn Minh Khôi', 'guardian', null],
      ['Nguyễn Thu Trang', 'guardian', 'fourteen'],
    ]);
    expect(c[0]!.value).toBe('ward:0');
  });

  it("shows a child the source has not named again within the last 30 days as to be confirmed, not offered", () => {
    const c = personChoices({ ...base, now: new Date('2027-01-01T09:00:00Z'), accepted: ['guardian'] });
    expect(c.find((x) => x.name === 'Nguyễn Minh Khôi')!.refused).toBe('not-confirmed');
    // The 14-or-over reason stays the one shown for Trang: it does not go away by signing in again.
    expect(c.find((x) => x.name === 'Nguyễn Thu Trang')!.refused).toBe('fourteen');
  });

  it('offers whoever authorised this person for this very service, when it accepts helpers', () => {
    const c = personChoices({ ...base, accepted: ['helper'] });
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ relation: 'helper', name: 'Trần Thị Bình', value: `helper:${fromBinh.delegationId}`, validUntil: '2027-06-30' });
  });

  it('offers no one to a service that accepts neither relation', () => {
    expect(personChoices({ ...base, accepted: [] })).toEqual([]);
  });

  it('does not offer an authorisation for other services, or one past its last day', () => {
    expect(personChoices({ ...base, clientId: 'thue-dien-tu', accepted: ['helper'] })).toEqual([]);
    expect(personChoices({ ...base, today: '2027-07-01', accepted: ['helper'] })).toEqual([]);
  });

  it("names the actor in act by the subject the service knows", () => {
    expect(actClaim('pairwise-sub-of-parent')).toEqual({ sub: 'pairwise-sub-of-parent' });
  });
});
