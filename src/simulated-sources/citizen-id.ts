// The national population database (Cơ sở dữ liệu quốc gia về dân cư), simulated:
// the high-assurance source, with Vietnamese claim names as its API would use.
import { ONLY_AT_TELECOM, vietnameseDate, type TestCitizen } from './citizens.js';
import { childrenOf } from './families.js';
import type { SourceProfile } from './profiles.js';

export const citizenIdSource: SourceProfile = {
  kind: 'citizen_id',
  name: { vi: 'Cơ sở dữ liệu quốc gia về dân cư', en: 'Citizen ID, simulated' },
  scope: 'cccd',
  // con_chua_thanh_nien: the person's minor children (families.ts), each with the
  // same claim names as the person's own, so one claim_mapping reads both.
  claimNames: ['so_dinh_danh', 'ho_va_ten', 'ngay_sinh', 'gioi_tinh', 'que_quan', 'noi_thuong_tru', 'con_chua_thanh_nien'],
  acr: 'urn:vn:dancu:loa:high',
  amr: ['pwd', 'otp'],
  subjectPrefix: 'dancu-',
  theme: 'source-citizen-id',
  knows: (c: TestCitizen) => !ONLY_AT_TELECOM.has(c.key),
  claims: (c: TestCitizen) => ({
    so_dinh_danh: c.nationalId,
    ho_va_ten: c.fullName,
    ngay_sinh: c.birthdate,
    gioi_tinh: c.gender === 'male' ? 'nam' : 'nu',
    que_quan: c.placeOfOrigin,
    noi_thuong_tru: c.permanentAddress,
    // Always stated, empty for a person without minor children: the database answers
    // "none", which is not the same as not answering (see interactions/callback.ts).
    con_chua_thanh_nien: childrenOf(c.key).map((k) => ({
      so_dinh_danh: k.nationalId,
      ho_va_ten: k.fullName,
      ngay_sinh: k.birthdate,
      gioi_tinh: k.gender === 'male' ? 'nam' : 'nu',
    })),
  }),
  describe: (c: TestCitizen) => ({
    vi: `Số định danh ${c.nationalId} · sinh ngày ${vietnameseDate(c.birthdate)}`,
    en: `ID number ${c.nationalId}, born ${c.birthdate}`,
  }),
};
