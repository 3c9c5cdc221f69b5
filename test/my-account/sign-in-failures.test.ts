// Every way a sign-in to one's own nixa account can fail at its callback (or at
// its start, when nixa's own issuer does not answer) ends on the same kind of page:
// a stable code (NIXA-ACC-<reason>, listed by `nixa errors`), plain words in
// Vietnamese then English, "Sign in again" to a fresh /account/sign-in, a language
// switch that shows the same page again at /error/<code> instead of replaying the
// callback, and the transient sign-in cookie cleared. Over real HTTP: nixa with its
// simulated sources for what a browser can do, and a stand-in for nixa's own
// issuer where it must fail in ways a running nixa cannot (discovery down, token
// endpoint down, an ID token for another account or a lower level).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import * as jose from 'jose';
import Koa from 'koa';

import { acrFor } from '../../src/assurance/index.js';
import { ACCOUNT_SIGN_IN_FAILURES } from '../../src/errors/index.js';
import { AccountSignIn, type AccountClient } from '../../src/my-account/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { capturingLogger } from '../support/nixa.js';
import { UserAgent } from '../support/user-agent.js';

const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
const unescapeAmp = (s: string) => s.replaceAll('&amp;', '&');

/** The Set-Cookie that ends the sign-in in progress, or undefined. */
function pendingCleared(res: Response): boolean {
  const c = res.headers.getSetCookie().find((x) => x.startsWith('nixa_account_tx='));
  return !!c && /^nixa_account_tx=;/.test(c) && /expires=Thu, 01 Jan 1970/i.test(c) && /path=\/account\/callback/i.test(c);
}

/**
 * The failure page: its status, its code, the citizen's words, the way forward,
 * the cookie of the sign-in in progress cleared, and no redirect anywhere.
 */
async function expectFailurePage(res: Response, code: string, o: { status: number; signIn?: string; language?: boolean }): Promise<string> {
  const html = await res.text();
  expect(res.status).toBe(o.status);
  expect(res.headers.get('location')).toBeNull();
  expect(html).toContain(`Mã lỗi<span lang="en"> (error code)</span>: <code>${code}</code>`);
  const reason = code.replace(/^NIXA-ACC-/, '') as keyof typeof ACCOUNT_SIGN_IN_FAILURES;
  expect(html).toContain(ACCOUNT_SIGN_IN_FAILURES[reason].vi);
  expect(html).toContain(`<p lang="en">${ACCOUNT_SIGN_IN_FAILURES[reason].en}</p>`);
  expect(html.indexOf(ACCOUNT_SIGN_IN_FAILURES[reason].vi)).toBeLessThan(html.indexOf(ACCOUNT_SIGN_IN_FAILURES[reason].en));
  expect(html).toContain(`<a class="button" href="${(o.signIn ?? '/account/sign-in').replaceAll('&', '&amp;')}">Đăng nhập lại <span lang="en">(Sign in again)</span></a>`);
  expect(html).toContain('href="/">Về trang chủ nixa');
  if (o.language !== false) expect(html).toContain(`href="/language?show=vi-en&amp;back=${encodeURIComponent(`/error/${code}`)}"`);
  // "nguồn định danh" / "mức độ đảm bảo": explained (the chooser's fragment) where the words use them, after the ways forward.
  const usesTerms = /nguồn định danh|mức độ đảm bảo/iu.test(ACCOUNT_SIGN_IN_FAILURES[reason].vi);
  expect({ code, explained: html.split('<details class="terms">').length - 1 }).toEqual({ code, explained: usesTerms ? 1 : 0 });
  if (usesTerms) expect(html.indexOf('<details class="terms">')).toBeGreaterThan(html.indexOf('Về trang chủ nixa'));
  expect(pendingCleared(res)).toBe(true);
  return html;
}

describe('account sign-in failures, through nixa itself', () => {
  let tdb: TestDatabase;
  let fed: Federation;
  let issuer: string;
  const logs = capturingLogger();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fed = await startFederation(tdb, {}, { logger: logs.logger });
    issuer = fed.nixa.config.issuer;
  });

  afterAll(async () => {
    await fed?.close();
    await tdb?.drop();
  });

  const CALLBACK = () => `${issuer}/account/callback`;

  /** /account/sign-in: the state nixa's /auth was asked with, the sign-in's cookie set. */
  async function start(agent: UserAgent, query = ''): Promise<URL> {
    const res = await agent.request(`${issuer}/account/sign-in${query}`);
    expect(res.status).toBe(303);
    return new URL(res.headers.get('location')!);
  }

  /** From /account/sign-in through the chooser and a simulated source, until nixa would come back to the callback (unvisited). */
  async function untilCallback(agent: UserAgent, citizen: string): Promise<URL> {
    const chooser = await agent.follow(await start(agent));
    const html = await chooser.res.text();
    const uid = new URL(chooser.url).pathname.split('/')[2]!;
    let step = await agent.submit(new URL(`/interaction/${uid}/source`, issuer), { csrf: field(html, 'csrf')!, source: SIMULATED_SOURCE_IDS.telecom }, CALLBACK());
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(await step.res.text())![1]!;
    step = await agent.submit(new URL(pick, step.url), { citizen }, CALLBACK());
    if (!step.stoppedAt) throw new Error(`the journey stopped at ${step.url} (${step.res.status})`);
    return new URL(step.stoppedAt);
  }

  /** The page at /error/<code>, where the language switch comes back: the same words, code and status, nothing run again. */
  async function shownAgain(agent: UserAgent, code: string, status: number): Promise<void> {
    const again = await agent.request(`${issuer}/error/${code}`);
    expect(again.status).toBe(status);
    const html = await again.text();
    expect(html).toContain(`<code>${code}</code>`);
    expect(html).toContain(ACCOUNT_SIGN_IN_FAILURES[code.replace(/^NIXA-ACC-/, '') as keyof typeof ACCOUNT_SIGN_IN_FAILURES].vi);
    // The way forward survives the language switch: a fresh sign-in first, then home.
    expect(html).toContain('<a class="button" href="/account/sign-in">Đăng nhập lại <span lang="en">(Sign in again)</span></a>');
    expect(html.indexOf('href="/account/sign-in"')).toBeLessThan(html.indexOf('href="/">Về trang chủ nixa'));
    expect(again.headers.getSetCookie().some((c) => c.startsWith('nixa_account_tx'))).toBe(false);
  }

  it('expired: the callback opened a second time says the sign-in is over, and offers a fresh one', async () => {
    const agent = new UserAgent();
    const callback = await untilCallback(agent, 'nguyen-van-an');
    const first = await agent.request(callback);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/account');
    const twice = await agent.request(callback);
    await expectFailurePage(twice, 'NIXA-ACC-expired', { status: 400 });
    await shownAgain(agent, 'NIXA-ACC-expired', 400);
    // The way forward works: a new sign-in starts, with a new cookie.
    const fresh = await agent.request(`${issuer}/account/sign-in`);
    expect(fresh.status).toBe(303);
    expect(fresh.headers.getSetCookie().some((c) => /^nixa_account_tx=[^;]+;/.test(c) && !/1970/.test(c))).toBe(true);
  });

  it('expired: after the sign-in’s cookie expired (the browser no longer sends it), the result is refused and the way back is the level and page asked for', async () => {
    const agent = new UserAgent();
    const auth = await start(agent, '?level=substantial&return=/account/activity');
    agent.dropCookie(new URL(issuer), 'nixa_account_tx');
    agent.dropCookie(new URL(issuer), 'nixa_account_tx.sig');
    const res = await agent.request(`${CALLBACK()}?code=whatever&state=${auth.searchParams.get('state')}`);
    // Nothing of the lost sign-in is known any more: a plain sign-in is offered.
    await expectFailurePage(res, 'NIXA-ACC-expired', { status: 400 });
  });

  it('state-mismatch: a callback with another state is refused, the state is not echoed, and the sign-in is spent', async () => {
    const agent = new UserAgent();
    const callback = await untilCallback(agent, 'le-hoang-cuong');
    const hostile = '"><script>alert(1)</script>';
    const crossed = new URL(callback);
    crossed.searchParams.set('state', hostile);
    const res = await agent.request(crossed);
    const html = await expectFailurePage(res, 'NIXA-ACC-state-mismatch', { status: 400 });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('alert(1)');
    await shownAgain(agent, 'NIXA-ACC-state-mismatch', 400);
    // No half state: the genuine callback after it finds no sign-in in progress.
    await expectFailurePage(await agent.request(callback), 'NIXA-ACC-expired', { status: 400 });
  });

  it('cancelled: the citizen cancels at nixa’s chooser (access_denied)', async () => {
    const agent = new UserAgent();
    const chooser = await agent.follow(await start(agent));
    const html = await chooser.res.text();
    const uid = new URL(chooser.url).pathname.split('/')[2]!;
    const back = await agent.submit(new URL(`/interaction/${uid}/abort`, issuer), { csrf: field(html, 'csrf')! }, CALLBACK());
    expect(new URL(back.stoppedAt!).searchParams.get('error')).toBe('access_denied');
    await expectFailurePage(await agent.request(back.stoppedAt!), 'NIXA-ACC-cancelled', { status: 400 });
    await shownAgain(agent, 'NIXA-ACC-cancelled', 400);
  });

  it.each([
    ['login_required', 'NIXA-ACC-login-required', 400],
    ['interaction_required', 'NIXA-ACC-login-required', 400],
    ['invalid_scope', 'NIXA-ACC-refused', 502],
    ['server_error', 'NIXA-ACC-issuer-unavailable', 503],
  ])('an error %s from nixa’s authorization endpoint is %s', async (error, code, status) => {
    const agent = new UserAgent();
    const state = (await start(agent)).searchParams.get('state')!;
    const res = await agent.request(`${CALLBACK()}?error=${error}&error_description=${encodeURIComponent('mô tả lỗi')}&state=${state}&iss=${encodeURIComponent(issuer)}`);
    const html = await expectFailurePage(res, code, { status });
    expect(html).not.toContain('mô tả lỗi');
    await shownAgain(agent, code, status);
  });

  it('never echoes a hostile error or description, and logs neither', async () => {
    const agent = new UserAgent();
    const state = (await start(agent)).searchParams.get('state')!;
    const q = new URLSearchParams({ error: '<img src=x onerror=alert(1)>', error_description: '<script>alert("x")</script>', state });
    const html = await expectFailurePage(await agent.request(`${CALLBACK()}?${q}`), 'NIXA-ACC-refused', { status: 502 });
    expect(html).not.toContain('onerror');
    expect(html).not.toContain('alert(');
    expect(JSON.stringify(logs.lines())).not.toContain('onerror');
  });

  it('token-exchange: a code nixa’s token endpoint refuses (invalid_grant) ends on a page, and the code is never logged', async () => {
    const agent = new UserAgent();
    const callback = await untilCallback(agent, 'pham-thi-dung');
    const code = callback.searchParams.get('code')!;
    const altered = new URL(callback);
    altered.searchParams.set('code', `${code.slice(0, -4)}AAAA`);
    await expectFailurePage(await agent.request(altered), 'NIXA-ACC-token-exchange', { status: 502 });
    await shownAgain(agent, 'NIXA-ACC-token-exchange', 502);
    const accountLines = logs.lines().filter((l) => l.component === 'account');
    expect(accountLines.some((l) => l.errorCode === 'NIXA-ACC-token-exchange' && /invalid_grant/.test(String(l.detail)))).toBe(true);
    expect(JSON.stringify(logs.lines())).not.toContain(code.slice(0, -4));
  });

  it('account-mismatch: the ID token names one citizen, the browser’s nixa session another', async () => {
    // Another citizen's nixa session finds its way into this browser before the callback.
    const other = new UserAgent();
    await other.follow(await untilCallback(other, 'tran-thi-binh'));
    const agent = new UserAgent();
    const callback = await untilCallback(agent, 'nguyen-van-an');
    const host = new URL(issuer);
    for (const name of ['_session', '_session.sig']) agent.setCookie(host, name, other.cookies.get(host.host)!.get(name)!);
    await expectFailurePage(await agent.request(callback), 'NIXA-ACC-account-mismatch', { status: 400 });
    await shownAgain(agent, 'NIXA-ACC-account-mismatch', 400);
  });

  it('account-mismatch: the browser lost nixa’s session cookie on the way back', async () => {
    const agent = new UserAgent();
    const callback = await untilCallback(agent, 'nguyen-van-an');
    agent.dropCookie(new URL(issuer), '_session');
    agent.dropCookie(new URL(issuer), '_session.sig');
    await expectFailurePage(await agent.request(callback), 'NIXA-ACC-account-mismatch', { status: 400 });
  });

  it('the page offers the sign-in again at the level and to the page the citizen was going to', async () => {
    const agent = new UserAgent();
    const state = (await start(agent, '?level=substantial&return=/account/activity')).searchParams.get('state')!;
    const res = await agent.request(`${CALLBACK()}?error=access_denied&state=${state}`);
    const html = await expectFailurePage(res, 'NIXA-ACC-cancelled', { status: 400, signIn: '/account/sign-in?level=substantial&return=%2Faccount%2Factivity' });
    const href = unescapeAmp(/<a class="button" href="([^"]+)">Đăng nhập lại/.exec(html)![1]!);
    const again = new URL((await agent.request(new URL(href, issuer))).headers.get('location')!);
    expect(again.searchParams.get('acr_values')).toBe(acrFor('substantial'));
  });
});

/**
 * A stand-in for nixa's own issuer, as the account's client sees it: discovery,
 * JWKS and a token endpoint whose answers a test chooses.
 */
class StandInIssuer {
  url = '';
  discovery: 'up' | 'down' = 'up';
  token: 'ok' | 'down' = 'ok';
  sub = 'tai-khoan-an';
  acr = acrFor('low');
  nonce = '';
  #server: Server | undefined;
  #key: Awaited<ReturnType<typeof jose.generateKeyPair>>['privateKey'] | undefined;
  #jwk: jose.JWK | undefined;

  async start(): Promise<void> {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
    this.#key = privateKey;
    this.#jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    this.#server = createServer((req, res) => void this.#answer(req.url ?? '/', res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async #answer(path: string, res: import('node:http').ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') {
      if (this.discovery === 'down') return json(503, { error: 'temporarily_unavailable' });
      return json(200, {
        issuer: this.url,
        authorization_endpoint: `${this.url}/auth`,
        token_endpoint: `${this.url}/token`,
        jwks_uri: `${this.url}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (path === '/jwks') return json(200, { keys: [this.#jwk] });
    if (path === '/token') {
      if (this.token === 'down') return json(503, { error: 'temporarily_unavailable' });
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new jose.SignJWT({ nonce: this.nonce, acr: this.acr })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(this.url)
        .setAudience('nixa-account')
        .setSubject(this.sub)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(this.#key!);
      return json(200, { access_token: 'at-stand-in', token_type: 'Bearer', expires_in: 300, id_token: idToken });
    }
    json(404, { error: 'not_found' });
  }

  close(): Promise<void> {
    return new Promise((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

describe('account sign-in failures, when nixa’s own issuer fails', () => {
  const stand = new StandInIssuer();
  let server: Server;
  let base: string;
  let signIn: AccountSignIn;
  const logs = capturingLogger();
  const SESSION_ACCOUNT = 'tai-khoan-an';

  const newSignIn = (issuer = stand.url) => {
    const client: AccountClient = { clientId: 'nixa-account', clientSecret: 'bi-mat-thu', redirectUri: `${base}/account/callback`, postLogoutRedirectUri: `${base}/` };
    return new AccountSignIn(issuer, client, logs.logger.child({ component: 'account' }));
  };

  beforeAll(async () => {
    await stand.start();
    const app = new Koa();
    app.keys = ['khoa-thu-nghiem'];
    app.use(async (ctx) => {
      if (ctx.path === '/account/sign-in') return signIn.start(ctx);
      if (ctx.path === '/account/callback') return signIn.callback(ctx, async () => SESSION_ACCOUNT);
      ctx.status = 404;
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    stand.discovery = 'up';
    stand.token = 'ok';
    stand.sub = SESSION_ACCOUNT;
    stand.acr = acrFor('low');
    signIn = newSignIn();
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await stand.close();
  });

  async function started(agent: UserAgent, query = ''): Promise<URL> {
    const res = await agent.request(`${base}/account/sign-in${query}`);
    expect(res.status).toBe(303);
    const auth = new URL(res.headers.get('location')!);
    stand.nonce = auth.searchParams.get('nonce')!;
    return auth;
  }

  it('signs in when everything answers (the stand-in is a fair one)', async () => {
    const agent = new UserAgent();
    const auth = await started(agent);
    const res = await agent.request(`${base}/account/callback?code=ma-thu&state=${auth.searchParams.get('state')}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account');
    expect(pendingCleared(res)).toBe(true);
  });

  it('issuer-unavailable: discovery fails when the sign-in starts; no redirect, no sign-in left half-started', async () => {
    stand.discovery = 'down';
    const agent = new UserAgent();
    const res = await agent.request(`${base}/account/sign-in?level=substantial`);
    // No language middleware in this stand-in app: the switch is checked on nixa's pages.
    await expectFailurePage(res, 'NIXA-ACC-issuer-unavailable', { status: 503, signIn: '/account/sign-in?level=substantial', language: false });
  });

  it('issuer-unavailable: nixa’s issuer is unreachable (nothing listens)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    signIn = newSignIn(`http://127.0.0.1:${port}`);
    await expectFailurePage(await new UserAgent().request(`${base}/account/sign-in`), 'NIXA-ACC-issuer-unavailable', { status: 503, language: false });
  });

  it('issuer-unavailable: discovery fails when the citizen comes back (nixa restarted meanwhile)', async () => {
    const agent = new UserAgent();
    const auth = await started(agent);
    signIn = newSignIn(); // a fresh instance: nothing cached
    stand.discovery = 'down';
    const res = await agent.request(`${base}/account/callback?code=ma-thu&state=${auth.searchParams.get('state')}`);
    await expectFailurePage(res, 'NIXA-ACC-issuer-unavailable', { status: 503, language: false });
  });

  it('token-exchange: the token endpoint does not answer', async () => {
    const agent = new UserAgent();
    const auth = await started(agent);
    stand.token = 'down';
    const res = await agent.request(`${base}/account/callback?code=ma-thu-bi-mat&state=${auth.searchParams.get('state')}`);
    await expectFailurePage(res, 'NIXA-ACC-token-exchange', { status: 502, language: false });
    expect(JSON.stringify(logs.lines())).not.toContain('ma-thu-bi-mat');
  });

  it('token-exchange: an ID token with another nonce does not verify', async () => {
    const agent = new UserAgent();
    const auth = await started(agent);
    stand.nonce = 'nonce-khac';
    const res = await agent.request(`${base}/account/callback?code=ma-thu&state=${auth.searchParams.get('state')}`);
    await expectFailurePage(res, 'NIXA-ACC-token-exchange', { status: 502, language: false });
    expect(JSON.stringify(logs.lines())).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('account-mismatch: the ID token names another account than the session', async () => {
    const agent = new UserAgent();
    const auth = await started(agent);
    stand.sub = 'tai-khoan-khac';
    const res = await agent.request(`${base}/account/callback?code=ma-thu&state=${auth.searchParams.get('state')}`);
    await expectFailurePage(res, 'NIXA-ACC-account-mismatch', { status: 400, language: false });
  });

  it('insufficient-level: the sign-in reached less than the account action asked for; the way forward asks that level again', async () => {
    const agent = new UserAgent();
    const auth = await started(agent, '?level=substantial&return=/account/activity');
    const res = await agent.request(`${base}/account/callback?code=ma-thu&state=${auth.searchParams.get('state')}`);
    await expectFailurePage(res, 'NIXA-ACC-insufficient-level', { status: 403, signIn: '/account/sign-in?level=substantial&return=%2Faccount%2Factivity', language: false });
  });
});
