// The "once only" linking rule on its own: what a source asserts after login against
// what the account holding that national ID already has. No database, no HTTP.
import {
  type Assertion,
  type AttributeName,
  decideLink,
  type ExistingAccount,
  type Level,
  type StoredAttribute,
} from '../../src/accounts/linking.js';

const NOW = new Date('2025-06-01T05:00:00.000Z');
const EARLIER = '2025-01-15T02:30:00.000Z';

const AN = {
  national_id: '001090012345',
  full_name: 'Nguyễn Văn An',
  birthdate: '1990-05-17',
  gender: 'male',
  place_of_origin: 'Xã Phù Đổng, Huyện Gia Lâm, Hà Nội',
  permanent_address: 'Số 12 ngõ 34 Phố Huế, Phường Ngô Thì Nhậm, Quận Hai Bà Trưng, Hà Nội',
  phone_number: '+84912345678',
} as const;

// Three kinds of source, as nixa will meet them.
const VNEID = {
  sourceId: 'vneid',
  level: 'high',
  authoritativeFor: ['national_id', 'full_name', 'birthdate', 'gender', 'place_of_origin', 'permanent_address'],
} as const;
const VIETTEL = {
  sourceId: 'viettel',
  level: 'substantial',
  authoritativeFor: ['national_id', 'full_name', 'birthdate', 'phone_number'],
} as const;
const VIETCOMBANK = {
  sourceId: 'vietcombank',
  level: 'substantial',
  authoritativeFor: ['national_id', 'full_name', 'birthdate', 'gender', 'phone_number'],
} as const;
const MOMO = { sourceId: 'momo', level: 'low', authoritativeFor: ['phone_number'] } as const;

type SourceProfile = { sourceId: string; level: Level; authoritativeFor: readonly AttributeName[] };

function assertion(
  source: SourceProfile,
  attributes: Partial<Record<AttributeName, string>>,
  subject = `${source.sourceId}-sub-8f3a`,
): Assertion {
  return { ...source, authoritativeFor: [...source.authoritativeFor], attributes, subject };
}

function stored(name: AttributeName, value: string, sourceId: string, level: Level, verifiedAt = EARLIER): StoredAttribute {
  return { name, value, sourceId, level, verifiedAt };
}

/** The account An got when he first signed in with VNeID. */
function anViaVneid(overrides: Partial<Record<AttributeName, string>> = {}): ExistingAccount {
  const values = { ...AN, ...overrides };
  return {
    accountId: 'acc-7d1c2b',
    attributes: VNEID.authoritativeFor.map((name) => stored(name, values[name], 'vneid', 'high')),
    linkedSources: [{ sourceId: 'vneid', subject: 'vneid-sub-8f3a' }],
  };
}

/** An account first made through a bank, at substantial level. */
function anViaBank(overrides: Partial<Record<AttributeName, string>> = {}): ExistingAccount {
  const values = { ...AN, ...overrides };
  return {
    accountId: 'acc-3e9f10',
    attributes: VIETCOMBANK.authoritativeFor.map((name) => stored(name, values[name], 'vietcombank', 'substantial')),
    linkedSources: [{ sourceId: 'vietcombank', subject: 'vietcombank-sub-8f3a' }],
  };
}

const nowIso = NOW.toISOString();

describe('decideLink: first login', () => {
  it('creates an account holding every attribute the source is authoritative for, with its provenance', () => {
    expect(decideLink(assertion(VNEID, AN), undefined, NOW)).toEqual({
      decision: 'create',
      attributes: [
        stored('national_id', '001090012345', 'vneid', 'high', nowIso),
        stored('full_name', 'Nguyễn Văn An', 'vneid', 'high', nowIso),
        stored('birthdate', '1990-05-17', 'vneid', 'high', nowIso),
        stored('gender', 'male', 'vneid', 'high', nowIso),
        stored('place_of_origin', AN.place_of_origin, 'vneid', 'high', nowIso),
        stored('permanent_address', AN.permanent_address, 'vneid', 'high', nowIso),
      ],
    });
  });

  it('does not store attributes the source asserts but is not authoritative for', () => {
    // Viettel sends the address the subscriber typed in; it does not vouch for it.
    const decision = decideLink(assertion(VIETTEL, AN), undefined, NOW);
    expect(decision).toEqual({
      decision: 'create',
      attributes: [
        stored('national_id', AN.national_id, 'viettel', 'substantial', nowIso),
        stored('full_name', AN.full_name, 'viettel', 'substantial', nowIso),
        stored('birthdate', AN.birthdate, 'viettel', 'substantial', nowIso),
        stored('phone_number', AN.phone_number, 'viettel', 'substantial', nowIso),
      ],
    });
  });

  it('stores values in NFC with whitespace tidied, and skips empty ones', () => {
    const decision = decideLink(
      assertion(VIETCOMBANK, {
        national_id: ' 001090012345 ',
        full_name: '  Nguyễn   Văn\tAn '.normalize('NFD'),
        birthdate: '1990-05-17',
        gender: '   ',
        phone_number: '',
      }),
      undefined,
      NOW,
    );
    expect(decision).toEqual({
      decision: 'create',
      attributes: [
        stored('national_id', '001090012345', 'vietcombank', 'substantial', nowIso),
        stored('full_name', 'Nguyễn Văn An'.normalize('NFC'), 'vietcombank', 'substantial', nowIso),
        stored('birthdate', '1990-05-17', 'vietcombank', 'substantial', nowIso),
      ],
    });
  });
});

describe('decideLink: refusals before any comparison', () => {
  it.each<[string, Assertion, ExistingAccount | undefined]>([
    ['asserts no national ID, with no account', assertion(VNEID, { ...AN, national_id: undefined }), undefined],
    ['asserts no national ID, with an account', assertion(VNEID, { ...AN, national_id: undefined }), anViaVneid()],
    ['asserts an empty national ID', assertion(VNEID, { ...AN, national_id: '  ' }), undefined],
    ['asserts a national ID it is not authoritative for, with no account', assertion(MOMO, AN), undefined],
    ['asserts a national ID it is not authoritative for, with an account', assertion(MOMO, AN), anViaVneid()],
    [
      'is not authoritative for the national ID even though already linked under the same subject',
      assertion(MOMO, AN, 'momo-sub-1'),
      { ...anViaVneid(), linkedSources: [{ sourceId: 'momo', subject: 'momo-sub-1' }] },
    ],
  ])('refuses as not authoritative a source that %s', (_what, a, existing) => {
    expect(decideLink(a, existing, NOW)).toEqual({ decision: 'refuse', reason: 'not-authoritative' });
  });

  it('refuses a source already linked to this account under another subject', () => {
    const existing = { ...anViaVneid(), linkedSources: [{ sourceId: 'vneid', subject: 'vneid-sub-0000' }] };
    expect(decideLink(assertion(VNEID, AN, 'vneid-sub-8f3a'), existing, NOW)).toEqual({ decision: 'refuse', reason: 'subject-mismatch' });
  });

  it('refuses a subject mismatch even when every attribute agrees, and before reporting conflicts', () => {
    const existing = { ...anViaVneid({ birthdate: '1990-07-15' }), linkedSources: [{ sourceId: 'vneid', subject: 'vneid-other' }] };
    expect(decideLink(assertion(VNEID, AN), existing, NOW)).toEqual({ decision: 'refuse', reason: 'subject-mismatch' });
  });

  it('does not count a subject of another source as a mismatch', () => {
    const existing = { ...anViaVneid(), linkedSources: [{ sourceId: 'vneid', subject: 'viettel-sub-8f3a' }] };
    expect(decideLink(assertion(VIETTEL, AN, 'viettel-sub-8f3a'), existing, NOW)).toMatchObject({ decision: 'link' });
  });
});

describe('decideLink: conflicts', () => {
  it.each([
    ['birthdate', { birthdate: '1990-07-15' }],
    ['birthdate written another way', { birthdate: '17/05/1990' }],
    ['gender', { gender: 'female' }],
    ['gender in another case', { gender: 'Male' }],
    ['national ID', { national_id: '001090012346' }],
    ['full name', { full_name: 'Nguyễn Văn Anh' }],
    ['place of origin', { place_of_origin: 'Xã Phù Đổng, Huyện Gia Lâm, Hải Phòng' }],
  ] as const)('refuses to link when the %s differs from the stored value, naming it', (_what, asserted) => {
    const [name, value] = Object.entries(asserted)[0] as [AttributeName, string];
    const decision = decideLink(assertion(VNEID, { ...AN, ...asserted }), anViaVneid(), NOW);
    expect(decision).toEqual({
      decision: 'refuse',
      reason: 'conflict',
      conflicts: [{ name, stored: AN[name], asserted: value, storedSource: 'vneid' }],
    });
  });

  it.each([
    ['another person', 'Nguyễn Văn An', 'Nguyễn Văn Anh'],
    ['other diacritics (An ≠ Ân)', 'Nguyễn Văn An', 'Nguyễn Văn Ân'],
    ['other diacritics (Lê ≠ Lệ)', 'Lê Thị Hoa', 'Lệ Thị Hoa'],
    ['a partly accented form', 'Nguyễn Văn An', 'Nguyễn Van An'],
    ['d for đ in an otherwise accented form', 'Đặng Thị Thu Hà', 'Dặng Thị Thu Hà'],
    ['a bare form of another name', 'Nguyễn Văn An', 'Nguyen Van Anh'],
    ['two different bare forms', 'Nguyen Van An', 'Nguyen Van Anh'],
    ['an accented name over a different bare one', 'Tran Van Binh', 'Trần Văn Bình Minh'],
  ])('refuses a full name that differs by %s: %s vs %s', (_what, storedName, assertedName) => {
    const decision = decideLink(assertion(VNEID, { ...AN, full_name: assertedName }), anViaBank({ full_name: storedName }), NOW);
    expect(decision).toEqual({
      decision: 'refuse',
      reason: 'conflict',
      conflicts: [{ name: 'full_name', stored: storedName, asserted: assertedName, storedSource: 'vietcombank' }],
    });
  });

  it('refuses a higher-level source whose birthdate conflicts with a lower-level one: no silent overwrite', () => {
    const decision = decideLink(assertion(VNEID, { ...AN, birthdate: '1990-05-18' }), anViaBank(), NOW);
    expect(decision).toEqual({
      decision: 'refuse',
      reason: 'conflict',
      conflicts: [{ name: 'birthdate', stored: '1990-05-17', asserted: '1990-05-18', storedSource: 'vietcombank' }],
    });
  });

  it('takes a new phone number from a source of the same or a higher level: people change SIMs', () => {
    const existing = anViaBank({ phone_number: '0987654321' });
    const decision = decideLink(assertion(VIETTEL, AN), existing, NOW);
    expect(decision).toMatchObject({ decision: 'link' });
    expect((decision as { update: StoredAttribute[] }).update).toContainEqual(
      expect.objectContaining({ name: 'phone_number', value: '+84912345678', sourceId: 'viettel' }),
    );
  });

  it('takes a new permanent address from a source of the same or a higher level: people move', () => {
    const moved = 'Số 5 Lý Thường Kiệt, Quận Hoàn Kiếm, Hà Nội';
    const decision = decideLink(assertion(VNEID, { ...AN, permanent_address: moved }), anViaVneid(), NOW);
    expect(decision).toMatchObject({ decision: 'link' });
    expect((decision as { update: StoredAttribute[] }).update).toContainEqual(expect.objectContaining({ name: 'permanent_address', value: moved }));
  });

  it('keeps a phone number verified at a higher level when a lower-level source says otherwise, without refusing', () => {
    const base = anViaVneid();
    const existing = { ...base, attributes: [...base.attributes, stored('phone_number', '+84987654321', 'vneid', 'high')] };
    const viaViettel = decideLink(assertion(VIETTEL, { ...AN, phone_number: '0911111111' }), existing, NOW);
    expect(viaViettel).toMatchObject({ decision: 'link' });
    const { add, update } = viaViettel as { add: StoredAttribute[]; update: StoredAttribute[] };
    expect([...add, ...update].map((u) => u.name)).not.toContain('phone_number');
  });

  it('lists every conflicting attribute, not just the first', () => {
    const decision = decideLink(
      assertion(VNEID, { ...AN, full_name: 'Trần Thị Bích Ngọc', birthdate: '1992-03-08', gender: 'female' }),
      anViaVneid(),
      NOW,
    );
    expect(decision).toMatchObject({ decision: 'refuse', reason: 'conflict' });
    expect((decision as { conflicts: { name: string }[] }).conflicts.map((c) => c.name)).toEqual(['full_name', 'birthdate', 'gender']);
  });

  it('ignores, rather than refuses on, a differing attribute the source is not authoritative for', () => {
    // Viettel vouches for name, birthdate and phone; the gender and address it passes on are not verified.
    const decision = decideLink(
      assertion(VIETTEL, { ...AN, gender: 'female', permanent_address: 'Ấp 3, Xã Tân Thạnh, Huyện Cái Nước, Cà Mau' }),
      anViaVneid(),
      NOW,
    );
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-7d1c2b',
      add: [stored('phone_number', AN.phone_number, 'viettel', 'substantial', nowIso)],
      update: [],
    });
  });
});

describe('decideLink: comparing values', () => {
  it.each([
    ['upper case', 'NGUYỄN VĂN AN'],
    ['lower case', 'nguyễn văn an'],
    ['extra and odd whitespace', '  Nguyễn  Văn\u00a0 An '],
    ['decomposed (NFD) Unicode', 'Nguyễn Văn An'.normalize('NFD')],
  ])('treats a full name in %s as the same name', (_what, fullName) => {
    const decision = decideLink(assertion(VNEID, { ...AN, full_name: fullName }), anViaVneid(), NOW);
    expect(decision).toMatchObject({ decision: 'link' });
  });

  it.each([
    ['Nguyễn Văn An', 'Nguyen Van An'],
    ['Nguyễn Văn An', 'NGUYEN VAN AN'],
    ['Đặng Thị Thu Hà', 'Dang Thi Thu Ha'],
    ['Trương Mỹ Lan', 'truong  my lan'],
  ])('treats the diacritic-less %s as compatible with the stored %s but never overwrites it', (storedName, bare) => {
    const existing = anViaBank({ full_name: storedName });
    // Even a higher-level source does not replace an accented name with a bare one.
    const decision = decideLink(assertion(VNEID, { ...AN, full_name: bare }), existing, NOW);
    expect(decision).toMatchObject({ decision: 'link', accountId: 'acc-3e9f10' });
    const { add, update } = decision as { add: StoredAttribute[]; update: StoredAttribute[] };
    expect([...add, ...update].filter((a) => a.name === 'full_name')).toEqual([]);
  });

  it('replaces a stored bare name with the accented form from a source at the same or a higher level', () => {
    const existing = anViaBank({ full_name: 'NGUYEN VAN AN' });
    for (const source of [VNEID, VIETTEL]) {
      const decision = decideLink(assertion(source, AN), existing, NOW);
      expect(decision).toMatchObject({ decision: 'link' });
      expect((decision as { update: StoredAttribute[] }).update).toContainEqual(
        stored('full_name', 'Nguyễn Văn An', source.sourceId, source.level, nowIso),
      );
    }
  });

  it('keeps a stored bare name when the accented form comes from a lower level', () => {
    const existing = anViaVneid({ full_name: 'Nguyen Van An' });
    const decision = decideLink(assertion(VIETTEL, AN), existing, NOW);
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-7d1c2b',
      add: [stored('phone_number', AN.phone_number, 'viettel', 'substantial', nowIso)],
      update: [],
    });
  });

  it.each([['0912345678'], ['0912 345 678'], ['+84 91 234 5678'], ['84912345678'], ['0084912345678'], ['091.234.5678']])(
    'treats the phone number %s as the stored +84912345678',
    (phone) => {
      const existing = { ...anViaVneid(), attributes: [...anViaVneid().attributes, stored('phone_number', '+84912345678', 'viettel', 'substantial')] };
      const decision = decideLink(assertion(VIETCOMBANK, { ...AN, phone_number: phone }), existing, NOW);
      expect(decision).toMatchObject({ decision: 'link' });
    },
  );
});

describe('decideLink: provenance', () => {
  it('links a new source to an existing account, adding the attributes nobody stored yet', () => {
    const decision = decideLink(assertion(VIETTEL, AN), anViaVneid(), NOW);
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-7d1c2b',
      add: [stored('phone_number', '+84912345678', 'viettel', 'substantial', nowIso)],
      update: [],
    });
  });

  it('does not downgrade: a lower-level source asserting equal values leaves their provenance alone', () => {
    const decision = decideLink(assertion(VIETCOMBANK, AN), anViaVneid(), NOW);
    expect(decision).toMatchObject({ decision: 'link', update: [] });
  });

  it('lets a higher-level source take over the provenance of equal values', () => {
    const decision = decideLink(assertion(VNEID, { ...AN, full_name: 'NGUYỄN VĂN AN' }), anViaBank(), NOW);
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-3e9f10',
      add: [
        stored('place_of_origin', AN.place_of_origin, 'vneid', 'high', nowIso),
        stored('permanent_address', AN.permanent_address, 'vneid', 'high', nowIso),
      ],
      update: [
        stored('national_id', AN.national_id, 'vneid', 'high', nowIso),
        stored('full_name', 'NGUYỄN VĂN AN', 'vneid', 'high', nowIso),
        stored('birthdate', AN.birthdate, 'vneid', 'high', nowIso),
        stored('gender', AN.gender, 'vneid', 'high', nowIso),
      ],
    });
  });

  it('refreshes verifiedAt when the same source signs the person in again', () => {
    const decision = decideLink(assertion(VNEID, AN), anViaVneid(), NOW);
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-7d1c2b',
      add: [],
      update: VNEID.authoritativeFor.map((name) => stored(name, AN[name], 'vneid', 'high', nowIso)),
    });
  });

  it('lets another source at the same level record the fresher verification', () => {
    const decision = decideLink(assertion(VIETTEL, AN), anViaBank(), NOW);
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-3e9f10',
      add: [],
      update: VIETTEL.authoritativeFor.map((name) => stored(name, AN[name], 'viettel', 'substantial', nowIso)),
    });
  });

  it.each([
    ['low', 'substantial', false],
    ['low', 'high', false],
    ['substantial', 'high', false],
    ['low', 'low', true],
    ['substantial', 'substantial', true],
    ['high', 'high', true],
    ['substantial', 'low', true],
    ['high', 'low', true],
    ['high', 'substantial', true],
  ] as const)('a %s source asserting a value stored at %s updates its provenance: %s', (assertedLevel, storedLevel, updates) => {
    const source = { sourceId: 'vietinbank', level: assertedLevel, authoritativeFor: ['national_id', 'birthdate'] } as const;
    const existing: ExistingAccount = {
      accountId: 'acc-55aa01',
      attributes: [stored('national_id', AN.national_id, 'vneid', storedLevel), stored('birthdate', AN.birthdate, 'vneid', storedLevel)],
      linkedSources: [{ sourceId: 'vneid', subject: 'vneid-sub-8f3a' }],
    };
    const decision = decideLink(assertion(source, AN), existing, NOW);
    expect(decision).toEqual({
      decision: 'link',
      accountId: 'acc-55aa01',
      add: [],
      update: updates
        ? [stored('national_id', AN.national_id, 'vietinbank', assertedLevel, nowIso), stored('birthdate', AN.birthdate, 'vietinbank', assertedLevel, nowIso)]
        : [],
    });
  });

  it('checks every stored value of a name and measures level against the highest one', () => {
    const existing: ExistingAccount = {
      accountId: 'acc-99bb02',
      attributes: [
        stored('national_id', AN.national_id, 'vietcombank', 'substantial'),
        stored('birthdate', AN.birthdate, 'vietcombank', 'substantial'),
        stored('birthdate', AN.birthdate, 'vneid', 'high'),
      ],
      linkedSources: [],
    };
    // Substantial is not below the bank's value but is below VNeID's: no update.
    expect(decideLink(assertion(VIETTEL, { national_id: AN.national_id, birthdate: AN.birthdate }), existing, NOW)).toMatchObject({
      update: [stored('national_id', AN.national_id, 'viettel', 'substantial', nowIso)],
    });
    const conflicting = { ...existing, attributes: [...existing.attributes, stored('birthdate', '1990-07-15', 'momo', 'low')] };
    expect(decideLink(assertion(VNEID, AN), conflicting, NOW)).toMatchObject({
      decision: 'refuse',
      reason: 'conflict',
      conflicts: [{ name: 'birthdate', stored: '1990-07-15', asserted: AN.birthdate, storedSource: 'momo' }],
    });
  });

  it('stamps verifiedAt with the time passed in, as ISO 8601', () => {
    const later = new Date('2031-02-03T04:05:06.789Z');
    const decision = decideLink(assertion(VIETTEL, AN), anViaVneid(), later);
    expect((decision as { add: StoredAttribute[] }).add[0]?.verifiedAt).toBe('2031-02-03T04:05:06.789Z');
  });

  it('does not change the inputs', () => {
    const a = assertion(VNEID, AN);
    const existing = anViaBank();
    const before = JSON.stringify([a, existing]);
    decideLink(a, existing, NOW);
    expect(JSON.stringify([a, existing])).toBe(before);
  });
});
