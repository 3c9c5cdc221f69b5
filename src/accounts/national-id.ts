// Vietnam's 12-digit personal identification number (số định danh cá nhân, printed
// on the CCCD card), as structured by Circular 59/2021/TT-BCA: what it encodes, how
// it is checked against what a source asserts, and how it appears in logs and indexes.
// Pure: no I/O; the only clock is the one passed in.
import { createHmac } from 'node:crypto';

import { InvalidInputError } from '../errors/index.js';

/**
 * Digits 1–3: the province or centrally-run city where the birth was registered
 * (Circular 59/2021/TT-BCA, appendix I; the 63 units before the 2025 mergers).
 */
export const PROVINCES: Readonly<Record<string, string>> = Object.freeze({
  '001': 'Hà Nội',
  '002': 'Hà Giang',
  '004': 'Cao Bằng',
  '006': 'Bắc Kạn',
  '008': 'Tuyên Quang',
  '010': 'Lào Cai',
  '011': 'Điện Biên',
  '012': 'Lai Châu',
  '014': 'Sơn La',
  '015': 'Yên Bái',
  '017': 'Hoà Bình',
  '019': 'Thái Nguyên',
  '020': 'Lạng Sơn',
  '022': 'Quảng Ninh',
  '024': 'Bắc Giang',
  '025': 'Phú Thọ',
  '026': 'Vĩnh Phúc',
  '027': 'Bắc Ninh',
  '030': 'Hải Dương',
  '031': 'Hải Phòng',
  '033': 'Hưng Yên',
  '034': 'Thái Bình',
  '035': 'Hà Nam',
  '036': 'Nam Định',
  '037': 'Ninh Bình',
  '038': 'Thanh Hoá',
  '040': 'Nghệ An',
  '042': 'Hà Tĩnh',
  '044': 'Quảng Bình',
  '045': 'Quảng Trị',
  '046': 'Thừa Thiên Huế',
  '048': 'Đà Nẵng',
  '049': 'Quảng Nam',
  '051': 'Quảng Ngãi',
  '052': 'Bình Định',
  '054': 'Phú Yên',
  '056': 'Khánh Hoà',
  '058': 'Ninh Thuận',
  '060': 'Bình Thuận',
  '062': 'Kon Tum',
  '064': 'Gia Lai',
  '066': 'Đắk Lắk',
  '067': 'Đắk Nông',
  '068': 'Lâm Đồng',
  '070': 'Bình Phước',
  '072': 'Tây Ninh',
  '074': 'Bình Dương',
  '075': 'Đồng Nai',
  '077': 'Bà Rịa – Vũng Tàu',
  '079': 'Hồ Chí Minh',
  '080': 'Long An',
  '082': 'Tiền Giang',
  '083': 'Bến Tre',
  '084': 'Trà Vinh',
  '086': 'Vĩnh Long',
  '087': 'Đồng Tháp',
  '089': 'An Giang',
  '091': 'Kiên Giang',
  '092': 'Cần Thơ',
  '093': 'Hậu Giang',
  '094': 'Sóc Trăng',
  '095': 'Bạc Liêu',
  '096': 'Cà Mau',
});

export interface NationalIdParts {
  provinceCode: string;
  provinceName: string;
  gender: 'male' | 'female';
  birthYear: number;
  serial: string;
}

export type NationalIdProblem = 'format' | 'province' | 'birth-year' | 'gender';

// ASCII digits only: no spaces, separators or full-width digits. A source must send
// the number as issued; tolerating variants here would let two spellings of one
// number reach the index.
const TWELVE_DIGITS = /^[0-9]{12}$/;

/** Today's calendar date in Vietnam (UTC+7, no daylight saving), as YYYY-MM-DD. */
function vietnamDate(now: Date): string {
  return new Date(now.getTime() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/** A real calendar date written YYYY-MM-DD (rejects 1990-02-30, 1990-5-17, …). */
function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/**
 * What the number encodes, or the first structural problem. Digit 4 carries century
 * and gender (0/1: 1900s male/female, 2/3: 2000s, … 8/9: 2300s; even = male), digits
 * 5–6 the last two digits of the birth year, digits 7–12 are random. Whether the
 * birth year is plausible is checkNationalId's question, not this one's.
 */
export function parseNationalId(value: string): NationalIdParts | { problem: 'format' | 'province' } {
  if (typeof value !== 'string' || !TWELVE_DIGITS.test(value)) return { problem: 'format' };
  const provinceCode = value.slice(0, 3);
  const provinceName = PROVINCES[provinceCode];
  if (provinceName === undefined) return { problem: 'province' };
  const centuryGender = Number(value[3]);
  return {
    provinceCode,
    provinceName,
    gender: centuryGender % 2 === 0 ? 'male' : 'female',
    birthYear: 1900 + Math.floor(centuryGender / 2) * 100 + Number(value.slice(4, 6)),
    serial: value.slice(6),
  };
}

export type NationalIdCheck =
  | { ok: true; parts: NationalIdParts }
  | { ok: false; problem: NationalIdProblem; message: string };

function formatMessage(value: unknown): string {
  if (typeof value !== 'string') return 'the national ID must be a string of exactly 12 digits 0-9';
  const what = /\s/.test(value) ? ', including whitespace' : /[^0-9]/.test(value) ? ', including characters other than 0-9' : '';
  return `the national ID must be exactly 12 digits 0-9; got ${Array.from(value).length} characters${what}`;
}

/**
 * Checks a number a source asserts against the birthdate and gender it asserts with
 * it. Problems, in the order checked: 'format' (not 12 ASCII digits), 'province'
 * (unknown code), 'birth-year' (the encoded year is in the future, or the birthdate
 * is malformed, in the future, or of another year), 'gender'. "Future" is judged by
 * the calendar date in Vietnam at `now`. Messages are for logs: they never contain
 * the number or the person's attributes.
 */
export function checkNationalId(
  value: string,
  attrs: { birthdate?: string; gender?: 'male' | 'female' },
  now: Date = new Date(),
): NationalIdCheck {
  const parsed = parseNationalId(value);
  if ('problem' in parsed) {
    return parsed.problem === 'format'
      ? { ok: false, problem: 'format', message: formatMessage(value) }
      : { ok: false, problem: 'province', message: 'the national ID’s first three digits are not one of the 63 province codes' };
  }
  const today = vietnamDate(now);
  if (parsed.birthYear > Number(today.slice(0, 4))) {
    return { ok: false, problem: 'birth-year', message: 'the national ID encodes a birth year in the future' };
  }
  if (attrs.birthdate !== undefined) {
    if (!isCalendarDate(attrs.birthdate)) {
      // A birthdate we cannot read cannot confirm the number: refuse rather than skip.
      return { ok: false, problem: 'birth-year', message: 'the asserted birthdate is not a calendar date in YYYY-MM-DD form' };
    }
    if (attrs.birthdate > today) {
      return { ok: false, problem: 'birth-year', message: 'the asserted birthdate is in the future' };
    }
    if (Number(attrs.birthdate.slice(0, 4)) !== parsed.birthYear) {
      return { ok: false, problem: 'birth-year', message: 'the birth year encoded in the national ID (digits 4-6) does not match the asserted birthdate' };
    }
  }
  if (attrs.gender !== undefined && attrs.gender !== parsed.gender) {
    return { ok: false, problem: 'gender', message: 'the gender encoded in the national ID (digit 4) does not match the asserted gender' };
  }
  return { ok: true, parts: parsed };
}

/**
 * The number as it may appear in logs and on pages: every character but the last
 * three replaced by '*' ('001090012345' → '*********345'). Works on malformed input
 * too, and shows nothing at all of a value of three characters or fewer.
 */
export function maskNationalId(value: string): string {
  const chars = Array.from(String(value));
  if (chars.length <= 3) return '*'.repeat(chars.length);
  return '*'.repeat(chars.length - 3) + chars.slice(-3).join('');
}

/** Shortest pepper accepted: HMAC-SHA256 keys should be at least the hash length (RFC 2104 §3). */
export const MIN_PEPPER_BYTES = 32;

/**
 * HMAC-SHA256 of the number under a secret pepper, hex: the index key for finding an
 * account by national ID without the raw number in any index. Only 10^12 numbers
 * exist, so a plain hash could be reversed by enumeration; the pepper is what
 * prevents it, hence the minimum length. Only a well-formed number is hashed, so
 * one number always has exactly one hash.
 */
export function nationalIdHash(value: string, pepper: Buffer): string {
  if (typeof value !== 'string' || !TWELVE_DIGITS.test(value)) {
    throw new InvalidInputError('national_id', 'must be exactly 12 digits 0-9 before it is hashed');
  }
  if (!Buffer.isBuffer(pepper) || pepper.length < MIN_PEPPER_BYTES) {
    throw new InvalidInputError('pepper', `must be at least ${MIN_PEPPER_BYTES} bytes`);
  }
  return createHmac('sha256', pepper).update(value, 'ascii').digest('hex');
}
