// Ending what oidc-provider stored for an account: SQL on its payload table only,
// with no import of oidc-provider itself, so that the command line and the
// accounts service can use it without loading the protocol engine.
import type { Queryable } from '../storage/index.js';
import { announceRecord } from './record-cache.js';

/**
 * Deletes every grant the account holds (for one client, or for all), and
 * everything issued under them (codes, access and refresh tokens), in one
 * statement: a consent withdrawn, an account suspended. oidc-provider keeps
 * accountId and clientId only inside a Grant's JSON payload. With
 * NIXA_SHORT_LIVED_STORE=redis, codes and access tokens held in Redis are not
 * counted, and die with their grant: every use of one loads the grant. Self-contained JWT
 * access tokens cannot be recalled; they expire on their own.
 */
export async function revokeGrantsOf(db: Queryable, accountId: string, clientId?: string): Promise<{ grants: number; tokens: number }> {
  const { rows } = await db.query<{ grants: number; tokens: number; ids: string[] | null }>(
    `WITH grants AS (
       SELECT id FROM oidc_payloads WHERE model = 'Grant' AND payload->>'accountId' = $1 AND ($2::text IS NULL OR payload->>'clientId' = $2)),
     durable AS (DELETE FROM oidc_payloads WHERE grant_id IN (SELECT id FROM grants) RETURNING model),
     short_lived AS (DELETE FROM short_lived_payloads WHERE grant_id IN (SELECT id FROM grants) RETURNING model),
     revoked AS (SELECT model FROM durable UNION ALL SELECT model FROM short_lived)
     SELECT count(*) FILTER (WHERE model = 'Grant')::int AS grants, count(*) FILTER (WHERE model <> 'Grant')::int AS tokens,
            (SELECT array_agg(id) FROM grants) AS ids
     FROM revoked`,
    [accountId, clientId ?? null],
  );
  // Every instance drops the grants it holds in memory (record-cache.ts).
  for (const id of rows[0]?.ids ?? []) await announceRecord(db, 'Grant', id);
  return { grants: rows[0]?.grants ?? 0, tokens: rows[0]?.tokens ?? 0 };
}

/** Ends every sign-in session of the account (the browser is signed out everywhere). Returns how many. */
export async function deleteSessionsOf(db: Queryable, accountId: string): Promise<number> {
  return (await endSessionsOf(db, accountId)).sessions;
}

/** What a sign-in session had given one service: the sid its logout token names, and the grant behind it. */
export interface SessionAuthorization {
  clientId: string;
  sid: string;
  grantId?: string;
  /** oidc-provider's flag: the grant outlives sign-out (offline_access was granted). */
  persistsLogout: boolean;
}

/**
 * Ends every sign-in session of the account and returns
 * what each session had given each service: whom to tell by back-channel logout,
 * and which grants sign-out revokes (those that do not persist logout).
 */
export async function endSessionsOf(db: Queryable, accountId: string): Promise<{ sessions: number; authorizations: SessionAuthorization[] }> {
  const { rows } = await db.query<{ id: string; authorizations: Record<string, { sid?: unknown; grantId?: unknown; persistsLogout?: unknown }> | null }>(
    `DELETE FROM oidc_payloads WHERE model = 'Session' AND payload->>'accountId' = $1 RETURNING id, payload->'authorizations' AS authorizations`,
    [accountId],
  );
  const authorizations: SessionAuthorization[] = [];
  for (const { id, authorizations: given } of rows) {
    await announceRecord(db, 'Session', id);
    for (const [clientId, a] of Object.entries(given ?? {})) {
      if (typeof a?.sid !== 'string') continue;
      authorizations.push({ clientId, sid: a.sid, ...(typeof a.grantId === 'string' ? { grantId: a.grantId } : {}), persistsLogout: a.persistsLogout === true });
    }
  }
  return { sessions: rows.length, authorizations };
}

/** Deletes the given grants and everything issued under them (sign-out's revocation, for many sessions at once). */
export async function revokeGrantsById(db: Queryable, grantIds: string[]): Promise<{ grants: number; tokens: number }> {
  if (!grantIds.length) return { grants: 0, tokens: 0 };
  const { rows } = await db.query<{ grants: number; tokens: number }>(
    `WITH durable AS (DELETE FROM oidc_payloads WHERE grant_id = ANY($1::text[]) RETURNING model),
     short_lived AS (DELETE FROM short_lived_payloads WHERE grant_id = ANY($1::text[]) RETURNING model),
     revoked AS (SELECT model FROM durable UNION ALL SELECT model FROM short_lived)
     SELECT count(*) FILTER (WHERE model = 'Grant')::int AS grants, count(*) FILTER (WHERE model <> 'Grant')::int AS tokens FROM revoked`,
    [grantIds],
  );
  for (const id of grantIds) await announceRecord(db, 'Grant', id);
  return { grants: rows[0]?.grants ?? 0, tokens: rows[0]?.tokens ?? 0 };
}
