// Accounts: one per person. The federation issue gives them identity attributes
// and linked sources; for now an account is an id the provider can find.
import type { Account } from 'oidc-provider';

import type { Queryable } from '../storage/index.js';

export async function findAccount(db: Queryable, id: string): Promise<Account | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM accounts WHERE id = $1 AND disabled_at IS NULL', [id]);
  if (!rows[0]) return undefined;
  return { accountId: id, claims: async () => ({ sub: id }) };
}

/** Creates the account if it does not exist (test login only, until federation links real identities). */
export async function ensureAccount(db: Queryable, id: string): Promise<void> {
  await db.query('INSERT INTO accounts (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [id]);
}
