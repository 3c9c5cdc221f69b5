// A citizen signs in to their own nixa account from nixa's home page, over real
// HTTP: / → "Đăng nhập vào tài khoản nixa" → nixa's chooser → a simulated source
// → back to /account, signed in, with nixa's session. nixa is a relying party of
// itself here (client nixa-account: code + PKCE + state + nonce); a callback
// this browser did not start, or with another state, is refused with a page.
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { field } from '../support/pages.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let issuer: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  issuer = fed.nixa.config.issuer;
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const CALLBACK = () => `${issuer}/account/callback`;
const unescape = (s: string) => s.replaceAll('&amp;', '&');

/**
 * From a page of nixa's chooser, through the simulated source, until the journey
 * would come back to the account's callback: returns the callback URL, unvisited.
 */
async function throughSource(agent: UserAgent, chooser: { url: string; html: string }, source: keyof typeof SIMULATED_SOURCE_IDS, citizen: string): Promise<string> {
  const at = new URL(chooser.url);
  expect(chooser.html).toContain('name="source"');
  let step = await agent.submit(new URL(`/interaction/${at.pathname.split('/')[2]}/source`, at), { csrf: field(chooser.html, 'csrf')!, source: SIMULATED_SOURCE_IDS[source] }, CALLBACK());
  const picker = await step.res.text();
  const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(picker)![1]!;
  step = await agent.submit(new URL(pick, step.url), { citizen }, CALLBACK());
  if (!step.stoppedAt) throw new Error(`the journey stopped at ${step.url} (${step.res.status}): ${(await step.res.text()).slice(0, 400)}`);
  return step.stoppedAt;
}

/** The home page's sign-in button, followed to nixa's chooser. */
async function startFromHome(agent: UserAgent, href?: string) {
  const home = await agent.request(`${issuer}/`);
  expect(home.status).toBe(200);
  const button = href ?? unescape(/<a class="button" href="([^"]+)">Đăng nhập vào tài khoản nixa/.exec(await home.text())![1]!);
  const step = await agent.follow(new URL(button, issuer));
  return { url: step.url, html: await step.res.text(), status: step.res.status };
}

describe('signing in to one’s own nixa account', () => {
  it('goes from the home page through the chooser and a source back to /account, signed in with nixa’s session', async () => {
    const agent = new UserAgent();
    const chooser = await startFromHome(agent);
    expect(chooser.status).toBe(200);
    expect(new URL(chooser.url).pathname).toMatch(/^\/interaction\//);
    // Who is asking: nixa's own account, at no particular level.
    expect(chooser.html).toContain('Tài khoản nixa');

    const callback = await throughSource(agent, chooser, 'telecom', 'nguyen-van-an');
    expect(new URL(callback).searchParams.get('code')).toBeTruthy();
    const landed = await agent.follow(callback);
    expect(landed.url).toBe(`${issuer}/account`);
    const html = await landed.res.text();
    expect(landed.res.status).toBe(200);
    expect(html).toContain('Lần đăng nhập hiện tại ở mức độ đảm bảo «thấp»');
    // Telecom vouches low: the way to substantial is offered, through the same sign-in.
    expect(html).toContain('href="/account/sign-in?level=substantial"');
    // The pending sign-in is spent: the same callback again is refused.
    const replay = await agent.request(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('<code>NIXA-ACC-expired</code>');
  });

  it('signs in again at a higher level through the same path, with acr_values', async () => {
    const agent = new UserAgent();
    const first = await throughSource(agent, await startFromHome(agent), 'telecom', 'tran-thi-binh');
    await agent.follow(first);
    const again = await agent.follow(`${issuer}/account/sign-in?level=substantial`);
    // The request to nixa said which level, and nixa asks for a source that vouches it.
    expect(again.res.status).toBe(200);
    const chooser = await again.res.text();
    const callback = await throughSource(agent, { url: again.url, html: chooser }, 'bank', 'tran-thi-binh');
    const landed = await agent.follow(callback);
    expect(landed.url).toBe(`${issuer}/account`);
    expect(await landed.res.text()).toContain('Lần đăng nhập hiện tại ở mức độ đảm bảo «đáng kể»');
  });

  it('keeps the sign-in in progress in a signed cookie scoped to the callback, and refuses an altered one', async () => {
    const agent = new UserAgent();
    const res = await agent.request(`${issuer}/account/sign-in?level=nonsense`);
    expect(res.status).toBe(303);
    const auth = new URL(res.headers.get('location')!);
    expect(auth.pathname).toBe('/auth');
    expect(auth.searchParams.get('client_id')).toBe('nixa-account');
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect(auth.searchParams.has('acr_values')).toBe(false); // an unknown level asks for none
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookies = res.headers.getSetCookie();
    const pending = cookies.find((c) => c.startsWith('nixa_account_tx='))!;
    expect(pending).toMatch(/path=\/account\/callback/i);
    expect(pending).toMatch(/httponly/i);
    expect(pending).toMatch(/samesite=lax/i);
    // Short-lived: ten minutes to choose a source and come back.
    const expires = Date.parse(/expires=([^;]+)/i.exec(pending)![1]!) - Date.now();
    expect(expires).toBeGreaterThan(8 * 60_000);
    expect(expires).toBeLessThanOrEqual(10 * 60_000);
    expect(cookies.some((c) => c.startsWith('nixa_account_tx.sig='))).toBe(true);

    // The browser (or someone) rewrote the cookie: it counts as no sign-in in progress.
    const value = agent.cookies.get(new URL(issuer).host)!.get('nixa_account_tx')!;
    agent.setCookie(new URL(issuer), 'nixa_account_tx', `${value.slice(0, -2)}AA`);
    const forged = await agent.request(`${CALLBACK()}?code=x&state=${auth.searchParams.get('state')}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('<code>NIXA-ACC-expired</code>');
  });

  it('refuses a callback whose state is not the one this browser started, with a page that says so, and stays signed out', async () => {
    const agent = new UserAgent();
    const callback = new URL(await throughSource(agent, await startFromHome(agent), 'telecom', 'le-hoang-cuong'));
    // Another browser's sign-in result, or one crossed with another tab: same code, other state.
    callback.searchParams.set('state', 'trang-thai-gia-mao');
    const refused = await agent.request(callback);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    const html = await refused.text();
    expect(html).toContain('không khớp với lượt đăng nhập bạn đã bắt đầu');
    expect(html).toContain('lang="en">This sign-in result does not match');
    expect(html).toContain('<code>NIXA-ACC-state-mismatch</code>');
    expect(html).toContain('href="/account/sign-in">Đăng nhập lại');
    // English shows the same page again from its code, never the spent callback.
    expect(html).toContain(`href="/language?show=vi-en&amp;back=${encodeURIComponent('/error/NIXA-ACC-state-mismatch')}"`);

    // A victim's browser handed someone else's callback: refused, and no session of theirs appears.
    const victim = new UserAgent();
    const planted = await victim.request(callback);
    expect(planted.status).toBe(400);
    const page = await victim.request(`${issuer}/account`);
    expect(await page.text()).toContain('Bạn chưa đăng nhập nixa');
  });

  it('refuses a result that is not for this browser’s nixa session (the ID token must name the session’s account)', async () => {
    const agent = new UserAgent();
    const callback = await throughSource(agent, await startFromHome(agent), 'telecom', 'nguyen-van-an');
    // The browser lost (or never kept) nixa's session cookie on the way back.
    agent.dropCookie(new URL(issuer), '_session');
    agent.dropCookie(new URL(issuer), '_session.sig');
    const res = await agent.request(callback);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<code>NIXA-ACC-account-mismatch</code>');
    expect(res.headers.get('location')).toBeNull();
  });

  it('says so when the citizen cancels at nixa, and offers to start again', async () => {
    const agent = new UserAgent();
    const chooser = await startFromHome(agent);
    const uid = new URL(chooser.url).pathname.split('/')[2]!;
    const back = await agent.submit(new URL(`/interaction/${uid}/abort`, issuer), { csrf: field(chooser.html, 'csrf')! }, CALLBACK());
    expect(new URL(back.stoppedAt!).searchParams.get('error')).toBe('access_denied');
    const page = await agent.request(back.stoppedAt!);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('Bạn đã hủy đăng nhập');
  });
});

describe('/account without a session', () => {
  it('offers the sign-in to a page, coming back to it, but a form stays a 401', async () => {
    const agent = new UserAgent();
    const page = await agent.request(`${issuer}/account`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Bạn chưa đăng nhập nixa');
    expect(html).toContain('<a class="button" href="/account/sign-in">Đăng nhập vào tài khoản nixa');
    const post = await agent.request(`${issuer}/account/totp`, { method: 'POST', body: 'csrf=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).toBe(401);
    expect(post.headers.get('location')).toBeNull();
  });

  it('never sends a citizen back anywhere but an account page', async () => {
    const agent = new UserAgent();
    for (const back of ['https://attacker.example/', '//attacker.example', '/account/../console', '/account/callback']) {
      const res = await agent.request(`${issuer}/account/sign-in?return=${encodeURIComponent(back)}`);
      expect(res.status).toBe(303);
    }
    // The last sign-in started wins the cookie: its way back is /account.
    const chooser = await agent.follow(`${issuer}/account/sign-in?return=${encodeURIComponent('https://attacker.example/')}`);
    const callback = await throughSource(agent, { url: chooser.url, html: await chooser.res.text() }, 'telecom', 'pham-thi-dung');
    expect((await agent.request(callback)).headers.get('location')).toBe('/account');
  });
});
