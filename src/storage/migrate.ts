// Applies the versioned SQL files in migrations/ in order, each recorded in
// schema_migrations with a checksum. Safe when several processes start at once:
// everything happens in one transaction under an advisory lock, so the second
// process waits, then finds nothing left to do.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { StorageError, StorageUnavailableError } from '../errors/index.js';
import { MIGRATIONS_DIR } from '../paths.js';
import type { Database, Queryable } from './database.js';

interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

// Any 64-bit number works; it only has to be the same in every nixa process.
const MIGRATION_LOCK = 7_415_001;

function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file) => {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new StorageError(`migration file name "${file}" must look like 0001_name.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version: Number(m[1]), name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

async function ensureTable(tx: Queryable): Promise<void> {
  await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
}

function checkHistory(known: Migration[], applied: { version: number; name: string; checksum: string }[]): void {
  for (const row of applied) {
    const m = known.find((k) => k.version === row.version);
    if (!m) {
      throw new StorageError(
        `the database has migration ${row.name} which this build does not know: it was migrated by a newer nixa`,
      );
    }
    if (m.checksum !== row.checksum) {
      throw new StorageError(`migration ${m.name} was edited after it was applied; add a new migration instead`);
    }
  }
}

export async function migrate(db: Database): Promise<MigrationReport> {
  const migrations = loadMigrations();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await ensureTable(tx);
    const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    checkHistory(migrations, rows);
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      applied.push(m.name);
    }
    return { applied, alreadyApplied: done.size };
  });
}

/** Names of migrations not yet applied (for /readyz); throws if the history is foreign. */
export async function pendingMigrations(db: Queryable): Promise<string[]> {
  const migrations = loadMigrations();
  let rows: { version: number; name: string; checksum: string }[];
  try {
    rows = (await db.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations',
    )).rows;
  } catch (err) {
    // No database at all is not "every migration pending": readiness must say unreachable.
    if (err instanceof StorageUnavailableError) throw err;
    return migrations.map((m) => m.name);
  }
  checkHistory(migrations, rows);
  const done = new Set(rows.map((r) => r.version));
  return migrations.filter((m) => !done.has(m.version)).map((m) => m.name);
}
