// SQL for acting_for: which grant acts for which person, and on what grounds.
import type { Queryable } from '../storage/index.js';
import type { PersonRelation } from './policy.js';

export interface ActingFor {
  grantId: string;
  clientId: string;
  actorAccount: string;
  representedAccount: string;
  relation: PersonRelation;
  delegationId?: string;
  /** What the actor agreed to share of the represented person in that sign-in. */
  claims: string[];
}

interface Row {
  grant_id: string;
  client_id: string;
  actor_account: string;
  represented_account: string;
  relation: PersonRelation;
  delegation_id: string | null;
  claims: string[];
}

const fromRow = (r: Row): ActingFor => ({
  grantId: r.grant_id,
  clientId: r.client_id,
  actorAccount: r.actor_account,
  representedAccount: r.represented_account,
  relation: r.relation,
  ...(r.delegation_id ? { delegationId: r.delegation_id } : {}),
  claims: r.claims,
});

export async function insertActingFor(tx: Queryable, a: ActingFor): Promise<void> {
  await tx.query(
    `INSERT INTO acting_for (grant_id, client_id, actor_account, represented_account, relation, delegation_id, claims)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.grantId, a.clientId, a.actorAccount, a.representedAccount, a.relation, a.delegationId ?? null, a.claims],
  );
}

export async function actingForGrant(db: Queryable, grantId: string): Promise<ActingFor | undefined> {
  const { rows } = await db.query<Row>('SELECT grant_id, client_id, actor_account, represented_account, relation, delegation_id, claims FROM acting_for WHERE grant_id = $1', [grantId]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** The grants acting under one authorisation (to end them when it is revoked). */
export async function grantsOfDelegation(db: Queryable, delegationId: string): Promise<string[]> {
  const { rows } = await db.query<{ grant_id: string }>('SELECT grant_id FROM acting_for WHERE delegation_id = $1', [delegationId]);
  return rows.map((r) => r.grant_id);
}

/**
 * Rows of grants that are gone (expired and purged, revoked, ended): nothing reads
 * them any more. Deleted in batches by the background purge, with the grants'.
 */
export async function purgeEndedActingFor(db: Queryable, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.query(
      `DELETE FROM acting_for WHERE grant_id IN (
         SELECT a.grant_id FROM acting_for a
         WHERE NOT EXISTS (SELECT 1 FROM oidc_payloads p WHERE p.model = 'Grant' AND p.id = a.grant_id)
         LIMIT $1 FOR UPDATE SKIP LOCKED)`,
      [batchSize],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < batchSize) return total;
  }
}
