// Storage: the database handle, migrations and background purge.
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import type { Database } from './database.js';
import { openEmbedded } from './embedded.js';
import { openPostgres } from './postgres.js';

export type { Database, ListenState, Queryable, QueryResult } from './database.js';
export { migrate, pendingMigrations, type MigrationReport } from './migrate.js';
export { isConnectionLoss, redactUrl } from './postgres.js';
export { hasNul } from './text.js';
export { writeAtCommit } from './commit-batch.js';
export { ambientTransaction, withinTransaction } from './ambient.js';
export { openPostgres, openEmbedded };

export function openDatabase(config: Config, logger?: Logger): Promise<Database> {
  return config.database.kind === 'postgres'
    ? openPostgres(config.database.url, config.database.poolSize, logger)
    : openEmbedded(config.database.dataDir);
}
export { every, serialised, watch } from './watch.js';
export { announce, announcedKey, NotifiedCache, readThrough, type NotifiedCacheOptions } from './notified-cache.js';
