// The enterprises the simulated business registry knows, seeded for the test
// citizens of src/simulated-sources/citizens.ts (and README's walkthrough).
//
// Enterprise codes (mã số doanh nghiệp) are ten digits whose first two name the
// province that registered the enterprise: 01 Hà Nội, 02 Hải Phòng, 03 Thành phố
// Hồ Chí Minh, 04 Đà Nẵng. A legal representative (người đại diện theo pháp luật)
// is named by national ID number; a mandate (giấy ủy quyền) is given by the
// legal representative to another person for named tasks until a date.
//
// Who may act for what:
//   Nguyễn Văn An   001085004217  legal representative of two active companies
//                                 (Sông Hồng Software, Hoàn Kiếm Foods)
//   Trần Thị Bình   079192038561  mandate from Sông Hồng Software for tax_filing and
//                                 social_insurance until 2027-06-30; legal
//                                 representative of Bến Thành Trading, DISSOLVED
//   Phạm Thị Dung   031178052840  legal representative of Lạch Tray Shipping, SUSPENDED
//   Hoàng Minh Đức  046069113502  customs mandate from Sông Hàn Import-Export until
//                                 2027-12-31; an EXPIRED mandate (2025-06-30) from
//                                 Hải Vân Travel, never returned
//   the other test citizens: nothing.
// Sông Hàn's and Hải Vân's legal representatives are people who are not test citizens.
import type { OrganisationStatus } from '../registries/contract.js';

export interface SeededMandate {
  /** The mandated person's national ID number (CCCD, 12 digits). */
  nationalId: string;
  fullName: string;
  tasks: readonly string[];
  /** Last valid day, inclusive, YYYY-MM-DD (Vietnam's calendar day). */
  validUntil: string;
}

export interface SeededEnterprise {
  /** Mã số doanh nghiệp, 10 digits. */
  enterpriseCode: string;
  nameVi: string;
  nameEn: string;
  status: OrganisationStatus;
  /** Trụ sở chính */
  address: string;
  legalRepresentatives: readonly { nationalId: string; fullName: string }[];
  mandates: readonly SeededMandate[];
}

const AN = { nationalId: '001085004217', fullName: 'Nguyễn Văn An' };
const BINH = { nationalId: '079192038561', fullName: 'Trần Thị Bình' };
const DUNG = { nationalId: '031178052840', fullName: 'Phạm Thị Dung' };
const DUC = { nationalId: '046069113502', fullName: 'Hoàng Minh Đức' };

function freeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object' && !Object.isFrozen(v)) freeze(v as object);
  return Object.freeze(o);
}

export const SEEDED_ENTERPRISES: readonly SeededEnterprise[] = freeze([
  {
    enterpriseCode: '0108523417',
    nameVi: 'Công ty TNHH Phần mềm Sông Hồng',
    nameEn: 'Song Hong Software Company Limited',
    status: 'active',
    address: 'Số 18 phố Lý Thường Kiệt, phường Phan Chu Trinh, quận Hoàn Kiếm, Hà Nội',
    legalRepresentatives: [AN],
    mandates: [{ ...BINH, tasks: ['tax_filing', 'social_insurance'], validUntil: '2027-06-30' }],
  },
  {
    enterpriseCode: '0106791235',
    nameVi: 'Công ty Cổ phần Thực phẩm Hoàn Kiếm',
    nameEn: 'Hoan Kiem Foods Joint Stock Company',
    status: 'active',
    address: 'Số 27 phố Hàng Bồ, phường Hàng Bồ, quận Hoàn Kiếm, Hà Nội',
    legalRepresentatives: [AN],
    mandates: [],
  },
  {
    enterpriseCode: '0312456780',
    nameVi: 'Công ty TNHH Thương mại Bến Thành',
    nameEn: 'Ben Thanh Trading Company Limited',
    status: 'dissolved',
    address: 'Số 62 đường Lê Lợi, phường Bến Thành, Quận 1, Thành phố Hồ Chí Minh',
    legalRepresentatives: [BINH],
    mandates: [],
  },
  {
    enterpriseCode: '0201345678',
    nameVi: 'Công ty TNHH Vận tải biển Lạch Tray',
    nameEn: 'Lach Tray Shipping Company Limited',
    status: 'suspended',
    address: 'Số 105 phố Lạch Tray, phường Lạch Tray, quận Ngô Quyền, Thành phố Hải Phòng',
    legalRepresentatives: [DUNG],
    mandates: [],
  },
  {
    enterpriseCode: '0401562893',
    nameVi: 'Công ty Cổ phần Xuất nhập khẩu Sông Hàn',
    nameEn: 'Song Han Import-Export Joint Stock Company',
    status: 'active',
    address: 'Số 36 đường Bạch Đằng, phường Thạch Thang, quận Hải Châu, Thành phố Đà Nẵng',
    legalRepresentatives: [{ nationalId: '048172009154', fullName: 'Võ Thị Hạnh' }],
    mandates: [{ ...DUC, tasks: ['customs'], validUntil: '2027-12-31' }],
  },
  {
    enterpriseCode: '0402218746',
    nameVi: 'Công ty TNHH Du lịch Hải Vân',
    nameEn: 'Hai Van Travel Company Limited',
    status: 'active',
    address: 'Số 9 đường Trần Phú, phường Hải Châu 1, quận Hải Châu, Thành phố Đà Nẵng',
    legalRepresentatives: [{ nationalId: '048080015627', fullName: 'Ngô Quang Vinh' }],
    mandates: [{ ...DUC, tasks: ['tax_filing', 'invoices'], validUntil: '2025-06-30' }],
  },
]);
