// The pure rules of acting for an organisation (src/representation/policy.ts).
import type { Organisation, RepresentationLookup } from '../../src/registries/contract.js';
import { choices, grantedDetail, organisationClaim, representationAcceptsSchema, representationAsked, stillHolds } from '../../src/representation/policy.js';

const registry = { id: 'reg', name: { vi: 'Sổ', en: 'Registry' } };
const org = (o: Partial<Organisation> & Pick<Organisation, 'enterprise_code'>): Organisation => ({ name_vi: `Công ty ${o.enterprise_code}`, status: 'active', role: 'legal_representative', ...o });
const lookup = (...organisations: Organisation[]): RepresentationLookup[] => [{ registry, checkedAt: '2026-12-03T10:00:00Z', organisations }];
const TODAY = '2026-12-03';

describe('what a request asks', () => {
  test('the representation scope asks for any accepted kind', () => {
    expect(representationAsked(['openid', 'representation'], undefined)).toEqual({ via: 'scope', tasks: [] });
    expect(representationAsked(['openid'], undefined)).toBeUndefined();
  });

  test('a RAR detail names tasks and an enterprise; it wins over the scope', () => {
    expect(representationAsked(['representation'], [{ type: 'nixa_representation', actions: ['tax_filing'], identifier: '0101234567' }])).toEqual({ via: 'rar', tasks: ['tax_filing'], enterpriseCode: '0101234567' });
  });

  test('details of other types are not representation', () => {
    expect(representationAsked(['openid'], [{ type: 'payment_initiation' }])).toBeUndefined();
  });

  test('a malformed detail throws (oidc-provider refused it before; nixa does not trust that)', () => {
    expect(() => representationAsked([], [{ type: 'nixa_representation', identifier: 'abc' }])).toThrow();
  });
});

describe('which organisations can be chosen', () => {
  const accepts = ['legal_representative', 'mandate:tax_filing'];

  test('dissolved and suspended companies are shown with their reason', () => {
    const c = choices(lookup(org({ enterprise_code: '0100000001', status: 'dissolved' }), org({ enterprise_code: '0100000002', status: 'suspended' }), org({ enterprise_code: '0100000003' })), accepts, { via: 'scope', tasks: [] }, TODAY);
    expect(c.map((x) => x.refused)).toEqual(['dissolved', 'suspended', undefined]);
  });

  test('a mandate counts only for the tasks the service accepts and the request names', () => {
    const mandate = org({ enterprise_code: '0100000004', role: 'mandate', tasks: ['tax_filing', 'customs'], valid_until: '2027-01-01' });
    expect(choices(lookup(mandate), accepts, { via: 'scope', tasks: [] }, TODAY)[0]!.refused).toBeUndefined();
    expect(choices(lookup(mandate), accepts, { via: 'rar', tasks: ['customs'] }, TODAY)[0]!.refused).toBe('tasks');
    expect(choices(lookup(mandate), ['legal_representative'], { via: 'scope', tasks: [] }, TODAY)[0]!.refused).toBe('not-accepted');
    expect(choices(lookup(mandate), ['mandate:*'], { via: 'rar', tasks: ['customs'] }, TODAY)[0]!.refused).toBeUndefined();
  });

  test('a mandate past its last day is refused even if a registry returned it', () => {
    const old = org({ enterprise_code: '0100000005', role: 'mandate', tasks: ['tax_filing'], valid_until: '2026-12-02' });
    expect(choices(lookup(old), accepts, { via: 'scope', tasks: [] }, TODAY)[0]!.refused).toBe('expired');
    expect(choices(lookup({ ...old, valid_until: TODAY }), accepts, { via: 'scope', tasks: [] }, TODAY)[0]!.refused).toBeUndefined();
  });

  test('a request for one enterprise refuses the others', () => {
    const c = choices(lookup(org({ enterprise_code: '0100000006' }), org({ enterprise_code: '0100000007' })), accepts, { via: 'rar', tasks: [], enterpriseCode: '0100000007' }, TODAY);
    expect(c.map((x) => x.refused)).toEqual(['other-enterprise', undefined]);
  });
});

describe('the claim and the refresh check', () => {
  const accepts = ['mandate:tax_filing'];
  const mandate = org({ enterprise_code: '0100000008', role: 'mandate', tasks: ['tax_filing', 'customs'], valid_until: '2027-01-01', name_en: 'Co 8' });

  test('the claim names one organisation and only the tasks the service accepts', () => {
    const claim = organisationClaim({ registry, checkedAt: '2026-12-03T10:00:00Z', organisation: mandate }, accepts);
    expect(claim).toEqual({ enterprise_code: '0100000008', name: 'Công ty 0100000008', name_en: 'Co 8', status: 'active', role: 'mandate', tasks: ['tax_filing'], valid_until: '2027-01-01', registry: 'reg', checked_at: Date.parse('2026-12-03T10:00:00Z') / 1000 });
  });

  test('still holds, withdrawn, dissolved, a role changed', () => {
    const granted = grantedDetail({ via: 'scope', tasks: [] }, organisationClaim({ registry, checkedAt: '2026-12-03T10:00:00Z', organisation: mandate }, accepts));
    expect(stillHolds(granted, mandate, accepts, TODAY)).toBeUndefined();
    expect(stillHolds(granted, undefined, accepts, TODAY)).toBe('withdrawn');
    expect(stillHolds(granted, { ...mandate, status: 'dissolved' }, accepts, TODAY)).toBe('dissolved');
    expect(stillHolds(granted, { ...mandate, tasks: ['customs'] }, accepts, TODAY)).toBe('not-accepted');
    expect(stillHolds(granted, { ...mandate, role: 'legal_representative', tasks: undefined }, ['legal_representative', ...accepts], TODAY)).toBe('withdrawn');
  });
});

test('a service registers the kinds it accepts; anything else is refused naming the rule', () => {
  expect(representationAcceptsSchema.safeParse(['legal_representative', 'mandate:tax_filing', 'mandate:*']).success).toBe(true);
  const bad = representationAcceptsSchema.safeParse(['owner']);
  expect(bad.success).toBe(false);
  expect(bad.error!.issues[0]!.message).toContain('legal_representative, mandate:<task>');
  expect(representationAcceptsSchema.safeParse([]).success).toBe(false);
});
