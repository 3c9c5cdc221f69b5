// The words for each claim, shared by the consent page and the account page. No HTTP, no database.
import { CLAIM_LABELS, claimLabel, inReadingOrder, SCOPE_CLAIMS } from '../../src/consent/index.js';

describe('claim labels', () => {
  it('name every claim a citizen can be asked to share, in Vietnamese and English', () => {
    const shared = Object.values(SCOPE_CLAIMS)
      .flat()
      .filter((c) => c !== 'sub' && c !== 'phone_number_verified');
    for (const claim of shared) expect(CLAIM_LABELS[claim]).toEqual({ vi: expect.any(String), en: expect.any(String) });
    expect(claimLabel('place_of_origin')).toEqual({ vi: 'Quê quán', en: 'Place of origin' });
  });

  it('show a claim without a label by its name, and no inherited property as a label', () => {
    expect(claimLabel('email')).toEqual({ vi: 'email', en: 'email' });
    expect(claimLabel('__proto__')).toEqual({ vi: '__proto__', en: '__proto__' });
    expect(claimLabel('toString')).toEqual({ vi: 'toString', en: 'toString' });
  });

  it('put claims in the order a person reads their details, unlabelled ones last', () => {
    expect(inReadingOrder(['national_id', 'email', 'address', 'birthdate', 'name'])).toEqual(['name', 'birthdate', 'address', 'national_id', 'email']);
  });
});
