// The minor children (con chưa thành niên) of some test citizens, as the national
// population database records them: what the citizen-ID source asserts about a
// parent in `con_chua_thanh_nien`. Children are NOT test citizens: they do not
// sign in at the sources (none of the three knows them as an account); a parent
// acts for them at nixa. Numbers follow the rules of citizens.ts (province of
// birth registration, century and gender digit, birth year).
//
// Ages as of the demo's time (2026): Khôi and the Vũ girl are under 14 (a parent
// may act for them), Trang is 14 or over (still a minor, but at 14 a child speaks
// for themselves in more and more matters, so a parent may not act for her).

export interface MinorChild {
  /** CCCD number, 12 digits (children are issued one at birth registration). */
  nationalId: string;
  fullName: string;
  /** YYYY-MM-DD */
  birthdate: string;
  gender: 'male' | 'female';
}

/** By the parent's key in TEST_CITIZENS. */
export const FAMILIES: Readonly<Record<string, readonly MinorChild[]>> = Object.freeze({
  'nguyen-van-an': Object.freeze<MinorChild[]>([
    { nationalId: '001216073942', fullName: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', gender: 'male' }, // Hà Nội, male 20xx, 2016
    { nationalId: '001311058126', fullName: 'Nguyễn Thu Trang', birthdate: '2011-08-09', gender: 'female' }, // Hà Nội, female 20xx, 2011
  ]),
  'pham-thi-dung': Object.freeze<MinorChild[]>([
    { nationalId: '031319046273', fullName: 'Vũ Ngọc Anh', birthdate: '2019-02-11', gender: 'female' }, // Hải Phòng, female 20xx, 2019
  ]),
});

/** The minor children of a test citizen (none for most of them). */
export function childrenOf(key: string): readonly MinorChild[] {
  return FAMILIES[key] ?? [];
}
