// The citizen's own page over real HTTP: found from the nixa session cookie,
// lists the factors, and enrols an authenticator app (QR code, first code, ten
// recovery codes shown once) only in a session at substantial or above.
import type * as oidc from 'openid-client';
import { generate } from 'otplib';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { signedInAgent, startFederation, type Federation } from '../support/federation.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { UserAgent } from '../support/user-agent.js';
import { UserAgent as Browser } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  config = await discover(fed.nixa.config.issuer, portal);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const { url, get, post } = pagesAt(() => fed.nixa.config.issuer);

const signedIn = (source: 'citizen_id' | 'telecom', citizen: string): Promise<UserAgent> => signedInAgent(config, portal.redirectUri, { source, citizen });

const totpRows = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM totp_factors')).rows[0]!.n;
const codeAt = (secret: string, when = new Date()) => generate({ secret, epoch: Math.floor(when.getTime() / 1000) });

/** Keeps a code typed now from crossing into the next 30-second step on its way to the server. */
async function awayFromStepEdge(): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 27) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
}

describe('/account', () => {
  it('without a session offers the sign-in to the account (a page, not cached), and refuses a form with 401', async () => {
    const { res, html } = await get(new Browser(), '/account');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('Bạn chưa đăng nhập nixa');
    expect(html).toContain('You are not signed in to nixa');
    expect(html).not.toContain('<form');
    expect(html).toContain('<a class="button" href="/account/sign-in">Đăng nhập vào tài khoản nixa');
    // Every link stays on this site (the footer's contact is a mailto:).
    expect([...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]).filter((h) => !h!.startsWith('/') && !h!.startsWith('mailto:'))).toEqual(['#main']);

    const forged = await post(new Browser(), '/account/totp', { csrf: 'x' });
    expect(forged.res.status).toBe(401);
    expect(await totpRows()).toBe(0);
  });

  it('enrols an authenticator app after a sign-in at high, shows the recovery codes once, and lists the app', async () => {
    const agent = await signedIn('citizen_id', 'nguyen-van-an');
    const page = await get(agent, '/account');
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('Thiết lập ứng dụng xác thực');
    expect(page.html).toContain('Set up an authenticator app');
    // The page speaks of assurance levels and identity sources: it says what they are.
    expect(page.html).toMatch(/<details class="terms">[\s\S]*<dt>Mức độ đảm bảo[\s\S]*<dt>Nguồn định danh|<details class="terms">[\s\S]*<dt>Nguồn định danh[\s\S]*<dt>Mức độ đảm bảo/);
    const csrf = field(page.html, 'csrf')!;

    // CSRF missing or forged: refused, nothing written.
    expect((await post(agent, '/account/totp', {})).res.status).toBe(400);
    expect((await post(agent, '/account/totp', { csrf: `${csrf.slice(1)}A` })).res.status).toBe(400);
    // A token from another browser's session does not work here either.
    const other = await signedIn('citizen_id', 'hoang-minh-duc');
    const otherCsrf = field((await get(other, '/account')).html, 'csrf')!;
    expect((await post(agent, '/account/totp', { csrf: otherCsrf })).res.status).toBe(400);
    expect(await totpRows()).toBe(0);

    const start = await post(agent, '/account/totp', { csrf });
    expect(start.res.status).toBe(200);
    expect(start.res.headers.get('cache-control')).toBe('no-store');
    expect(start.html).toMatch(/<img class="qr" src="data:image\/svg\+xml[^"]+" alt="Mã QR[^"]+"/);
    const grouped = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(start.html)![1]!;
    expect(grouped).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
    const secret = grouped.replaceAll(' ', '');
    const factorId = field(start.html, 'factorId')!;

    // A wrong first code: said plainly, the form again, nothing confirmed.
    const right = await codeAt(secret);
    const wrong = right === '000000' ? '111111' : '000000';
    const bad = await post(agent, '/account/totp/confirm', { csrf, factorId, code: wrong });
    expect(bad.res.status).toBe(400);
    expect(bad.html).toContain('Mã không đúng');
    expect(bad.html).not.toContain('class="secret"');

    await awayFromStepEdge();
    const done = await post(agent, '/account/totp/confirm', { csrf, factorId, code: await codeAt(secret) });
    expect(done.res.status).toBe(200);
    expect(done.res.headers.get('cache-control')).toBe('no-store');
    const codes = [...done.html.matchAll(/<li><code>([0-9A-Z]{5}-[0-9A-Z]{5})<\/code><\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(10);
    expect(done.html).toContain('chỉ hiển thị một lần');
    expect(done.html).toContain('shown only this once');

    // Stored with the level of the session that enrolled it.
    const { rows } = await tdb.db.query<{ enrolled_level: string; confirmed: boolean }>(
      'SELECT enrolled_level, confirmed_at IS NOT NULL AS confirmed FROM totp_factors',
    );
    expect(rows).toEqual([{ enrolled_level: 'high', confirmed: true }]);

    // The codes are never shown again: confirming once more is refused, the page lists the app.
    const again = await post(agent, '/account/totp/confirm', { csrf, factorId, code: await codeAt(secret) });
    expect(again.res.status).toBe(400);
    expect(again.html).not.toContain(codes[0]!);
    const listed = await get(agent, '/account');
    expect(listed.html).toContain('Nguyễn Văn An');
    expect(listed.html).toContain('Recovery codes left: 10');
    expect(listed.html).not.toContain('Set up an authenticator app');
    expect(listed.html).not.toContain(codes[0]!);
    // A second app while one exists is refused.
    expect((await post(agent, '/account/totp', { csrf })).res.status).toBe(409);

    // A new set of recovery codes replaces the old one, shown once.
    const reissued = await post(agent, '/account/recovery-codes', { csrf });
    expect(reissued.res.status).toBe(200);
    const fresh = [...reissued.html.matchAll(/<li><code>([0-9A-Z]{5}-[0-9A-Z]{5})<\/code><\/li>/g)].map((m) => m[1]);
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(codes[0]);
    expect(reissued.html).toContain('Các mã cũ không còn dùng được');
    const unused = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM recovery_codes WHERE used_at IS NULL')).rows[0]!.n;
    expect(await unused()).toBe(10);

    // Removing the app: the account lists none, and its recovery codes go with it.
    const removed = await post(agent, '/account/totp/remove', { csrf });
    expect(removed.res.status).toBe(200);
    expect(removed.html).toContain('Đã gỡ ứng dụng xác thực');
    expect(removed.html).toContain('Set up an authenticator app');
    expect(await totpRows()).toBe(0);
    expect(await unused()).toBe(0);
    const { rows: audit } = await tdb.db.query<{ details: { recoveryCodesDeleted: number } }>("SELECT details FROM audit_events WHERE event = 'FACTOR_REMOVED'");
    expect(audit.map((a) => a.details.recoveryCodesDeleted)).toEqual([10]);
    // Nothing left to remove or reissue: refused, nothing written.
    expect((await post(agent, '/account/totp/remove', { csrf })).res.status).toBe(404);
    expect((await post(agent, '/account/recovery-codes', { csrf })).res.status).toBe(409);
    expect((await post(agent, '/account/recovery-codes', {})).res.status).toBe(400);
  });

  it('refuses enrolment in a session below substantial, and says why', async () => {
    const agent = await signedIn('telecom', 'bui-thi-lan');
    const page = await get(agent, '/account');
    expect(page.res.status).toBe(200);
    expect(page.html).not.toContain('action="/account/totp"');
    // Her only source stops at low: she is told what would get her further (level-advice.test.ts).
    expect(page.html).toContain('tài khoản định danh điện tử mức 2');
    const before = await totpRows();
    // Even with a valid CSRF token for this session (the page has none to give: make one the way nixa does).
    const { csrfToken } = await import('../../src/interactions/csrf.js');
    const sessionId = decodeURIComponent(agent.cookies.get(url('/').host)!.get('_session')!);
    const refused = await post(agent, '/account/totp', { csrf: csrfToken(fed.nixa.keyring.snapshot.cookieKeys, `account:${sessionId}`) });
    expect(refused.res.status).toBe(403);
    expect(refused.html).toContain('mức độ đảm bảo «đáng kể» trở lên');
    expect(await totpRows()).toBe(before);
  });
});
