// SQL for the delegations table (migration 0023). Dates leave the database as
// text: a `date` read through node-postgres becomes a Date at local midnight,
// which is not the calendar day it was.
import type { Queryable } from '../storage/index.js';
import type { Delegation, RevokedBy } from './policy.js';

interface Row {
  id: string;
  grantor_id: string;
  helper_hash: string;
  helper_masked: string;
  clients: string[];
  valid_until: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
  revoked_by: RevokedBy | null;
}

const COLUMNS = `id::text AS id, grantor_id, helper_hash, helper_masked, clients, to_char(valid_until, 'YYYY-MM-DD') AS valid_until, created_at, revoked_at, revoked_by`;

/** A stored authorisation, with the hash that names its helper (never shown, only compared). */
export type StoredDelegation = Delegation & { helperHash: string };

function delegation(r: Row): StoredDelegation {
  return {
    id: r.id,
    grantorId: r.grantor_id,
    helperMasked: r.helper_masked,
    clients: [...r.clients],
    validUntil: r.valid_until,
    createdAt: new Date(r.created_at).toISOString(),
    ...(r.revoked_at ? { revokedAt: new Date(r.revoked_at).toISOString() } : {}),
    ...(r.revoked_by ? { revokedBy: r.revoked_by } : {}),
    helperHash: r.helper_hash,
  };
}

export async function insertDelegation(
  tx: Queryable,
  d: { id: string; grantorId: string; helperHash: string; helperMasked: string; clients: readonly string[]; validUntil: string },
): Promise<StoredDelegation> {
  const { rows } = await tx.query<Row>(
    `INSERT INTO delegations (id, grantor_id, helper_hash, helper_masked, clients, valid_until)
     VALUES ($1::uuid, $2, $3, $4, $5::text[], $6::date)
     RETURNING ${COLUMNS}`,
    [d.id, d.grantorId, d.helperHash, d.helperMasked, [...d.clients], d.validUntil],
  );
  return delegation(rows[0]!);
}

/** Every authorisation the grantor gave, in force or not, newest first. */
export async function selectGivenBy(db: Queryable, grantorId: string, limit: number): Promise<StoredDelegation[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM delegations WHERE grantor_id = $1 ORDER BY created_at DESC, id LIMIT $2`, [grantorId, limit]);
  return rows.map(delegation);
}

/**
 * The authorisations naming this helper that are in force on `today` (not
 * revoked, last day not past), newest first; not those of a suspended grantor
 * (accounts.disabled_at, read only): acting for a suspended account would go
 * round its suspension.
 */
export async function selectInForceFor(db: Queryable, helperHash: string, today: string): Promise<StoredDelegation[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM delegations d
     WHERE d.helper_hash = $1 AND d.revoked_at IS NULL AND d.valid_until >= $2::date
       AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = d.grantor_id AND a.disabled_at IS NULL)
     ORDER BY d.created_at DESC, d.id`,
    [helperHash, today],
  );
  return rows.map(delegation);
}

/** One authorisation. */
export async function selectById(db: Queryable, id: string): Promise<StoredDelegation | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM delegations WHERE id = $1::uuid`, [id]);
  return rows[0] && delegation(rows[0]);
}

/**
 * One authorisation, held for the caller's transaction (a revocation), with the
 * account its helper has now if any: found by the accounts' own index key
 * (accounts.national_id_hash, read only), since the helper may have signed in
 * for the first time after being named.
 */
export async function selectForRevocation(tx: Queryable, id: string): Promise<(StoredDelegation & { helperAccount?: string }) | undefined> {
  const { rows } = await tx.query<Row & { helper_account: string | null }>(
    `SELECT ${COLUMNS}, (SELECT a.id FROM accounts a WHERE a.national_id_hash = d.helper_hash) AS helper_account
     FROM delegations d WHERE d.id = $1::uuid FOR UPDATE OF d`,
    [id],
  );
  const r = rows[0];
  return r && { ...delegation(r), ...(r.helper_account ? { helperAccount: r.helper_account } : {}) };
}

/** Revokes it now unless it already is; the row as it then stands, or undefined when it was already revoked. */
export async function markRevoked(tx: Queryable, id: string, by: RevokedBy): Promise<StoredDelegation | undefined> {
  const { rows } = await tx.query<Row>(
    `UPDATE delegations SET revoked_at = now(), revoked_by = $2 WHERE id = $1::uuid AND revoked_at IS NULL RETURNING ${COLUMNS}`,
    [id, by],
  );
  return rows[0] && delegation(rows[0]);
}
