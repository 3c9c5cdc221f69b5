// Which sources could vouch for a level the citizen's own cannot reach, and the
// order the chooser lists sources in: pure, without HTTP or a database.
import type { Level } from '../../src/assurance/index.js';
import { orderSources } from '../../src/interactions/chooser.js';
import { levelAdvice, linkedCanReach, type Source, type SourceKind } from '../../src/sources/index.js';

function source(id: string, kind: SourceKind, proofing: Level, auth: Level, extra: Partial<Source> = {}): Source {
  return {
    id,
    kind,
    role: 'identity',
    name: { vi: id, en: id },
    logo: null,
    discoveryUrl: `https://${id}.example.vn/.well-known/openid-configuration`,
    clientId: 'nixa',
    authMethod: 'client_secret_basic',
    clientSecret: undefined,
    scopes: ['openid'],
    claimMapping: {},
    authoritativeFor: [],
    proofingLevel: proofing,
    authLevel: null,
    acrLevels: {},
    maxAuthLevel: auth,
    useUserinfo: false,
    timeoutMs: 5000,
    enabled: true,
    logout: 'hint',
    maintenance: { on: false, message: { vi: null, en: null } },
    health: { status: 'ok', error: null, checkedAt: null },
    version: 1,
    ...extra,
  };
}

const dancu = source('dan-cu', 'citizen_id', 'high', 'high');
const nganHang = source('ngan-hang', 'bank', 'substantial', 'substantial');
const nhaMang = source('nha-mang', 'telecom', 'low', 'low');
const all = [dancu, nganHang, nhaMang];
const ids = (ss: Source[]) => ss.map((s) => s.id);

describe('levelAdvice', () => {
  it('for high, names the citizen-ID source as able and as the way through the police, the bank and the telecom as unable', () => {
    const a = levelAdvice(all, 'high');
    expect(ids(a.able)).toEqual(['dan-cu']);
    expect(ids(a.unable)).toEqual(['ngan-hang', 'nha-mang']);
    expect(a.citizenId?.id).toBe('dan-cu');
  });

  it('for substantial, counts the bank as able', () => {
    expect(ids(levelAdvice(all, 'substantial').able)).toEqual(['dan-cu', 'ngan-hang']);
  });

  it('names no police route when the citizen-ID source cannot reach the level or is disabled', () => {
    expect(levelAdvice([nganHang, nhaMang, source('dan-cu', 'citizen_id', 'high', 'high', { enabled: false })], 'substantial').citizenId).toBeUndefined();
    expect(levelAdvice([source('dan-cu-thap', 'citizen_id', 'high', 'low'), nganHang], 'substantial').citizenId).toBeUndefined();
  });

  it('leaves out disabled sources, and step-up-only sources the account is not linked to', () => {
    const otp = source('otp', 'other', 'high', 'high', { role: 'step-up-only' });
    const off = source('tat', 'bank', 'high', 'high', { enabled: false });
    expect(ids(levelAdvice([...all, otp, off], 'high').able)).toEqual(['dan-cu']);
    expect(ids(levelAdvice([...all, otp, off], 'high', new Set(['otp'])).able)).toEqual(['dan-cu', 'otp']);
  });

  it('takes a source’s reach as the lower of its proofing and its sign-in', () => {
    expect(ids(levelAdvice([source('yeu', 'bank', 'low', 'high')], 'substantial').unable)).toEqual(['yeu']);
  });
});

describe('linkedCanReach', () => {
  it('is false for an account linked only to the telecom, true once linked to the bank', () => {
    expect(linkedCanReach(all, new Set(['nha-mang']), 'substantial')).toBe(false);
    expect(linkedCanReach(all, new Set(['nha-mang', 'ngan-hang']), 'substantial')).toBe(true);
    expect(linkedCanReach(all, new Set(), 'low')).toBe(false);
  });

  it('does not count a linked source that is disabled', () => {
    expect(linkedCanReach([{ ...nganHang, enabled: false }, nhaMang], new Set(['ngan-hang']), 'substantial')).toBe(false);
  });
});

describe('orderSources', () => {
  it('keeps the registered order, with the preferred source first', () => {
    expect(ids(orderSources(all))).toEqual(['dan-cu', 'ngan-hang', 'nha-mang']);
    expect(ids(orderSources(all, 'nha-mang'))).toEqual(['nha-mang', 'dan-cu', 'ngan-hang']);
    expect(ids(orderSources(all, 'khong-co'))).toEqual(['dan-cu', 'ngan-hang', 'nha-mang']);
  });
});
