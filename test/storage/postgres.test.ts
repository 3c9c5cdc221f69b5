// The pg engine when its connections are cut (pg_terminate_backend, as a failover
// or a pooler does it). Real PostgreSQL only.

import { StorageUnavailableError } from '../../src/errors/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { connectionCutter, createTestDatabase, TEST_DATABASE_URL, type ConnectionCutter, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

const onPostgres = TEST_DATABASE_URL ? describe : describe.skip;

let tdb: TestDatabase;
let db: Database | undefined;
let cutter: ConnectionCutter;
const escaped: unknown[] = [];
const recordEscape = (err: unknown) => void escaped.push(err);

beforeAll(async () => {
  if (!TEST_DATABASE_URL) return;
  process.on('uncaughtException', recordEscape);
  tdb = await createTestDatabase({ migrate: false });
  db = await openPostgres(tdb.url!, 4);
  cutter = await connectionCutter(tdb);
});

afterAll(async () => {
  process.off('uncaughtException', recordEscape);
  await cutter?.close();
  await db?.close();
  await tdb?.drop();
});

/** Terminates the backends of the test database whose last statement matches `like`. */
const terminate = (like?: string) => cutter.cut(like);

onPostgres('PostgreSQL connections that drop', () => {
  it('tells a subscriber about a change announced while its LISTEN connection was cut, once it is back', async () => {
    const heard: string[] = [];
    await db!.listen('nixa_test_cut', (payload) => heard.push(payload));
    await tdb.db.query(`SELECT pg_notify('nixa_test_cut', 'before')`);
    await waitFor(() => heard.includes('before'), 3_000, 'the first notification');

    expect(await terminate('LISTEN%')).toBe(1);
    // Announced while nobody listens: PostgreSQL drops it. The subscriber must still learn that something changed.
    await tdb.db.query(`SELECT pg_notify('nixa_test_cut', 'while cut')`);
    heard.length = 0;
    await waitFor(() => heard.length > 0, 5_000, 'the subscriber to hear of the missed change');

    // And live notifications flow again on the new connection.
    await waitFor(async () => {
      await tdb.db.query(`SELECT pg_notify('nixa_test_cut', 'after')`);
      return heard.includes('after');
    }, 5_000, 'a notification on the re-established LISTEN');
    expect(escaped).toEqual([]);
  });

  it('survives a transaction whose connection is cut, rolls it back, and does not hand the broken connection out again', async () => {
    await db!.exec('CREATE TABLE IF NOT EXISTS cut_test (n int)');
    const attempt = db!.transaction(async (tx) => {
      await tx.query('INSERT INTO cut_test VALUES (1)');
      // Cut while this client sits idle in the transaction (checked out of the pool, between statements).
      await waitFor(async () => (await terminate('INSERT INTO cut_test%')) === 1, 3_000, 'the transaction to be cut');
      await new Promise((r) => setTimeout(r, 100));
      await tx.query('INSERT INTO cut_test VALUES (2)');
    });
    await expect(attempt).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(escaped).toEqual([]);
    // Nothing of it was written, and every later query works (no broken client came back from the pool).
    for (let i = 0; i < 8; i++) expect((await db!.query<{ n: number }>('SELECT count(*)::int AS n FROM cut_test')).rows[0]!.n).toBe(0);
  });

  it('turns a lost connection during a query into StorageUnavailableError', async () => {
    const slow = db!.query('SELECT pg_sleep(5)');
    await waitFor(async () => (await terminate('SELECT pg_sleep%')) === 1, 3_000, 'the query to be cut');
    await expect(slow).rejects.toBeInstanceOf(StorageUnavailableError);
    expect((await db!.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    expect(escaped).toEqual([]);
  });
});
