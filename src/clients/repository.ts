// SQL for the clients table.
import type { Queryable } from '../storage/index.js';

export interface ClientRow {
  client_id: string;
  name: string;
  metadata: Record<string, unknown>;
  secret_hash: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  disabled_at: Date | string | null;
  version: number;
}

export async function insertClient(
  tx: Queryable,
  c: { clientId: string; name: string; metadata: Record<string, unknown>; secretHash: string | null },
): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO clients (client_id, name, metadata, secret_hash) VALUES ($1, $2, $3::jsonb, $4)
     ON CONFLICT (client_id) DO NOTHING`,
    [c.clientId, c.name, JSON.stringify(c.metadata), c.secretHash],
  );
  return res.rowCount === 1;
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
  return res.rowCount === 1;
}

export async function replaceSecretHash(tx: Queryable, clientId: string, secretHash: string): Promise<boolean> {
  const res = await tx.query(
    `UPDATE clients SET secret_hash = $2, updated_at = now(), version = version + 1
     WHERE client_id = $1 AND secret_hash IS NOT NULL AND disabled_at IS NULL`,
    [clientId, secretHash],
  );
  return res.rowCount === 1;
}
