// What nixa asks a source for and whether its answer gives it: pure functions,
// no HTTP (the journey over HTTP is in upstream-assurance.test.ts).
import { acrValuesFor, confirmAnswer, type UpstreamAsk } from '../../src/federation/index.js';
import { FAILURE_MESSAGES, type FederationFailure } from '../../src/federation/index.js';
import { requestedAuthentication } from '../../src/protocol/index.js';

const vneid = {
  authLevel: null,
  proofingLevel: 'high' as const,
  maxAuthLevel: 'high' as const,
  acrLevels: { 'urn:vn:dancu:loa:high': 'high', 'urn:vn:dancu:loa:low': 'low', 'urn:vn:dancu:loa:substantial': 'substantial' } as const,
};
const ask = (a: Partial<UpstreamAsk>): UpstreamAsk => ({ level: undefined, login: false, maxAge: undefined, ...a });
const T = 1_800_000_000;
const clock = { startedAt: T, now: T + 20, toleranceSeconds: 15 };

describe('acrValuesFor', () => {
  it('lists the acr values reaching the level, the least demanding first', () => {
    expect(acrValuesFor(vneid, 'substantial')).toEqual(['urn:vn:dancu:loa:substantial', 'urn:vn:dancu:loa:high']);
    expect(acrValuesFor(vneid, 'high')).toEqual(['urn:vn:dancu:loa:high']);
    expect(acrValuesFor(vneid, 'low')).toEqual(['urn:vn:dancu:loa:low', 'urn:vn:dancu:loa:substantial', 'urn:vn:dancu:loa:high']);
  });

  it('counts an acr for no more than max_auth_level', () => {
    expect(acrValuesFor({ ...vneid, maxAuthLevel: 'substantial' }, 'high')).toEqual([]);
  });

  it('sends nothing when no level is asked, or when the source has a fixed level', () => {
    expect(acrValuesFor(vneid, undefined)).toEqual([]);
    expect(acrValuesFor({ ...vneid, authLevel: 'low', acrLevels: {} }, 'low')).toEqual([]);
  });
});

describe('confirmAnswer: the level', () => {
  it('accepts an acr at or above the level asked', () => {
    expect(confirmAnswer(vneid, { acr: 'urn:vn:dancu:loa:high', authTime: T }, ask({ level: 'substantial' }), clock)).toMatchObject({ ok: true, level: 'high' });
  });

  it('refuses an acr below the level asked, an unknown acr, and no acr', () => {
    for (const acr of ['urn:vn:dancu:loa:substantial', 'urn:vn:dancu:loa:weird', undefined]) {
      expect(confirmAnswer(vneid, { acr, authTime: T }, ask({ level: 'high' }), clock)).toMatchObject({ ok: false, reason: 'insufficient-level', facts: { asked: 'high' } });
    }
  });

  it("reads the level a session would state: capped by max_auth_level and by the source's identity proofing", () => {
    expect(confirmAnswer({ ...vneid, maxAuthLevel: 'substantial' }, { acr: 'urn:vn:dancu:loa:high', authTime: T }, ask({ level: 'high' }), clock)).toMatchObject({ ok: false, facts: { reached: 'substantial' } });
    expect(confirmAnswer({ ...vneid, proofingLevel: 'low' }, { acr: 'urn:vn:dancu:loa:high', authTime: T }, ask({ level: 'substantial' }), clock)).toMatchObject({ ok: false, facts: { reached: 'low' } });
  });

  it('checks nothing about the level when none is asked', () => {
    expect(confirmAnswer(vneid, { acr: undefined, authTime: undefined }, ask({}), clock)).toEqual({ ok: true, authLevel: 'low', level: 'low', authTime: undefined });
  });
});

describe('confirmAnswer: a fresh authentication', () => {
  const tol = clock.toleranceSeconds;
  const verdict = (authTime: number | undefined, a: Partial<UpstreamAsk>) => confirmAnswer(vneid, { acr: 'urn:vn:dancu:loa:high', authTime }, ask(a), clock);

  it('prompt=login: an auth_time before nixa sent the citizen to the source is stale (beyond the clock tolerance)', () => {
    expect(verdict(T + 5, { login: true })).toMatchObject({ ok: true, authTime: T + 5 });
    expect(verdict(T - tol, { login: true })).toMatchObject({ ok: true });
    expect(verdict(T - tol - 1, { login: true })).toMatchObject({ ok: false, reason: 'stale-authentication', facts: { prompt: 'login', age: 20 + tol + 1 } });
  });

  it('max_age: an auth_time older than max_age is stale', () => {
    expect(verdict(T - 100, { maxAge: 120 })).toMatchObject({ ok: true, authTime: T - 100 });
    expect(verdict(T + 20 - 120 - tol, { maxAge: 120 })).toMatchObject({ ok: true });
    expect(verdict(T + 20 - 121 - tol, { maxAge: 120 })).toMatchObject({ ok: false, reason: 'stale-authentication', facts: { max_age: 120 } });
    // max_age=0: authenticated just now (within the clock tolerance).
    expect(verdict(T + 15, { maxAge: 0 })).toMatchObject({ ok: true });
    expect(verdict(T - 1, { maxAge: 0 })).toMatchObject({ ok: false, reason: 'stale-authentication' });
  });

  it('without auth_time a fresh authentication cannot be confirmed', () => {
    expect(verdict(undefined, { login: true })).toMatchObject({ ok: false, reason: 'stale-authentication' });
    expect(verdict(undefined, { maxAge: 3600 })).toMatchObject({ ok: false, reason: 'stale-authentication' });
  });

  it('keeps the source’s auth_time even when no freshness was asked, and refuses one in the future', () => {
    expect(verdict(T - 86_400, {})).toMatchObject({ ok: true, authTime: T - 86_400 });
    expect(verdict(T + 20 + tol + 1, {})).toMatchObject({ ok: false, reason: 'bad-response' });
  });
});

describe('requestedAuthentication', () => {
  it('reads the level, prompt=login and max_age of a request', () => {
    expect(requestedAuthentication({ acr_values: 'urn:nixa:loa:substantial', prompt: 'login consent', max_age: '300' })).toEqual({ level: 'substantial', login: true, maxAge: 300 });
    expect(requestedAuthentication({ prompt: 'consent', max_age: 0 })).toEqual({ level: undefined, login: false, maxAge: 0 });
    expect(requestedAuthentication({})).toEqual({ level: undefined, login: false, maxAge: undefined });
  });
});

describe('the failure pages', () => {
  it.each<FederationFailure>(['insufficient-level', 'stale-authentication'])('%s has a Vietnamese and an English message', (reason) => {
    expect(FAILURE_MESSAGES[reason].vi).toMatch(/nguồn định danh/i);
    expect(FAILURE_MESSAGES[reason].en).toMatch(/identity source/i);
  });
});
