import { readdirSync } from 'node:fs';

import { MIGRATIONS_DIR } from '../../src/paths.js';
import { openPostgres, migrate, pendingMigrations } from '../../src/storage/index.js';
import { StorageError } from '../../src/errors/index.js';
import { createTestDatabase } from '../support/database.js';

const ALL = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();

describe('migrations', () => {
  it('are numbered without gaps from 0001', () => {
    const numbers = ALL.map((f) => Number(f.slice(0, 4)));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  it('apply every file once, record it, and do nothing the second time', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      expect(await pendingMigrations(t.db)).toEqual(ALL);
      const first = await migrate(t.db);
      expect(first.applied).toEqual(ALL);
      const second = await migrate(t.db);
      expect(second).toEqual({ applied: [], alreadyApplied: ALL.length });
      expect(await pendingMigrations(t.db)).toEqual([]);
      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBe(ALL.length);
    } finally {
      await t.drop();
    }
  });

  it('are safe when several processes start at once', async () => {
    const t = await createTestDatabase({ migrate: false });
    // On real PostgreSQL each "process" gets its own pool; PGlite has one session.
    const handles = t.url ? await Promise.all([1, 2, 3].map(() => openPostgres(t.url!, 2))) : [t.db, t.db, t.db];
    try {
      const reports = await Promise.all(handles.map((h) => migrate(h)));
      expect(reports.flatMap((r) => r.applied)).toEqual(ALL);
      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBe(ALL.length);
    } finally {
      if (t.url) await Promise.all(handles.map((h) => h.close()));
      await t.drop();
    }
  });

  it('refuse to run over a migration that was edited after it was applied', async () => {
    const t = await createTestDatabase();
    try {
      await t.db.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`);
      await expect(migrate(t.db)).rejects.toThrow(StorageError);
      await expect(migrate(t.db)).rejects.toThrow(/0001_foundation.sql was edited/);
    } finally {
      await t.drop();
    }
  });

  it('refuse to run on a database migrated by a newer nixa', async () => {
    const t = await createTestDatabase();
    try {
      await t.db.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')`);
      await expect(migrate(t.db)).rejects.toThrow(/9999_future.sql which this build does not know/);
    } finally {
      await t.drop();
    }
  });

  it('leave nothing half-applied when a migration fails', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      // A conflicting table makes 0001 fail part-way through: the whole run rolls back.
      await t.db.query('CREATE TABLE keys (x int)');
      await expect(migrate(t.db)).rejects.toThrow();
      const { rows } = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('oidc_payloads', 'clients', 'schema_migrations')`,
      );
      expect(rows[0]!.n).toBe(0);
    } finally {
      await t.drop();
    }
  });
});
