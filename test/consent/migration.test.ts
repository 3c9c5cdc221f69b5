// Migration 0014 on consents given before it: a claim the account still has no
// value for cannot have been shown with one, so it moves to claims_without_value
// (and the service asks again once it has one); claims on record stay agreed.
import { migrate } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

it('splits consents given before it by what the account has on record', async () => {
  const { db } = tdb;
  // The database as it was before 0014.
  await db.query('ALTER TABLE consents DROP COLUMN claims_without_value');
  await db.query("DELETE FROM schema_migrations WHERE name = '0014_consent_without_value.sql'");
  await db.query("INSERT INTO accounts (id) VALUES ('acc-an'), ('acc-binh')");
  const attribute = `INSERT INTO account_attributes (account_id, name, value, source_id, level, verified_at) VALUES ($1, $2, 'sealed', 'sim-citizen-id', 'high', now())`;
  for (const name of ['full_name', 'birthdate', 'permanent_address', 'national_id']) await db.query(attribute, ['acc-an', name]);
  await db.query(attribute, ['acc-binh', 'phone_number']);
  await db.query(`INSERT INTO consents (account_id, client_id, claims) VALUES
    ('acc-an', 'dvc-bac-ninh', '{address,birthdate,gender,name,phone_number}'),
    ('acc-binh', 'dvc-bac-ninh', '{name,phone_number,phone_number_verified,sub}')`);

  expect((await migrate(db)).applied).toEqual(['0014_consent_without_value.sql']);

  const { rows } = await db.query<{ account_id: string; claims: string[]; claims_without_value: string[] }>(
    'SELECT account_id, claims, claims_without_value FROM consents ORDER BY account_id',
  );
  expect(rows).toEqual([
    { account_id: 'acc-an', claims: ['address', 'birthdate', 'name'], claims_without_value: ['gender', 'phone_number'] },
    // phone_number_verified rides with the number and sub is no attribute: neither is "not on record".
    { account_id: 'acc-binh', claims: ['phone_number', 'phone_number_verified', 'sub'], claims_without_value: ['name'] },
  ]);
});
