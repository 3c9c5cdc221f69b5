// Writes deferred to a transaction's commit (Queryable.later): one statement with
// the NOTIFYs, on both engines (real PostgreSQL in CI, PGlite without it).

import { CommitBatch, writeAtCommit } from '../../src/storage/commit-batch.js';
import type { Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

let tdb: TestDatabase;
let db: Database;

beforeAll(async () => {
  tdb = await createTestDatabase({ migrate: false });
  db = tdb.db;
  await db.exec('CREATE TABLE batch_a (id int PRIMARY KEY, v text NOT NULL); CREATE TABLE batch_b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES batch_a (id))');
});

afterAll(async () => {
  await tdb?.drop();
});

beforeEach(async () => {
  await db.exec('DELETE FROM batch_b; DELETE FROM batch_a');
});

const rows = async (table: string) => (await db.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id);

describe('writes deferred to commit', () => {
  it('lands every deferred write, with its own parameters, in one statement at commit, after the statements run at once', async () => {
    const seenInside: number[][] = [];
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO batch_a (id, v) VALUES ($1, $2)', [1, 'now']);
      await writeAtCommit(tx, 'INSERT INTO batch_a (id, v) VALUES ($1, $2)', [2, 'later']);
      // A row referencing one inserted in the same batch: constraints are checked at the statement's end.
      await writeAtCommit(tx, 'INSERT INTO batch_a (id, v) VALUES ($1, $2), ($3, $4)', [3, 'x', 4, 'y']);
      await writeAtCommit(tx, 'INSERT INTO batch_b (id, a_id) VALUES ($1, $2)', [10, 3]);
      await writeAtCommit(tx, 'UPDATE batch_a SET v = $2 WHERE id = $1', [1, 'changed']);
      seenInside.push((await tx.query<{ id: number }>('SELECT id FROM batch_a ORDER BY id')).rows.map((r) => r.id));
    });
    // Not yet written while the transaction ran; all written after.
    expect(seenInside).toEqual([[1]]);
    expect(await rows('batch_a')).toEqual([1, 2, 3, 4]);
    expect(await rows('batch_b')).toEqual([10]);
    expect((await db.query<{ v: string }>('SELECT v FROM batch_a WHERE id = 1')).rows[0]!.v).toBe('changed');
  });

  it('rolls everything back, the statements run at once included, when a deferred write fails at commit', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO batch_a (id, v) VALUES (1, $1)', ['kept?']);
        await writeAtCommit(tx, 'INSERT INTO batch_a (id, v) VALUES ($1, $2)', [2, 'fine']);
        await writeAtCommit(tx, 'INSERT INTO batch_b (id, a_id) VALUES ($1, $2)', [10, 999]); // no such batch_a row
      }),
    ).rejects.toThrow();
    expect(await rows('batch_a')).toEqual([]);
    expect(await rows('batch_b')).toEqual([]);
  });

  it('writes nothing deferred when the transaction throws before its end', async () => {
    await expect(
      db.transaction(async (tx) => {
        await writeAtCommit(tx, 'INSERT INTO batch_a (id, v) VALUES ($1, $2)', [5, 'never']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await rows('batch_a')).toEqual([]);
  });

  it('sends the NOTIFYs in the same statement, and hands them to this process only after COMMIT', async () => {
    const heard: string[] = [];
    await db.listen('nixa_batch_test', (payload) => heard.push(payload));
    await db.transaction(async (tx) => {
      await writeAtCommit(tx, 'INSERT INTO batch_a (id, v) VALUES ($1, $2)', [7, 'with a notify']);
      await tx.notify!('nixa_batch_test', 'a:7');
      await tx.notify!('nixa_batch_test', 'a:7'); // the same announcement once
      expect(heard).toEqual([]);
    });
    expect(heard).toContain('a:7');
    await waitFor(() => heard.length >= 2, 3_000, "the server's own delivery");
    expect(await rows('batch_a')).toEqual([7]);
  });

  it('runs the write at once on a handle that cannot defer (the database itself)', async () => {
    await writeAtCommit(db, 'INSERT INTO batch_a (id, v) VALUES ($1, $2)', [8, 'at once']);
    expect(await rows('batch_a')).toEqual([8]);
  });
});

describe('CommitBatch.statement', () => {
  it('renumbers each write’s parameters after the previous ones and puts the NOTIFYs last', () => {
    const b = new CommitBatch();
    b.later('UPDATE t SET a = $1 WHERE id = $2', ['x', 1]);
    b.later('INSERT INTO u (a, b, c) VALUES ($1, $2, $3)', [1, 2, 3]);
    b.announce('ch', 'p');
    const s = b.statement()!;
    expect(s.sql).toContain('w0 AS (UPDATE t SET a = $1 WHERE id = $2)');
    expect(s.sql).toContain('w1 AS (INSERT INTO u (a, b, c) VALUES ($3, $4, $5))');
    expect(s.sql).toMatch(/SELECT pg_notify\(c, p\) FROM unnest\(\$6::text\[\], \$7::text\[\]\)/);
    expect(s.params).toEqual(['x', 1, 1, 2, 3, ['ch'], ['p']]);
  });

  it('sends a lone write as it is, and nothing when there is nothing', () => {
    const b = new CommitBatch();
    expect(b.statement()).toBeUndefined();
    b.later('DELETE FROM t WHERE id = $1', [1]);
    expect(b.statement()).toEqual({ sql: 'DELETE FROM t WHERE id = $1', params: [1] });
  });

  it('refuses to defer what cannot be a data-modifying CTE (a SELECT, or a WITH query)', () => {
    const b = new CommitBatch();
    expect(() => b.later('SELECT 1')).toThrow(/only a plain INSERT, UPDATE or DELETE/);
    expect(() => b.later('WITH x AS (DELETE FROM t RETURNING 1) SELECT 1')).toThrow(/only a plain INSERT, UPDATE or DELETE/);
  });
});
