// SQL for upstream_sessions: the source session behind a browser's nixa session
// (its level, and what signing out there needs), and the short record that
// carries a sign-out on to the service when the source sends the browser back.
import type { Level } from '../assurance/index.js';
import { writeAtCommit, type Queryable } from '../storage/index.js';

export interface SourceSessionRow {
  id: string;
  sourceId: string;
  accountId: string;
  authLevel: Level;
  /** The source's ID token, encrypted; only for sources signed out by POST. */
  idTokenEnc: Uint8Array | null;
  /** The source's session id (sid), for logout_hint. */
  sourceSid: string | null;
  ttlSeconds: number;
}

export async function insertSourceSession(db: Queryable, s: SourceSessionRow): Promise<void> {
  await writeAtCommit(
    db,
    `INSERT INTO upstream_sessions (id, source_id, account_id, auth_level, id_token_enc, source_sid, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::int))`,
    [s.id, s.sourceId, s.accountId, s.authLevel, s.idTokenEnc, s.sourceSid, s.ttlSeconds],
  );
}

/** The level of a live source session of this account; undefined when there is none. */
export async function sourceSessionLevel(db: Queryable, id: string, accountId: string): Promise<Level | undefined> {
  const { rows } = await db.query<{ auth_level: Level | null }>(
    'SELECT auth_level FROM upstream_sessions WHERE id = $1 AND account_id = $2 AND expires_at > now()',
    [id, accountId],
  );
  return rows[0]?.auth_level ?? undefined;
}

/** Which source a live source session of this account is at; undefined when there is none. */
export async function sourceSessionSource(db: Queryable, id: string, accountId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ source_id: string }>('SELECT source_id FROM upstream_sessions WHERE id = $1 AND account_id = $2 AND expires_at > now()', [id, accountId]);
  return rows[0]?.source_id;
}

/** Takes a live source session away (at sign-out): what signing out at the source needs. */
export async function takeSourceSession(
  db: Queryable,
  id: string,
): Promise<{ sourceId: string; idTokenEnc: Uint8Array | null; sourceSid: string | null } | undefined> {
  const { rows } = await db.query<{ source_id: string; id_token_enc: Uint8Array | null; source_sid: string | null }>(
    'DELETE FROM upstream_sessions WHERE id = $1 AND expires_at > now() RETURNING source_id, id_token_enc, source_sid',
    [id],
  );
  const row = rows[0];
  return row && { sourceId: row.source_id, idTokenEnc: row.id_token_enc, sourceSid: row.source_sid };
}

/** Where a sign-out continues once the source sends the browser back with `state`. */
export async function saveSignOutReturn(db: Queryable, state: string, sourceId: string, continueTo: string, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO upstream_sessions (id, source_id, continue_to, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))`,
    [state, sourceId, continueTo, ttlSeconds],
  );
}

/** Takes a sign-out's return record; a state naming a live source session ends nothing. */
export async function takeSignOutReturn(db: Queryable, state: string): Promise<string | undefined> {
  const { rows } = await db.query<{ continue_to: string | null }>(
    'DELETE FROM upstream_sessions WHERE id = $1 AND continue_to IS NOT NULL RETURNING continue_to',
    [state],
  );
  return rows[0]?.continue_to ?? undefined;
}

export async function purgeUpstreamSessions(db: Queryable): Promise<number> {
  return (await db.query('DELETE FROM upstream_sessions WHERE expires_at < now()')).rowCount;
}
