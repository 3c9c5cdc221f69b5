// One authorization-code + PKCE round trip through the test login, step by step,
// as a fresh browser and its relying party would do it. Each step checks the
// status it expects, so a round trip that silently took another path (an error
// page, a consent prompt) fails the benchmark instead of being timed.
import { createHash, randomBytes } from 'node:crypto';

import type { TargetInfo } from '../protocol.js';
import { Browser, form } from './browser.js';
import { basicAuth } from './http-load.js';
import { routed } from './routes.js';

const REQUEST_TIMEOUT_MS = 10_000;

/** The HTTP requests one round trip makes: /auth, interaction page, login, resume, /token. */
export const REQUESTS_PER_SIGN_IN = 5;

const random = () => randomBytes(32).toString('base64url');

type Client = TargetInfo['webClient'];

/** A service's authorization request: code, PKCE (S256), state and nonce. */
export function authorizationRequest(origin: string, client: Client, scope: string, extra: Record<string, string> = {}) {
  const verifier = random();
  const state = random();
  const url = new URL('/auth', origin);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope,
    state,
    nonce: random(),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url, verifier, state };
}

/** The code the provider sent the browser back to the service with; checks where and the state. */
export function codeAt(callback: URL, client: Client, state: string): string {
  const code = callback.searchParams.get('code');
  if (!callback.href.startsWith(client.redirectUri) || !code || callback.searchParams.get('state') !== state) {
    throw new Error(`expected a code at the redirect URI, was sent to ${callback.origin}${callback.pathname}${callback.search.replace(/code=[^&]+/, 'code=…')}`);
  }
  return code;
}

export interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
}

/** A POST to /token with client_secret_basic; checks for a 200 with an access token. */
export async function tokenRequest(origin: string, client: Pick<Client, 'clientId' | 'secret'>, fields: Record<string, string>): Promise<Tokens> {
  const res = await fetch(routed(new URL('/token', origin)), {
    method: 'POST',
    headers: { authorization: basicAuth(client.clientId, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const tokens = (await res.json()) as Partial<Tokens> & { error?: unknown; error_description?: unknown };
  if (res.status !== 200 || typeof tokens.access_token !== 'string') {
    throw new Error(`POST /token (${fields.grant_type}): expected tokens, got ${res.status} ${String(tokens.error ?? '')} ${String(tokens.error_description ?? '')}`);
  }
  return tokens as Tokens;
}

/** The service redeems the code (client_secret_basic + code_verifier); returns the tokens. */
export async function redeemTokens(origin: string, client: Client, code: string, verifier: string): Promise<Tokens> {
  const tokens = await tokenRequest(origin, client, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier });
  if (typeof tokens.id_token !== 'string') throw new Error('POST /token: expected an ID token');
  return tokens;
}

/** An ID token's payload. Read, not verified: the provider just issued it; this only tells which path the sign-in took. */
export const idTokenClaims = (tokens: Tokens) =>
  JSON.parse(Buffer.from(tokens.id_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/** The service redeems the code; returns the ID token's payload. */
export async function redeem(origin: string, client: Client, code: string, verifier: string): Promise<Record<string, unknown>> {
  return idTokenClaims(await redeemTokens(origin, client, code, verifier));
}

/** A hidden form field's value on one of nixa's pages. */
export const hiddenField = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];

export interface SignInOptions {
  /** Default "openid". */
  scope?: string;
  /** Extra authorization request parameters, e.g. prompt=consent for offline_access. */
  extra?: Record<string, string>;
  /** Default a fresh one; give one to keep the session cookie it gets. */
  browser?: Browser;
}

/**
 * The browser's part of a sign-in: the authorization request at `url`, the test
 * login page and its form, the resume; returns where the provider sent it back
 * (3 requests after the authorization request).
 */
export async function testLoginAt(browser: Browser, url: URL, account: string): Promise<URL> {
  const interaction = await browser.redirect(url);
  const page = await browser.page(interaction);
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(page)?.[1];
  if (!action) throw new Error(`expected the test login form at ${interaction.pathname}`);
  // nixa's forms carry a CSRF token (the baseline's test login has none).
  const csrf = hiddenField(page.slice(page.indexOf(action)), 'csrf');
  const resume = await browser.redirect(new URL(action, interaction), form({ ...(csrf ? { csrf } : {}), account }));
  return browser.redirect(resume);
}

/** A test-login round trip by a fresh browser (or the given one); returns the tokens. */
export async function signIn(target: TargetInfo, account: string, options: SignInOptions = {}): Promise<Tokens> {
  const client = target.webClient;
  const browser = options.browser ?? new Browser();
  const { url, verifier, state } = authorizationRequest(target.origin, client, options.scope ?? 'openid', options.extra);
  const callback = await testLoginAt(browser, url, account);
  return redeemTokens(target.origin, client, codeAt(callback, client, state), verifier);
}

/** The service's one userinfo call with a Bearer access token; checks for a 200 naming the ID token's subject. */
export async function bearerUserinfo(origin: string, tokens: Tokens): Promise<void> {
  const res = await fetch(routed(new URL('/me', origin)), {
    headers: { authorization: `Bearer ${tokens.access_token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await res.json()) as { sub?: unknown; error?: unknown };
  if (res.status !== 200 || body.sub !== idTokenClaims(tokens).sub) throw new Error(`GET /me: expected the signed-in citizen, got ${res.status} ${String(body.error ?? '')}`);
}
