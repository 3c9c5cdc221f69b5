// A bank, simulated: substantial assurance (password and a face check against
// the chip of the CCCD during eKYC), English claim names, and its own records,
// which are not always the same as the population database's.
import { ONLY_AT_TELECOM, vietnameseDate, type TestCitizen } from './citizens.js';
import type { SourceProfile } from './profiles.js';

/**
 * Where the bank's record differs from the citizen-ID record, for conflict tests.
 * tran-thi-binh: day and month swapped when her account was opened
 * (citizen ID: 1992-07-12, bank: 1992-12-07).
 */
export const BANK_RECORD_OVERRIDES: Readonly<Record<string, Readonly<Partial<Pick<TestCitizen, 'birthdate' | 'fullName'>>>>> =
  Object.freeze({
    'tran-thi-binh': Object.freeze({ birthdate: '1992-12-07' }),
  });

function bankRecord(c: TestCitizen): TestCitizen {
  return { ...c, ...BANK_RECORD_OVERRIDES[c.key] };
}

export const bankSource: SourceProfile = {
  kind: 'bank',
  name: { vi: 'Ngân hàng', en: 'Bank, simulated' },
  scope: 'kyc',
  claimNames: ['id_number', 'name', 'birthdate', 'ekyc_verified'],
  acr: 'urn:vn:bank:loa:substantial',
  amr: ['pwd', 'face'],
  subjectPrefix: 'bank-',
  theme: 'source-bank',
  knows: (c: TestCitizen) => !ONLY_AT_TELECOM.has(c.key),
  claims: (c: TestCitizen) => {
    const r = bankRecord(c);
    return { id_number: r.nationalId, name: r.fullName, birthdate: r.birthdate, ekyc_verified: true };
  },
  describe: (c: TestCitizen) => {
    const r = bankRecord(c);
    return {
      vi: `Khách hàng, CCCD ${r.nationalId} · sinh ngày ${vietnameseDate(r.birthdate)}`,
      en: `Customer, ID ${r.nationalId}, born ${r.birthdate}`,
    };
  },
};
