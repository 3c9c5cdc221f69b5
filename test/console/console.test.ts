// The admin console over real HTTP: it registers itself as a client of nixa at
// every start, signs operators in through nixa at level high (a Telecom session
// is stepped up), shows each operator only what their roles allow, and turns the
// admin API's answers into pages: a missing CSRF token refused, a bad field shown
// next to it, a stale version explained, a self-grant refused in plain words.
import { argon2id, hash } from 'argon2';

import { accountIdByNationalId } from '../../src/accounts/index.js';
import { showClient } from '../../src/clients/index.js';
import { CONSOLE_CLIENT_ID } from '../../src/console/index.js';
import { formatDateTime } from '../../src/pages/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, startFederation, type Federation } from '../support/federation.js';
import { startTestNixa } from '../support/nixa.js';
import { discover, registerTestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { csrfOf, get, openConsole, post } from './console-agent.js';

const AN = { key: 'nguyen-van-an', nid: '001085004217' };
const CUONG = { key: 'le-hoang-cuong', nid: '048201007396' };
const DUNG = { key: 'pham-thi-dung', nid: '031178052840' };

let tdb: TestDatabase;
let fed: Federation;
let issuer: string;
const an = new UserAgent();
const cuong = new UserAgent();

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  issuer = fed.nixa.config.issuer;
});
afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const accountOf = async (nid: string) => (await accountIdByNationalId({ db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') }, nid))!;
const consoleEvents = async () =>
  (await tdb.db.query<{ event: string; actor: string }>("SELECT event, actor FROM audit_events WHERE subject = 'nixa-console' ORDER BY seq")).rows;
const nav = (html: string) => /<nav[^>]*>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';

describe('the console as a client of nixa', () => {
  it('registers itself at start-up, confidential, public subjects, minimum high, for the admin API; again only when something differs', async () => {
    const c = await showClient(tdb.db, CONSOLE_CLIENT_ID);
    expect(c).toMatchObject({
      tokenEndpointAuthMethod: 'client_secret_basic',
      redirectUris: [`${issuer}/console/callback`],
      postLogoutRedirectUris: [`${issuer}/console/`],
      scope: 'openid profile',
      minLevel: 'high',
      apiResource: `${issuer}/admin/api`,
      status: 'enabled',
      // nixa's own console is kept standard at high, and says why (console/registration.ts).
      securityProfile: 'standard',
      securityProfileReason: expect.stringContaining('runs inside nixa'),
    });
    expect((await tdb.db.query<{ subject_type: string }>("SELECT metadata->>'subject_type' AS subject_type FROM clients WHERE client_id = 'nixa-console'")).rows[0]!.subject_type).toBe('public');
    expect(await consoleEvents()).toEqual([{ event: 'CLIENT_ADDED', actor: 'system:console' }]);

    // Another instance on the same database and issuer: nothing to change, nothing written.
    const second = await startTestNixa(tdb.db, { NIXA_ISSUER: issuer, NIXA_TEST_LOGIN: 'false' });
    await second.close();
    expect(await consoleEvents()).toHaveLength(1);

    // The stored hash no longer matches the derived secret (another master key once): set again.
    await tdb.db.query("UPDATE clients SET secret_hash = $1 WHERE client_id = 'nixa-console'", [await hash('not-the-derived-secret', { type: argon2id })]);
    const third = await startTestNixa(tdb.db, { NIXA_ISSUER: issuer, NIXA_TEST_LOGIN: 'false' });
    await third.close();
    expect(await consoleEvents()).toEqual([
      { event: 'CLIENT_ADDED', actor: 'system:console' },
      { event: 'CLIENT_SECRET_ROTATED', actor: 'system:console' },
    ]);
  });
});

describe('signing in to the console', () => {
  it('shows an operator without a role a plain-words page with their account id, and nothing else', async () => {
    const landed = await openConsole(issuer, { agent: an, source: 'citizen_id', citizen: AN.key });
    expect(landed.pages).toEqual(['chooser', 'source-picker', 'consent']);
    expect(landed.status).toBe(200);
    expect(landed.url).toBe(`${issuer}/console`);
    expect(landed.html).toContain('Bạn chưa có vai trò vận hành nào');
    expect(landed.html).toContain(await accountOf(AN.nid));
    expect(nav(landed.html)).toBe('');
    const keys = await get(an, `${issuer}/console/keys`);
    expect(keys.status).toBe(403);
    expect(keys.html).toContain('Bạn chưa có vai trò vận hành nào');
    expect(keys.html).not.toContain('timeline');
  });

  it('keeps the session in an encrypted cookie: no token readable, an altered one is no session', async () => {
    const cookie = an.cookies.get(new URL(issuer).host)!.get('nixa_console')!;
    expect(cookie).toBeDefined();
    expect(Buffer.from(cookie, 'base64url').toString('latin1')).not.toMatch(/eyJ|nguyen|accessToken/);
    const other = new UserAgent();
    const flipped = `${cookie.slice(0, 20)}${cookie[20] === 'A' ? 'B' : 'A'}${cookie.slice(21)}`;
    const res = await other.request(`${issuer}/console`, { headers: { cookie: `nixa_console=${flipped}` } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('acr_values=urn%3Anixa%3Aloa%3Ahigh');
    expect(res.headers.get('location')).toContain(`resource=${encodeURIComponent(`${issuer}/admin/api`)}`);
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('nixa_console_tx='))!;
    expect(setCookie).toMatch(/Path=\/console\/callback; Max-Age=600; HttpOnly; SameSite=Lax/);
  });

  it('steps a Telecom (low) sign-in up: nixa offers only what reaches high, and the console opens at high', async () => {
    const rp = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    const agent = new UserAgent();
    const low = await federatedSignIn(await discover(issuer, rp), rp.redirectUri, { agent, source: 'telecom', citizen: DUNG.key, consent: 'accept' });
    expect(low.stoppedAt).toBeDefined();

    const first = await agent.follow(`${issuer}/console`);
    const chooser = await first.res.text();
    expect(chooser).toContain('cao hơn lần đăng nhập hiện tại của bạn');
    expect(chooser).toContain('value="sim-citizen-id"');
    expect(chooser).not.toContain('value="sim-telecom"');
    // The browser is on the chooser: go on through Citizen ID.
    const landed = await openConsole(issuer, { agent, source: 'citizen_id', citizen: DUNG.key });
    expect(landed.html).toContain('Bạn chưa có vai trò vận hành nào');
  });

  it('refuses a callback that this browser did not start: NIXA-CON-expired, 400, the sign-in cookie cleared', async () => {
    const res = await callback(new UserAgent(), '?code=abc&state=xyz');
    expect(res.status).toBe(400);
    expect(res.html).toContain('Lượt đăng nhập này đã hết hạn');
    expectFailurePage(res.html, 'NIXA-CON-expired');
    expect(res.cleared).toBe(true);
  });

  it('shows an OAuth error nixa answered as NIXA-CON-refused, 400, with the OAuth code escaped, and clears the sign-in cookie', async () => {
    const agent = new UserAgent();
    const state = await startSignIn(agent);
    const res = await callback(agent, `?error=access_denied&state=${state}&iss=${encodeURIComponent(issuer)}`);
    expect(res.status).toBe(400);
    expect(res.html).toContain('nixa không hoàn tất đăng nhập');
    expectFailurePage(res.html, 'NIXA-CON-refused');
    expect(res.html).toContain('<code>access_denied</code>');
    expect(res.cleared).toBe(true);
    expect(agent.cookies.get(new URL(issuer).host)?.has('nixa_console_tx')).toBe(false);

    // An error that is not a well-formed OAuth code is refused without being shown.
    const other = new UserAgent();
    const state2 = await startSignIn(other);
    const odd = await callback(other, `?error=${encodeURIComponent('<b>x</b>')}&state=${state2}&iss=${encodeURIComponent(issuer)}`);
    expect(odd.status).toBe(400);
    expectFailurePage(odd.html, 'NIXA-CON-refused');
    expect(odd.html).not.toContain('<b>x</b>');
    expect(odd.cleared).toBe(true);
  });

  it('refuses a result that does not verify as NIXA-CON-invalid, 400, clears the sign-in cookie, and the same callback again is NIXA-CON-expired', async () => {
    const agent = new UserAgent();
    const state = await startSignIn(agent);
    const query = `?code=not-a-code-nixa-issued&state=${state}&iss=${encodeURIComponent(issuer)}`;
    const res = await callback(agent, query);
    expect(res.status).toBe(400);
    expect(res.html).toContain('Không xác minh được kết quả đăng nhập từ nixa');
    expectFailurePage(res.html, 'NIXA-CON-invalid');
    expect(res.cleared).toBe(true);
    const again = await callback(agent, query);
    expect(again.status).toBe(400);
    expectFailurePage(again.html, 'NIXA-CON-expired');
  });

  it('refuses a sign-in that nixa let through below high as NIXA-CON-level, 403, and clears the sign-in cookie', async () => {
    // Only a console registration without its minimum and a request stripped of
    // acr_values can bring back a low sign-in: the callback checks the acr anyway.
    const nixa = cliRunner(() => tdb.db);
    expect((await nixa('clients', 'update', CONSOLE_CLIENT_ID, '--min-level', 'none', '--reason', 'kiểm thử: đăng nhập dưới mức cao')).code).toBe(0);
    try {
      const agent = new UserAgent();
      const login = await agent.request(`${issuer}/console/login`);
      expect(agent.cookies.get(new URL(issuer).host)?.has('nixa_console_tx')).toBe(true);
      const auth = new URL(login.headers.get('location')!);
      auth.searchParams.delete('acr_values');
      const landed = await openConsole(issuer, { agent, source: 'telecom', citizen: DUNG.key, path: auth.href.slice(issuer.length) });
      expect(landed.url.startsWith(`${issuer}/console/callback?`)).toBe(true);
      expect(landed.status).toBe(403);
      expect(landed.html).toContain('Bảng điều khiển cần đăng nhập ở mức độ đảm bảo cao');
      expectFailurePage(landed.html, 'NIXA-CON-level');
      const jar = agent.cookies.get(new URL(issuer).host)!;
      expect(jar.has('nixa_console_tx')).toBe(false);
      expect(jar.has('nixa_console')).toBe(false);
    } finally {
      expect((await nixa('clients', 'update', CONSOLE_CLIENT_ID, '--min-level', 'high', '--security-profile', 'standard', '--reason', 'kiểm thử: trả lại mức cao')).code).toBe(0);
    }
  });
});

/** Starts a console sign-in in this browser; the state nixa was sent. */
async function startSignIn(agent: UserAgent): Promise<string> {
  const res = await agent.request(`${issuer}/console/login`);
  expect(res.status).toBe(303);
  expect(agent.cookies.get(new URL(issuer).host)?.has('nixa_console_tx')).toBe(true);
  return new URL(res.headers.get('location')!).searchParams.get('state')!;
}

/** The console's callback with this query: its page, and whether the transient sign-in cookie was cleared. */
async function callback(agent: UserAgent, query: string) {
  const res = await agent.request(`${issuer}/console/callback${query}`);
  const cleared = res.headers.getSetCookie().some((c) => /^nixa_console_tx=; Path=\/console\/callback; Max-Age=0;/.test(c));
  return { status: res.status, html: await res.text(), cleared };
}

/** A console sign-in failure page: its code shown as other error pages show theirs, and the way forward. */
function expectFailurePage(html: string, code: string): void {
  expect(html).toContain(`Mã lỗi<span lang="en"> (error code)</span>: <code>${code}</code>`);
  expect(html).toContain('Không đăng nhập được <span lang="en">(Sign-in failed)</span>');
  expect(html).toMatch(/<a class="button" href="\/console\/login">Đăng nhập lại <span lang="en">\(Sign in again\)<\/span><\/a>/);
  expect(html).toContain('role="alert"');
}

describe('what each operator sees and does', () => {
  let officer: string;
  let serviceOperator: string;

  beforeAll(async () => {
    const nixa = cliRunner(() => tdb.db);
    const made = await nixa('operators', 'bootstrap', '--national-id', AN.nid, '--reason', 'Khởi tạo hệ thống: cán bộ an ninh đầu tiên');
    expect(made.code).toBe(0);
    officer = await accountOf(AN.nid);
    await openConsole(issuer, { agent: cuong, source: 'citizen_id', citizen: CUONG.key });
    serviceOperator = await accountOf(CUONG.nid);
  });

  it('shows the security officer their role, what it allows, and only the menu entries it allows', async () => {
    const home = await get(an, `${issuer}/console`);
    expect(home.status).toBe(200);
    expect(home.html).toContain('Cán bộ an ninh');
    expect(home.html).toContain('Xoay vòng và thu hồi khóa ký');
    const menu = nav(home.html);
    for (const p of ['/console/keys', '/console/audit', '/console/operators']) expect(menu).toContain(`href="${p}"`);
    for (const p of ['/console/sources', '/console/services']) expect(menu).not.toContain(`href="${p}"`);
  });

  it('grants a role through the operators page, refusing a grant on one’s own account in plain words', async () => {
    const page = await get(an, `${issuer}/console/operators`);
    const csrf = csrfOf(page.html)!;
    const self = await post(an, `${issuer}/console/operators/grant`, { csrf, accountId: officer, role: 'auditor', reason: 'Tự cấp thêm quyền đọc' });
    expect(self.status).toBe(403);
    expect(self.html).toContain('Không ai được tự cấp hay tự thu hồi vai trò trên chính tài khoản của mình');
    expect(self.html).toContain('role="alert"');

    const noReason = await post(an, `${issuer}/console/operators/grant`, { csrf, accountId: serviceOperator, role: 'service-operator', reason: 'vì' });
    expect(noReason.status).toBe(400);
    expect(noReason.html).toMatch(/<p class="field-error" id="f-reason-error" role="alert">[^]*?at least 10 characters/);

    const granted = await post(an, `${issuer}/console/operators/grant`, { csrf, accountId: serviceOperator, role: 'service-operator', reason: 'Phân công vận hành dịch vụ công' });
    expect(granted).toMatchObject({ status: 303, location: '/console/operators?done=granted' });
    const after = await get(an, `${issuer}/console/operators?done=granted`);
    expect(after.html).toContain('Đã cấp vai trò.');
    expect(after.html).toContain(serviceOperator);
  });

  it('shows a service operator services but not keys', async () => {
    const home = await get(cuong, `${issuer}/console`);
    expect(home.html).toContain('Vận hành dịch vụ');
    expect(nav(home.html)).toContain('href="/console/services"');
    expect(nav(home.html)).not.toContain('href="/console/keys"');
    expect((await get(cuong, `${issuer}/console/services`)).status).toBe(200);
    const keys = await get(cuong, `${issuer}/console/keys`);
    expect(keys.status).toBe(403);
    expect(keys.html).toContain('Vai trò của bạn không cho phép việc này.');
    expect(keys.html).not.toContain('class="timeline"');
  });

  it('refuses a form without the CSRF token of this session, writing nothing', async () => {
    const before = (await tdb.db.query('SELECT 1 FROM audit_events')).rows.length;
    const fields = { reason: 'Đăng ký cổng thuế điện tử', name: 'Cổng thuế', redirect_uris: 'https://thue.example.vn/cb' };
    const missing = await post(cuong, `${issuer}/console/services`, fields);
    expect(missing.status).toBe(403);
    expect(missing.html).toContain('Biểu mẫu đã hết hạn');
    // The officer's token is bound to the officer's session, not this one.
    const anCsrf = csrfOf((await get(an, `${issuer}/console/operators`)).html)!;
    expect((await post(cuong, `${issuer}/console/services`, { ...fields, csrf: anCsrf })).status).toBe(403);
    expect((await tdb.db.query('SELECT 1 FROM audit_events')).rows.length).toBe(before);
  });

  it('shows a bad field next to it, then the integration values and the secret once', async () => {
    const form = await get(cuong, `${issuer}/console/services/new`);
    const csrf = csrfOf(form.html)!;
    const fields = { csrf, reason: 'Đăng ký cổng thuế điện tử', name: 'Cổng thuế', client_id: 'cong-thue', scope: 'openid profile', token_endpoint_auth_method: 'client_secret_basic' };
    const bad = await post(cuong, `${issuer}/console/services`, { ...fields, redirect_uris: 'ftp://thue.example.vn/cb' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/<p class="field-error" id="f-redirect_uris-error" role="alert">[^<]*<span lang="en">\(Not accepted\)<\/span>: <span class="api-words">redirect_uris\[0\]: &quot;ftp:/);
    expect(bad.html).toMatch(/<textarea id="f-redirect_uris" name="redirect_uris" required aria-describedby="f-redirect_uris-hint f-redirect_uris-error" aria-invalid="true"/);
    expect(bad.html).toContain('ftp://thue.example.vn/cb'); // what was typed stays in the form
    expect(await tdb.db.query("SELECT 1 FROM clients WHERE client_id = 'cong-thue'").then((r) => r.rows.length)).toBe(0);

    const made = await post(cuong, `${issuer}/console/services`, { ...fields, redirect_uris: 'https://thue.example.vn/cb' });
    expect(made.status).toBe(201);
    const secret = /<code class="secret">([^<]+)<\/code>/.exec(made.html)![1]!;
    expect(secret.length).toBeGreaterThan(30);
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint']) expect(made.html).toContain(`<code>${discovery[k]}</code>`);
    expect(made.html).toContain(`createVerifier({ issuer: '${issuer}', audience: 'cong-thue'`);
    expect(made.html).toContain('requireLevel');
    const again = await get(cuong, `${issuer}/console/services/cong-thue`);
    expect(again.status).toBe(200);
    expect(again.html).not.toContain(secret);
    const { rows } = await tdb.db.query<{ actor: string; reason: string }>("SELECT actor, reason FROM audit_events WHERE event = 'CLIENT_ADDED' AND subject = 'cong-thue'");
    expect(rows).toEqual([{ actor: `operator:${serviceOperator}`, reason: 'Đăng ký cổng thuế điện tử' }]);
  });

  it('explains a stale version: someone else changed the service since the page was opened', async () => {
    const page = await get(cuong, `${issuer}/console/services/cong-thue`);
    const csrf = csrfOf(page.html)!;
    const version = /name="version" value="([^"]+)"/.exec(page.html)![1]!;
    const first = await post(cuong, `${issuer}/console/services/cong-thue/level`, { csrf, version: version.replaceAll('&quot;', '"'), min_level: 'high', security_profile: 'standard', reason: 'Hồ sơ thuế cần mức cao' });
    expect(first).toMatchObject({ status: 303, location: '/console/services/cong-thue?done=level' });
    const stale = await post(cuong, `${issuer}/console/services/cong-thue/level`, { csrf, version: version.replaceAll('&quot;', '"'), min_level: 'substantial', reason: 'Hạ xuống mức đáng kể' });
    expect(stale.status).toBe(412);
    expect(stale.html).toContain('Ai đó đã thay đổi bản ghi này sau khi bạn mở trang');
    expect((await showClient(tdb.db, 'cong-thue')).minLevel).toBe('high');
    // The service page says it was kept standard at high, and why; the form offers both profiles.
    const shown = await get(cuong, `${issuer}/console/services/cong-thue`);
    expect(shown.html).toContain('standard — Hồ sơ thuế cần mức cao');
    expect(shown.html).toMatch(/<select[^>]*name="security_profile"/);
    expect(shown.html).toContain('<option value="fapi2"');
  });

  it('rotates keys, and revokes one only after a confirmation step; the trail shows it', async () => {
    const page = await get(an, `${issuer}/console/keys`);
    expect(page.html).toContain('class="timeline"');
    const csrf = csrfOf(page.html)!;
    const rotated = await post(an, `${issuer}/console/keys/rotate`, { csrf, which: 'sig:ES256', reason: 'Xoay vòng định kỳ theo quy trình' });
    expect(rotated).toMatchObject({ status: 303, location: '/console/keys?done=rotated' });
    const retired = (await tdb.db.query<{ kid: string }>("SELECT kid FROM keys WHERE state = 'retired' AND alg = 'ES256'")).rows[0]!.kid;

    const confirm = await post(an, `${issuer}/console/keys/${retired}/revoke`, { csrf });
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('Có, thu hồi khóa này');
    expect((await tdb.db.query("SELECT 1 FROM audit_events WHERE event = 'KEY_REVOKED'")).rows).toHaveLength(0);
    const revoked = await post(an, `${issuer}/console/keys/${retired}/revoke`, { csrf, confirm: 'yes', reason: 'Nghi lộ khóa bí mật trên máy chủ cũ' });
    expect(revoked).toMatchObject({ status: 303, location: '/console/keys?done=revoked' });

    const found = await get(an, `${issuer}/console/audit?event=KEY_REVOKED`);
    expect(found.status).toBe(200);
    expect(found.html).toContain(`<code>${retired}</code>`);
    expect(found.html).toContain('Nghi lộ khóa bí mật trên máy chủ cũ');
    // Times as on every nixa page (pages/dates.ts): dd/mm/yyyy HH:mm, Vietnam time, said; the instant stays in datetime.
    const at = (await tdb.db.query<{ at: Date }>("SELECT at FROM audit_events WHERE event = 'KEY_REVOKED'")).rows[0]!.at;
    expect(found.html).toContain(`<time datetime="${at.toISOString()}">${formatDateTime(at)}</time> (giờ Việt Nam <span lang="en">(Vietnam time)</span>)`);
    const timeline = (await get(an, `${issuer}/console/keys`)).html;
    expect(timeline).toMatch(/<span class="step">Thu hồi <span lang="en">\(Revoked\)<\/span><\/span> <time datetime="[-0-9T:.]+Z">\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}<\/time> \(giờ Việt Nam/);
    for (const html of [found.html, timeline]) expect(html).not.toMatch(/<time[^>]*>\d{4}-\d{2}-\d{2}/);
    const badDate = await get(an, `${issuer}/console/audit?from=yesterday`);
    expect(badDate.status).toBe(400);
    expect(badDate.html).toContain('id="f-from-error" role="alert"');
  });

  it('signs out through nixa’s end-session endpoint', async () => {
    const page = await get(cuong, `${issuer}/console`);
    const out = await post(cuong, `${issuer}/console/logout`, { csrf: csrfOf(page.html)! });
    expect(out.status).toBe(303);
    expect(out.location).toContain(`${issuer}/session/end?`);
    expect(out.location).toContain(`post_logout_redirect_uri=${encodeURIComponent(`${issuer}/console/`)}`);
    expect(cuong.cookies.get(new URL(issuer).host)!.has('nixa_console')).toBe(false);
  });
});
