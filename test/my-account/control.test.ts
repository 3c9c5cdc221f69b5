// The citizen's control over their sessions over real HTTP: "end all my sessions"
// ends every nixa session of the account on every browser and tells each service
// of each by back-channel logout; "this wasn't me" on a history entry also revokes
// every grant with its tokens and records a security event, once. Posts without
// the session's CSRF token change nothing.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import { startLogoutReceiver, type LogoutReceiver } from '../support/backchannel.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let receiver: LogoutReceiver;
let receiverUrl: string;
let tax: Service;
let insurance: Service;

interface Service {
  client: TestClient;
  config: oidc.Configuration;
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // The services' back-channel logout endpoints.
  receiver = await startLogoutReceiver();
  receiverUrl = receiver.url;
  const service = async (name: string, path: string): Promise<Service> => {
    const client = await registerTestClient(tdb.db, {
      name,
      scope: 'openid offline_access profile',
      token_endpoint_auth_method: 'client_secret_basic',
      backchannel_logout_uri: `${receiverUrl}/${path}/backchannel`,
    });
    return { client, config: await discover(fed.nixa.config.issuer, client) };
  };
  tax = await service('Cổng dịch vụ thuế', 'thue');
  insurance = await service('Bảo hiểm xã hội Việt Nam', 'bhxh');
});

afterAll(async () => {
  await fed?.close();
  await receiver?.close();
  await tdb?.drop();
});

beforeEach(() => {
  receiver.received.length = 0;
});

const { get, post } = pagesAt(() => fed.nixa.config.issuer);

async function signIn(s: Service, citizen: string, agent: UserAgent, scope = 'openid profile') {
  const r = await federatedSignIn(s.config, s.client.redirectUri, { source: 'citizen_id', citizen, consent: 'accept', agent, scope, extra: { prompt: 'consent' } });
  if (!r.stoppedAt) throw new Error(`sign-in stopped at ${r.page?.url}: ${r.page?.html.slice(0, 300)}`);
  return redeemFederated(s.config, r);
}

const count = async (sql: string, params: unknown[] = []) => (await tdb.db.query<{ n: number }>(sql, params)).rows[0]!.n;
const events = (event: string, subject: string) => count('SELECT count(*)::int AS n FROM audit_events WHERE event = $1 AND subject = $2', [event, subject]);

/** The logout tokens received, verified with nixa's keys, as (service path, sub, sid). */
async function logoutTokens() {
  const jwks = createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`));
  return Promise.all(
    receiver.received.map(async (r) => {
      const token = new URLSearchParams(r.body).get('logout_token')!;
      const { payload } = await jwtVerify(token, jwks, { issuer: fed.nixa.config.issuer });
      expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
      return { path: r.path, aud: payload.aud, sub: payload.sub, sid: payload.sid };
    }),
  );
}

describe('end all my sessions', () => {
  it('ends every session of the account on every browser and sends each service of each a back-channel logout', async () => {
    const laptop = new UserAgent();
    const phone = new UserAgent();
    const t1 = await signIn(tax, 'nguyen-van-an', laptop);
    const i1 = await signIn(insurance, 'nguyen-van-an', laptop, 'openid profile offline_access');
    const t2 = await signIn(tax, 'nguyen-van-an', phone);
    const account = t1.claims()!.sub;
    expect((await get(phone, '/account')).res.status).toBe(200);

    const page = await get(laptop, '/account');
    expect(page.html).toContain('action="/account/sessions/end"');
    expect(page.html).toContain('Kết thúc mọi phiên đăng nhập <span lang="en">(End all my sessions)</span>');
    const res = await post(laptop, '/account/sessions/end', { csrf: field(page.html, 'csrf')! });
    expect(res.res.status).toBe(200);
    expect(res.res.headers.get('cache-control')).toBe('no-store');
    expect(res.html).toContain('Đã kết thúc 2 phiên đăng nhập nixa của bạn');
    // Both services registered a back-channel logout and answered: the page may say they were told.
    expect(res.html).toContain('Các dịch vụ bạn đã đăng nhập qua nixa đã được báo để đăng xuất bạn.');
    expect(res.html).toContain('<p lang="en">2 nixa sign-in session(s) of yours ended');

    // Each service of each session was told, naming that session's sid.
    const tokens = await logoutTokens();
    expect(tokens.map((t) => `${t.path} ${t.sid}`).sort()).toEqual(
      [`/thue/backchannel ${t1.claims()!.sid}`, `/bhxh/backchannel ${i1.claims()!.sid}`, `/thue/backchannel ${t2.claims()!.sid}`].sort(),
    );
    for (const t of tokens) expect(t.sub).toBe(account);

    // Neither browser's session finds the account any more.
    expect((await get(laptop, '/account')).html).toContain('Bạn chưa đăng nhập nixa');
    expect((await get(phone, '/account')).html).toContain('Bạn chưa đăng nhập nixa');
    expect(await count(`SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'Session' AND payload->>'accountId' = $1`, [account])).toBe(0);
    // As at sign-out: what the sessions held without offline_access is revoked; offline access outlives it.
    await expect(oidc.fetchUserInfo(tax.config, t1.access_token, account)).rejects.toMatchObject({ status: 401 });
    await expect(oidc.fetchUserInfo(tax.config, t2.access_token, account)).rejects.toMatchObject({ status: 401 });
    expect((await oidc.refreshTokenGrant(insurance.config, i1.refresh_token!)).access_token).toEqual(expect.any(String));

    const { rows } = await tdb.db.query<{ actor: string; details: Record<string, unknown> }>(
      "SELECT actor, details FROM audit_events WHERE event = 'ACCOUNT_SESSIONS_ENDED' AND subject = $1",
      [account],
    );
    expect(rows).toEqual([
      { actor: `account:${account}`, details: { sessions: 2, grants: 2, tokens: expect.any(Number), clients: [tax.client.clientId, insurance.client.clientId].sort() } },
    ]);
  });

  it("refuses a post without this session's CSRF token, and ends nothing", async () => {
    const browser = new UserAgent();
    const other = new UserAgent();
    const t = await signIn(tax, 'tran-thi-binh', browser);
    await signIn(tax, 'le-hoang-cuong', other);
    const account = t.claims()!.sub;
    const otherCsrf = field((await get(other, '/account')).html, 'csrf')!;
    for (const fields of [{}, { csrf: 'x'.repeat(43) }, { csrf: otherCsrf }] as Record<string, string>[]) {
      const res = await post(browser, '/account/sessions/end', fields);
      expect(res.res.status).toBe(400);
      expect(res.html).toContain('csrf');
    }
    expect((await get(browser, '/account')).res.status).toBe(200);
    expect(await events('ACCOUNT_SESSIONS_ENDED', account)).toBe(0);
    expect(receiver.received).toEqual([]);
    expect((await oidc.fetchUserInfo(tax.config, t.access_token, account)).sub).toBe(account);
  });
});

describe("this wasn't me", () => {
  it('ends every session, revokes every grant and token, tells the services, records a security event, and says what to do next', async () => {
    const browser = new UserAgent();
    const elsewhere = new UserAgent();
    const t = await signIn(tax, 'pham-thi-dung', browser, 'openid profile offline_access');
    const i = await signIn(insurance, 'pham-thi-dung', elsewhere, 'openid profile offline_access');
    const account = t.claims()!.sub;
    expect(await oidc.tokenIntrospection(tax.config, t.access_token)).toMatchObject({ active: true });

    // The entry: the sign-in made "elsewhere", the newest SIGN_IN of the history.
    const history = await get(browser, '/account/activity');
    const seq = Number(/<li id="event-(\d+)"[^>]*>\s*<p[^>]*><time[^>]*>[^<]*<\/time>: Đăng nhập vào «Bảo hiểm xã hội Việt Nam»/.exec(history.html)![1]);
    const confirm = await get(browser, `/account/activity/${seq}/dispute`);
    expect(confirm.res.status).toBe(200);
    expect(confirm.html).toContain('Báo không phải tôi và khóa mọi truy cập');
    expect(confirm.html).toContain('Đăng nhập vào «Bảo hiểm xã hội Việt Nam»');
    const csrf = field(confirm.html, 'csrf')!;

    // Without the CSRF token: refused, nothing done.
    expect((await post(browser, `/account/activity/${seq}/dispute`, {})).res.status).toBe(400);
    expect(await events('ACCOUNT_ACTIVITY_DISPUTED', account)).toBe(0);
    expect((await get(elsewhere, '/account')).res.status).toBe(200);

    const res = await post(browser, `/account/activity/${seq}/dispute`, { csrf });
    expect(res.res.status).toBe(200);
    expect(res.html).toContain('Đã ghi nhận: hoạt động lúc');
    expect(res.html).toContain('đã được báo để đăng xuất bạn');
    expect(res.html).toContain('nixa đã kết thúc 2 phiên đăng nhập, thu hồi quyền truy cập của 2 lần cấp quyền cho dịch vụ');
    expect(res.html).toContain('Bạn nên làm gì tiếp');
    expect(res.html).toContain('chặn nguồn này cho tài khoản nixa của bạn');
    expect(res.html).toContain('tổng đài hỗ trợ');

    // Every token of every service is refused; introspection says inactive; the sessions are gone.
    for (const [s, tk] of [
      [tax, t],
      [insurance, i],
    ] as const) {
      expect(await oidc.tokenIntrospection(s.config, tk.access_token)).toEqual({ active: false });
      expect(await oidc.tokenIntrospection(s.config, tk.refresh_token!)).toEqual({ active: false });
      await expect(oidc.refreshTokenGrant(s.config, tk.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(oidc.fetchUserInfo(s.config, tk.access_token, account)).rejects.toMatchObject({ status: 401 });
    }
    expect((await get(browser, '/account')).html).toContain('Bạn chưa đăng nhập nixa');
    expect((await get(elsewhere, '/account')).html).toContain('Bạn chưa đăng nhập nixa');
    expect((await logoutTokens()).map((l) => `${l.path} ${l.sid}`).sort()).toEqual(
      [`/thue/backchannel ${t.claims()!.sid}`, `/bhxh/backchannel ${i.claims()!.sid}`].sort(),
    );

    // The security event for operators names the disputed entry and what was revoked.
    const { rows } = await tdb.db.query<{ actor: string; details: Record<string, unknown> }>(
      "SELECT actor, details FROM audit_events WHERE event = 'ACCOUNT_ACTIVITY_DISPUTED' AND subject = $1",
      [account],
    );
    expect(rows).toEqual([
      {
        actor: `account:${account}`,
        details: {
          seq,
          disputed: 'SIGN_IN',
          revoked: { sessions: 2, grants: 2, tokens: expect.any(Number) },
          clients: [tax.client.clientId, insurance.client.clientId].sort(),
        },
      },
    ]);
    expect((rows[0]!.details.revoked as { tokens: number }).tokens).toBeGreaterThanOrEqual(4);

    // Re-posted from the same page: the session is gone, nothing more happens.
    expect((await post(browser, `/account/activity/${seq}/dispute`, { csrf })).res.status).toBe(401);
    // Signed in again and reported again: said once already, nothing more is revoked or recorded.
    const again = await signIn(tax, 'pham-thi-dung', browser);
    receiver.received.length = 0;
    const page = await get(browser, `/account/activity/${seq}/dispute`);
    const twice = await post(browser, `/account/activity/${seq}/dispute`, { csrf: field(page.html, 'csrf')! });
    expect(twice.res.status).toBe(200);
    expect(twice.html).toContain('Bạn đã báo hoạt động lúc');
    expect(twice.html).toContain('không có gì thay đổi thêm');
    expect(await events('ACCOUNT_ACTIVITY_DISPUTED', account)).toBe(1);
    expect((await get(browser, '/account')).res.status).toBe(200);
    expect(await oidc.tokenIntrospection(tax.config, again.access_token)).toMatchObject({ active: true });
    expect(receiver.received).toEqual([]);

    // The report is in the history, marked, and offers no "this wasn't me" of its own.
    const after = await get(browser, '/account/activity');
    const reported = /<li id="event-(\d+)" class="alert">[\s\S]*?hoạt động số (\d+) không phải do mình[\s\S]*?<\/li>/.exec(after.html)!;
    expect(Number(reported[2])).toBe(seq);
    expect(reported[0]).not.toContain('/dispute');
    expect((await get(browser, `/account/activity/${reported[1]}/dispute`)).res.status).toBe(404);
  });

  it("is not found for an entry of another account's, a made-up number, or a number that is not one, and changes nothing", async () => {
    const mine = new UserAgent();
    const theirs = new UserAgent();
    const m = await signIn(tax, 'hoang-minh-duc', mine);
    const th = await signIn(tax, 'nguyen-van-an', theirs);
    const account = m.claims()!.sub;
    const { rows } = await tdb.db.query<{ seq: string }>("SELECT seq FROM audit_events WHERE subject = $1 AND event = 'SIGN_IN' ORDER BY seq DESC LIMIT 1", [th.claims()!.sub]);
    const csrf = field((await get(mine, '/account')).html, 'csrf')!;
    expect((await post(mine, `/account/activity/${rows[0]!.seq}/dispute`, { csrf })).res.status).toBe(404);
    expect((await post(mine, '/account/activity/999999999/dispute', { csrf })).res.status).toBe(404);
    expect((await post(mine, '/account/activity/abc/dispute', { csrf })).res.status).toBe(400);
    expect(await events('ACCOUNT_ACTIVITY_DISPUTED', account)).toBe(0);
    expect((await get(mine, '/account')).res.status).toBe(200);
    expect((await get(theirs, '/account')).res.status).toBe(200);
  });
});
