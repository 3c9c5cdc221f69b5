// The HTTP edge under hostile input: a NUL byte in any parameter, a form posted
// from another site, a forged Host header, and error answers' headers. Each case
// gets the standard answer for its caller (OAuth error for a service, plain page
// for a citizen, a JSON error naming the field for an operator), never a 500.
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import * as oidc from 'openid-client';

import { isCrossSite } from '../../src/app/edge.js';
import type { Nixa } from '../../src/app/index.js';
import { addClient } from '../../src/clients/index.js';
import { fieldWithControlCharacter } from '../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { capturingLogger, startTestNixa } from '../support/nixa.js';
import { discover, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

const NUL = '\u0000';

let tdb: TestDatabase;
let nixa: Nixa;
let issuer: string;
let service: TestClient;
let log: ReturnType<typeof capturingLogger>;

beforeAll(async () => {
  tdb = await createTestDatabase();
  log = capturingLogger();
  nixa = await startTestNixa(tdb.db, {}, { logger: log.logger });
  issuer = nixa.config.issuer;
  service = await registerTestClient(tdb.db);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

/** Lines logged at error level or carrying a stack trace since `from`. */
const troubleSince = (from: number) =>
  log
    .lines()
    .slice(from)
    .filter((l) => (l.level as number) >= 50 || JSON.stringify(l).includes('"stack"'));

const challenge = () => oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
const basic = (c: TestClient) => `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.secret!)}`).toString('base64')}`;

async function authParams(): Promise<Record<string, string>> {
  return {
    client_id: service.clientId,
    redirect_uri: service.redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: 'trang-thai',
    nonce: 'so-dung-mot-lan',
    code_challenge: await challenge(),
    code_challenge_method: 'S256',
  };
}

async function authorize(params: Record<string, string>, agent = new UserAgent()) {
  const url = new URL(`${issuer}/auth`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return agent.request(url, { headers: { accept: 'text/html' } });
}

/** A started sign-in at the test login page: its uid, form token and the browser holding it. */
async function startInteraction() {
  const agent = new UserAgent();
  const { res, url } = await agent.follow(`${issuer}/auth?${new URLSearchParams(await authParams())}`);
  const html = await res.text();
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(url)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  return { agent, uid, csrf };
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
});

function expectPlainPage(res: Response, html: string) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  expect(html).toContain('lang="vi"');
  expect(html).not.toMatch(/at \w+ \(|node:internal|\/src\//);
}

describe('the rules', () => {
  const own = ['https://id.example.vn'];
  it.each([
    [{}, false],
    [{ origin: 'https://id.example.vn' }, false],
    [{ origin: 'null' }, false],
    [{ origin: 'null', secFetchSite: 'same-origin' }, false],
    [{ secFetchSite: 'none' }, false],
    [{ origin: 'https://evil.example' }, true],
    [{ origin: 'https://id.example.vn.evil.example' }, true],
    [{ origin: 'http://id.example.vn' }, true],
    [{ secFetchSite: 'cross-site' }, true],
    [{ secFetchSite: 'same-site', origin: 'https://dichvucong.example.vn' }, true],
    [{ secFetchSite: 'same-origin', origin: 'https://evil.example' }, true],
  ])('a form post with %j is cross-site: %s', (headers, expected) => {
    expect(isCrossSite(headers, own)).toBe(expected);
  });

  it.each([
    [{ reason: 'Xoay khóa\nđịnh kỳ\thằng tháng\r\n' }, undefined],
    [{ reason: 'a\u0000' }, 'reason'],
    [{ reason: 'a\u001b[31m' }, 'reason'],
    [{ reason: 'a\u007f' }, 'reason'],
    [{ ids: ['a', 'b\u0000'] }, 'ids'],
    [{ extra: { note: 'x\u0001' } }, 'extra.note'],
    [{ list: [{ a: 'ok' }, { a: '\u0000' }] }, 'list.1.a'],
    [{ ['na\u0000me']: 'x' }, '(name)'],
  ])('in %j the field with a control character is %s', (value, field) => {
    expect(fieldWithControlCharacter(value)).toBe(field);
  });
});

describe('a NUL byte in a parameter', () => {
  describe('at the authorization endpoint', () => {
    it('in client_id: a plain page, never a redirect', async () => {
      const from = log.lines().length;
      const res = await authorize({ ...(await authParams()), client_id: `${service.clientId}${NUL}` });
      const html = await res.text();
      expectPlainPage(res, html);
      expect(res.headers.get('location')).toBeNull();
      expect(html).toContain('invalid_request');
      expect(troubleSince(from)).toEqual([]);
    });

    it('in redirect_uri: a plain page, never a redirect', async () => {
      const from = log.lines().length;
      const res = await authorize({ ...(await authParams()), redirect_uri: `${service.redirectUri}${NUL}` });
      const html = await res.text();
      expectPlainPage(res, html);
      expect(res.headers.get('location')).toBeNull();
      expect(troubleSince(from)).toEqual([]);
    });

    it.each(['state', 'nonce', 'acr_values', 'login_hint', 'idp_hint', 'ui_locales', 'claims_locales', 'scope', 'prompt', 'max_age', 'response_mode', 'code_challenge'])(
      'in %s: invalid_request at the registered redirect URI, nothing stored',
      async (param) => {
        const from = log.lines().length;
        const before = (await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'Interaction'")).rows[0]!.n;
        const params = await authParams();
        const res = await authorize({ ...params, [param]: `${params[param] ?? 'x'}${NUL}` });
        expect(res.status).toBeLessThan(500);
        const location = res.headers.get('location');
        if (res.status === 303 && location) {
          const to = new URL(location);
          expect(`${to.origin}${to.pathname}`).toBe(service.redirectUri);
          expect(to.searchParams.get('error')).toMatch(/^invalid_request|unsupported_response_mode|invalid_scope$/);
        } else {
          expectPlainPage(res, await res.text());
        }
        if (['state', 'nonce', 'acr_values', 'login_hint', 'idp_hint'].includes(param)) {
          expect(res.status).toBe(303);
          expect(new URL(location!).searchParams.get('error')).toBe('invalid_request');
          expect(new URL(location!).searchParams.get('state')).toBe(param === 'state' ? `trang-thai${NUL}` : 'trang-thai');
        }
        const after = (await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'Interaction'")).rows[0]!.n;
        expect(after).toBe(before);
        expect(troubleSince(from)).toEqual([]);
      },
    );

    it('in the uid of a resumed authorization: a plain page', async () => {
      const from = log.lines().length;
      const res = await new UserAgent().request(`${issuer}/auth/abc%00def`, { headers: { accept: 'text/html' } });
      expectPlainPage(res, await res.text());
      expect(troubleSince(from)).toEqual([]);
    });
  });

  describe('at the endpoints services call', () => {
    const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${issuer}${path}`, {
        method: 'POST',
        body: new URLSearchParams(fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(service), ...headers },
      });

    it.each([
      ['/token', { grant_type: 'authorization_code', code: `abc${NUL}`, redirect_uri: 'R', code_verifier: 'v'.repeat(43) }],
      ['/token', { grant_type: 'refresh_token', refresh_token: `abc${NUL}` }],
      ['/token/introspection', { token: `abc${NUL}` }],
      ['/token/revocation', { token: `abc${NUL}` }],
      ['/token/introspection', { token: `abc${NUL}`, token_type_hint: 'refresh_token' }],
      ['/token/revocation', { token: `abc${NUL}`, token_type_hint: 'access_token' }],
    ] as [string, Record<string, string>][])('%s %j answers 400 invalid_request in JSON', async (path, fields) => {
      const from = log.lines().length;
      const body = { ...fields, ...(fields.redirect_uri ? { redirect_uri: service.redirectUri } : {}) };
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
      expect(troubleSince(from)).toEqual([]);
    });

    it('at /token, a NUL in client_id answers a client authentication error, not 500', async () => {
      const from = log.lines().length;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: `a${NUL}` }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
      expect(troubleSince(from)).toEqual([]);
    });

    it('at userinfo, an access_token with NUL answers 400 invalid_request with WWW-Authenticate', async () => {
      const from = log.lines().length;
      const res = await fetch(`${issuer}/me`, {
        method: 'POST',
        body: new URLSearchParams({ access_token: `abc${NUL}` }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_request"/);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
      expect(troubleSince(from)).toEqual([]);
    });

    it.each(['client_id', 'state', 'post_logout_redirect_uri', 'id_token_hint', 'logout_hint', 'ui_locales'])(
      'at the end-session endpoint, a NUL in %s answers a plain page',
      async (param) => {
        const from = log.lines().length;
        const url = new URL(`${issuer}/session/end`);
        url.searchParams.set('client_id', service.clientId);
        url.searchParams.set(param, `x${NUL}`);
        const res = await new UserAgent().request(url, { headers: { accept: 'text/html' } });
        expect(res.status).toBeLessThan(500);
        const html = await res.text();
        if (res.status >= 400) expectPlainPage(res, html);
        if (param === 'client_id' || param === 'state') expect(html).toContain('invalid_request');
        expect(troubleSince(from)).toEqual([]);
      },
    );
  });

  describe("on nixa's own pages", () => {
    it.each([
      ['/federation/callback?state=abc%00&code=x'],
      ['/federation/callback?state=abc&code=x%00'],
      ['/federation/signed-out?state=abc%00'],
      ['/interaction/abc%00'],
      ['/account?x=%00'],
      ['/console/login?return=%2Fconsole%00'],
      ['/console/callback?state=abc%00&code=x'],
      ['/console/audit?actor=%00'],
    ])('GET %s answers a plain page', async (path) => {
      const from = log.lines().length;
      const res = await new UserAgent().request(`${issuer}${path}`, { headers: { accept: 'text/html' } });
      expectPlainPage(res, await res.text());
      expect(troubleSince(from)).toEqual([]);
    });

    it.each([
      ['login', { account: `test-citizen-1${NUL}` }],
      ['login', { account: 'test-citizen-1', extra: `x${NUL}` }],
      ['source', { source: `citizen_id${NUL}` }],
      ['code', { method: 'totp', code: `123456${NUL}` }],
      ['abort', { reason: NUL }],
    ])('POST /interaction/:uid/%s with %j answers a plain page and leaves the sign-in unfinished', async (action, fields) => {
      const { agent, uid, csrf } = await startInteraction();
      const from = log.lines().length;
      const res = await agent.request(`${issuer}/interaction/${uid}/${action}`, form({ csrf, ...fields }));
      expectPlainPage(res, await res.text());
      expect(res.headers.get('location')).toBeNull();
      expect(troubleSince(from)).toEqual([]);
      const { rows } = await tdb.db.query<{ result: unknown }>("SELECT payload->'result' AS result FROM oidc_payloads WHERE model = 'Interaction' AND id = $1", [uid]);
      expect(rows[0]?.result ?? null).toBeNull();
    });

    it('a NUL in the form token itself answers a plain page', async () => {
      const { agent, uid } = await startInteraction();
      const res = await agent.request(`${issuer}/interaction/${uid}/login`, form({ csrf: `x${NUL}`, account: 'test-citizen-1' }));
      expectPlainPage(res, await res.text());
    });

    it.each(['/account/totp/remove', '/account/recovery-codes', '/console/logout', '/console/keys/rotate'])('POST %s with a NUL answers a plain page', async (path) => {
      const from = log.lines().length;
      const res = await new UserAgent().request(`${issuer}${path}`, form({ csrf: `x${NUL}`, reason: `Xoay khóa định kỳ${NUL}` }));
      expectPlainPage(res, await res.text());
      expect(troubleSince(from)).toEqual([]);
    });
  });

  describe('at the admin API', () => {
    let machine: string;
    beforeAll(async () => {
      const { secret } = await addClient(
        tdb.db,
        { client_id: 'may-kiem-tra-bien', name: 'Máy kiểm tra biên', grant_types: ['client_credentials'], scope: 'admin:keys:write admin:keys:read admin:audit:read admin:accounts:read' },
        'test',
        { allowHttpLoopback: true },
      );
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`may-kiem-tra-bien:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin:keys:write admin:keys:read admin:audit:read admin:accounts:read' }),
      });
      machine = ((await res.json()) as { access_token: string }).access_token;
      expect(machine).toBeTruthy();
    });

    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${issuer}/admin/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${machine}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });

    it('a reason with NUL answers 400 naming the field, and nothing changes', async () => {
      const from = log.lines().length;
      const keys = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM keys')).rows[0]!.n;
      const audit = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0]!.n;
      const [k0, a0] = [await keys(), await audit()];
      const res = await call('POST', '/keys/rotate', { reason: `Xoay khóa định kỳ hằng tháng${NUL}` });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'NIXA-INP-001', field: 'reason' });
      expect([await keys(), await audit()]).toEqual([k0, a0]);
      expect(troubleSince(from)).toEqual([]);
    });

    it('a NUL nested in the body names the field by its path', async () => {
      const res = await call('POST', '/accounts/lookup', { national_id: '001085004217', reason: 'Kiểm tra theo yêu cầu của công dân', extra: { note: `a${NUL}` } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'NIXA-INP-001', field: 'extra.note' });
    });

    it('a NUL in a query parameter answers 400 naming it', async () => {
      const from = log.lines().length;
      const res = await call('GET', '/audit/events?actor=abc%00');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'NIXA-INP-001', field: 'actor' });
      expect(troubleSince(from)).toEqual([]);
    });
  });
});

describe('security headers on every answer', () => {
  const expectHeaders = (res: Response) => {
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
  };

  it('on a refused form token', async () => {
    const { agent, uid } = await startInteraction();
    const res = await agent.request(`${issuer}/interaction/${uid}/login`, form({ csrf: 'gia-mao', account: 'test-citizen-1' }));
    expect(res.status).toBe(400);
    expectHeaders(res);
  });

  it('on a page that does not exist', async () => {
    const res = await fetch(`${issuer}/khong-co-trang-nay`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    expectHeaders(res);
  });

  it('on an error thrown inside a route (an interaction that is not this browser’s)', async () => {
    const res = await fetch(`${issuer}/interaction/khong-ton-tai`, { headers: { accept: 'text/html' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expectHeaders(res);
  });

  it("while a service's form_post answer may still run its one inline script (its hash in script-src)", async () => {
    const agent = new UserAgent();
    const params = { ...(await authParams()), response_mode: 'form_post' };
    const start = await agent.follow(`${issuer}/auth?${new URLSearchParams(params)}`);
    const html = await start.res.text();
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const { res } = await agent.submit(new URL(action, start.url), { account: 'test-citizen-1', csrf });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain(`action="${service.redirectUri}"`);
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)![1]!;
    const digest = createHash('sha256').update(script).digest('base64');
    expect(res.headers.get('content-security-policy')).toContain(`'sha256-${digest}'`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('on an admin API error', async () => {
    const res = await fetch(`${issuer}/admin/api/v1/me`);
    expect(res.status).toBe(401);
    expectHeaders(res);
  });
});

describe('form posts from another site', () => {
  it.each([
    ['Origin: https://evil.example', { origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'null' }],
  ])('are refused at the interaction with %s (403, a plain page, nothing done)', async (_, headers) => {
    const { agent, uid, csrf } = await startInteraction();
    const res = await agent.request(`${issuer}/interaction/${uid}/login`, form({ csrf, account: 'test-citizen-1' }, headers));
    expect(res.status).toBe(403);
    const html = await res.text();
    expectPlainPage(res, html);
    expect(html).toContain('NIXA-CSRF-001');
    const { rows } = await tdb.db.query<{ result: unknown }>("SELECT payload->'result' AS result FROM oidc_payloads WHERE model = 'Interaction' AND id = $1", [uid]);
    expect(rows[0]?.result ?? null).toBeNull();
  });

  it.each(['/account/totp/remove', '/console/logout', '/console/keys/rotate', '/session/end/confirm', '/device'])('are refused at %s', async (path) => {
    const res = await new UserAgent().request(`${issuer}${path}`, form({ csrf: 'x' }, { origin: 'https://evil.example' }));
    expect(res.status).toBe(403);
    expectPlainPage(res, await res.text());
  });

  it.each([
    ['the same origin', (o: string) => ({ origin: o, 'sec-fetch-site': 'same-origin' })],
    // Nixa's pages send Referrer-Policy: no-referrer, under which browsers send
    // "Origin: null" with a form post even from nixa's own page.
    ['Origin: null from a same-origin page', () => ({ origin: 'null', 'sec-fetch-site': 'same-origin' })],
    ['no Origin at all (an older browser)', () => ({})],
  ])('are accepted from %s', async (_, headersOf) => {
    const { agent, uid, csrf } = await startInteraction();
    const res = await agent.request(`${issuer}/interaction/${uid}/login`, form({ csrf, account: 'test-citizen-1' }, headersOf(new URL(issuer).origin)));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain(`/auth/${uid}`);
  });

  it('do not stop a service sending the citizen to sign in, nor a browser-based service calling /token', async () => {
    const res = await new UserAgent().request(`${issuer}/auth?${new URLSearchParams(await authParams())}`, {
      headers: { accept: 'text/html', 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/interaction\//);
    const s = await signIn(await discover(issuer, service), service);
    expect(s.callbackUrl.searchParams.get('code')).toBeTruthy();
    // A single-page service posts to /token from its own origin (CORS): its errors are OAuth's, not a refusal.
    const token = await fetch(`${issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'khong-hop-le', redirect_uri: service.redirectUri, code_verifier: 'v'.repeat(43) }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(service), origin: 'https://dichvucong.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(token.status).toBe(400);
    expect(((await token.json()) as { error: string }).error).toMatch(/^invalid_(grant|request)$/);
  });
});

describe('the discovery document', () => {
  function rawGet(path: string, headers: Record<string, string>, port = Number(new URL(issuer).port)) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers, setHost: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  const endpointsOf = (body: string) => {
    const doc = JSON.parse(body) as Record<string, unknown>;
    return Object.entries(doc).filter(([k, v]) => (k.endsWith('_endpoint') || k === 'jwks_uri' || k === 'issuer') && typeof v === 'string') as [string, string][];
  };

  it.each([
    ['Host: evil.example', '/.well-known/openid-configuration', { host: 'evil.example' }],
    ['an absolute request target', 'http://evil.example/.well-known/openid-configuration', { host: 'evil.example' }],
    ['X-Forwarded-Host without NIXA_TRUST_PROXY', '/.well-known/openid-configuration', { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }],
  ])('lists the configured issuer’s endpoints whatever the request says (%s)', async (_, path, headers) => {
    const res = await rawGet(path, headers);
    expect(res.status).toBe(200);
    const endpoints = endpointsOf(res.body);
    expect(endpoints.length).toBeGreaterThan(5);
    for (const [, url] of endpoints) expect(url.startsWith(`${issuer}/`) || url === issuer).toBe(true);
  });

  it('behind a trusted proxy, forwarded host and scheme do not change the endpoints either', async () => {
    const proxied = await startTestNixa(tdb.db, { NIXA_TRUST_PROXY: 'true' });
    try {
      const port = Number(new URL(proxied.config.issuer).port);
      const res = await rawGet('/.well-known/openid-configuration', { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }, port);
      for (const [, url] of endpointsOf(res.body)) expect(url.startsWith(`${proxied.config.issuer}/`) || url === proxied.config.issuer).toBe(true);
      expect(proxied.host.provider.proxy).toBe(true);
      expect(nixa.host.provider.proxy).toBe(false);
    } finally {
      await proxied.close();
    }
  });
});
