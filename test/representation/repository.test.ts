// acting_for: which grant acts for whom. Its rows outlive nothing: once a grant is
// gone (purged, revoked, ended), the background purge deletes its row.
import { randomUUID } from 'node:crypto';

import { insertActingFor, actingForGrant, purgeEndedActingFor } from '../../src/representation/repository.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;
const parent = randomUUID();
const child = randomUUID();

beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.query('INSERT INTO accounts (id) VALUES ($1), ($2)', [parent, child]);
});

afterAll(async () => {
  await tdb?.drop();
});

it('keeps the rows of live grants and deletes, in batches, those whose grant is gone', async () => {
  const row = (grantId: string) => ({ grantId, clientId: 'cong-tuyen-sinh', actorAccount: parent, representedAccount: child, relation: 'guardian' as const, claims: ['name', 'birthdate'] });
  await tdb.db.query(`INSERT INTO oidc_payloads (model, id, payload) VALUES ('Grant', 'live-grant', '{}'::jsonb)`);
  await insertActingFor(tdb.db, row('live-grant'));
  for (let i = 0; i < 5; i++) await insertActingFor(tdb.db, row(`gone-${i}`));
  expect(await purgeEndedActingFor(tdb.db, 2)).toBe(5);
  expect(await actingForGrant(tdb.db, 'live-grant')).toMatchObject({ representedAccount: child, relation: 'guardian', claims: ['name', 'birthdate'] });
  expect(await actingForGrant(tdb.db, 'gone-0')).toBeUndefined();
  expect(await purgeEndedActingFor(tdb.db, 2)).toBe(0);
});

it('refuses a helper row without its authorisation, and a person acting for themselves', async () => {
  await expect(insertActingFor(tdb.db, { grantId: 'g-helper', clientId: 'c', actorAccount: parent, representedAccount: child, relation: 'helper', claims: [] })).rejects.toThrow();
  await expect(insertActingFor(tdb.db, { grantId: 'g-self', clientId: 'c', actorAccount: parent, representedAccount: parent, relation: 'guardian', claims: [] })).rejects.toThrow();
});
