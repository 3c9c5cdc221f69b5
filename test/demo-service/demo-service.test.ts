// The demo public service (src/demo-service) signing a citizen in with a real
// nixa on a test database, walked with a cookie-keeping browser.
import { decodeJwt } from 'jose';

import type { Nixa } from '../../src/app/index.js';
import { addClient } from '../../src/clients/index.js';
import { seedDemo, type DemoCredentials } from '../../src/app/demo.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, startTestNixa } from '../support/nixa.js';
import { keyPair } from '../support/fapi.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let nixa: Nixa;
let creds: DemoCredentials;
let demo: DemoService;

beforeAll(async () => {
  tdb = await createTestDatabase();
  // The store named, so that the pushed request can be read back from it (whatever NIXA_TEST_REDIS_URL says).
  nixa = await startTestNixa(tdb.db, { NIXA_SHORT_LIVED_STORE: 'postgres' });
  // Register the demo client exactly as `npm start` does: seedDemo names the
  // origin http://localhost:(PORT+100), so pretend nixa's PORT is 100 below a free port.
  const demoPort = await freePort();
  creds = await seedDemo(tdb.db, { ...nixa.config, port: demoPort - 100 }, silentLogger);
  demo = await startDemoService({ issuer: nixa.config.issuer, credentials: creds, port: demoPort, host: '127.0.0.1', logger: silentLogger });
});

afterAll(async () => {
  await demo?.close();
  await nixa?.close();
  await tdb?.drop();
});

function main(html: string): string {
  return /<main[^>]*>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html;
}

function decodeCookie(value: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Home → "Đăng nhập với nixa" → nixa's test login page. Returns that page's form actions. */
async function startSignIn(agent: UserAgent) {
  const home = await agent.request(`${demo.url}/`);
  expect(home.status).toBe(200);
  expect(await home.text()).toContain('href="/login"');
  const step = await agent.follow(`${demo.url}/login`);
  const html = await step.res.text();
  expect(step.url.startsWith(nixa.config.issuer)).toBe(true);
  const login = /action="(\/interaction\/[^"]+\/login)"/.exec(html)?.[1];
  const abort = /action="(\/interaction\/[^"]+\/abort)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!login || !abort || !csrf) throw new Error(`expected nixa's test login page, got ${step.res.status}: ${html.slice(0, 300)}`);
  return { login: new URL(login, step.url), abort: new URL(abort, step.url), csrf };
}

/** A whole sign-in through the demo; ends on the demo's signed-in page. */
async function signInThroughDemo(agent: UserAgent, account = 'nguyen-van-an') {
  const { login, csrf } = await startSignIn(agent);
  const done = await agent.submit(login, { account, csrf });
  expect(done.url).toBe(`${demo.url}/`);
  expect(done.res.status).toBe(200);
  return main(await done.res.text());
}

describe('demo public service', () => {
  it('serves a bilingual home page under a strict CSP, with no external assets', async () => {
    const res = await fetch(`${demo.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`form-action 'self' ${new URL(nixa.config.issuer).origin}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('Cổng dịch vụ công mẫu');
    expect(html).toContain('Đăng nhập với nixa <span lang="en">(Sign in with nixa)</span>');
    expect(html).not.toMatch(/(src|href)="https?:/);
    const css = await fetch(`${demo.url}/assets/nixa.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain('.demo-service');
  });

  it('pushes authorization code + PKCE (S256) to nixa (PAR), with state and nonce kept in an HttpOnly cookie, not the URL', async () => {
    const agent = new UserAgent();
    const res = await agent.request(`${demo.url}/login`);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).toBe(new URL(nixa.config.issuer).origin);
    // FAPI 2.0: the browser carries only the client id and the pushed request's reference.
    expect([...location.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(location.searchParams.get('client_id')).toBe(creds.clientId);
    // The request itself, as nixa keeps it (its short-lived store): what the demo pushed.
    const id = location.searchParams.get('request_uri')!.replace('urn:ietf:params:oauth:request_uri:', '');
    const { rows } = await tdb.db.query<{ payload: { request: string; dpopJkt?: string } }>("SELECT payload FROM short_lived_payloads WHERE model = 'PushedAuthorizationRequest' AND id = $1", [id]);
    const pushedRequest = decodeJwt(rows[0]!.payload.request);
    expect(pushedRequest).toMatchObject({ redirect_uri: creds.redirectUri, response_type: 'code', code_challenge_method: 'S256', resource: creds.apiResource });
    // Bound to the sign-in's DPoP key (RFC 9449 §10): a code stolen on the way back is worthless without it.
    expect(rows[0]!.payload.dpopJkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('demo_tx='))!;
    expect(setCookie).toMatch(/httponly/i);
    expect(setCookie).toMatch(/samesite=lax/i);
    expect(setCookie).toMatch(/path=\/callback/i);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('demo_tx.sig='))).toBe(true);
    const tx = decodeCookie(agent.cookies.get(new URL(demo.url).host)!.get('demo_tx')!);
    expect(pushedRequest.state).toBe(tx.state);
    expect(pushedRequest.nonce).toBe(tx.nonce);
    // The verifier never leaves the browser's cookie jar except to /callback.
    expect(location.toString()).not.toContain(String(tx.verifier));
    expect(JSON.stringify(pushedRequest)).not.toContain(String(tx.verifier));
    // The DPoP key stays on the demo's server: the cookie names it, and holds no key.
    expect(JSON.stringify(tx)).not.toMatch(/"d":|"kty":/);
  });

  it('signs in through nixa and shows the subject', async () => {
    const agent = new UserAgent();
    const page = await signInThroughDemo(agent, 'nguyen-van-an');
    expect(page).toContain('Bạn đã đăng nhập <span lang="en">(You are signed in)</span>');
    // The demo service gets a pairwise subject: not the account id, and opaque.
    const sub = /<code>sub<\/code><\/th><td><code>([^<]+)<\/code>/.exec(page)?.[1];
    expect(sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sub).not.toBe('nguyen-van-an');
    expect(page).toContain('Đăng xuất <span lang="en">(Sign out)</span>');
    // The authorization code is gone from the address bar, and the transaction cookie is spent.
    const jar = agent.cookies.get(new URL(demo.url).host)!;
    expect(jar.has('demo_tx')).toBe(false);
    expect(jar.has('demo_session')).toBe(true);
  });

  // Needs nixa to put acr, amr and auth_time in its ID tokens (src/protocol/provider.ts:
  // acrValues and the openid scope's claims); until then the page says nixa stated no level.
  it('shows the assurance level (acr) prominently, with amr and auth_time', async () => {
    const page = await signInThroughDemo(new UserAgent());
    expect(page).toMatch(/<p class="acr"><code>urn:nixa:test<\/code><\/p>/);
    expect(page).toContain('Đăng nhập thử nghiệm — không xác minh danh tính');
    expect(page).toMatch(/<code>amr<\/code><\/th><td><code>test<\/code>/);
    expect(page).toMatch(/<code>auth_time<\/code><\/th><td><time datetime="\d{4}-\d\d-\d\dT/);
  });

  it('signs out at nixa (RP-initiated logout) and comes back signed out', async () => {
    const agent = new UserAgent();
    const page = await signInThroughDemo(agent);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;

    // Without the form's token, nothing happens.
    const forged = await agent.request(`${demo.url}/logout`, { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.status).toBe(403);
    expect(main(await (await agent.request(`${demo.url}/`)).text())).toContain('Bạn đã đăng nhập');

    const out = await agent.submit(`${demo.url}/logout`, { csrf });
    expect(out.url.startsWith(`${nixa.config.issuer}/session/end`)).toBe(true);
    expect(new URL(out.url).searchParams.get('post_logout_redirect_uri')).toBe(creds.postLogoutRedirectUri);
    // The service names itself; nixa's ID token (the citizen's claims) is in no URL.
    expect(new URL(out.url).searchParams.get('client_id')).toBe(creds.clientId);
    expect(new URL(out.url).searchParams.get('id_token_hint')).toBeNull();
    expect(out.url).not.toMatch(/eyJ[\w-]+\.eyJ/);
    const endSession = await out.res.text();
    expect(out.res.status).toBe(200);
    expect(endSession).toContain('Đăng xuất khỏi nixa?');
    // The demo's own session is already gone.
    expect(main(await (await agent.request(`${demo.url}/`)).text())).toContain('href="/login"');

    // Confirm at nixa: back to the demo's home, which says so.
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(endSession)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(endSession)![1]!;
    const back = await agent.submit(new URL(action, out.url), { xsrf, logout: 'yes' });
    expect(back.url.startsWith(`${demo.url}/?state=`)).toBe(true);
    const home = main(await back.res.text());
    expect(home).toContain('Bạn đã đăng xuất khỏi dịch vụ mẫu và khỏi nixa');
    expect(home).toContain('href="/login"');

    // nixa's session ended too: signing in again asks for the login again.
    await startSignIn(agent);
  });

  it('refuses a callback whose state does not match, and signs nobody in', async () => {
    const agent = new UserAgent();
    const { login, csrf } = await startSignIn(agent);
    const step = await agent.submit(login, { account: 'nguyen-van-an', csrf }, creds.redirectUri);
    const callback = new URL(step.stoppedAt!);
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state-this-browser-sent');

    const res = await agent.request(forged);
    expect(res.status).toBe(400);
    const html = main(await res.text());
    expect(html).toContain('Không thể hoàn tất đăng nhập');
    expect(html).toContain('(Sign-in could not be completed)');
    expect(html).toContain('href="/login"');
    expect(html).not.toContain('not-the-state-this-browser-sent');
    expect(agent.cookies.get(new URL(demo.url).host)!.has('demo_session')).toBe(false);
    expect(main(await (await agent.request(`${demo.url}/`)).text())).not.toContain('Bạn đã đăng nhập');

    // The attempt is spent: the genuine answer arriving afterwards does not sign in either.
    const late = await agent.request(callback);
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('Lượt đăng nhập đã hết hạn');
  });

  it('explains a sign-in cancelled at nixa (access_denied)', async () => {
    const agent = new UserAgent();
    const { abort, csrf } = await startSignIn(agent);
    const done = await agent.submit(abort, { csrf });
    expect(done.url.startsWith(`${creds.redirectUri}?error=access_denied`)).toBe(true);
    const html = main(await done.res.text());
    expect(html).toContain('Bạn đã hủy đăng nhập');
    expect(html).toContain('(Sign-in was cancelled)');
    expect(html).toContain('<code>access_denied</code>');
    expect(html).toContain('href="/login"');
    expect(agent.cookies.get(new URL(demo.url).host)!.has('demo_session')).toBe(false);
  });

  it('explains a bare ?error=access_denied and never reflects query parameters', async () => {
    const cancelled = await fetch(`${demo.url}/callback?error=access_denied`);
    const page = main(await cancelled.text());
    expect(page).toContain('Bạn đã hủy đăng nhập');
    // Read in Vietnamese alone (the English in lang="en" left out), no stray space before the colon.
    const vietnamese = page.replace(/<span lang="en">[^<]*<\/span>/g, '').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(vietnamese).toContain('Mã lỗi: access_denied');

    const evil = '<script>alert(1)</script>';
    const res = await fetch(`${demo.url}/callback?error=${encodeURIComponent(evil)}&error_description=${encodeURIComponent(evil)}&state=${encodeURIComponent(evil)}`);
    const html = await res.text();
    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert(1)');
    expect(html).toContain('<code>invalid_request</code>');

    const expired = await fetch(`${demo.url}/callback?code=abc&state=xyz`);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('Lượt đăng nhập đã hết hạn');
  });

  it('sends browsers on another host name to the origin the redirect URI names', async () => {
    const other = `http://127.0.0.1:${new URL(demo.url).port}/login?x=1`;
    const res = await fetch(other, { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe(`${demo.url}/login?x=1`);
  });

  it('answers unknown pages with a bilingual 404, and oversized forms with a 4xx page', async () => {
    const res = await fetch(`${demo.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Không tìm thấy trang');

    const big = await fetch(`${demo.url}/logout`, {
      method: 'POST',
      body: `csrf=${'x'.repeat(10_000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('Yêu cầu không hợp lệ');
  });
});

describe('demo public service while nixa is unreachable', () => {
  let down: DemoService;

  beforeAll(async () => {
    const [nixaPort, demoPort] = [await freePort(), await freePort()];
    const origin = `http://localhost:${demoPort}`;
    down = await startDemoService({
      issuer: `http://127.0.0.1:${nixaPort}`, // nothing listens there
      credentials: { clientId: 'demo-service', privateJwk: (await keyPair('ES256', 'unused')).privateJwk, redirectUri: `${origin}/callback`, postLogoutRedirectUri: `${origin}/`, origin, apiResource: `${origin}/api` },
      port: demoPort,
      host: '127.0.0.1',
      logger: silentLogger,
      timeoutSeconds: 2,
    });
  });

  afterAll(() => down?.close());

  it('still starts, and its home page says nixa is unavailable', async () => {
    const res = await fetch(`${down.url}/`);
    expect(res.status).toBe(200);
    const html = main(await res.text());
    expect(html).toContain('nixa hiện không truy cập được');
    expect(html).toContain('nixa is unavailable right now');
    expect(html).not.toContain('href="/login"');
  });

  it('answers /login with a bilingual page and a way to try again', async () => {
    const res = await fetch(`${down.url}/login`, { redirect: 'manual' });
    expect(res.status).toBe(503);
    const html = main(await res.text());
    expect(html).toContain('nixa hiện không truy cập được');
    expect(html).toContain('href="/login"');
  });
});

describe('demo public service when nixa stops in the middle of a sign-in', () => {
  let nixa2: Nixa;
  let demo2: DemoService;
  let redirectUri: string;

  beforeAll(async () => {
    nixa2 = await startTestNixa(tdb.db);
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    redirectUri = `${origin}/callback`;
    const key = await keyPair('ES256', 'demo-stops');
    await addClient(
      tdb.db,
      {
        client_id: `demo-service-stops-${process.pid}`,
        name: 'Dịch vụ công mẫu (nixa stops)',
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [`${origin}/`],
        grant_types: ['authorization_code'],
        // As the demo is registered (app/demo.ts): a FAPI 2.0 service with its key.
        security_profile: 'fapi2',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
        // As the demo is registered (app/demo.ts): it asks whom the person acts for.
        scope: 'openid profile phone representation',
        representation: ['legal_representative', 'mandate:*'],
        api_resource: `${origin}/api`,
      },
      'test',
      { allowHttpLoopback: true, signingAlgs: ['ES256', 'RS256'] },
    );
    demo2 = await startDemoService({
      issuer: nixa2.config.issuer,
      credentials: { clientId: `demo-service-stops-${process.pid}`, privateJwk: key.privateJwk, redirectUri, postLogoutRedirectUri: `${origin}/`, origin, apiResource: `${origin}/api` },
      port,
      host: '127.0.0.1',
      logger: silentLogger,
      timeoutSeconds: 2,
    });
  });

  afterAll(async () => {
    await demo2?.close();
    await nixa2?.close();
  });

  it('says nixa is unavailable when the code cannot be redeemed, and signs nobody in', async () => {
    const agent = new UserAgent();
    const step = await agent.follow(`${demo2.url}/login`);
    const html = await step.res.text();
    const login = /action="(\/interaction\/[^"]+\/login)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const back = await agent.submit(new URL(login, step.url), { account: 'tran-thi-binh', csrf }, redirectUri);
    expect(back.stoppedAt).toBeDefined();

    await nixa2.close();
    const res = await agent.request(back.stoppedAt!);
    expect(res.status).toBe(503);
    expect(main(await res.text())).toContain('nixa hiện không truy cập được');
    expect(agent.cookies.get(new URL(demo2.url).host)!.has('demo_session')).toBe(false);

    const home = main(await (await agent.request(`${demo2.url}/`)).text());
    expect(home).toContain('nixa is unavailable right now');
  });
});
