// PostgreSQL refuses NUL in text and jsonb. Whatever path reaches it with one,
// on either engine, gets an input error (400), never a server fault (500).
import { InvalidInputError } from '../../src/errors/index.js';
import { hasNul, openEmbedded, type Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('text PostgreSQL cannot store', () => {
  it('is found at any depth of a value', () => {
    expect(hasNul('ab')).toBe(false);
    expect(hasNul('a\u0000b')).toBe(true);
    expect(hasNul({ state: 'x', claims: { id_token: { acr: { values: ['a', 'b\u0000'] } } } })).toBe(true);
    expect(hasNul({ ['k\u0000']: 1 })).toBe(true);
    expect(hasNul({ n: 1, ok: true, list: ['Nguyễn Văn An'] })).toBe(false);
  });

  let tdb: TestDatabase;
  let embedded: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase({ migrate: false });
    embedded = await openEmbedded(undefined);
  });
  afterAll(async () => {
    await embedded?.close();
    await tdb?.drop();
  });

  it.each([
    ['text', 'SELECT $1::text AS v', ['a\u0000b']],
    ['jsonb', 'SELECT $1::jsonb AS v', [JSON.stringify({ state: 'a\u0000b' })]],
  ])('in %s is an input error on PostgreSQL and on the embedded engine, also inside a transaction', async (_, sql, params) => {
    for (const db of [tdb.db, embedded]) {
      await expect(db.query(sql, params)).rejects.toBeInstanceOf(InvalidInputError);
      await expect(db.transaction((tx) => tx.query(sql, params))).rejects.toMatchObject({ status: 400, code: 'NIXA-INP-001' });
      // Other errors pass unchanged.
      await expect(db.query('SELECT 1/0')).rejects.not.toBeInstanceOf(InvalidInputError);
    }
  });
});
