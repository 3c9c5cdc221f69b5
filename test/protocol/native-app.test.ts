// A native app (RFC 8252) as a relying party, with openid-client v6: it listens on
// the loopback interface on a port the system picks, sends the citizen through
// nixa's test login, receives the code on that listener and redeems it without a
// secret, with PKCE. Its loopback redirect matches on any port, nothing else does.
import { createServer, type Server } from 'node:http';

import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { addClient } from '../../src/clients/index.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT_PATH = '/oauth2redirect';
const PRIVATE_USE = 'vn.gov.dichvucong.app:/oauth2redirect';

let tdb: TestDatabase;
let nixa: Nixa;
let app: TestClient;
let config: oidc.Configuration;

/** The app's loopback listener: what reached it, and the redirect URI with its port. */
interface Loopback {
  port: number;
  redirectUri: string;
  received: URL[];
  close(): Promise<void>;
}

const listeners: Server[] = [];

async function loopback(): Promise<Loopback> {
  const received: URL[] = [];
  const server = createServer((req, res) => {
    received.push(new URL(req.url!, 'http://127.0.0.1'));
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Đăng nhập xong, bạn có thể đóng cửa sổ này. / Signed in, you may close this window.');
  });
  listeners.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    redirectUri: `http://127.0.0.1:${port}${REDIRECT_PATH}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  // Registered without a port, as RFC 8252 §7.3 has it: the app picks one at run time.
  app = await registerTestClient(tdb.db, {
    name: 'Ứng dụng Dịch vụ công',
    application_type: 'native',
    redirect_uris: [`http://127.0.0.1${REDIRECT_PATH}`, PRIVATE_USE],
    post_logout_redirect_uris: [],
  });
  config = await discover(nixa.config.issuer, app);
});

afterAll(async () => {
  for (const s of listeners) s.closeAllConnections();
  await Promise.all(listeners.map((s) => new Promise((resolve) => s.close(resolve))));
  await nixa?.close();
  await tdb?.drop();
});

interface Request {
  verifier: string;
  state: string;
  nonce: string;
  url: URL;
}

async function authorizationRequest(redirectUri: string, extra: Record<string, string> = {}): Promise<Request> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  for (const [k, v] of Object.entries(extra)) if (v === '') url.searchParams.delete(k);
  return { verifier, state, nonce, url };
}

/** As the system browser: follows nixa's redirects, signs in with the test login, and lands wherever nixa sends it. */
async function browse(url: URL, agent = new UserAgent()): Promise<{ res: Response; url: string }> {
  let step = await agent.follow(url);
  if (step.url.startsWith(nixa.config.issuer) && step.res.status === 200) {
    const html = await step.res.text();
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(html)?.[1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !csrf) throw new Error(`expected the test login page, got: ${html.slice(0, 300)}`);
    step = await agent.submit(new URL(action, step.url), { account: 'nguyen-thi-lan', csrf });
  }
  return step;
}

describe('a native app with a loopback redirect', () => {
  it('receives the code on its ephemeral port and redeems it with PKCE and no secret', async () => {
    const lo = await loopback();
    const r = await authorizationRequest(lo.redirectUri);

    const landed = await browse(r.url);
    expect(landed.res.status).toBe(200);
    expect(landed.url.startsWith(lo.redirectUri)).toBe(true);
    expect(lo.received).toHaveLength(1);
    const callback = lo.received[0]!;
    expect(callback.pathname).toBe(REDIRECT_PATH);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));

    // openid-client sends no secret for a None() client: the code and the PKCE verifier are all there is.
    const currentUrl = new URL(`${lo.redirectUri}${callback.search}`);
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: nixa.config.issuer, aud: app.clientId, sub: 'nguyen-thi-lan', nonce: r.nonce });
    expect((await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)).sub).toBe('nguyen-thi-lan');
    await lo.close();
  });

  it('matches the registered loopback URI on any port, a port that was not free before included', async () => {
    const first = await loopback();
    const second = await loopback();
    expect(second.port).not.toBe(first.port);
    for (const lo of [second, first]) {
      const r = await authorizationRequest(lo.redirectUri);
      const landed = await browse(r.url);
      expect(landed.url.startsWith(lo.redirectUri)).toBe(true);
      const currentUrl = new URL(`${lo.redirectUri}${lo.received[0]!.search}`);
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
      expect(tokens.claims()!.sub).toBe('nguyen-thi-lan');
    }
  });

  it('signs in through a private-use scheme, matched exactly', async () => {
    const s = await signIn(config, { ...app, redirectUri: PRIVATE_USE }, { account: 'tran-van-binh' });
    expect(s.callbackUrl.protocol).toBe('vn.gov.dichvucong.app:');
    expect((await redeem(config, s)).claims()!.sub).toBe('tran-van-binh');
  });

  it.each([
    ['another path', (port: number) => `http://127.0.0.1:${port}/other`],
    ['a path below it', (port: number) => `http://127.0.0.1:${port}${REDIRECT_PATH}/more`],
    ['localhost for the host', (port: number) => `http://localhost:${port}${REDIRECT_PATH}`],
    ['the other loopback address', (port: number) => `http://[::1]:${port}${REDIRECT_PATH}`],
    ['https', (port: number) => `https://127.0.0.1:${port}${REDIRECT_PATH}`],
    ['a user name', (port: number) => `http://app@127.0.0.1:${port}${REDIRECT_PATH}`],
    ['a query', (port: number) => `http://127.0.0.1:${port}${REDIRECT_PATH}?next=/admin`],
    ['a fragment', (port: number) => `http://127.0.0.1:${port}${REDIRECT_PATH}#x`],
    ['the port written twice', (port: number) => `http://127.0.0.1:${port}:${port}${REDIRECT_PATH}`],
    ['an unregistered private-use scheme', () => 'vn.gov.khac.app:/oauth2redirect'],
    ['a private-use scheme with another path', () => 'vn.gov.dichvucong.app:/other'],
  ])('refuses a redirect URI that differs by %s, with the error page and no redirect', async (_, variant) => {
    const lo = await loopback();
    const r = await authorizationRequest(variant(lo.port));
    const res = await fetch(r.url, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('invalid_redirect_uri');
    expect(lo.received).toHaveLength(0);
    await lo.close();
  });

  it.each([
    ['without PKCE', { code_challenge: '', code_challenge_method: '' }, /PKCE/],
    ['with the plain PKCE method', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, /code_challenge_method/],
  ])('refuses a request %s, answering invalid_request on the loopback', async (_, extra, description) => {
    const lo = await loopback();
    const r = await authorizationRequest(lo.redirectUri, extra);
    const landed = await browse(r.url);
    expect(landed.url.startsWith(lo.redirectUri)).toBe(true);
    expect(lo.received).toHaveLength(1);
    const answer = lo.received[0]!.searchParams;
    expect(answer.get('error')).toBe('invalid_request');
    expect(answer.get('error_description')).toMatch(description);
    expect(answer.get('code')).toBeNull();
    await lo.close();
  });

  it('refuses a client secret at the token endpoint: a native app is a public client', async () => {
    const lo = await loopback();
    const r = await authorizationRequest(lo.redirectUri);
    await browse(r.url);
    const currentUrl = new URL(`${lo.redirectUri}${lo.received[0]!.search}`);
    const withSecret = await discover(nixa.config.issuer, { ...app, secret: 'a-secret-copied-out-of-the-app' });
    await expect(
      oidc.authorizationCodeGrant(withSecret, currentUrl, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce }),
    ).rejects.toMatchObject({
      // 401 with WWW-Authenticate: Basic error="invalid_client"
      response: { status: 401 },
      cause: [expect.objectContaining({ scheme: 'basic', parameters: expect.objectContaining({ error: 'invalid_client' }) })],
    });
    await lo.close();
  });
});

describe('a request that does not prove which app sends it (RFC 8252 §8.6)', () => {
  /** The second request from a browser already signed in, which agreed before: where it lands. */
  async function secondRequest(agent: UserAgent, url: URL, stopAt: string) {
    return agent.follow(url, {}, stopAt);
  }

  it('shows the consent page again to a citizen already signed in, for a loopback or private-use redirect, and the code comes only after they agree', async () => {
    const agent = new UserAgent();
    const lo = await loopback();
    await browse((await authorizationRequest(lo.redirectUri)).url, agent);
    expect(lo.received).toHaveLength(1);

    // Any program on the device can listen on a loopback port: same client_id, its own PKCE.
    const r = await authorizationRequest(lo.redirectUri);
    const step = await secondRequest(agent, r.url, lo.redirectUri);
    expect(step.stoppedAt).toBeUndefined();
    expect(step.res.status).toBe(200);
    const html = await step.res.text();
    const action = /action="(\/interaction\/[^"]+\/consent)"/.exec(html)?.[1];
    expect(action).toBeDefined();
    expect(lo.received).toHaveLength(1);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const shown = /name="shown" value="([^"]*)"/.exec(html)?.[1] ?? '';
    const agreed = await agent.submit(new URL(action!, step.url), { csrf, shown, decision: 'accept' });
    expect(agreed.url.startsWith(lo.redirectUri)).toBe(true);
    expect(lo.received).toHaveLength(2);
    expect(lo.received[1]!.searchParams.get('code')).toEqual(expect.any(String));

    const viaScheme = await authorizationRequest(PRIVATE_USE);
    const schemeStep = await secondRequest(agent, viaScheme.url, PRIVATE_USE);
    expect(schemeStep.stoppedAt).toBeUndefined();
    expect(await schemeStep.res.text()).toMatch(/action="\/interaction\/[^"]+\/consent"/);
    await lo.close();
  });

  it('lets a claimed https redirect of a native app, and a web client, through on what was agreed before', async () => {
    const claimed = 'https://app.dichvucong.gov.vn/oauth2redirect';
    const phoneApp = await registerTestClient(tdb.db, { name: 'Ứng dụng có tên miền', application_type: 'native', redirect_uris: [claimed], post_logout_redirect_uris: [] });
    const web = await registerTestClient(tdb.db);
    for (const client of [phoneApp, web]) {
      const cfg = await discover(nixa.config.issuer, client);
      const agent = new UserAgent();
      const first = await signIn(cfg, client, { account: 'le-thi-hoa', agent });
      expect(first.callbackUrl.searchParams.get('code')).toEqual(expect.any(String));
      const url = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: client.redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
      });
      const step = await secondRequest(agent, url, client.redirectUri);
      expect(step.stoppedAt).toBeDefined();
      expect(new URL(step.stoppedAt!).searchParams.get('code')).toEqual(expect.any(String));
    }
  });
});

describe('web clients keep exact matching', () => {
  it('refuses another port on a loopback redirect URI of a web client', async () => {
    const web = await registerTestClient(tdb.db, { redirect_uris: ['http://127.0.0.1:41234/callback'] });
    const webConfig = await discover(nixa.config.issuer, web);
    const url = oidc.buildAuthorizationUrl(webConfig, {
      redirect_uri: 'http://127.0.0.1:41235/callback',
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const res = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('registering a native app', () => {
  const opts = { allowHttpLoopback: false };
  const base = { name: 'Ứng dụng VNeID thử nghiệm', application_type: 'native' };

  it('issues no secret and keeps the type', async () => {
    const { client, secret } = await addClient(tdb.db, { ...base, redirect_uris: ['https://vneid.gov.vn/app/callback'] }, 'test', opts);
    expect(secret).toBeUndefined();
    expect(client).toMatchObject({ applicationType: 'native', tokenEndpointAuthMethod: 'none' });
    const { rows } = await tdb.db.query<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE client_id = $1', [client.clientId]);
    expect(rows[0]!.secret_hash).toBeNull();
  });

  it.each([
    ['myapp://callback', 'redirect_uris[0]'],
    ['http://localhost:8080/callback', 'redirect_uris[0]'],
  ])('refuses %s, naming %s, and writes nothing', async (uri, field) => {
    const before = (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM clients')).rows[0]!.n;
    await expect(addClient(tdb.db, { ...base, redirect_uris: [uri] }, 'test', opts)).rejects.toEqual(expect.objectContaining({ field }));
    await expect(addClient(tdb.db, { ...base, redirect_uris: [uri] }, 'test', opts)).rejects.toBeInstanceOf(InvalidInputError);
    expect((await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM clients')).rows[0]!.n).toBe(before);
  });
});
