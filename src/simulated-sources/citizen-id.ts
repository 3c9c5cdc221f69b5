// The national population database (Cơ sở dữ liệu quốc gia về dân cư), simulated:
// the high-assurance source, with Vietnamese claim names as its API would use.
import { ONLY_AT_TELECOM, vietnameseDate, type TestCitizen } from './citizens.js';
import type { SourceProfile } from './profiles.js';

export const citizenIdSource: SourceProfile = {
  kind: 'citizen_id',
  name: { vi: 'Cơ sở dữ liệu quốc gia về dân cư', en: 'Citizen ID, simulated' },
  scope: 'cccd',
  claimNames: ['so_dinh_danh', 'ho_va_ten', 'ngay_sinh', 'gioi_tinh', 'que_quan', 'noi_thuong_tru'],
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
  }),
  describe: (c: TestCitizen) => ({
    vi: `Số định danh ${c.nationalId} · sinh ngày ${vietnameseDate(c.birthdate)}`,
    en: `ID number ${c.nationalId}, born ${c.birthdate}`,
  }),
};
