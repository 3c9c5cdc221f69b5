// The assurance policy on its own: what a session is worth (source × factors →
// acr, amr), what can raise it, and how an operator's policy file is checked.
// No HTTP, no database.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  ACR_VALUES,
  AMR_FEDERATED,
  DEFAULT_POLICY,
  DEFAULT_POLICY_DOCUMENT,
  FACTORS,
  LEVEL_EQUIVALENTS,
  LEVELS,
  acrFor,
  atLeast,
  boundPhoneAssurance,
  canReach,
  levelOfAcr,
  lowest,
  parseAssurancePolicy,
  raiseSession,
  rank,
  sessionAssurance,
  type Factor,
  type FactorUse,
  type Level,
  type SourceOffer,
} from '../../src/assurance/index.js';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/index.js';

// The three kinds of source nixa federates, as the demo registers them: the source's
// authentication level and the methods it reports in amr.
const SOURCES = {
  citizenId: { auth: 'high', amr: ['pwd', 'otp'] },
  bank: { auth: 'substantial', amr: ['pwd', 'face'] },
  telecom: { auth: 'low', amr: ['sms'] },
} as const satisfies Record<string, { auth: Level; amr: string[] }>;
type SourceName = keyof typeof SOURCES;

// A factor enrolled in a high session (after a Citizen ID sign-in) unless said otherwise.
const use = (factor: Factor, enrolledAt: Level = 'high'): FactorUse => ({ factor, enrolledAt });

function session(source: SourceName, factors: FactorUse[], proofingLevel: Level = 'high') {
  return sessionAssurance(
    { proofingLevel, sourceAuthLevel: SOURCES[source].auth, sourceAmr: SOURCES[source].amr, factors },
    DEFAULT_POLICY,
  );
}

describe('assurance vocabulary', () => {
  it('keeps the ordered levels and their acr values', () => {
    expect(LEVELS).toEqual(['low', 'substantial', 'high']);
    expect(ACR_VALUES).toEqual(['urn:nixa:loa:low', 'urn:nixa:loa:substantial', 'urn:nixa:loa:high']);
    expect(levelOfAcr('urn:nixa:loa:substantial')).toBe('substantial');
    expect(levelOfAcr('urn:vn:dancu:loa:high')).toBeUndefined();
    expect(lowest('high', 'low', 'substantial')).toBe('low');
    expect(atLeast('substantial', 'low')).toBe(true);
    expect(atLeast('substantial', 'high')).toBe(false);
    expect(rank('high')).toBe(2);
    expect(AMR_FEDERATED).toBe('fed');
  });

  it('compares every level with the Decree 69/2024/ND-CP e-ID account levels and eIDAS', () => {
    expect(Object.keys(LEVEL_EQUIVALENTS)).toEqual([...LEVELS]);
    expect(LEVELS.map((l) => [l, LEVEL_EQUIVALENTS[l].decree69AccountLevel, LEVEL_EQUIVALENTS[l].eidas])).toEqual([
      ['low', null, 'low'],
      ['substantial', 1, 'substantial'],
      ['high', 2, 'high'],
    ]);
    for (const l of LEVELS) {
      expect(LEVEL_EQUIVALENTS[l].basis.vi).not.toBe('');
      expect(LEVEL_EQUIVALENTS[l].basis.en).not.toBe('');
    }
    expect(Object.isFrozen(LEVEL_EQUIVALENTS.high)).toBe(true);
  });
});

describe('the default policy, row by row (source × factors → acr, amr)', () => {
  // For an account proven at high (through Citizen ID), so that the level shown is
  // the authentication level the session reached.
  it.each<[string, SourceName, FactorUse[], Level, string[]]>([
    ['Telecom alone is low', 'telecom', [], 'low', ['sms', 'fed']],
    ['Bank alone is substantial', 'bank', [], 'substantial', ['pwd', 'face', 'fed']],
    ['Citizen ID alone is high', 'citizenId', [], 'high', ['pwd', 'otp', 'fed']],
    ['Telecom + passkey with user verification is high', 'telecom', [use('passkey_uv')], 'high', ['sms', 'fed', 'hwk', 'user', 'mfa']],
    ['Telecom + passkey without user verification is substantial', 'telecom', [use('passkey')], 'substantial', ['sms', 'fed', 'hwk', 'mfa']],
    ['Telecom + authenticator app is substantial', 'telecom', [use('totp')], 'substantial', ['sms', 'fed', 'otp', 'mfa']],
    ['Telecom + recovery code stays low, without mfa', 'telecom', [use('recovery_code')], 'low', ['sms', 'fed', 'kba']],
    ['Telecom + passkey + authenticator app stays substantial (no row lifts them)', 'telecom', [use('passkey'), use('totp')], 'substantial', ['sms', 'fed', 'hwk', 'otp', 'mfa']],
    ['Telecom + recovery code + authenticator app is substantial', 'telecom', [use('recovery_code'), use('totp')], 'substantial', ['sms', 'fed', 'kba', 'otp', 'mfa']],
    ['Bank + passkey without user verification is high (the combination row)', 'bank', [use('passkey')], 'high', ['pwd', 'face', 'fed', 'hwk', 'mfa']],
    ['Bank + passkey with user verification is high', 'bank', [use('passkey_uv')], 'high', ['pwd', 'face', 'fed', 'hwk', 'user', 'mfa']],
    ['Bank + authenticator app stays substantial (a code can be phished)', 'bank', [use('totp')], 'substantial', ['pwd', 'face', 'fed', 'otp', 'mfa']],
    ['Bank + recovery code stays substantial', 'bank', [use('recovery_code')], 'substantial', ['pwd', 'face', 'fed', 'kba']],
    ['Citizen ID + authenticator app is high, otp stated once', 'citizenId', [use('totp')], 'high', ['pwd', 'otp', 'fed', 'mfa']],
    ['Citizen ID + passkey with user verification is high', 'citizenId', [use('passkey_uv')], 'high', ['pwd', 'otp', 'fed', 'hwk', 'user', 'mfa']],
  ])('%s', (_, source, factors, level, amr) => {
    expect(session(source, factors)).toEqual({ level, acr: acrFor(level), amr, authenticationLevel: level });
  });

  it('states the table as built', () => {
    expect(DEFAULT_POLICY).toEqual({
      federated: { amr: ['fed'] },
      boundPhone: { level: 'high', amr: ['hwk', 'user', 'mca'] },
      factors: {
        passkey_uv: { level: 'high', amr: ['hwk', 'user'], countsForMfa: true },
        passkey: { level: 'substantial', amr: ['hwk'], countsForMfa: true },
        totp: { level: 'substantial', amr: ['otp'], countsForMfa: true },
        recovery_code: { level: 'low', amr: ['kba'], countsForMfa: false },
      },
      combinations: [{ sourceAtLeast: 'substantial', factors: ['passkey'], level: 'high' }],
    });
    expect(Object.keys(DEFAULT_POLICY.factors)).toEqual([...FACTORS]);
    expect(Object.isFrozen(DEFAULT_POLICY.factors.totp.amr)).toBe(true);
  });
});

describe('identity proofing caps the level', () => {
  it.each<[Level, Level]>([
    ['low', 'low'],
    ['substantial', 'substantial'],
    ['high', 'high'],
  ])('Telecom + passkey with user verification, for an account proven at %s, is %s', (proofing, level) => {
    const s = session('telecom', [use('passkey_uv')], proofing);
    expect(s.level).toBe(level);
    expect(s.acr).toBe(acrFor(level));
    expect(s.authenticationLevel).toBe('high');
    expect(s.amr).toEqual(['sms', 'fed', 'hwk', 'user', 'mfa']);
  });

  it('gives a Telecom-only account (Bùi Thị Lan) low whatever she signs in with', () => {
    expect(session('citizenId', [], 'low').acr).toBe('urn:nixa:loa:low');
    expect(session('bank', [use('passkey'), use('passkey_uv'), use('totp')], 'low').level).toBe('low');
  });

  it('gives a bank-proven account substantial even after Citizen ID-level authentication', () => {
    expect(session('citizenId', [use('passkey_uv')], 'substantial').level).toBe('substantial');
  });
});

describe('a factor vouches no higher than the session it was enrolled in', () => {
  it('a passkey enrolled after a bank sign-in (substantial) gives substantial, not high', () => {
    expect(session('telecom', [use('passkey_uv', 'substantial')]).level).toBe('substantial');
  });

  it('a combination is capped the same way', () => {
    expect(session('bank', [use('passkey', 'substantial')]).level).toBe('substantial');
    expect(session('bank', [use('passkey', 'high')]).level).toBe('high');
  });

  it('a factor enrolled in a low session adds nothing', () => {
    expect(session('telecom', [use('totp', 'low')]).level).toBe('low');
  });

  it('of two passkeys used, the one enrolled higher counts', () => {
    expect(session('telecom', [use('passkey_uv', 'substantial'), use('passkey_uv', 'high')]).level).toBe('high');
  });
});

describe('mfa', () => {
  it('is not added for a source login alone, even one that used two methods', () => {
    expect(session('citizenId', []).amr).not.toContain('mfa');
  });

  it('is added once when the source login and one factor were used, however often the factor was used', () => {
    expect(session('telecom', [use('totp'), use('totp'), use('totp')]).amr).toEqual(['sms', 'fed', 'otp', 'mfa']);
  });

  it('does not count recovery codes, which only restore access', () => {
    expect(session('telecom', [use('recovery_code'), use('recovery_code')]).amr).toEqual(['sms', 'fed', 'kba']);
  });

  it('passes on an mfa the source itself reported, once', () => {
    const s = sessionAssurance(
      { proofingLevel: 'high', sourceAuthLevel: 'high', sourceAmr: ['pwd', 'otp', 'mfa'], factors: [use('passkey_uv')] },
      DEFAULT_POLICY,
    );
    expect(s.amr).toEqual(['pwd', 'otp', 'mfa', 'fed', 'hwk', 'user']);
  });

  it('lists methods in the order they were used', () => {
    expect(session('telecom', [use('totp'), use('passkey_uv')]).amr).toEqual(['sms', 'fed', 'otp', 'hwk', 'user', 'mfa']);
  });
});

describe('raising a session that already stands (step-up on a signed-in session)', () => {
  // What nixa knows at step-up: the session's level and amr, and the level its
  // source login alone gave. Accounts proven at high unless said otherwise.
  const raise = (sourceAuthLevel: Level, level: Level, amr: string[], factor: Factor, enrolledAt: Level = 'high', proofingLevel: Level = 'high') =>
    raiseSession({ proofingLevel, level, sourceAuthLevel, amr }, { factor, enrolledAt }, DEFAULT_POLICY);

  it.each<[string, ReturnType<typeof raise>, Level, string[]]>([
    ['Telecom + passkey with verification → high', raise('low', 'low', ['sms', 'fed'], 'passkey_uv'), 'high', ['sms', 'fed', 'hwk', 'user', 'mfa']],
    ['Telecom + passkey without verification → substantial', raise('low', 'low', ['sms', 'fed'], 'passkey'), 'substantial', ['sms', 'fed', 'hwk', 'mfa']],
    ['Bank + passkey without verification → high (combination row)', raise('substantial', 'substantial', ['pwd', 'face', 'fed'], 'passkey'), 'high', ['pwd', 'face', 'fed', 'hwk', 'mfa']],
    // The session's acr says substantial, but only because of the app: the
    // combination row needs the source login itself at substantial.
    ['Telecom raised by an app, then a passkey without verification → still substantial', raise('low', 'substantial', ['sms', 'fed', 'otp', 'mfa'], 'passkey'), 'substantial', ['sms', 'fed', 'otp', 'mfa', 'hwk']],
    ['an app never lowers a session already at high', raise('high', 'high', ['pwd', 'otp', 'fed'], 'totp'), 'high', ['pwd', 'otp', 'fed', 'mfa']],
    ['a passkey enrolled at substantial lifts Telecom only to substantial', raise('low', 'low', ['sms', 'fed'], 'passkey_uv', 'substantial'), 'substantial', ['sms', 'fed', 'hwk', 'user', 'mfa']],
    ['an unknown source login counts as low', raise('low', 'low', [], 'passkey'), 'substantial', ['fed', 'hwk', 'mfa']],
  ])('%s', (_, got, level, amr) => {
    expect(got.level).toBe(level);
    expect(got.acr).toBe(acrFor(level));
    expect(got.amr).toEqual(amr);
  });

  it('is capped by identity proofing: a Telecom-only account stays low with any passkey', () => {
    expect(raise('low', 'low', ['sms', 'fed'], 'passkey_uv', 'high', 'low').level).toBe('low');
    expect(raise('substantial', 'substantial', ['pwd', 'fed'], 'passkey_uv', 'high', 'substantial').level).toBe('substantial');
  });
});

describe('canReach', () => {
  // Sources as step-up sees them: what a login there would give the account.
  const vneid: SourceOffer = { id: 'vneid', proofingLevel: 'high', authLevel: 'high' };
  const bank: SourceOffer = { id: 'vietcombank', proofingLevel: 'substantial', authLevel: 'substantial' };
  const telecom: SourceOffer = { id: 'viettel', proofingLevel: 'low', authLevel: 'low' };
  // The account's enrolled factors, with an id as step-up would keep it.
  const passkeyUv = { factor: 'passkey_uv', enrolledAt: 'high', id: 'passkey:điện-thoại-của-an' } as const;
  const securityKey = { factor: 'passkey', enrolledAt: 'high', id: 'passkey:khoá-bảo-mật' } as const;
  const app = { factor: 'totp', enrolledAt: 'high', id: 'totp:1' } as const;
  const recovery = { factor: 'recovery_code', enrolledAt: 'high', id: 'recovery' } as const;

  it('says the target is met when the session already stands there', () => {
    expect(canReach('substantial', { proofingLevel: 'high', sourceAuthLevel: 'high', factors: [], availableFactors: [passkeyUv] }, DEFAULT_POLICY)).toEqual({
      met: true,
      level: 'high',
    });
  });

  it('offers nothing for high to a Telecom-only account with no passkey', () => {
    const r = canReach(
      'high',
      { proofingLevel: 'low', sourceAuthLevel: 'low', factors: [], availableFactors: [app, recovery], availableSources: [telecom, bank] },
      DEFAULT_POLICY,
    );
    expect(r).toEqual({ met: false, level: 'low', options: [] });
  });

  it('offers a Telecom-only account the source that can vouch for high', () => {
    const r = canReach('high', { proofingLevel: 'low', sourceAuthLevel: 'low', factors: [], availableFactors: [app], availableSources: [telecom, bank, vneid] }, DEFAULT_POLICY);
    expect(r).toEqual({ met: false, level: 'low', options: [{ factors: [], sources: [vneid], reaches: 'high' }] });
  });

  it('offers a Citizen ID-proven account signed in through Telecom its passkey for high', () => {
    const r = canReach('high', { proofingLevel: 'high', sourceAuthLevel: 'low', factors: [], availableFactors: [app, passkeyUv] }, DEFAULT_POLICY);
    expect(r).toEqual({ met: false, level: 'low', options: [{ factors: [passkeyUv], sources: [], reaches: 'high' }] });
  });

  it('lists single steps before combinations, factors before sources, and no superset of an option', () => {
    const r = canReach(
      'high',
      { proofingLevel: 'high', sourceAuthLevel: 'low', factors: [], availableFactors: [app, securityKey, passkeyUv], availableSources: [bank, vneid] },
      DEFAULT_POLICY,
    );
    expect(r.met).toBe(false);
    if (r.met) return;
    expect(r.options.map((o) => [...o.factors.map((f) => f.id), ...o.sources.map((s) => s.id)])).toEqual([
      ['passkey:điện-thoại-của-an'],
      ['vneid'],
      ['passkey:khoá-bảo-mật', 'vietcombank'], // the combination row: bank login + passkey
    ]);
  });

  it('counts the source login already made for combination rows', () => {
    const r = canReach('high', { proofingLevel: 'high', sourceAuthLevel: 'substantial', factors: [], availableFactors: [securityKey] }, DEFAULT_POLICY);
    expect(r).toEqual({ met: false, level: 'substantial', options: [{ factors: [securityKey], sources: [], reaches: 'high' }] });
  });

  it('offers every factor that reaches substantial, never a recovery code', () => {
    const r = canReach('substantial', { proofingLevel: 'high', sourceAuthLevel: 'low', factors: [], availableFactors: [recovery, app, securityKey, passkeyUv] }, DEFAULT_POLICY);
    if (r.met) throw new Error('expected step-up');
    expect(r.options.map((o) => o.factors.map((f) => f.factor))).toEqual([['passkey_uv'], ['passkey'], ['totp']]);
  });

  it('does not offer a passkey enrolled at substantial for high, but offers the better of two', () => {
    const bankEnrolled = { factor: 'passkey_uv', enrolledAt: 'substantial', id: 'passkey:cũ' } as const;
    const input = { proofingLevel: 'high', sourceAuthLevel: 'low', factors: [] } as const;
    expect(canReach('high', { ...input, availableFactors: [bankEnrolled] }, DEFAULT_POLICY)).toEqual({ met: false, level: 'low', options: [] });
    const r = canReach('high', { ...input, availableFactors: [bankEnrolled, passkeyUv] }, DEFAULT_POLICY);
    if (r.met) throw new Error('expected step-up');
    expect(r.options).toEqual([{ factors: [passkeyUv], sources: [], reaches: 'high' }]);
  });

  it('does not offer a factor already used in the session', () => {
    const r = canReach('high', { proofingLevel: 'high', sourceAuthLevel: 'low', factors: [use('totp')], availableFactors: [app] }, DEFAULT_POLICY);
    expect(r).toEqual({ met: false, level: 'substantial', options: [] });
  });

  it('cannot raise identity proofing with a factor, only with a source', () => {
    const input = { proofingLevel: 'substantial', sourceAuthLevel: 'substantial', factors: [], availableFactors: [passkeyUv] } as const;
    expect(canReach('high', input, DEFAULT_POLICY)).toEqual({ met: false, level: 'substantial', options: [] });
    const r = canReach('high', { ...input, availableSources: [vneid] }, DEFAULT_POLICY);
    if (r.met) throw new Error('expected step-up');
    expect(r.options).toEqual([{ factors: [], sources: [vneid], reaches: 'high' }]);
  });
});

describe('a sign-in approved on a bound phone (boundPhoneAssurance)', () => {
  it.each<[Level, Level, Level]>([
    // bound at, account proofing → level reached
    ['high', 'high', 'high'],
    // Never above the level the phone was bound at…
    ['substantial', 'high', 'substantial'],
    ['low', 'high', 'low'],
    // …nor above the account's identity proofing.
    ['high', 'substantial', 'substantial'],
    ['high', 'low', 'low'],
  ])('a phone bound at %s, an account proofed at %s: %s', (boundLevel, proofingLevel, level) => {
    const a = boundPhoneAssurance({ boundLevel, proofingLevel }, DEFAULT_POLICY);
    expect(a.level).toBe(level);
    expect(a.acr).toBe(`urn:nixa:loa:${level}`);
    expect(a.authenticationLevel).toBe(boundLevel);
    expect(a.amr).toEqual(['hwk', 'user', 'mca', 'mfa']);
  });
});

describe('NIXA_ASSURANCE_POLICY_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nixa-assurance-'));
  let n = 0;
  const file = (doc: unknown) => {
    const path = join(dir, `policy-${++n}.json`);
    writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
    return path;
  };
  // A mutable copy of the built-in document, to spoil one field at a time.
  type Doc = Record<string, any>;
  const copy = () => JSON.parse(JSON.stringify(DEFAULT_POLICY_DOCUMENT)) as Doc;

  function configError(path: string): ConfigError {
    try {
      loadConfig({ NIXA_ASSURANCE_POLICY_FILE: path });
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('expected a ConfigError');
  }

  it('uses the built-in policy when unset', () => {
    expect(loadConfig({}).assurance).toBe(DEFAULT_POLICY);
  });

  it('reads the built-in document back as the built-in policy (an operator starts from it)', () => {
    expect(loadConfig({ NIXA_ASSURANCE_POLICY_FILE: file(DEFAULT_POLICY_DOCUMENT) }).assurance).toEqual(DEFAULT_POLICY);
  });

  it('applies an operator policy: passkeys stated as swk, and an authenticator app worth only low', () => {
    const doc = copy();
    doc.factors.passkey.amr = ['swk'];
    doc.factors.totp.level = 'low';
    doc.factors.totp.note = 'Bộ Công an chưa công nhận ứng dụng xác thực cho mức độ 2';
    const c = loadConfig({ NIXA_ASSURANCE_POLICY_FILE: `./${file(doc).split('/').pop()}` }, dir);
    const s = sessionAssurance({ proofingLevel: 'high', sourceAuthLevel: 'low', sourceAmr: ['sms'], factors: [use('totp'), use('passkey')] }, c.assurance);
    expect(s).toEqual({ level: 'substantial', acr: 'urn:nixa:loa:substantial', amr: ['sms', 'fed', 'otp', 'swk', 'mfa'], authenticationLevel: 'substantial' });
    expect(sessionAssurance({ proofingLevel: 'high', sourceAuthLevel: 'low', sourceAmr: ['sms'], factors: [use('totp')] }, c.assurance).level).toBe('low');
  });

  it.each<[string, string, (d: Doc) => unknown, RegExp]>([
    ['an unknown factor', 'factors.sms', (d) => ((d.factors.sms = { level: 'substantial', amr: ['sms'], counts_for_mfa: true }), d), /not a factor nixa knows/],
    ['an unknown level name', 'factors.totp.level', (d) => ((d.factors.totp.level = 'medium'), d), /one of low, substantial, high/],
    ['a level name in the wrong case', 'combinations[0].level', (d) => ((d.combinations[0].level = 'High'), d), /one of low, substantial, high/],
    ['a missing factor row', 'factors.recovery_code', (d) => (delete d.factors.recovery_code, d), /is required/],
    ['a missing row that a combination uses', 'factors.passkey', (d) => (delete d.factors.passkey, d), /is required \(every factor needs a row\)/],
    ['missing combinations', 'combinations', (d) => (delete d.combinations, d), /is required/],
    ['a missing federated entry', 'federated', (d) => (delete d.federated, d), /is required/],
    ['an unknown factor in a combination', 'combinations[0].factors[1]', (d) => ((d.combinations[0].factors = ['passkey', 'sms_otp']), d), /one of passkey_uv/],
    ['a combination that raises nothing', 'combinations[0].level', (d) => ((d.combinations[0].level = 'substantial'), d), /does not raise the level/],
    ['a repeated combination', 'combinations[1]', (d) => (d.combinations.push({ source_at_least: 'substantial', factors: ['passkey'], level: 'high' }), d), /repeats combinations\[0\]/],
    ['mfa stated by a factor', 'factors.totp.amr[0]', (d) => ((d.factors.totp.amr = ['mfa']), d), /nixa adds mfa itself/],
    ['no amr values', 'factors.passkey.amr', (d) => ((d.factors.passkey.amr = []), d), /at least one amr value/],
    ['counts_for_mfa as a string', 'factors.totp.counts_for_mfa', (d) => ((d.factors.totp.counts_for_mfa = 'yes'), d), /true or false/],
    ['an unknown field', 'levels', (d) => ((d.levels = ['low', 'medium', 'high']), d), /not a field/],
    ['a list instead of an object', '(document)', () => [], /JSON object/],
    ['a bound-phone row without a level', 'bound_phone.level', (d) => (delete d.bound_phone.level, d), /one of low, substantial, high/],
    ['a bound-phone row stating mfa', 'bound_phone.amr[1]', (d) => ((d.bound_phone.amr = ['hwk', 'mfa']), d), /nixa adds mfa itself/],
    ['an unknown field in the bound-phone row', 'bound_phone.counts_for_mfa', (d) => ((d.bound_phone.counts_for_mfa = true), d), /not a field/],
  ])('refuses %s, naming the variable and %s', (_, field, change, expected) => {
    const err = configError(file(change(copy())));
    expect(err.variable).toBe('NIXA_ASSURANCE_POLICY_FILE');
    expect(err.code).toBe('NIXA-CFG-001');
    expect(err.message).toContain('NIXA_ASSURANCE_POLICY_FILE');
    expect(err.message).toContain(`${field}:`);
    expect(err.message).toMatch(expected);
  });

  it('refuses a file that is not JSON, or missing', () => {
    expect(configError(file('{ "factors": ')).message).toMatch(/NIXA_ASSURANCE_POLICY_FILE must be a JSON assurance policy/);
    expect(configError(join(dir, 'absent.json')).message).toMatch(/NIXA_ASSURANCE_POLICY_FILE must be a readable JSON file/);
  });

  it('reports every problem, the first in the message and the rest after it', () => {
    const d = copy();
    d.factors.totp.level = 'medium';
    d.factors.passkey.amr = [];
    const err = configError(file(d));
    expect(err.message).toMatch(/factors\.passkey\.amr: at least one amr value/);
    expect(err.message).toMatch(/factors\.totp\.level: one of low, substantial, high/);
    expect(err.others).toHaveLength(1);
  });

  it('loads a file written before phones could be bound: the built-in bound-phone row applies', () => {
    const d = copy();
    delete d.bound_phone;
    expect(loadConfig({ NIXA_ASSURANCE_POLICY_FILE: file(d) }).assurance.boundPhone).toEqual(DEFAULT_POLICY.boundPhone);
  });

  it('applies an operator’s bound-phone row: a phone worth at most substantial', () => {
    const d = copy();
    d.bound_phone = { level: 'substantial', amr: ['swk', 'user'] };
    const c = loadConfig({ NIXA_ASSURANCE_POLICY_FILE: file(d) });
    expect(boundPhoneAssurance({ boundLevel: 'high', proofingLevel: 'high' }, c.assurance)).toEqual({
      level: 'substantial',
      acr: 'urn:nixa:loa:substantial',
      amr: ['swk', 'user', 'mfa'],
      authenticationLevel: 'substantial',
    });
  });

  it('validates without a file too (parseAssurancePolicy)', () => {
    expect(parseAssurancePolicy(DEFAULT_POLICY_DOCUMENT)).toEqual({ ok: true, policy: DEFAULT_POLICY });
    expect(parseAssurancePolicy(null)).toEqual({ ok: false, issues: [{ field: '(document)', message: expect.stringMatching(/JSON object/) }] });
  });
});
