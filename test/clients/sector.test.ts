// The pairwise sector policy, without I/O (src/clients/sector.ts).
import { pairwiseSector, sectorDocumentProblem } from '../../src/clients/sector.js';
import { parseClientInput } from '../../src/clients/schema.js';

const thue = 'https://thue.dichvucong.gov.vn/callback';
const bhxh = 'https://bhxh.dichvucong.gov.vn/callback';

describe('pairwiseSector', () => {
  it('is the service itself without a sector_identifier_uri, whatever its redirect URIs', () => {
    expect(pairwiseSector({ clientId: 'cong-thue' })).toBe('client:cong-thue');
    expect(pairwiseSector({ clientId: 'cong-bhxh' })).not.toBe(pairwiseSector({ clientId: 'cong-thue' }));
  });

  it('is the whole sector document URL when there is one, so two documents on one host are two sectors', () => {
    const a = pairwiseSector({ clientId: 'a', sectorIdentifierUri: 'https://dichvucong.gov.vn/so-tai-chinh.json' });
    expect(a).toBe(pairwiseSector({ clientId: 'b', sectorIdentifierUri: 'https://DICHVUCONG.gov.vn:443/so-tai-chinh.json' }));
    expect(a).not.toBe(pairwiseSector({ clientId: 'a', sectorIdentifierUri: 'https://dichvucong.gov.vn/so-y-te.json' }));
  });

  it('never lets a client id name a document’s sector', () => {
    const bySector = pairwiseSector({ clientId: 'x', sectorIdentifierUri: 'https://a.gov.vn/s.json' });
    expect(bySector).not.toBe(pairwiseSector({ clientId: 'https://a.gov.vn/s.json' }));
  });
});

describe('sectorDocumentProblem', () => {
  it('accepts a JSON array listing every redirect URI of the service (and others)', () => {
    expect(sectorDocumentProblem([thue, bhxh], [thue])).toBeUndefined();
  });

  it.each([
    ['an object', { redirect_uris: [thue] }],
    ['a string', thue],
    ['null', null],
    ['an array with a number', [thue, 1]],
  ])('refuses %s', (_what, doc) => {
    expect(sectorDocumentProblem(doc, [thue])).toMatch(/a JSON array of URLs/);
  });

  it('names the first redirect URI the document does not list (exact match, no prefix)', () => {
    expect(sectorDocumentProblem([`${thue}/extra`], [thue])).toMatch(`"${thue}"`);
  });
});

describe('sector_identifier_uri in a registration', () => {
  const base = { name: 'Cổng thuế', redirect_uris: [thue] };
  it.each([
    ['plain http, even on localhost outside production', { sector_identifier_uri: 'http://localhost/s.json' }, /must use https/],
    ['not a URL', { sector_identifier_uri: 'so-tai-chinh.json' }, /not an absolute URL/],
    ['a fragment', { sector_identifier_uri: 'https://a.gov.vn/s.json#x' }, /fragment/],
    ['credentials', { sector_identifier_uri: 'https://u:p@a.gov.vn/s.json' }, /credentials/],
    ['public subjects', { sector_identifier_uri: 'https://a.gov.vn/s.json', subject_type: 'public' }, /only used with subject_type pairwise/],
  ])('is refused with %s, naming the field', (_what, extra, problem) => {
    expect(() => parseClientInput({ ...base, ...extra }, { allowHttpLoopback: true })).toThrow(
      expect.objectContaining({ field: 'sector_identifier_uri', problem: expect.stringMatching(problem) }),
    );
  });
});
