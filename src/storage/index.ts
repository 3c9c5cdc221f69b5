// Storage: the database handle, migrations and background purge.
import type { Config } from '../config/index.js';
import type { Database } from './database.js';
import { openEmbedded } from './embedded.js';
import { openPostgres } from './postgres.js';

export type { Database, Queryable, QueryResult } from './database.js';
export { migrate, pendingMigrations, type MigrationReport } from './migrate.js';
export { redactUrl } from './postgres.js';
export { hasNul } from './text.js';
export { openPostgres, openEmbedded };

export function openDatabase(config: Config): Promise<Database> {
  return config.database.kind === 'postgres'
    ? openPostgres(config.database.url, config.database.poolSize)
    : openEmbedded(config.database.dataDir);
}
export { every, serialised, watch } from './watch.js';
