// Signing out at the source too. After an upstream login nixa remembers, in a
// signed cookie pointing at an encrypted row, which source the citizen used and
// the ID token it issued. When the citizen signs out of nixa, the browser makes a
// detour through the source's end_session_endpoint (where the source supports
// RP-initiated logout) before going on to the service's post-logout URI.
import { randomBytes } from 'node:crypto';

import type { Context } from 'koa';
import * as oidc from 'openid-client';

import type { Level } from '../assurance/index.js';
import type { Cipher } from '../keys/index.js';
import type { SourceRegistry } from '../sources/index.js';
import type { Queryable } from '../storage/index.js';
import type { Upstream } from './upstream.js';

export const UPSTREAM_COOKIE = 'nixa_upstream';
export const SIGNED_OUT_PATH = '/federation/signed-out';

const aad = (id: string) => `upstream-session:${id}`;

export interface SourceLogoutDeps {
  db: Queryable;
  cipher: Cipher;
  sources: SourceRegistry;
  upstream: Upstream;
  issuer: string;
  sessionTtlSeconds: number;
}

export interface SourceLogin {
  sourceId: string;
  accountId: string;
  /** The authentication level the source's login gave (before any factor nixa checked). */
  authLevel: Level;
  idToken: string;
}

/** After an upstream login: remember the source session for this browser. */
export async function rememberSourceSession(deps: SourceLogoutDeps, ctx: Context, login: SourceLogin): Promise<void> {
  const id = randomBytes(24).toString('base64url');
  await deps.db.query(
    `INSERT INTO upstream_sessions (id, source_id, account_id, auth_level, id_token_enc, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int))`,
    [id, login.sourceId, login.accountId, login.authLevel, deps.cipher.encrypt(login.idToken, aad(id)), deps.sessionTtlSeconds],
  );
  ctx.cookies.set(UPSTREAM_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', path: '/', maxAge: deps.sessionTtlSeconds * 1000 });
}

/**
 * The authentication level of the source login behind this browser's session of
 * `accountId`; undefined when nixa has no record of one (a test login, an expired
 * record, another account's login): callers then assume the least.
 */
export async function sourceLoginLevel(deps: Pick<SourceLogoutDeps, 'db'>, ctx: Context, accountId: string): Promise<Level | undefined> {
  const id = ctx.cookies.get(UPSTREAM_COOKIE, { signed: true });
  if (!id) return undefined;
  const { rows } = await deps.db.query<{ auth_level: Level | null }>(
    'SELECT auth_level FROM upstream_sessions WHERE id = $1 AND account_id = $2 AND expires_at > now()',
    [id, accountId],
  );
  return rows[0]?.auth_level ?? undefined;
}

/**
 * Runs after oidc-provider handled POST /session/end/confirm. If the citizen chose
 * to sign out and their source supports it, the redirect to the service is kept
 * for later and the browser is sent to the source's end_session_endpoint first.
 */
export async function detourThroughSource(deps: SourceLogoutDeps, ctx: Context): Promise<void> {
  const id = ctx.cookies.get(UPSTREAM_COOKIE, { signed: true });
  const signedOut = Boolean((ctx as { oidc?: { params?: { logout?: unknown } } }).oidc?.params?.logout);
  const location = ctx.response.get('Location');
  if (!id || !signedOut || !location) return;
  ctx.cookies.set(UPSTREAM_COOKIE, null, { path: '/' });
  const { rows } = await deps.db.query<{ source_id: string; id_token_enc: Uint8Array }>(
    'SELECT source_id, id_token_enc FROM upstream_sessions WHERE id = $1 AND expires_at > now()',
    [id],
  );
  const row = rows[0];
  const source = row ? deps.sources.get(row.source_id) : undefined;
  if (!row || !source?.enabled) return;
  let endSession: URL;
  try {
    const config = await deps.upstream.configuration(source);
    if (!config.serverMetadata().end_session_endpoint) return;
    endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: deps.cipher.decrypt(row.id_token_enc, aad(id)),
      post_logout_redirect_uri: `${deps.issuer}${SIGNED_OUT_PATH}`,
      state: id,
    });
  } catch {
    // The source is unreachable: nixa's own sign-out has happened; do not hold the citizen up.
    return;
  }
  await deps.db.query('UPDATE upstream_sessions SET continue_to = $2 WHERE id = $1', [id, location]);
  ctx.redirect(endSession.href);
}

/** GET /federation/signed-out: back from the source; on to where nixa's sign-out was going. */
export async function returnFromSource(deps: SourceLogoutDeps, ctx: Context): Promise<string | undefined> {
  const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
  const { rows } = await deps.db.query<{ continue_to: string | null }>('DELETE FROM upstream_sessions WHERE id = $1 RETURNING continue_to', [state]);
  return rows[0]?.continue_to ?? undefined;
}

export async function purgeUpstreamSessions(db: Queryable): Promise<number> {
  return (await db.query('DELETE FROM upstream_sessions WHERE expires_at < now()')).rowCount;
}
