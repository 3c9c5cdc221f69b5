// One authorization-code + PKCE round trip, step by step, as a fresh browser and
// its relying party would do it. Each step checks the status it expects, so a
// round trip that silently took another path (an error page, a consent prompt)
// fails the benchmark instead of being timed.
import { createHash, randomBytes } from 'node:crypto';

import type { TargetInfo } from '../protocol.js';
import { basicAuth } from './http-load.js';

const REQUEST_TIMEOUT_MS = 10_000;

/** The HTTP requests one round trip makes: /auth, interaction page, login, resume, /token. */
export const REQUESTS_PER_SIGN_IN = 5;

/** A browser without a past: keeps the provider's cookies, follows nothing by itself. */
class Browser {
  readonly #cookies = new Map<string, string>();

  async request(url: URL, expected: 'redirect' | 'page', init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    // One origin and few cookies: path and expiry attributes do not matter here.
    if (this.#cookies.size) headers.set('cookie', [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';', 1);
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value && !/expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.set(pair.slice(0, eq), value);
      else this.#cookies.delete(pair.slice(0, eq));
    }
    const ok = expected === 'redirect' ? res.status >= 300 && res.status < 400 : res.status === 200;
    if (!ok) throw new Error(`${init.method ?? 'GET'} ${url.pathname}: expected a ${expected}, got ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return res;
  }

  /** Requests a URL that must redirect, and returns where to. */
  async redirect(url: URL, init?: RequestInit): Promise<URL> {
    const res = await this.request(url, 'redirect', init);
    // Drain the body so the keep-alive connection can be reused.
    await res.arrayBuffer();
    return new URL(res.headers.get('location') ?? '', url);
  }
}

const random = () => randomBytes(32).toString('base64url');

export async function signIn(target: TargetInfo, account: string): Promise<void> {
  const { clientId, secret, redirectUri } = target.webClient;
  const browser = new Browser();
  const verifier = random();
  const state = random();
  const auth = new URL('/auth', target.origin);
  auth.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state,
    nonce: random(),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  const interaction = await browser.redirect(auth);
  const page = await (await browser.request(interaction, 'page')).text();
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(page)?.[1];
  if (!action) throw new Error(`expected the test login form at ${interaction.pathname}`);
  const resume = await browser.redirect(new URL(action, interaction), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ account }).toString(),
  });
  const callback = await browser.redirect(resume);
  const code = callback.searchParams.get('code');
  if (!callback.href.startsWith(redirectUri) || !code || callback.searchParams.get('state') !== state) {
    throw new Error(`expected a code at the redirect URI, was sent to ${callback.origin}${callback.pathname}${callback.search.replace(/code=[^&]+/, 'code=…')}`);
  }

  const res = await fetch(new URL('/token', target.origin), {
    method: 'POST',
    headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const tokens = (await res.json()) as { id_token?: unknown; error?: unknown };
  if (res.status !== 200 || typeof tokens.id_token !== 'string') {
    throw new Error(`POST /token: expected tokens, got ${res.status} ${String(tokens.error ?? '')}`);
  }
}
