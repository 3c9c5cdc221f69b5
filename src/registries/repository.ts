// SQL for organisation_registries. Changes notify every instance, which reloads its catalogue.
import type { Queryable } from '../storage/index.js';
import type { AuthMethod, RegistryKind } from './schema.js';

export const REGISTRIES_CHANNEL = 'nixa_registries';

export type HealthStatus = 'unknown' | 'ok' | 'failing';

export interface RegistryRow {
  id: string;
  kind: RegistryKind;
  name_vi: string;
  name_en: string;
  issuer: string;
  api_url: string;
  client_id: string;
  auth_method: AuthMethod;
  client_secret_enc: Uint8Array | null;
  timeout_ms: number;
  enabled: boolean;
  health_status: HealthStatus;
  health_error: string | null;
  health_checked_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  version: number;
}

const COLUMNS = ['kind', 'name_vi', 'name_en', 'issuer', 'api_url', 'client_id', 'auth_method', 'client_secret_enc', 'timeout_ms', 'enabled'] as const;
type Column = (typeof COLUMNS)[number];
export type RegistryValues = Pick<RegistryRow, Column>;

export async function insertRegistry(tx: Queryable, id: string, v: RegistryValues): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO organisation_registries (id, ${COLUMNS.join(', ')}) VALUES ($1, ${COLUMNS.map((_, i) => `$${i + 2}`).join(', ')})
     ON CONFLICT (id) DO NOTHING`,
    [id, ...COLUMNS.map((c) => v[c])],
  );
  if (res.rowCount === 1) await tx.query('SELECT pg_notify($1, $2)', [REGISTRIES_CHANNEL, id]);
  return res.rowCount === 1;
}

/** Optimistic update: only if the row still has `version`. */
export async function updateRegistry(tx: Queryable, id: string, version: number, v: RegistryValues): Promise<boolean> {
  const res = await tx.query(
    `UPDATE organisation_registries SET ${COLUMNS.map((c, i) => `${c} = $${i + 3}`).join(', ')}, updated_at = now(), version = version + 1
     WHERE id = $1 AND version = $2`,
    [id, version, ...COLUMNS.map((c) => v[c])],
  );
  if (res.rowCount === 1) await tx.query('SELECT pg_notify($1, $2)', [REGISTRIES_CHANNEL, id]);
  return res.rowCount === 1;
}

export async function selectRegistry(db: Queryable, id: string): Promise<RegistryRow | undefined> {
  return (await db.query<RegistryRow>('SELECT * FROM organisation_registries WHERE id = $1', [id])).rows[0];
}

export async function selectRegistries(db: Queryable): Promise<RegistryRow[]> {
  return (await db.query<RegistryRow>('SELECT * FROM organisation_registries ORDER BY id')).rows;
}

/** A cheap change stamp for polling. */
export async function registriesStamp(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ stamp: string | null }>(
    `SELECT string_agg(id || ':' || version || ':' || health_status || ':' || coalesce(md5(health_error), ''), ',' ORDER BY id) AS stamp
     FROM organisation_registries`,
  );
  return rows[0]?.stamp ?? '';
}

export async function recordRegistryHealth(db: Queryable, id: string, status: 'ok' | 'failing', error: string | null): Promise<void> {
  // Stamp the check, and notify the other instances only when the result changed.
  await db.query(
    `WITH old AS (SELECT health_status, health_error FROM organisation_registries WHERE id = $1 FOR UPDATE),
          upd AS (UPDATE organisation_registries SET health_status = $2, health_error = $3, health_checked_at = now() WHERE id = $1)
     SELECT pg_notify($4, $1) FROM old WHERE old.health_status IS DISTINCT FROM $2 OR old.health_error IS DISTINCT FROM $3`,
    [id, status, error, REGISTRIES_CHANNEL],
  );
}
