// SQL for account_wards (migration 0022): the minor children each source last said
// a person is the legal representative of, sealed, keyed by the child's ID hash.
import type { Queryable } from '../storage/index.js';
import type { Level } from './linking.js';

export interface WardRow {
  sourceId: string;
  wardNationalIdHash: string;
  sealed: Uint8Array;
  assertedAt: Date;
  /** The source's identity-proofing level now (the level the child's attributes are stored at). */
  proofingLevel: Level;
}

interface Row {
  source_id: string;
  ward_national_id_hash: string;
  ward_sealed: Uint8Array;
  asserted_at: Date | string;
  proofing_level: Level;
}

const fromRow = (r: Row): WardRow => ({
  sourceId: r.source_id,
  wardNationalIdHash: r.ward_national_id_hash,
  sealed: r.ward_sealed,
  assertedAt: new Date(r.asserted_at),
  proofingLevel: r.proofing_level,
});

// A ward counts only while its source is still registered to vouch for children:
// an operator who removes wards_claim (or lowers the source below high, which the
// schema then refuses with it) withdraws what the source said before as well.
const VOUCHED = `JOIN identity_sources s ON s.id = w.source_id AND s.wards_claim IS NOT NULL AND s.proofing_level = 'high'`;
const FIELDS = 'w.source_id, w.ward_national_id_hash, w.ward_sealed, w.asserted_at, s.proofing_level';

export async function selectNationalIdHash(db: Queryable, accountId: string): Promise<string | null | undefined> {
  const { rows } = await db.query<{ national_id_hash: string | null }>('SELECT national_id_hash FROM accounts WHERE id = $1', [accountId]);
  return rows[0] ? rows[0].national_id_hash : undefined;
}

/** Replaces what `sourceId` said of `guardianId`'s wards with `wards` (none: all gone). */
export async function replaceWards(
  tx: Queryable,
  guardianId: string,
  sourceId: string,
  wards: { hash: string; sealed: Buffer }[],
  at: Date,
): Promise<void> {
  await tx.query('DELETE FROM account_wards WHERE guardian_id = $1 AND source_id = $2 AND NOT (ward_national_id_hash = ANY($3::text[]))', [
    guardianId,
    sourceId,
    wards.map((w) => w.hash),
  ]);
  for (const w of wards) {
    await tx.query(
      `INSERT INTO account_wards (guardian_id, source_id, ward_national_id_hash, ward_sealed, asserted_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (guardian_id, source_id, ward_national_id_hash) DO UPDATE SET ward_sealed = EXCLUDED.ward_sealed, asserted_at = EXCLUDED.asserted_at`,
      [guardianId, sourceId, w.hash, w.sealed, at],
    );
  }
}

export async function selectWards(db: Queryable, guardianId: string): Promise<WardRow[]> {
  const { rows } = await db.query<Row>(`SELECT ${FIELDS} FROM account_wards w ${VOUCHED} WHERE w.guardian_id = $1`, [guardianId]);
  return rows.map(fromRow);
}

/** The guardian's ward of that number, as the source that said it last says it (undefined: not their ward). */
export async function selectWard(db: Queryable, guardianId: string, wardNationalIdHash: string): Promise<WardRow | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${FIELDS} FROM account_wards w ${VOUCHED}
     WHERE w.guardian_id = $1 AND w.ward_national_id_hash = $2
     ORDER BY w.asserted_at DESC, w.source_id LIMIT 1`,
    [guardianId, wardNationalIdHash],
  );
  return rows[0] && fromRow(rows[0]);
}

/** As selectWard, by the child's account (its national ID hash). */
export async function selectWardByAccount(db: Queryable, guardianId: string, wardAccountId: string): Promise<WardRow | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${FIELDS} FROM account_wards w ${VOUCHED}
     JOIN accounts a ON a.national_id_hash = w.ward_national_id_hash
     WHERE w.guardian_id = $1 AND a.id = $2
     ORDER BY w.asserted_at DESC, w.source_id LIMIT 1`,
    [guardianId, wardAccountId],
  );
  return rows[0] && fromRow(rows[0]);
}

/** The account holding that number and whether it is enabled, share-locked as a sign-in reads it (run after lockNationalId). */
export async function selectAccountByHash(tx: Queryable, nationalIdHash: string): Promise<{ id: string; enabled: boolean } | undefined> {
  const { rows } = await tx.query<{ id: string; enabled: boolean }>(
    'SELECT id, disabled_at IS NULL AS enabled FROM accounts WHERE national_id_hash = $1 FOR SHARE',
    [nationalIdHash],
  );
  return rows[0];
}
