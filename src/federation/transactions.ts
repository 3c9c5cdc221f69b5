// Upstream logins in flight, in PostgreSQL so that any instance can receive the
// callback. Each state is single-use and bound to the sign-in (the browser) that
// started it: taking it is one conditional UPDATE that checks both, so another
// browser presenting a citizen's state cannot spend it.
import type { Queryable } from '../storage/index.js';
import type { FederationFailure } from './errors.js';

export interface UpstreamLogin {
  state: string;
  interactionUid: string;
  sourceId: string;
  nonce: string;
  codeVerifier: string;
}

export interface TakenLogin extends UpstreamLogin {
  /** When nixa sent the browser to the source (seconds since the epoch, database clock). */
  startedAt: number;
}

export async function saveUpstreamLogin(db: Queryable, l: UpstreamLogin, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO upstream_logins (state, interaction_uid, source_id, nonce, code_verifier, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int))`,
    [l.state, l.interactionUid, l.sourceId, l.nonce, l.codeVerifier, ttlSeconds],
  );
}

export type TakeResult =
  | { status: 'ok'; login: TakenLogin }
  | { status: 'unknown' }
  /** The state belongs to another browser's sign-in: it was not spent, and its status is not told. */
  | { status: 'foreign'; login: TakenLogin }
  | { status: 'replayed' | 'expired'; login: TakenLogin };

const COLUMNS = `state, interaction_uid, source_id, nonce, code_verifier, extract(epoch from created_at)::float8 AS started_at`;

/**
 * Takes a state once, for the sign-in `interactionUid` (the one this browser's
 * interaction cookie belongs to). A second take reports 'replayed'; a take from
 * another sign-in reports 'foreign' and leaves the state for its owner.
 */
export async function takeUpstreamLogin(db: Queryable, state: string, interactionUid: string): Promise<TakeResult> {
  const taken = await db.query<Row>(
    `UPDATE upstream_logins SET consumed_at = now()
     WHERE state = $1 AND interaction_uid = $2 AND consumed_at IS NULL AND expires_at > now()
     RETURNING ${COLUMNS}`,
    [state, interactionUid],
  );
  if (taken.rows[0]) return { status: 'ok', login: fromRow(taken.rows[0]) };
  const { rows } = await db.query<Row & { consumed: boolean }>(
    `SELECT ${COLUMNS}, consumed_at IS NOT NULL AS consumed FROM upstream_logins WHERE state = $1`,
    [state],
  );
  const row = rows[0];
  if (!row) return { status: 'unknown' };
  const login = fromRow(row);
  if (login.interactionUid !== interactionUid) return { status: 'foreign', login };
  return { status: row.consumed ? 'replayed' : 'expired', login };
}

/** Records that nixa refused the source's answer to this login (see sourcesRefused). */
export async function markRefused(db: Queryable, state: string, reason: FederationFailure): Promise<void> {
  await db.query('UPDATE upstream_logins SET refused_for = $2 WHERE state = $1', [state, reason]);
}

/** The sources whose answer nixa refused in this sign-in: sending the citizen there again would fail the same way. */
export async function sourcesRefused(db: Queryable, interactionUid: string): Promise<Set<string>> {
  const { rows } = await db.query<{ source_id: string }>(
    'SELECT DISTINCT source_id FROM upstream_logins WHERE interaction_uid = $1 AND refused_for IS NOT NULL',
    [interactionUid],
  );
  return new Set(rows.map((r) => r.source_id));
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
  started_at: number;
}

const fromRow = (r: Row): TakenLogin => ({
  state: r.state,
  interactionUid: r.interaction_uid,
  sourceId: r.source_id,
  nonce: r.nonce,
  codeVerifier: r.code_verifier,
  startedAt: Number(r.started_at),
});
