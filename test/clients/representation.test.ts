// A service's registration for acting for organisations: the representation
// metadata and the representation scope go together, and errors name the field.
import { InvalidInputError } from '../../src/errors/index.js';
import { parseClientInput } from '../../src/clients/index.js';
import { toProviderMetadata } from '../../src/clients/schema.js';

const opts = { allowHttpLoopback: true };
const base = { name: 'Cổng thuế', redirect_uris: ['https://thue.example.vn/cb'] };

function refusal(input: Record<string, unknown>): InvalidInputError {
  try {
    parseClientInput(input, opts);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('accepted');
}

test('the scope without the kinds accepted is refused, naming representation', () => {
  expect(refusal({ ...base, scope: 'openid representation' })).toMatchObject({ field: 'representation' });
});

test('the kinds without the scope are refused, naming scope', () => {
  expect(refusal({ ...base, scope: 'openid', representation: ['legal_representative'] })).toMatchObject({ field: 'scope' });
});

test('an unknown kind is refused at its index', () => {
  expect(refusal({ ...base, scope: 'openid representation', representation: ['legal_representative', 'owner'] })).toMatchObject({ field: 'representation[1]' });
});

test('a machine client cannot accept representation', () => {
  const e = refusal({ name: 'Máy', grant_types: ['client_credentials'], scope: 'openid representation', representation: ['mandate:*'] });
  expect(e.field).toBe('representation');
});

test('accepted: the provider metadata names the one RAR type such a service may send', () => {
  const c = parseClientInput({ ...base, scope: 'openid representation', representation: ['legal_representative', 'mandate:tax_filing'] }, opts);
  const meta = toProviderMetadata('thue', c);
  expect(meta.representation).toEqual(['legal_representative', 'mandate:tax_filing']);
  expect(meta.authorization_details_types).toEqual(['nixa_representation']);
  expect(toProviderMetadata('x', parseClientInput({ ...base }, opts)).authorization_details_types).toBeUndefined();
});
