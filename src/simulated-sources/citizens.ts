// The seeded test citizens shared by the three simulated identity sources.
//
// CCCD numbers (số định danh cá nhân, 12 digits) follow the real structure so that
// nixa's checks meet realistic data:
//   digits 1–3  province code of the place of birth registration (001 Hà Nội,
//               031 Hải Phòng, 046 Thừa Thiên Huế, 048 Đà Nẵng, 079 TP Hồ Chí Minh,
//               092 Cần Thơ)
//   digit  4    century and gender: 0 male / 1 female born 1900–1999,
//               2 male / 3 female born 2000–2099
//   digits 5–6  last two digits of the birth year
//   digits 7–12 random
// Addresses use the administrative units printed on cards issued before the 2025
// reorganisation of provinces, as most cards in circulation still show them.
//
// Designed for conflict tests (see the per-source modules for where they apply):
// - tran-thi-binh: the BANK's record has her birthdate with day and month swapped
//   (1992-12-07 instead of 1992-07-12), a typical data-entry error at account
//   opening; nixa must notice the disagreement with the citizen-ID source.
// - bui-thi-lan: exists ONLY at the telecom (her SIM is registered to her CCCD
//   number), the citizen-ID and bank sources do not list her.

export interface TestCitizen {
  /** Stable handle for tests and the picker form, e.g. 'nguyen-van-an'. */
  key: string;
  /** CCCD / personal identification number, 12 digits. */
  nationalId: string;
  fullName: string;
  /** YYYY-MM-DD */
  birthdate: string;
  gender: 'male' | 'female';
  /** Quê quán */
  placeOfOrigin: string;
  /** Nơi thường trú */
  permanentAddress: string;
  /** E.164, +849xxxxxxxx / +848… / +843… */
  phoneNumber: string;
}

export const TEST_CITIZENS: readonly TestCitizen[] = Object.freeze([
  {
    key: 'nguyen-van-an',
    nationalId: '001085004217', // Hà Nội, male 19xx, 1985
    fullName: 'Nguyễn Văn An',
    birthdate: '1985-03-14',
    gender: 'male',
    placeOfOrigin: 'Xã Vân Canh, huyện Hoài Đức, Hà Nội',
    permanentAddress: 'Số 12 phố Hàng Bạc, phường Hàng Bạc, quận Hoàn Kiếm, Hà Nội',
    phoneNumber: '+84912345678',
  },
  {
    key: 'tran-thi-binh',
    nationalId: '079192038561', // TP Hồ Chí Minh, female 19xx, 1992
    fullName: 'Trần Thị Bình',
    birthdate: '1992-07-12', // the bank says 1992-12-07 (conflict test)
    gender: 'female',
    placeOfOrigin: 'Xã Tân Phú Trung, huyện Củ Chi, Thành phố Hồ Chí Minh',
    permanentAddress: 'Số 45 đường Nguyễn Thị Minh Khai, phường Bến Thành, Quận 1, Thành phố Hồ Chí Minh',
    phoneNumber: '+84903456712',
  },
  {
    key: 'le-hoang-cuong',
    nationalId: '048201007396', // Đà Nẵng, male 20xx, 2001
    fullName: 'Lê Hoàng Cường',
    birthdate: '2001-11-05',
    gender: 'male',
    placeOfOrigin: 'Xã Điện Minh, thị xã Điện Bàn, tỉnh Quảng Nam',
    permanentAddress: 'Số 78 đường Bạch Đằng, phường Hải Châu 1, quận Hải Châu, Thành phố Đà Nẵng',
    phoneNumber: '+84356781234',
  },
  {
    key: 'pham-thi-dung',
    nationalId: '031178052840', // Hải Phòng, female 19xx, 1978
    fullName: 'Phạm Thị Dung',
    birthdate: '1978-01-30',
    gender: 'female',
    placeOfOrigin: 'Xã Thủy Sơn, huyện Thủy Nguyên, Thành phố Hải Phòng',
    permanentAddress: 'Số 23 phố Lạch Tray, phường Lạch Tray, quận Ngô Quyền, Thành phố Hải Phòng',
    phoneNumber: '+84868123457',
  },
  {
    key: 'hoang-minh-duc',
    nationalId: '046069113502', // Thừa Thiên Huế, male 19xx, 1969
    fullName: 'Hoàng Minh Đức',
    birthdate: '1969-09-02',
    gender: 'male',
    placeOfOrigin: 'Xã Phú Mậu, huyện Phú Vang, tỉnh Thừa Thiên Huế',
    permanentAddress: 'Số 15 đường Lê Lợi, phường Vĩnh Ninh, thành phố Huế, tỉnh Thừa Thiên Huế',
    phoneNumber: '+84935112233',
  },
  {
    key: 'dang-thi-ngoc-ha',
    nationalId: '092303064158', // Cần Thơ, female 20xx, 2003
    fullName: 'Đặng Thị Ngọc Hà',
    birthdate: '2003-04-18',
    gender: 'female',
    placeOfOrigin: 'Xã Mỹ Khánh, huyện Phong Điền, Thành phố Cần Thơ',
    permanentAddress: 'Số 102 đường 30 Tháng 4, phường Xuân Khánh, quận Ninh Kiều, Thành phố Cần Thơ',
    phoneNumber: '+84819456321',
  },
  {
    key: 'bui-thi-lan',
    nationalId: '001199027483', // Hà Nội, female 19xx, 1999 — known to the telecom ONLY
    fullName: 'Bùi Thị Lan',
    birthdate: '1999-12-25',
    gender: 'female',
    placeOfOrigin: 'Xã Phụng Châu, huyện Chương Mỹ, Hà Nội',
    permanentAddress: 'Số 8 ngõ 61 phố Trần Duy Hưng, phường Trung Hòa, quận Cầu Giấy, Hà Nội',
    phoneNumber: '+84388654321',
  },
].map((c) => Object.freeze(c as TestCitizen)));

/** Citizens whom only the telecom knows: the citizen-ID and bank sources do not list them. */
export const ONLY_AT_TELECOM: ReadonlySet<string> = new Set(['bui-thi-lan']);

/** 1985-03-14 → 14/03/1985, the way Vietnamese documents print dates. */
export function vietnameseDate(isoDate: string): string {
  const [y, m, d] = isoDate.split('-');
  return `${d}/${m}/${y}`;
}
