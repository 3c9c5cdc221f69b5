// Consent policy on its own: which claims a service asks for, when the citizen is
// asked again, and what is released. No HTTP, no database.
import {
  consentableClaims,
  consentDiff,
  consentGiven,
  grantableClaims,
  grantContents,
  NO_CONSENT,
  registeredClaims,
  releasableClaims,
  requestedClaims,
  SCOPE_CLAIMS,
  type Consent,
} from '../../src/consent/index.js';

const PROFILE = ['birthdate', 'gender', 'name', 'place_of_origin'];
const ALL_SCOPES = ['openid', 'profile', 'phone', 'address', 'national_id'];

describe('SCOPE_CLAIMS', () => {
  it('maps each scope to the claims it stands for', () => {
    expect(SCOPE_CLAIMS).toEqual({
      openid: ['sub'],
      profile: ['name', 'birthdate', 'gender', 'place_of_origin'],
      phone: ['phone_number', 'phone_number_verified'],
      address: ['address'],
      national_id: ['national_id'],
    });
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(SCOPE_CLAIMS)).toBe(true);
  });
});

describe('requestedClaims', () => {
  it.each([
    ['openid alone asks for the subject only', ['openid'], undefined, ALL_SCOPES, ['sub']],
    ['profile adds name, birthdate, gender and place of origin', ['openid', 'profile'], undefined, ALL_SCOPES, [...PROFILE, 'sub']],
    [
      'every scope asks for every claim',
      ALL_SCOPES,
      undefined,
      ALL_SCOPES,
      ['address', 'birthdate', 'gender', 'name', 'national_id', 'phone_number', 'phone_number_verified', 'place_of_origin', 'sub'],
    ],
    ['scopes the client is not registered for are dropped', ['openid', 'profile', 'national_id'], undefined, ['openid', 'profile'], [...PROFILE, 'sub']],
    ['a client registered for nothing gets nothing', ['openid', 'profile'], undefined, [], []],
    ['without allowedScopes every known scope is allowed', ['openid', 'national_id'], undefined, undefined, ['national_id', 'sub']],
    ['unknown and non-claim scopes contribute nothing', ['openid', 'offline_access', 'email', 'urn:x:y'], undefined, undefined, ['sub']],
    ['repeated scopes give each claim once', ['phone', 'openid', 'phone'], undefined, ALL_SCOPES, ['phone_number', 'phone_number_verified', 'sub']],
    [
      'a claim named in the claims parameter is added when its scope is allowed, even if not requested',
      ['openid'],
      { userinfo: { birthdate: null } },
      ['openid', 'profile'],
      ['birthdate', 'sub'],
    ],
    [
      'claims named for the ID token and for userinfo both count, each once',
      ['openid'],
      { id_token: { national_id: { essential: true } }, userinfo: { national_id: null, phone_number: null } },
      ['openid', 'phone', 'national_id'],
      ['national_id', 'phone_number', 'sub'],
    ],
    [
      'a named claim of a scope the client is not registered for is dropped',
      ['openid'],
      { id_token: { national_id: { essential: true } } },
      ['openid', 'profile'],
      ['sub'],
    ],
    [
      'unknown named claims and acr are dropped',
      ['openid'],
      { id_token: { acr: { essential: true, values: ['urn:nixa:loa:high'] }, email: null, so_cccd: null } },
      ALL_SCOPES,
      ['sub'],
    ],
    [
      'names inherited from Object.prototype are not claims',
      ['openid'],
      JSON.parse('{"userinfo": {"__proto__": null, "constructor": null, "toString": null}}'),
      ALL_SCOPES,
      ['sub'],
    ],
    ['malformed members of the claims parameter are ignored', ['openid'], { id_token: null, userinfo: ['name'] } as never, ALL_SCOPES, ['sub']],
    ['no scopes and no claims parameter ask for nothing', [], undefined, ALL_SCOPES, []],
  ])('%s', (_what, scopes, claimsParameter, allowedScopes, expected) => {
    expect(requestedClaims(scopes, claimsParameter, allowedScopes)).toEqual(expected);
  });

  it('returns claims sorted and unique whatever the order of its inputs', () => {
    const a = requestedClaims(['profile', 'openid', 'phone'], { userinfo: { name: null, address: null } });
    const b = requestedClaims(['phone', 'profile', 'openid'], { userinfo: { address: null, name: null } });
    expect(a).toEqual(b);
    expect(a).toEqual([...new Set(a)].sort());
  });

  it('never returns a claim outside the allowed scopes, whatever is asked', () => {
    const allowed = ['openid', 'phone'];
    const everything = Object.fromEntries(Object.values(SCOPE_CLAIMS).flat().map((c) => [c, null]));
    const claims = requestedClaims(ALL_SCOPES, { id_token: everything, userinfo: everything }, allowed);
    expect(claims).toEqual(['phone_number', 'phone_number_verified', 'sub']);
  });
});

const agreed = (claims: string[], withoutValue: string[] = []): Consent => ({ claims, withoutValue });
/** What an account holds: Nguyễn Văn An as the citizen-ID source knows him, without a phone number. */
const AN = { sub: 'acc-7d1c2b', name: 'Nguyễn Văn An', birthdate: '1985-03-14', gender: 'male', national_id: '001085004217' };
const AN_WITH_PHONE = { ...AN, phone_number: '+84912345678', phone_number_verified: true };

describe('consentableClaims', () => {
  it('asks the citizen about neither sub nor phone_number_verified, which rides with the phone number', () => {
    expect(consentableClaims(['sub', 'phone_number_verified', 'phone_number', 'name', 'name'])).toEqual(['name', 'phone_number']);
  });
});

describe('consentDiff', () => {
  it.each([
    ['the first request asks for everything', ['birthdate', 'name', 'sub'], NO_CONSENT, AN, ['birthdate', 'name']],
    ['the same request again asks for nothing', ['birthdate', 'name', 'sub'], agreed(['birthdate', 'name']), AN, []],
    ['a request for less asks for nothing', ['name', 'sub'], agreed(['birthdate', 'name']), AN, []],
    ['a request for more asks only for the new claims', ['birthdate', 'name', 'national_id', 'phone_number', 'sub'], agreed(['birthdate', 'name']), AN, ['national_id', 'phone_number']],
    ['a request for other claims asks for those', ['address', 'sub'], agreed(['birthdate', 'name']), AN, ['address']],
    ['order and repeats do not matter', ['sub', 'national_id', 'name', 'national_id'], agreed(['name', 'name']), AN, ['national_id']],
    ['an empty request is satisfied', [], NO_CONSENT, AN, []],
    ['sub alone needs no consent', ['sub'], NO_CONSENT, AN, []],
    ['phone_number_verified is asked as phone_number, never alone', ['phone_number', 'phone_number_verified'], NO_CONSENT, AN_WITH_PHONE, ['phone_number']],
    ['a claim accepted as "Chưa có" is not asked again while it still has no value', ['name', 'phone_number'], agreed(['name'], ['phone_number']), AN, []],
    ['a claim accepted as "Chưa có" is asked again once it has a value', ['name', 'phone_number'], agreed(['name'], ['phone_number']), AN_WITH_PHONE, ['phone_number']],
    ['a claim accepted with a value is not asked again', ['phone_number'], agreed(['phone_number']), AN_WITH_PHONE, []],
    ['false and empty values are values', ['gender'], agreed([], ['gender']), { gender: '' }, ['gender']],
  ])('%s', (_what, requested, consent, available, missing) => {
    expect(consentDiff(requested, consent, available)).toEqual({ missing, satisfied: missing.length === 0 });
  });
});

describe('consentGiven', () => {
  it.each([
    ['records each claim shown with a value as agreed for it', ['birthdate', 'name'], ['birthdate', 'name'], AN, agreed(['birthdate', 'name'])],
    ['records a claim shown as "Chưa có" apart', ['name', 'phone_number'], ['name'], AN, agreed(['name'], ['phone_number'])],
    ['a value that appeared after the page was shown was not seen', ['name', 'phone_number'], ['name'], AN_WITH_PHONE, agreed(['name'], ['phone_number'])],
    ['a claim said to be shown with a value that has none is recorded without', ['name', 'phone_number'], ['name', 'phone_number'], AN, agreed(['name'], ['phone_number'])],
    ['the form cannot add a claim the page did not show', ['name'], ['name', 'national_id'], AN, agreed(['name'])],
    ['sub and phone_number_verified are never recorded', ['sub', 'phone_number', 'phone_number_verified'], ['sub', 'phone_number', 'phone_number_verified'], AN_WITH_PHONE, agreed(['phone_number'])],
  ])('%s', (_what, shown, withValue, available, expected) => {
    expect(consentGiven(shown, withValue, available)).toEqual(expected);
  });
});

describe('grantableClaims', () => {
  const EVERYTHING = agreed(['address', 'birthdate', 'gender', 'name', 'national_id', 'phone_number', 'place_of_origin']);
  it.each([
    ['sub is always allowed, even with no consent', ['openid'], NO_CONSENT, undefined, ['sub']],
    ['a consented claim of a registered scope is allowed', ['openid', 'profile'], agreed(['name']), undefined, ['name', 'sub']],
    ['a consented claim of a scope the service is not registered for is not', ['openid', 'profile'], EVERYTHING, undefined, [...PROFILE, 'sub']],
    ['a claim of a registered scope without consent is not', ['openid', 'profile', 'national_id'], agreed(['name']), undefined, ['name', 'sub']],
    ['a claim accepted as "Chưa có" is not', ['openid', 'phone'], agreed([], ['phone_number']), undefined, ['sub']],
    ['phone_number_verified comes with a consented phone_number', ['openid', 'phone'], agreed(['phone_number']), undefined, ['phone_number', 'phone_number_verified', 'sub']],
    ['phone_number_verified is never consented on its own', ['openid', 'phone'], agreed(['phone_number_verified']), undefined, ['sub']],
    ['only what this request asks for, when it says', ['openid', 'profile'], EVERYTHING, ['name', 'national_id'], ['name', 'sub']],
    ['a service registered for nothing gets sub only', [], EVERYTHING, undefined, ['sub']],
  ])('%s', (_what, registeredScopes, consent, requested, expected) => {
    expect(grantableClaims({ registeredScopes, consent, ...(requested ? { requested } : {}) })).toEqual(expected);
  });

  it('never allows a claim outside the registered scopes, the consent or the request, whatever they are', () => {
    const scopes = Object.keys(SCOPE_CLAIMS);
    const claims = Object.values(SCOPE_CLAIMS).flat();
    for (let mask = 0; mask < 1 << scopes.length; mask += 1) {
      const registeredScopes = scopes.filter((_, i) => (mask >> i) & 1);
      const consented = claims.filter((_, i) => (mask >> (i % 5)) & 1 || i % 3 === 0);
      const requested = claims.filter((_, i) => (mask >> ((i + 2) % 5)) & 1);
      const allowed = grantableClaims({ registeredScopes, consent: agreed(consented, claims), requested });
      const registered = registeredClaims(registeredScopes);
      for (const c of allowed.filter((x) => x !== 'sub')) {
        expect(registered.has(c) && requested.includes(c)).toBe(true);
        expect(consented.includes(c === 'phone_number_verified' ? 'phone_number' : c)).toBe(true);
      }
      expect(allowed).toContain('sub');
    }
  });
});

describe('grantContents', () => {
  it('gives a service registered for openid profile, naming national_id and phone_number in the claims parameter, neither', () => {
    const contents = grantContents({
      scopes: ['openid', 'profile'],
      claimsParameter: { id_token: { national_id: null, phone_number: null }, userinfo: { national_id: null, phone_number: null } },
      registeredScopes: ['openid', 'profile'],
      consent: agreed(['birthdate', 'gender', 'name', 'national_id', 'phone_number', 'place_of_origin']),
    });
    expect(contents.scopes).toEqual(['openid', 'profile']);
    expect(contents.claims).toEqual([...PROFILE, 'sub']);
    expect(contents.rejected).toEqual(['address', 'national_id', 'phone_number', 'phone_number_verified']);
  });

  it('rejects the claims of a granted scope that the citizen accepted as "Chưa có", so the scope cannot bring them in', () => {
    const contents = grantContents({ scopes: ['openid', 'phone'], registeredScopes: ['openid', 'phone'], consent: agreed([], ['phone_number']) });
    expect(contents).toEqual({
      scopes: ['openid', 'phone'],
      claims: ['sub'],
      rejected: ['address', 'birthdate', 'gender', 'name', 'national_id', 'phone_number', 'phone_number_verified', 'place_of_origin'],
    });
  });

  it('keeps non-claim scopes the service is registered for and drops the others', () => {
    const contents = grantContents({ scopes: ['openid', 'offline_access', 'national_id', ''], registeredScopes: ['openid', 'offline_access'], consent: agreed(['national_id']) });
    expect(contents.scopes).toEqual(['offline_access', 'openid']);
    expect(contents.claims).toEqual(['sub']);
    expect(contents.rejected).toContain('national_id');
  });

  it('never grants and rejects the same claim, and never rejects sub', () => {
    const contents = grantContents({ scopes: Object.keys(SCOPE_CLAIMS), registeredScopes: undefined, consent: agreed(['name', 'phone_number']) });
    expect(contents.claims).toEqual(['name', 'phone_number', 'phone_number_verified', 'sub']);
    expect(contents.rejected.filter((c) => contents.claims.includes(c))).toEqual([]);
    expect(contents.rejected).not.toContain('sub');
  });
});

describe('releasableClaims', () => {
  const AVAILABLE = {
    sub: 'acc-7d1c2b',
    name: 'Nguyễn Văn An',
    birthdate: '1990-05-17',
    gender: 'male',
    place_of_origin: 'Xã Phù Đổng, Huyện Gia Lâm, Hà Nội',
    national_id: '001090012345',
    phone_number: '+84912345678',
    phone_number_verified: true,
    address: { formatted: 'Số 12 ngõ 34 Phố Huế, Quận Hai Bà Trưng, Hà Nội', country: 'VN' },
  };

  it.each([
    ['releases what is requested and granted', ['name', 'sub'], ['name', 'sub'], { name: 'Nguyễn Văn An', sub: 'acc-7d1c2b' }],
    ['withholds a requested claim that was not granted', ['name', 'national_id', 'sub'], ['name', 'sub'], { name: 'Nguyễn Văn An', sub: 'acc-7d1c2b' }],
    ['withholds a granted claim that this request does not ask for', ['sub'], ['name', 'national_id', 'sub'], { sub: 'acc-7d1c2b' }],
    ['releases structured values as they are', ['address'], ['address'], { address: AVAILABLE.address }],
    ['releases the phone claims together', ['phone_number', 'phone_number_verified'], ['phone_number', 'phone_number_verified'], { phone_number: '+84912345678', phone_number_verified: true }],
    ['releases nothing when nothing is granted', ['name', 'sub'], [], {}],
  ])('%s', (_what, requested, granted, expected) => {
    expect(releasableClaims(requested, granted, AVAILABLE)).toEqual(expected);
  });

  it('omits a claim the account does not have, or has as null or undefined', () => {
    const available = { sub: 'acc-3e9f10', name: 'Trần Thị Bích Ngọc', phone_number: null, place_of_origin: undefined, phone_number_verified: false };
    const all = ['sub', 'name', 'birthdate', 'phone_number', 'place_of_origin', 'phone_number_verified'];
    const released = releasableClaims(all, all, available);
    expect(released).toEqual({ sub: 'acc-3e9f10', name: 'Trần Thị Bích Ngọc', phone_number_verified: false });
    expect(Object.keys(released)).toEqual(['name', 'phone_number_verified', 'sub']);
  });

  it('is exactly granted ∩ requested ∩ available', () => {
    const claims = Object.keys(AVAILABLE);
    for (let mask = 0; mask < 64; mask += 1) {
      const requested = claims.filter((_, i) => (mask >> (i % 6)) & 1);
      const granted = claims.filter((_, i) => (mask >> ((i + 3) % 6)) & 1);
      const released = releasableClaims(requested, granted, AVAILABLE);
      const expected = claims.filter((c) => requested.includes(c) && granted.includes(c)).sort();
      expect(Object.keys(released).sort()).toEqual(expected);
    }
  });

  it('does not read claims from the prototype or let a claim named __proto__ change it', () => {
    const available = JSON.parse('{"__proto__": {"polluted": true}, "sub": "acc-1"}') as Record<string, unknown>;
    const released = releasableClaims(['__proto__', 'toString', 'sub'], ['__proto__', 'toString', 'sub'], available);
    expect(Object.getPrototypeOf(released)).toBe(Object.prototype);
    expect((released as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(released).sort()).toEqual(['__proto__', 'sub']);
    expect(releasableClaims(['toString'], ['toString'], {})).toEqual({});
  });
});
