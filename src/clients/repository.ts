// SQL for the clients table. Every write announces the client on CLIENTS_CHANNEL
// in its transaction, so that each instance drops what it holds in memory.
import { announce, type Queryable } from '../storage/index.js';

export const CLIENTS_CHANNEL = 'nixa_clients';

async function changed(tx: Queryable, rowCount: number, clientId: string): Promise<boolean> {
  if (rowCount === 0) return false;
  await announce(tx, CLIENTS_CHANNEL, clientId);
  return true;
}

export interface ClientRow {
  client_id: string;
  name: string;
  metadata: Record<string, unknown>;
  secret_hash: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  disabled_at: Date | string | null;
  version: number;
  min_level: string | null;
  api_resource: string | null;
  security_profile: 'standard' | 'fapi2';
  security_profile_reason: string | null;
}

/** What a registration holds beside oidc-provider's metadata: nixa's policy for the service. */
export interface ClientPolicy {
  minLevel: string | null;
  apiResource: string | null;
  securityProfile: 'standard' | 'fapi2';
  securityProfileReason: string | null;
}

export async function insertClient(
  tx: Queryable,
  c: {
    clientId: string;
    name: string;
    metadata: Record<string, unknown>;
    secretHash: string | null;
  } & ClientPolicy,
): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO clients (client_id, name, metadata, secret_hash, min_level, api_resource, security_profile, security_profile_reason)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)
     ON CONFLICT (client_id) DO NOTHING`,
    [c.clientId, c.name, JSON.stringify(c.metadata), c.secretHash, c.minLevel, c.apiResource, c.securityProfile, c.securityProfileReason],
  );
  return changed(tx, res.rowCount, c.clientId);
}

/** The service whose API this resource indicator names, other than `except`. */
export async function selectApiOwner(db: Queryable, apiResource: string, except?: string): Promise<string | undefined> {
  const { rows } = await db.query<{ client_id: string }>(
    'SELECT client_id FROM clients WHERE api_resource = $1 AND client_id IS DISTINCT FROM $2',
    [apiResource, except ?? null],
  );
  return rows[0]?.client_id;
}

/** Replaces a registration's name, metadata and policy if it is still at `version`; false otherwise. */
export async function updateRegistration(
  tx: Queryable,
  clientId: string,
  version: number,
  r: { name: string; metadata: Record<string, unknown>; clearSecret?: boolean } & ClientPolicy,
): Promise<boolean> {
  const res = await tx.query(
    `UPDATE clients SET name = $3, metadata = $4::jsonb, min_level = $5, api_resource = $6, security_profile = $7, security_profile_reason = $8,
       secret_hash = CASE WHEN $9 THEN NULL ELSE secret_hash END, updated_at = now(), version = version + 1
     WHERE client_id = $1 AND version = $2`,
    [clientId, version, r.name, JSON.stringify(r.metadata), r.minLevel, r.apiResource, r.securityProfile, r.securityProfileReason, r.clearSecret === true],
  );
  return changed(tx, res.rowCount, clientId);
}

export async function selectClient(db: Queryable, clientId: string): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>('SELECT * FROM clients WHERE client_id = $1', [clientId]);
  return rows[0];
}

export async function selectEnabledClient(db: Queryable, clientId: string): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(
    'SELECT * FROM clients WHERE client_id = $1 AND disabled_at IS NULL',
    [clientId],
  );
  return rows[0];
}

export async function selectClients(db: Queryable): Promise<ClientRow[]> {
  const { rows } = await db.query<ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id');
  return rows;
}

export async function markDisabled(tx: Queryable, clientId: string): Promise<boolean> {
  const res = await tx.query(
    `UPDATE clients SET disabled_at = now(), updated_at = now(), version = version + 1
     WHERE client_id = $1 AND disabled_at IS NULL`,
    [clientId],
  );
  return changed(tx, res.rowCount, clientId);
}

export async function replaceSecretHash(tx: Queryable, clientId: string, secretHash: string): Promise<boolean> {
  const res = await tx.query(
    `UPDATE clients SET secret_hash = $2, updated_at = now(), version = version + 1
     WHERE client_id = $1 AND secret_hash IS NOT NULL AND disabled_at IS NULL`,
    [clientId, secretHash],
  );
  return changed(tx, res.rowCount, clientId);
}

