// Upstream logins in flight, in PostgreSQL so that any instance can receive the
// callback. Each state is single-use: taking it is one conditional UPDATE.
import type { Queryable } from '../storage/index.js';

export interface UpstreamLogin {
  state: string;
  interactionUid: string;
  sourceId: string;
  nonce: string;
  codeVerifier: string;
}

export async function saveUpstreamLogin(db: Queryable, l: UpstreamLogin, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO upstream_logins (state, interaction_uid, source_id, nonce, code_verifier, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int))`,
    [l.state, l.interactionUid, l.sourceId, l.nonce, l.codeVerifier, ttlSeconds],
  );
}

export type TakeResult = { status: 'ok'; login: UpstreamLogin } | { status: 'unknown' | 'replayed' | 'expired'; login?: UpstreamLogin };

/** Takes a state once. A second take reports 'replayed'. */
export async function takeUpstreamLogin(db: Queryable, state: string): Promise<TakeResult> {
  const taken = await db.query<Row>(
    `UPDATE upstream_logins SET consumed_at = now()
     WHERE state = $1 AND consumed_at IS NULL AND expires_at > now()
     RETURNING state, interaction_uid, source_id, nonce, code_verifier`,
    [state],
  );
  if (taken.rows[0]) return { status: 'ok', login: fromRow(taken.rows[0]) };
  const { rows } = await db.query<Row & { consumed: boolean }>(
    `SELECT state, interaction_uid, source_id, nonce, code_verifier, consumed_at IS NOT NULL AS consumed
     FROM upstream_logins WHERE state = $1`,
    [state],
  );
  if (!rows[0]) return { status: 'unknown' };
  return { status: rows[0].consumed ? 'replayed' : 'expired', login: fromRow(rows[0]) };
}

export async function purgeUpstreamLogins(db: Queryable): Promise<number> {
  // Kept a day after expiry so that a late replay is still recognised as one.
  return (await db.query(`DELETE FROM upstream_logins WHERE expires_at < now() - interval '1 day'`)).rowCount;
}

interface Row {
  state: string;
  interaction_uid: string;
  source_id: string;
  nonce: string;
  code_verifier: string;
}

const fromRow = (r: Row): UpstreamLogin => ({
  state: r.state,
  interactionUid: r.interaction_uid,
  sourceId: r.source_id,
  nonce: r.nonce,
  codeVerifier: r.code_verifier,
});
