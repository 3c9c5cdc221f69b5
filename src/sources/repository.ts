// SQL for identity_sources. Changes notify every instance, which reloads its registry.
import type { Level } from '../assurance/index.js';
import type { Queryable } from '../storage/index.js';
import type { AttributeName, AuthMethod, LogoutMethod, SourceKind, SourceRole } from './schema.js';

export const SOURCES_CHANNEL = 'nixa_sources';

export type MappingEntry = string | { claim: string; values?: Record<string, string> };

export interface SourceRow {
  id: string;
  kind: SourceKind;
  role: SourceRole;
  name_vi: string;
  name_en: string;
  logo: string | null;
  discovery_url: string;
  client_id: string;
  auth_method: AuthMethod;
  client_secret_enc: Uint8Array | null;
  scopes: string[];
  claim_mapping: Partial<Record<AttributeName, MappingEntry>>;
  authoritative_for: AttributeName[];
  proofing_level: Level;
  auth_level: Level | null;
  acr_levels: Record<string, Level>;
  max_auth_level: Level;
  use_userinfo: boolean;
  timeout_ms: number;
  enabled: boolean;
  logout: LogoutMethod;
  maintenance: boolean;
  maintenance_message_vi: string | null;
  maintenance_message_en: string | null;
  /** Migration 0021: the claim carrying the minor children the source vouches for. */
  wards_claim: string | null;
  health_status: 'unknown' | 'ok' | 'failing';
  health_error: string | null;
  health_checked_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  version: number;
}

const COLUMNS = [
  'kind', 'role', 'name_vi', 'name_en', 'logo', 'discovery_url', 'client_id', 'auth_method', 'client_secret_enc', 'scopes',
  'claim_mapping', 'authoritative_for', 'proofing_level', 'auth_level', 'acr_levels', 'max_auth_level', 'use_userinfo',
  'timeout_ms', 'enabled', 'maintenance', 'maintenance_message_vi', 'maintenance_message_en', 'logout',
  'wards_claim',
] as const;
type Column = (typeof COLUMNS)[number];
export type SourceValues = Pick<SourceRow, Column>;

const JSON_COLUMNS = new Set<Column>(['claim_mapping', 'acr_levels']);
const param = (c: Column, i: number) => `$${i}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`;
const value = (v: SourceValues, c: Column) => (JSON_COLUMNS.has(c) ? JSON.stringify(v[c]) : v[c]);

export async function insertSource(tx: Queryable, id: string, v: SourceValues): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO identity_sources (id, ${COLUMNS.join(', ')}) VALUES ($1, ${COLUMNS.map((c, i) => param(c, i + 2)).join(', ')})
     ON CONFLICT (id) DO NOTHING`,
    [id, ...COLUMNS.map((c) => value(v, c))],
  );
  if (res.rowCount === 1) await tx.query(`SELECT pg_notify($1, $2)`, [SOURCES_CHANNEL, id]);
  return res.rowCount === 1;
}

/** Optimistic update: only if the row still has `version`. */
export async function updateSource(tx: Queryable, id: string, version: number, v: SourceValues): Promise<boolean> {
  const res = await tx.query(
    `UPDATE identity_sources SET ${COLUMNS.map((c, i) => `${c} = ${param(c, i + 3)}`).join(', ')},
       updated_at = now(), version = version + 1
     WHERE id = $1 AND version = $2`,
    [id, version, ...COLUMNS.map((c) => value(v, c))],
  );
  if (res.rowCount === 1) await tx.query(`SELECT pg_notify($1, $2)`, [SOURCES_CHANNEL, id]);
  return res.rowCount === 1;
}

export async function selectSource(db: Queryable, id: string): Promise<SourceRow | undefined> {
  return (await db.query<SourceRow>('SELECT * FROM identity_sources WHERE id = $1', [id])).rows[0];
}

export async function selectSources(db: Queryable): Promise<SourceRow[]> {
  // The order citizens see on the chooser: the national source first.
  return (
    await db.query<SourceRow>(
      `SELECT * FROM identity_sources
       ORDER BY array_position(ARRAY['citizen_id', 'bank', 'telecom', 'other'], kind), id`,
    )
  ).rows;
}

/** A cheap change stamp for polling. */
export async function sourcesStamp(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ stamp: string | null }>(
    `SELECT string_agg(id || ':' || version || ':' || health_status || ':' || coalesce(md5(health_error), ''), ',' ORDER BY id) AS stamp FROM identity_sources`,
  );
  return rows[0]?.stamp ?? '';
}

export async function recordHealth(db: Queryable, id: string, status: 'ok' | 'failing', error: string | null): Promise<void> {
  // One statement: stamp the check, and notify the other instances only when the result changed.
  await db.query(
    `WITH old AS (SELECT health_status, health_error FROM identity_sources WHERE id = $1 FOR UPDATE),
          upd AS (UPDATE identity_sources SET health_status = $2, health_error = $3, health_checked_at = now() WHERE id = $1)
     SELECT pg_notify($4, $1) FROM old WHERE old.health_status IS DISTINCT FROM $2 OR old.health_error IS DISTINCT FROM $3`,
    [id, status, error, SOURCES_CHANNEL],
  );
}
