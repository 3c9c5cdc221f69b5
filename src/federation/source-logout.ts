// Signing out at the source too. After an upstream login nixa remembers, in a
// signed cookie pointing at a row, which source the citizen used and what it needs
// to sign the browser out there: the source's session id (sid), and its ID token
// (encrypted) only for a source signed out by POST, since that token carries the
// citizen's ID number, name, birthdate and address.
//
// When the citizen signs out of nixa (one confirmation, oidc-provider's page), nixa
// ends its own session first, then, by the source's registration (`logout`):
//   post  a page of nixa's posts id_token_hint to the source's end_session_endpoint
//         (a URL would put the token in the browser history and the source's logs);
//         the source ends its session without asking again and comes back to
//         nixa's signed-out path, which sends the browser on to the service;
//   hint  GET with client_id and logout_hint (the sid), no token; the source asks;
//   link  the source would not send the browser back: nixa's page says so, links
//         to the source's sign-out (new tab) and goes on to the service.
// A source that is down, in maintenance or unreachable is never where the browser
// is sent: the citizen always reaches the service's post-logout page.
import { randomBytes } from 'node:crypto';

import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import * as oidc from 'openid-client';

import type { Level } from '../assurance/index.js';
import type { Logger } from '../logging/index.js';
import type { Cipher } from '../keys/index.js';
import { escapeHtml, renderPage } from '../pages/index.js';
import { availability, type LogoutMethod, type Source, type SourceRegistry } from '../sources/index.js';
import type { Queryable } from '../storage/index.js';
import { insertSourceSession, saveSignOutReturn, sourceSessionLevel, sourceSessionSource, takeSignOutReturn, takeSourceSession } from './source-sessions.js';
import type { Upstream } from './upstream.js';

export const UPSTREAM_COOKIE = 'nixa_upstream';
export const SIGNED_OUT_PATH = '/federation/signed-out';
/** How long nixa waits for a source to send the browser back after signing out. */
const RETURN_SECONDS = 3600;

const aad = (id: string) => `upstream-session:${id}`;

export interface SourceLogoutDeps {
  db: Queryable;
  cipher: Cipher;
  sources: SourceRegistry;
  upstream: Upstream;
  issuer: string;
  sessionTtlSeconds: number;
  logger: Logger;
}

export interface SourceLogin {
  sourceId: string;
  accountId: string;
  /** The authentication level the source's login gave (before any factor nixa checked). */
  authLevel: Level;
  idToken: string;
}

/** After an upstream login: remember the source session for this browser. */
export async function rememberSourceSession(deps: SourceLogoutDeps, ctx: Context, login: SourceLogin, db: Queryable = deps.db): Promise<void> {
  const id = randomBytes(24).toString('base64url');
  const keepToken = deps.sources.get(login.sourceId)?.logout === 'post';
  await insertSourceSession(db, {
    id,
    sourceId: login.sourceId,
    accountId: login.accountId,
    authLevel: login.authLevel,
    idTokenEnc: keepToken ? deps.cipher.encrypt(login.idToken, aad(id)) : null,
    sourceSid: sessionIdOf(login.idToken) ?? null,
    ttlSeconds: deps.sessionTtlSeconds,
  });
  ctx.cookies.set(UPSTREAM_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', path: '/', maxAge: deps.sessionTtlSeconds * 1000 });
}

/** The source's session id (sid) from its (already verified) ID token: an opaque value, no personal data. */
function sessionIdOf(idToken: string): string | undefined {
  const { sid } = decodeJwt(idToken);
  return typeof sid === 'string' && /^[\w.~-]{1,200}$/.test(sid) ? sid : undefined;
}

/**
 * The authentication level of the source login behind this browser's session of
 * `accountId`; undefined when nixa has no record of one (a test login, an expired
 * record, another account's login): callers then assume the least.
 */
export async function sourceLoginLevel(deps: Pick<SourceLogoutDeps, 'db'>, ctx: Context, accountId: string): Promise<Level | undefined> {
  const id = ctx.cookies.get(UPSTREAM_COOKIE, { signed: true });
  if (!id) return undefined;
  return sourceSessionLevel(deps.db, id, accountId);
}

/**
 * The source this browser's session of `accountId` came through (its last source
 * login); undefined when nixa has no record of one: callers then assume the worst.
 */
export async function sourceLoginOf(deps: Pick<SourceLogoutDeps, 'db'>, ctx: Context, accountId: string): Promise<string | undefined> {
  const id = ctx.cookies.get(UPSTREAM_COOKIE, { signed: true });
  return id ? sourceSessionSource(deps.db, id, accountId) : undefined;
}

/**
 * How the browser is signed out of a source: by its registration, except that a
 * source down or in maintenance only gets a link (the browser would be stranded
 * there), and POST needs the token kept at login (the registration may have
 * changed since).
 */
export function signOutMethod(source: Source, hasIdToken: boolean): LogoutMethod {
  if (availability(source) !== 'available' || source.logout === 'link') return 'link';
  return source.logout === 'post' && hasIdToken ? 'post' : 'hint';
}

/**
 * Runs after oidc-provider handled POST /session/end/confirm: nixa's session has
 * ended and the response redirects to the service. If the citizen chose to sign
 * out and their source supports it, the browser goes through the source first.
 * Whatever fails on that detour (the database lost, say), the citizen still
 * reaches the service's post-logout page: the provider's redirect stays.
 */
export async function signOutAtSource(deps: SourceLogoutDeps, ctx: Context): Promise<void> {
  const location = ctx.response.get('Location');
  try {
    await detourThroughSource(deps, ctx);
  } catch (err) {
    // Nothing to show the citizen: nixa's sign-out happened; the source keeps its session.
    deps.logger.warn({ err: (err as Error).message }, 'sign-out: could not send the browser through the source');
    ctx.body = null;
    if (location) ctx.redirect(location);
  }
}

async function detourThroughSource(deps: SourceLogoutDeps, ctx: Context): Promise<void> {
  const id = ctx.cookies.get(UPSTREAM_COOKIE, { signed: true });
  const oidcCtx = (ctx as { oidc?: { params?: { logout?: unknown }; client?: { clientName?: string } } }).oidc;
  const location = ctx.response.get('Location');
  if (!id || !oidcCtx?.params?.logout || !location) return;
  ctx.cookies.set(UPSTREAM_COOKIE, null, { path: '/' });
  // The record leaves the database now, the source's ID token with it, whatever happens next.
  const row = await takeSourceSession(deps.db, id);
  const source = row ? deps.sources.get(row.sourceId) : undefined;
  if (!row || !source?.enabled) return;
  let config: oidc.Configuration;
  try {
    config = await deps.upstream.configuration(source);
  } catch {
    // The source is unreachable: nixa's own sign-out has happened; do not hold the citizen up.
    return;
  }
  const endSession = config.serverMetadata().end_session_endpoint;
  if (!endSession) return;

  const method = signOutMethod(source, row.idTokenEnc !== null);
  if (method === 'link') {
    const name = oidcCtx.client?.clientName;
    return page(ctx, 'source-still-signed-in', {
      title: 'Đã đăng xuất',
      ...sourceNames(source),
      clientNameVi: name ? ` và khỏi dịch vụ ${name}` : '',
      clientNameEn: name ? ` and so has your session at ${name}` : '',
      // No hint at all: the citizen opens it in a new tab and the source asks them.
      sourceUrl: oidc.buildEndSessionUrl(config, {}).href,
      continueTo: location,
    });
  }
  const state = randomBytes(24).toString('base64url');
  await saveSignOutReturn(deps.db, state, source.id, location, RETURN_SECONDS);
  const back = `${deps.issuer}${SIGNED_OUT_PATH}`;
  if (method === 'hint') {
    const params: Record<string, string> = { post_logout_redirect_uri: back, state };
    if (row.sourceSid) params.logout_hint = row.sourceSid;
    ctx.redirect(oidc.buildEndSessionUrl(config, params).href);
    return;
  }
  const fields = {
    id_token_hint: deps.cipher.decrypt(row.idTokenEnc!, aad(id)),
    client_id: source.clientId,
    post_logout_redirect_uri: back,
    state,
  };
  return page(ctx, 'source-sign-out', {
    title: 'Đang đăng xuất',
    ...sourceNames(source),
    action: endSession,
    fields: Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
      .join(''),
  });
}

const sourceNames = (s: Source) => ({ sourceNameVi: s.name.vi, sourceNameEn: s.name.en });

/** Answers the confirmation's POST with a page of nixa's instead of its redirect. */
function page(ctx: Context, view: string, values: Record<string, unknown> & { title: string }): void {
  ctx.remove('Location');
  ctx.status = 200;
  ctx.type = 'html';
  // The POST page holds the source's ID token: never cached, never shown again by Back.
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderPage(view, values);
}

/** GET /federation/signed-out: back from the source; on to where nixa's sign-out was going. */
export async function returnFromSource(deps: SourceLogoutDeps, ctx: Context): Promise<string | undefined> {
  const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
  // Only a sign-out's own record: a state naming a live source session ends nothing.
  return takeSignOutReturn(deps.db, state);
}

