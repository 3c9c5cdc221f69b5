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
