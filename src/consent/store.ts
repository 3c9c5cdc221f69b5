// SQL for consents: the attribute set a citizen agreed to share with each service.
import type { Queryable } from '../storage/index.js';

export async function grantedClaims(db: Queryable, accountId: string, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ claims: string[] }>('SELECT claims FROM consents WHERE account_id = $1 AND client_id = $2', [accountId, clientId]);
  return rows[0]?.claims ?? [];
}

/** Records consent to `claims`, on top of what was agreed before. */
export async function recordConsent(db: Queryable, accountId: string, clientId: string, claims: string[]): Promise<void> {
  await db.query(
    `INSERT INTO consents (account_id, client_id, claims) VALUES ($1, $2, $3)
     ON CONFLICT (account_id, client_id) DO UPDATE SET
       claims = ARRAY(SELECT DISTINCT unnest(consents.claims || EXCLUDED.claims) ORDER BY 1), granted_at = now()`,
    [accountId, clientId, claims],
  );
}

export interface StoredConsent {
  clientId: string;
  claims: string[];
  /** When the citizen last agreed (an agreement to more claims renews it). */
  grantedAt: Date;
}

/** Every service the account agreed to share with, most recent first. */
export async function consentsOf(db: Queryable, accountId: string): Promise<StoredConsent[]> {
  const { rows } = await db.query<{ client_id: string; claims: string[]; granted_at: Date | string }>(
    'SELECT client_id, claims, granted_at FROM consents WHERE account_id = $1 ORDER BY granted_at DESC, client_id',
    [accountId],
  );
  return rows.map((r) => ({ clientId: r.client_id, claims: r.claims, grantedAt: new Date(r.granted_at) }));
}

/** Removes the consent; returns the claims it covered, or undefined when there was none. */
export async function deleteConsent(db: Queryable, accountId: string, clientId: string): Promise<string[] | undefined> {
  const { rows } = await db.query<{ claims: string[] }>('DELETE FROM consents WHERE account_id = $1 AND client_id = $2 RETURNING claims', [accountId, clientId]);
  return rows[0]?.claims;
}
