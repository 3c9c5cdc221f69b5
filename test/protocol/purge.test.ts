// purgeExpired: the background job that deletes expired provider artifacts in
// bounded batches. Expired rows go, live ones (and rows without an expiry) stay,
// and the return value is what was deleted.
import { clientStore } from '../../src/clients/index.js';
import { PostgresAdapter, purgeExpired } from '../../src/protocol/adapter.js';
import type { Queryable } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

// Each test counts rows in the whole table: start from an empty one.
beforeEach(async () => {
  await tdb.db.query('DELETE FROM oidc_payloads');
  await tdb.db.query('DELETE FROM short_lived_payloads');
});

it('purges the short-lived table (codes, interactions) in the same batches, after the durable one', async () => {
  await tdb.db.query(
    `INSERT INTO short_lived_payloads (model, id, payload, expires_at)
     SELECT 'AuthorizationCode', 'code-' || g, '{}'::jsonb, now() - make_interval(secs => g) FROM generate_series(1, 1500) AS g
     UNION ALL SELECT 'Interaction', 'live', '{}'::jsonb, now() + interval '1 minute'`,
  );
  await insertRows('expired', 10, `now() - make_interval(secs => 1 + g)`);
  const spy = recording(tdb.db);
  expect(await purgeExpired(spy.db, 1_000)).toBe(1_510);
  expect(spy.rowCounts).toEqual([10, 1_000, 500]);
  const { rows } = await tdb.db.query<{ id: string }>('SELECT id FROM short_lived_payloads');
  expect(rows.map((r) => r.id)).toEqual(['live']);
});

const MODELS = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'Interaction', 'Session'];

/**
 * Inserts `count` rows through one INSERT … SELECT generate_series, cycling
 * through the models, expiring `expiresAt` (an SQL expression over g, the row
 * number). Sessions get a uid, the rest a grant, as the adapter stores them.
 */
async function insertRows(prefix: string, count: number, expiresAt: string): Promise<void> {
  await tdb.db.query(
    `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, expires_at)
     SELECT m.model, $1 || '-' || g,
            jsonb_build_object('jti', $1 || '-' || g, 'kind', m.model, 'clientId', 'cong-dich-vu-cong-quoc-gia',
                               'accountId', (ARRAY['nguyen-van-an','tran-thi-binh','le-hoang-cuong'])[1 + g % 3],
                               'grantId', 'grant-' || $1 || '-' || (g / 4)),
            CASE WHEN m.model = 'Session' THEN NULL ELSE 'grant-' || $1 || '-' || (g / 4) END,
            CASE WHEN m.model = 'Session' THEN 'uid-' || $1 || '-' || g END,
            ${expiresAt}
     FROM generate_series(1, $2::int) AS g
     CROSS JOIN LATERAL (SELECT ($3::text[])[1 + g % array_length($3::text[], 1)] AS model) AS m`,
    [prefix, count, MODELS],
  );
}

async function countRows(where: string): Promise<number> {
  const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_payloads WHERE ${where}`);
  return rows[0]!.n;
}

/** A Queryable that records the row count of each statement, to observe batching. */
function recording(db: Queryable): { db: Queryable; rowCounts: number[] } {
  const rowCounts: number[] = [];
  return {
    rowCounts,
    db: {
      async query(sql, params) {
        const res = await db.query(sql, params);
        rowCounts.push(res.rowCount);
        return res as never;
      },
      exec: (sql) => db.exec(sql),
    },
  };
}

describe('purgeExpired', () => {
  it('deletes 2,500 expired rows in batches of 1,000, keeps live ones, and returns the count deleted', async () => {
    // Expired between 1 s and ~40 min ago, like artifacts the job has not reached yet.
    await insertRows('expired', 2_500, `now() - make_interval(secs => 1 + g)`);
    await insertRows('live', 120, `now() + make_interval(secs => 60 + g)`);
    await insertRows('forever', 30, 'NULL');
    expect(await countRows('expires_at < now()')).toBe(2_500);

    const spy = recording(tdb.db);
    const deleted = await purgeExpired(spy.db, 1_000);

    expect(deleted).toBe(2_500);
    // Then the short-lived table's one batch (it holds nothing here).
    expect(spy.rowCounts).toEqual([1_000, 1_000, 500, 0]);
    expect(await countRows("id LIKE 'expired-%'")).toBe(0);
    expect(await countRows("id LIKE 'live-%'")).toBe(120);
    expect(await countRows("id LIKE 'forever-%'")).toBe(30);
  });

  it('stops after one empty batch when the expired count is an exact multiple of the batch size', async () => {
    await insertRows('expired', 2_000, `now() - interval '5 minutes'`);
    await insertRows('live', 10, `now() + interval '5 minutes'`);

    const spy = recording(tdb.db);
    await expect(purgeExpired(spy.db, 1_000)).resolves.toBe(2_000);
    expect(spy.rowCounts).toEqual([1_000, 1_000, 0, 0]);
    expect(await countRows('true')).toBe(10);
  });

  it('returns 0 and deletes nothing when nothing has expired', async () => {
    await insertRows('live', 50, `now() + interval '10 minutes'`);
    await expect(purgeExpired(tdb.db, 1_000)).resolves.toBe(0);
    expect(await countRows('true')).toBe(50);
  });

  it('leaves artifacts saved through the adapter findable, and forgets the expired ones', async () => {
    const tokens = new PostgresAdapter('AccessToken', tdb.db, clientStore(tdb.db));
    const payload = (jti: string) => ({
      jti,
      kind: 'AccessToken',
      clientId: 'cong-dich-vu-cong-quoc-gia',
      accountId: 'pham-thu-dung',
      grantId: 'grant-pham-thu-dung',
      scope: 'openid',
    });
    await tokens.upsert('at-live', payload('at-live'), 600);
    await tokens.upsert('at-stale', payload('at-stale'), 600);
    await tdb.db.query(`UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE id = 'at-stale'`);

    await expect(purgeExpired(tdb.db, 1_000)).resolves.toBe(1);
    await expect(tokens.find('at-live')).resolves.toEqual(payload('at-live'));
    expect(await countRows("id = 'at-stale'")).toBe(0);
  });
});
