// The national ID number on its own: structure, checks against asserted attributes,
// masking and the index hash. No database, no clock but the one passed in.
import { createHmac } from 'node:crypto';

import {
  checkNationalId,
  maskNationalId,
  MIN_PEPPER_BYTES,
  nationalIdHash,
  parseNationalId,
  PROVINCES,
} from '../../src/accounts/national-id.js';
import { InvalidInputError } from '../../src/errors/index.js';

// 12:00 in Hà Nội on 1 June 2025.
const NOW = new Date('2025-06-01T05:00:00.000Z');

// The 63 codes as Circular 59/2021/TT-BCA lists them, written out independently of the module.
const CIRCULAR_59 = `001 Hà Nội, 002 Hà Giang, 004 Cao Bằng, 006 Bắc Kạn, 008 Tuyên Quang, 010 Lào Cai,
011 Điện Biên, 012 Lai Châu, 014 Sơn La, 015 Yên Bái, 017 Hoà Bình, 019 Thái Nguyên, 020 Lạng Sơn,
022 Quảng Ninh, 024 Bắc Giang, 025 Phú Thọ, 026 Vĩnh Phúc, 027 Bắc Ninh, 030 Hải Dương, 031 Hải Phòng,
033 Hưng Yên, 034 Thái Bình, 035 Hà Nam, 036 Nam Định, 037 Ninh Bình, 038 Thanh Hoá, 040 Nghệ An,
042 Hà Tĩnh, 044 Quảng Bình, 045 Quảng Trị, 046 Thừa Thiên Huế, 048 Đà Nẵng, 049 Quảng Nam,
051 Quảng Ngãi, 052 Bình Định, 054 Phú Yên, 056 Khánh Hoà, 058 Ninh Thuận, 060 Bình Thuận, 062 Kon Tum,
064 Gia Lai, 066 Đắk Lắk, 067 Đắk Nông, 068 Lâm Đồng, 070 Bình Phước, 072 Tây Ninh, 074 Bình Dương,
075 Đồng Nai, 077 Bà Rịa – Vũng Tàu, 079 Hồ Chí Minh, 080 Long An, 082 Tiền Giang, 083 Bến Tre,
084 Trà Vinh, 086 Vĩnh Long, 087 Đồng Tháp, 089 An Giang, 091 Kiên Giang, 092 Cần Thơ, 093 Hậu Giang,
094 Sóc Trăng, 095 Bạc Liêu, 096 Cà Mau`
  .split(',')
  .map((entry) => entry.trim())
  .map((entry) => [entry.slice(0, 3), entry.slice(4)] as const);

describe('parseNationalId', () => {
  it.each([
    // number,        province code, province,       gender,   birth year, serial
    ['001090012345', '001', 'Hà Nội', 'male', 1990, '012345'],
    ['079301004567', '079', 'Hồ Chí Minh', 'female', 2001, '004567'],
    ['048185000123', '048', 'Đà Nẵng', 'female', 1985, '000123'],
    ['038095123456', '038', 'Thanh Hoá', 'male', 1995, '123456'],
    ['092204654321', '092', 'Cần Thơ', 'male', 2004, '654321'],
    ['046199987650', '046', 'Thừa Thiên Huế', 'female', 1999, '987650'],
    ['031200000001', '031', 'Hải Phòng', 'male', 2000, '000001'],
    ['096000000000', '096', 'Cà Mau', 'male', 1900, '000000'],
    ['001423000000', '001', 'Hà Nội', 'male', 2123, '000000'],
    ['001599000000', '001', 'Hà Nội', 'female', 2199, '000000'],
    ['077645000000', '077', 'Bà Rịa – Vũng Tàu', 'male', 2245, '000000'],
    ['066750000000', '066', 'Đắk Lắk', 'female', 2250, '000000'],
    ['001812000000', '001', 'Hà Nội', 'male', 2312, '000000'],
    ['001999000000', '001', 'Hà Nội', 'female', 2399, '000000'],
  ] as const)('%s is %s (%s), %s, born %i, serial %s', (value, provinceCode, provinceName, gender, birthYear, serial) => {
    expect(parseNationalId(value)).toEqual({ provinceCode, provinceName, gender, birthYear, serial });
  });

  it('knows exactly the 63 province codes of Circular 59/2021/TT-BCA, each with its name', () => {
    expect(CIRCULAR_59).toHaveLength(63);
    expect(Object.entries(PROVINCES)).toEqual(CIRCULAR_59);
    for (const [code, name] of CIRCULAR_59) {
      expect(parseNationalId(`${code}090012345`)).toMatchObject({ provinceCode: code, provinceName: name });
    }
  });

  it('decodes digit 4 as century and gender: even is male, odd is female, each pair one century from 1900', () => {
    const decoded = [...'0123456789'].map((d) => {
      const parts = parseNationalId(`001${d}45000111`);
      return 'problem' in parts ? parts : [parts.gender, parts.birthYear];
    });
    expect(decoded).toEqual([
      ['male', 1945], ['female', 1945],
      ['male', 2045], ['female', 2045],
      ['male', 2145], ['female', 2145],
      ['male', 2245], ['female', 2245],
      ['male', 2345], ['female', 2345],
    ]);
  });

  it.each([
    ['11 digits', '00109001234'],
    ['13 digits', '0010900123456'],
    ['the empty string', ''],
    ['a letter', '00109001234A'],
    ['a Vietnamese letter', '00109001234Đ'],
    ['inner spaces', '001 090 012345'],
    ['a leading space', ' 001090012345'],
    ['a trailing newline', '001090012345\n'],
    ['a tab', '001090\t012345'],
    ['a no-break space', '001090\u00a012345'],
    ['dashes', '001-090-012345'],
    ['full-width digits', '００１０９００１２３４５'],
    ['Arabic-Indic digits', '٠٠١٠٩٠٠١٢٣٤٥'],
    ['a sign', '+01090012345'],
    ['an exponent', '1e1109001234'],
    ['the old 9-digit CMND', '012345678'],
  ])('refuses a value with %s as a format problem', (_what, value) => {
    expect(parseNationalId(value)).toEqual({ problem: 'format' });
  });

  it('refuses a non-string value from an untyped source as a format problem', () => {
    expect(parseNationalId(1090012345 as unknown as string)).toEqual({ problem: 'format' });
    expect(parseNationalId(undefined as unknown as string)).toEqual({ problem: 'format' });
  });

  it.each(['003', '000', '005', '009', '013', '047', '078', '097', '099', '100', '999'])(
    'refuses province code %s, which is not one of the 63',
    (code) => {
      expect(parseNationalId(`${code}090012345`)).toEqual({ problem: 'province' });
    },
  );
});

describe('checkNationalId', () => {
  it.each([
    ['birthdate and gender agree', '001090012345', { birthdate: '1990-05-17', gender: 'male' }],
    ['a woman born in 2001 in Hồ Chí Minh', '079301004567', { birthdate: '2001-11-30', gender: 'female' }],
    ['only the birthdate is asserted', '048185000123', { birthdate: '1985-01-01' }],
    ['only the gender is asserted', '048185000123', { gender: 'female' }],
    ['nothing else is asserted', '038095123456', {}],
    ['born on the last day of 1999, encoded 1/99', '046199987650', { birthdate: '1999-12-31', gender: 'female' }],
    ['born on 1 January 2000, encoded 2/00', '031200000001', { birthdate: '2000-01-01', gender: 'male' }],
    ['born today in Vietnam', '001225000042', { birthdate: '2025-06-01', gender: 'male' }],
    ['born on a 29 February', '001096000777', { birthdate: '1996-02-29' }],
  ] as const)('accepts a number when %s', (_what, value, attrs) => {
    const result = checkNationalId(value, attrs, NOW);
    expect(result).toEqual({ ok: true, parts: parseNationalId(value) });
  });

  it.each([
    ['11 digits', '00109001234', {}, 'format'],
    ['letters', '00109001234A', {}, 'format'],
    ['spaces', '001 090 012345', { birthdate: '1990-05-17' }, 'format'],
    ['unknown province 003', '003090012345', { birthdate: '1990-05-17', gender: 'male' }, 'province'],
    ['a birth year that does not match digits 4-6', '001090012345', { birthdate: '1991-05-17', gender: 'male' }, 'birth-year'],
    ['the right two digits in the wrong century', '001090012345', { birthdate: '2090-05-17' }, 'birth-year'],
    ['a 21st-century birthdate for a 20th-century code', '001001012345', { birthdate: '2001-03-04' }, 'birth-year'],
    ['an encoded birth year in the future (2099)', '001299012345', {}, 'birth-year'],
    ['an encoded birth year in the 22nd century', '001400012345', {}, 'birth-year'],
    ['next year', '001226012345', { birthdate: '2026-01-01' }, 'birth-year'],
    ['a birthdate later this year (future, same year as encoded)', '001225012345', { birthdate: '2025-12-01', gender: 'male' }, 'birth-year'],
    ['a birthdate of tomorrow in Vietnam', '001225012345', { birthdate: '2025-06-02' }, 'birth-year'],
    ['a birthdate in DD/MM/YYYY form', '001090012345', { birthdate: '17/05/1990' }, 'birth-year'],
    ['a birthdate without leading zeros', '001090012345', { birthdate: '1990-5-17' }, 'birth-year'],
    ['a birthdate that is not a calendar date', '001090012345', { birthdate: '1990-02-30' }, 'birth-year'],
    ['a birthdate with a time', '001090012345', { birthdate: '1990-05-17T00:00:00Z' }, 'birth-year'],
    ['a female code asserted as male', '079301004567', { birthdate: '2001-11-30', gender: 'male' }, 'gender'],
    ['a male code asserted as female', '001090012345', { birthdate: '1990-05-17', gender: 'female' }, 'gender'],
    ['a gender value outside the vocabulary', '001090012345', { gender: 'Male' as 'male' }, 'gender'],
  ] as const)('refuses %s as a %s problem', (_what, value, attrs, problem) => {
    const result = checkNationalId(value, attrs, NOW);
    expect(result).toMatchObject({ ok: false, problem });
  });

  it('reports the birth year before the gender when both are wrong', () => {
    expect(checkNationalId('001090012345', { birthdate: '1991-05-17', gender: 'female' }, NOW)).toMatchObject({ problem: 'birth-year' });
  });

  it('judges "future" by the calendar date in Vietnam (UTC+7), not in UTC', () => {
    const attrs = { birthdate: '2025-06-02' };
    // 2025-06-01T17:00Z is already 00:00 on 2 June in Hà Nội; a minute earlier it is still 1 June.
    expect(checkNationalId('001225012345', attrs, new Date('2025-06-01T17:00:00Z'))).toMatchObject({ ok: true });
    expect(checkNationalId('001225012345', attrs, new Date('2025-06-01T16:59:00Z'))).toMatchObject({ ok: false, problem: 'birth-year' });
    // The same holds for the encoded year at New Year.
    expect(checkNationalId('001226012345', {}, new Date('2025-12-31T17:00:00Z'))).toMatchObject({ ok: true });
    expect(checkNationalId('001226012345', {}, new Date('2025-12-31T16:59:00Z'))).toMatchObject({ ok: false, problem: 'birth-year' });
  });

  it('uses the real clock when no time is passed', () => {
    expect(checkNationalId('001090012345', { birthdate: '1990-05-17' })).toMatchObject({ ok: true });
    expect(checkNationalId('001999012345', {})).toMatchObject({ ok: false, problem: 'birth-year' });
  });

  it.each([
    ['format', '00109001234', {}],
    ['format', '001090012345 ', {}],
    ['province', '003090012345', {}],
    ['birth-year', '001090012345', { birthdate: '1991-05-17' }],
    ['birth-year', '001299012345', {}],
    ['gender', '001090012345', { gender: 'female' }],
  ] as const)('explains a %s problem in plain English without any of the number or the attributes', (problem, value, attrs) => {
    const result = checkNationalId(value, attrs, NOW);
    if (result.ok) throw new Error('expected a problem');
    expect(result.problem).toBe(problem);
    expect(result.message).toMatch(/^the (national ID|asserted birthdate|birth year|gender)/);
    expect(result.message).not.toMatch(/\d{3}/);
    expect(result.message).not.toContain(value.trim().slice(-6));
    expect(result.message).not.toMatch(/1990|1991|2099/);
  });

  it('says how a malformed number is malformed', () => {
    const message = (v: string) => (checkNationalId(v, {}, NOW) as { message: string }).message;
    expect(message('00109001234')).toMatch(/12 digits.*11 characters/);
    expect(message('001 090 012345')).toMatch(/whitespace/);
    expect(message('00109001234A')).toMatch(/other than 0-9/);
  });
});

describe('maskNationalId', () => {
  it.each([
    ['001090012345', '*********345'],
    ['079301004567', '*********567'],
    ['00109001234', '********234'],
    ['001 090 012345', '***********345'],
    ['00109001234Đ', '*********34Đ'],
    ['1234', '*234'],
    ['123', '***'],
    ['12', '**'],
    ['', ''],
  ])('masks %j as %j', (value, masked) => {
    expect(maskNationalId(value)).toBe(masked);
  });

  it('never shows the province, century-gender or birth-year digits of a well-formed number', () => {
    const masked = maskNationalId('001090012345');
    expect(masked).toHaveLength(12);
    expect(masked.slice(0, 9)).toBe('*********');
    expect(masked).not.toContain('001090');
  });
});

describe('nationalIdHash', () => {
  const PEPPER = Buffer.from('nixa-test-pepper-0123456789abcdef');

  it('is HMAC-SHA256 of the number under the pepper, in hex (vector computed with openssl)', () => {
    // printf '%s' 001090012345 | openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of PEPPER>
    expect(nationalIdHash('001090012345', PEPPER)).toBe('451f663aa551582ee559b634d6d5db0e428aa7596332eb6ba10a8b03a8e71638');
  });

  it('is the same for the same number and pepper, and different for another number or pepper', () => {
    const h = nationalIdHash('079301004567', PEPPER);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(nationalIdHash('079301004567', Buffer.from(PEPPER))).toBe(h);
    expect(nationalIdHash('079301004568', PEPPER)).not.toBe(h);
    expect(nationalIdHash('079301004567', Buffer.from('nixa-other-pepper-0123456789abcdef'))).not.toBe(h);
    expect(h).toBe(createHmac('sha256', PEPPER).update('079301004567').digest('hex'));
  });

  it('does not contain the number', () => {
    expect(nationalIdHash('001090012345', PEPPER)).not.toContain('001090012345');
  });

  it.each([['00109001234'], ['001 090 012345'], ['001090012345 '], ['00109001234A'], ['']])(
    'refuses to hash the malformed value %j, so one number has exactly one hash',
    (value) => {
      expect(() => nationalIdHash(value, PEPPER)).toThrow(InvalidInputError);
      expect(() => nationalIdHash(value, PEPPER)).toThrow(/^national_id: must be exactly 12 digits/);
    },
  );

  it.each([
    ['an empty pepper', Buffer.alloc(0)],
    ['a 31-byte pepper', Buffer.alloc(MIN_PEPPER_BYTES - 1, 7)],
    ['a string instead of bytes', 'nixa-test-pepper-0123456789abcdef' as unknown as Buffer],
  ])('refuses %s, which would make 10^12 numbers easy to enumerate', (_what, pepper) => {
    expect(() => nationalIdHash('001090012345', pepper)).toThrow(InvalidInputError);
    expect(() => nationalIdHash('001090012345', pepper)).toThrow(/^pepper: must be at least 32 bytes/);
  });

  it('accepts a pepper of exactly the minimum length', () => {
    expect(nationalIdHash('001090012345', Buffer.alloc(MIN_PEPPER_BYTES, 7))).toMatch(/^[0-9a-f]{64}$/);
  });
});
