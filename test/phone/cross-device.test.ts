// Signing in with a bound phone, over real HTTP with a software authenticator
// (genuine ES256 WebAuthn answers): a citizen binds their phone at /account from
// a session on the phone; a computer's sign-in shows a QR code and a number; the
// phone opens the link, picks the number, approves with its passkey (user
// verification required) and the computer's sign-in completes at the level the
// policy gives a bound phone. Each way it can go wrong — a wrong number, a second
// phone, a denial, expiry, a phone of another account, a level the phone cannot
// give, no user verification, an unbound phone, a replayed code — is refused on
// both screens and audited.
import * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { field } from '../support/pages.js';
import * as phones from '../support/phone.js';
import { form, PHONE_PASSKEY_ENV, type Phone, type PhoneWorld } from '../support/phone.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

interface Setup {
  tdb: TestDatabase;
  fed: Federation;
  portal: TestClient;
  config: oidc.Configuration;
  world: PhoneWorld;
}

describe('signing in with a bound phone (QR code, number, passkey)', () => {
  let s: Setup;
  const url = (path: string) => new URL(path, s.fed.nixa.config.issuer);
  const count = async (sql: string, params: unknown[] = []) => (await s.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;
  const events = (event: string, reason?: string) =>
    reason ? count(`audit_events WHERE event = $1 AND details->>'reason' = $2`, [event, reason]) : count('audit_events WHERE event = $1', [event]);

  beforeAll(async () => {
    const tdb = await createTestDatabase();
    const fed = await startFederation(tdb, PHONE_PASSKEY_ENV);
    const portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    const config = await discover(fed.nixa.config.issuer, portal);
    s = { tdb, fed, portal, config, world: { issuer: fed.nixa.config.issuer, config, redirectUri: portal.redirectUri } };
  });
  afterAll(async () => {
    await s?.fed.close();
    await s?.tdb.drop();
  });

  const phoneSignedIn = (source: 'citizen_id' | 'telecom' | 'bank', citizen: string, canVerifyUser = true) => phones.phoneSignedIn(s.world, source, citizen, canVerifyUser);
  const bind = (p: Phone, name?: string) => phones.bind(s.world, p, name);
  const boundPhone = (source: 'citizen_id' | 'telecom' | 'bank', citizen: string) => phones.boundPhone(s.world, source, citizen);
  const open = (p: Phone, link: string) => phones.openOnPhone(s.world, p, link);

  /** A computer's sign-in to the portal at the chooser, asking to sign in with the phone: its QR link and number. */
  async function computerAtPhone(o: { agent?: UserAgent; extra?: Record<string, string> } = {}) {
    const signIn = await federatedSignIn(s.config, s.portal.redirectUri, { ...(o.agent ? { agent: o.agent } : {}), ...(o.extra ? { extra: o.extra } : {}) });
    const chooser = signIn.page!;
    expect(chooser.html).toContain('Đăng nhập bằng điện thoại');
    const uid = new URL(chooser.url).pathname.split('/')[2]!;
    const started = await signIn.agent.request(url(`/interaction/${uid}/phone`), form({ csrf: field(chooser.html, 'csrf')! }));
    expect(started.status).toBe(303);
    const page = await (await signIn.agent.request(url(`/interaction/${uid}/phone`))).text();
    const link = /<a href="([^"]+\/p\/[A-Z]{10})" class="short-link">/.exec(page)?.[1];
    const number = /data-match-number>(\d\d)</.exec(page)?.[1];
    expect(link).toBeDefined();
    expect(number).toBeDefined();
    // The page speaks of "nguồn định danh": it says what that means (views/terms.html).
    expect(page).toContain('<details class="terms">');
    return { ...signIn, uid, page, link: new URL(link!).pathname, number: number!, csrf: field(page, 'csrf')! };
  }

  type Computer = Awaited<ReturnType<typeof computerAtPhone>>;

  const status = async (c: Computer) => (await (await c.agent.request(url(`/interaction/${c.uid}/phone/status`))).json()) as { state: string; settled: boolean };

  async function finish(c: Computer) {
    const step = await c.agent.submit(url(`/interaction/${c.uid}/phone/finish`), { csrf: c.csrf }, s.portal.redirectUri);
    return { stoppedAt: step.stoppedAt, status: step.res.status, html: step.stoppedAt ? '' : await step.res.text() };
  }

  /** Opens the link on the phone and picks `pick` (default: the right number). */
  async function pick(p: Phone, c: Computer, pick = c.number) {
    const opened = await open(p, c.link);
    expect(opened.status).toBe(200);
    const res = await p.agent.request(url(`${c.link}/number`), form({ csrf: opened.csrf!, number: pick }));
    return { status: res.status, html: res.status === 303 ? '' : await res.text(), csrf: opened.csrf! };
  }

  async function approve(p: Phone, c: Computer, o: { userVerified?: boolean } = {}) {
    const picked = await pick(p, c);
    expect(picked.status).toBe(303);
    const confirm = await open(p, c.link);
    expect(confirm.html).toContain('data-passkey="authenticate"');
    const approved = await phones.approveWithPasskey(s.world, p, c.link, confirm.csrf!, o);
    expect(approved.options?.userVerification).toBe('required');
    return { ...approved, options: approved.options! };
  }

  let lan: Phone;

  it('binds a phone from a session on it: a passkey with user verification, at the level of that session, remembered by the phone', async () => {
    const p = await phoneSignedIn('citizen_id', 'nguyen-van-an');
    expect(p.account).toContain('Dùng điện thoại này để đăng nhập');
    const b = await bind(p, '  Điện thoại   của Lan ');
    expect(b.options.authenticatorSelection?.userVerification).toBe('required');
    expect(b.status).toBe(200);
    expect(b.html).toContain('Đã liên kết điện thoại này');
    expect(b.html).toMatch(/<strong>Điện thoại của Lan<\/strong> <strong>— điện thoại này/);
    // Listed with the phones, not again among the passkeys.
    expect(b.html).not.toContain('Gỡ khóa truy cập Điện thoại của Lan');
    const { rows } = await s.tdb.db.query<{ bound_level: string; name: string }>('SELECT bound_level, name FROM bound_phones');
    expect(rows).toEqual([{ bound_level: 'high', name: 'Điện thoại của Lan' }]);
    expect(await events('PHONE_BOUND')).toBe(1);
    expect(p.agent.cookiesFor(url('/p')).map(([n]) => n)).toContain('nixa_phone');
    lan = p;
  });

  it('refuses to bind a passkey that did not verify its owner, writing nothing', async () => {
    const p = await phoneSignedIn('bank', 'pham-thi-dung', false);
    const before = await count('passkeys');
    const b = await bind(p);
    expect(b.status).toBe(400);
    expect(b.html).toContain('vân tay, khuôn mặt hoặc mã PIN');
    expect(await count('passkeys')).toBe(before);
    expect(await count('bound_phones')).toBe(1);
    expect(p.agent.cookiesFor(url('/p')).map(([n]) => n)).not.toContain('nixa_phone');
  });

  it('signs the computer in when the phone picks the number and approves with its passkey: acr of the bound level, amr hwk user mca mfa', async () => {
    const c = await computerAtPhone({ extra: { acr_values: 'urn:nixa:loa:high' } });
    expect(c.page).toMatch(/<img src="data:image\/svg\+xml;base64,[^"]+" alt="Mã QR/);
    expect(await status(c)).toEqual({ state: 'pending', settled: false });

    const opened = await open(lan, c.link);
    expect(opened.status).toBe(200);
    expect(opened.html).toContain('Cổng dịch vụ công');
    expect(opened.html).toContain('Họ và tên');
    expect(opened.html).toMatch(/Mức độ đảm bảo cần[^]*cao/);
    // Three numbers, one of them the computer's.
    const choices = [...opened.html.matchAll(/name="number" value="(\d\d)"/g)].map((m) => m[1]);
    expect(choices).toHaveLength(3);
    expect(choices).toContain(c.number);
    expect(await status(c)).toEqual({ state: 'claimed', settled: false });

    const a = await approve(lan, c);
    expect(a.status).toBe(200);
    expect(a.html).toContain('Đã xác nhận');
    // Only the bound phone's passkey may answer.
    expect(a.options.allowCredentials).toHaveLength(1);
    expect(await status(c)).toEqual({ state: 'approved', settled: true });

    const done = await finish(c);
    expect(done.stoppedAt).toBeDefined();
    const claims = (await redeemFederated(s.config, { agent: c.agent, verifier: c.verifier, state: c.state, nonce: c.nonce, pages: c.pages, stoppedAt: done.stoppedAt })).claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:high');
    expect(claims.amr).toEqual(expect.arrayContaining(['hwk', 'user', 'mca', 'mfa']));
    expect(claims.amr).not.toContain('fed');
    expect(await events('CROSS_DEVICE_APPROVED')).toBe(1);
    expect(await count('bound_phones WHERE last_used_at IS NOT NULL')).toBe(1);

    // The code is spent: opening it again, or finishing again, does not sign anyone in.
    expect((await open(lan, c.link)).status).toBe(409);
    expect(await events('CROSS_DEVICE_APPROVED')).toBe(1);
  });

  it('ends the request on both screens when the phone picks a wrong number', async () => {
    const c = await computerAtPhone();
    const wrong = String(((Number(c.number) - 10 + 1) % 90) + 10);
    const picked = await pick(lan, c, wrong);
    expect(picked.status).toBe(403);
    expect(picked.html).toContain('Số không khớp');
    expect(await status(c)).toEqual({ state: 'denied', settled: true });
    // Picking the right one afterwards is too late.
    expect((await lan.agent.request(url(`${c.link}/number`), form({ csrf: picked.csrf, number: c.number }))).status).toBe(403);
    const done = await finish(c);
    expect(done.stoppedAt).toBeUndefined();
    expect(done.status).toBe(403);
    expect(done.html).toContain('Số được chọn trên điện thoại không khớp');
    expect(done.html).toContain('Tạo mã mới');
    expect(await events('CROSS_DEVICE_DENIED', 'wrong-number')).toBe(1);
  });

  it('ends the request when a second phone opens the same code (a relayed QR), for both phones and the computer', async () => {
    const other = await boundPhone('bank', 'le-hoang-cuong');
    const c = await computerAtPhone();
    expect((await open(lan, c.link)).status).toBe(200);
    const second = await open(other, c.link);
    expect(second.status).toBe(409);
    expect(second.html).toContain('Mã đã bị quét từ hai điện thoại');
    // The first phone cannot go on either.
    const first = await open(lan, c.link);
    expect(first.status).toBe(409);
    expect(first.html).toContain('Mã đã bị quét từ hai điện thoại');
    expect(await status(c)).toEqual({ state: 'denied', settled: true });
    expect((await finish(c)).html).toContain('hai điện thoại');
    expect(await events('CROSS_DEVICE_DENIED', 'second-scan')).toBe(1);
  });

  it('refuses when the citizen denies on the phone', async () => {
    const c = await computerAtPhone();
    const opened = await open(lan, c.link);
    const denied = await lan.agent.request(url(`${c.link}/deny`), form({ csrf: opened.csrf! }));
    expect(denied.status).toBe(200);
    expect(await denied.text()).toContain('Bạn đã từ chối');
    expect((await finish(c)).html).toContain('Đăng nhập đã bị từ chối trên điện thoại');
    expect(await events('CROSS_DEVICE_DENIED', 'citizen')).toBe(1);
  });

  it('refuses a code past its two minutes, on both screens, audited once', async () => {
    const c = await computerAtPhone();
    await s.tdb.db.query(`UPDATE cross_device_requests SET expires_at = now() - interval '1 second' WHERE interaction = $1`, [c.uid]);
    const opened = await open(lan, c.link);
    expect(opened.status).toBe(410);
    expect(opened.html).toContain('Mã đã hết hạn');
    expect(await status(c)).toEqual({ state: 'expired', settled: true });
    expect((await finish(c)).html).toContain('Mã đã hết hạn trước khi điện thoại xác nhận');
    expect(await events('CROSS_DEVICE_EXPIRED')).toBe(1);
  });

  it('refuses an approval without user verification, and lets the citizen try again', async () => {
    const c = await computerAtPhone();
    const a = await approve(lan, c, { userVerified: false });
    expect(a.status).toBe(400);
    expect(a.html).toContain('vân tay, khuôn mặt hoặc mã PIN');
    expect(await status(c)).toEqual({ state: 'matched', settled: false });
    expect(await count(`audit_events WHERE event = 'FACTOR_FAILED'`)).toBeGreaterThan(0);
    // The computer's button pressed too soon: back to its waiting page.
    const early = await c.agent.request(url(`/interaction/${c.uid}/phone/finish`), form({ csrf: c.csrf }));
    expect(early.status).toBe(303);
  });

  it('tells a phone that is not bound how to bind it, and claims nothing', async () => {
    const c = await computerAtPhone();
    const stranger = new UserAgent();
    const res = await stranger.request(url(c.link));
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Điện thoại này chưa được liên kết');
    expect(await status(c)).toEqual({ state: 'pending', settled: false });
    // A typed code goes to the same page; a malformed one is said so.
    expect((await stranger.request(url(`/p?code=${c.link.slice(3, 7).toLowerCase()}-${c.link.slice(7)}`))).headers.get('location')).toBe(c.link);
    expect((await stranger.request(url('/p?code=123'))).status).toBe(400);
    expect((await stranger.request(url('/p/NOT-A-CODE'))).status).toBe(404);
  });

  it('refuses a form without its CSRF token', async () => {
    const c = await computerAtPhone();
    await open(lan, c.link);
    const res = await lan.agent.request(url(`${c.link}/number`), form({ number: c.number }));
    expect(res.status).toBe(400);
    expect(await status(c)).toEqual({ state: 'claimed', settled: false });
  });

  it('refuses a phone of another account when the computer is already signed in (a step-up)', async () => {
    const computer = await federatedSignIn(s.config, s.portal.redirectUri, { source: 'telecom', citizen: 'pham-thi-dung', consent: 'accept' });
    await redeemFederated(s.config, computer);
    const c = await computerAtPhone({ agent: computer.agent, extra: { acr_values: 'urn:nixa:loa:substantial' } });
    const opened = await open(lan, c.link);
    expect(opened.status).toBe(403);
    expect(opened.html).toContain('Điện thoại của một tài khoản khác');
    expect((await finish(c)).html).toContain('liên kết với một tài khoản khác');
    expect(await events('CROSS_DEVICE_DENIED', 'other-account')).toBe(1);
  });

  it('binds a phone only from a session at substantial or above (a swapped SIM must not bind the attacker’s phone)', async () => {
    const low = await phoneSignedIn('telecom', 'bui-thi-lan');
    expect(low.account).not.toContain('data-options="/account/phones/options"');
    expect(low.account).toContain('Để liên kết điện thoại này, hãy đăng nhập ở mức «đáng kể»');
    expect((await low.agent.request(url('/account/phones/options'), form({ csrf: low.csrf }))).status).toBe(403);
    expect((await low.agent.request(url('/account/phones'), form({ csrf: low.csrf, name: 'x', response: '{}' }))).status).toBe(403);
    expect(await count(`bound_phones p JOIN passkeys k ON k.id = p.passkey_id WHERE p.bound_level = 'low'`)).toBe(0);
  });

  it('refuses a phone bound at a level below what the service asks', async () => {
    const low = await boundPhone('bank', 'hoang-minh-duc');
    expect((await s.tdb.db.query(`SELECT bound_level FROM bound_phones ORDER BY created_at DESC LIMIT 1`)).rows[0]).toEqual({ bound_level: 'substantial' });
    const c = await computerAtPhone({ extra: { acr_values: 'urn:nixa:loa:high' } });
    const opened = await open(low, c.link);
    expect(opened.status).toBe(403);
    expect(opened.html).toContain('Điện thoại chưa đủ mức độ đảm bảo');
    expect(await events('CROSS_DEVICE_DENIED', 'level')).toBe(1);
  });

  it('on the bound phone itself, its passkey signs in to a service right there: no QR code, no source, no mca', async () => {
    // Another day on the phone: nixa's session is gone, the binding cookie stays.
    const phone = new UserAgent();
    for (const [name, value] of lan.agent.cookiesFor(url('/'))) if (name.startsWith('nixa_phone')) phone.setCookie(url('/'), name, value);
    const signIn = await federatedSignIn(s.config, s.portal.redirectUri, { agent: phone });
    const chooser = signIn.page!;
    expect(chooser.html).toContain('Đăng nhập bằng điện thoại này');
    expect(chooser.html).not.toContain('Quét mã QR');
    const uid = new URL(chooser.url).pathname.split('/')[2]!;
    const csrf = field(chooser.html, 'csrf')!;
    const res = await phone.request(url(`/interaction/${uid}/phone-here/options`), form({ csrf }));
    const options = (await res.json()) as Parameters<Phone['authenticator']['authenticate']>[0] & { userVerification?: string };
    expect(options.userVerification).toBe('required');
    // (An answer without user verification is refused as on the phone's pages: the lockout above already counts
    // this account's failures, so a second one here would only meet its delay.)
    const step = await phone.submit(url(`/interaction/${uid}/phone-here`), { csrf, response: JSON.stringify(lan.authenticator.authenticate(options)) }, s.portal.redirectUri);
    expect(step.stoppedAt).toBeDefined();
    const claims = (await redeemFederated(s.config, { ...signIn, stoppedAt: step.stoppedAt })).claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:high');
    expect(claims.amr).toEqual(expect.arrayContaining(['hwk', 'user', 'mfa']));
    expect(claims.amr).not.toContain('mca');
    expect(claims.amr).not.toContain('fed');
    expect(await events('BOUND_PHONE_SIGN_IN')).toBe(1);
  });

  it('a kiosk’s device grant opened on the bound phone signs in with the phone’s passkey (RFC 8628 + bound phone)', async () => {
    const kiosk = await registerTestClient(s.tdb.db, { grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], redirect_uris: [], post_logout_redirect_uris: [], token_endpoint_auth_method: 'none', scope: 'openid' });
    const kioskConfig = await discover(s.fed.nixa.config.issuer, kiosk);
    const d = await oidc.initiateDeviceAuthorization(kioskConfig, { scope: 'openid' });
    const phone = new UserAgent();
    for (const [name, value] of lan.agent.cookiesFor(url('/'))) if (name.startsWith('nixa_phone')) phone.setCookie(url('/'), name, value);
    const formHtml = await (await phone.request(d.verification_uri_complete!)).text();
    const confirm = await phone.submit(url('/device'), { xsrf: field(formHtml, 'xsrf')!, user_code: field(formHtml, 'user_code')! });
    const confirmHtml = await confirm.res.text();
    const chooser = await phone.submit(url('/device'), { xsrf: field(confirmHtml, 'xsrf')!, user_code: field(confirmHtml, 'user_code')!, confirm: 'yes' });
    const chooserHtml = await chooser.res.text();
    expect(chooserHtml).toContain('Đăng nhập bằng điện thoại này');
    const uid = new URL(chooser.url).pathname.split('/')[2]!;
    const csrf = field(chooserHtml, 'csrf')!;
    const options = (await (await phone.request(url(`/interaction/${uid}/phone-here/options`), form({ csrf }))).json()) as Parameters<Phone['authenticator']['authenticate']>[0];
    const done = await phone.submit(url(`/interaction/${uid}/phone-here`), { csrf, response: JSON.stringify(lan.authenticator.authenticate(options)) });
    expect(await done.res.text()).toContain('Thiết bị đã được đăng nhập');
    const tokens = await oidc.genericGrantRequest(kioskConfig, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: d.device_code });
    expect(tokens.claims()).toMatchObject({ acr: 'urn:nixa:loa:high' });
  });

  it('removes a bound phone only from a session at substantial or above; the phone is then not bound', async () => {
    const lowSession = await phoneSignedIn('telecom', 'nguyen-van-an');
    const phoneId = (await s.tdb.db.query<{ id: string }>(`SELECT p.id FROM bound_phones p JOIN passkeys k ON k.id = p.passkey_id WHERE p.name = 'Điện thoại của Lan'`)).rows[0]!.id;
    const refused = await lowSession.agent.request(url(`/account/phones/${phoneId}/remove`), form({ csrf: lowSession.csrf }));
    expect(refused.status).toBe(403);
    expect(await count('bound_phones WHERE id = $1', [phoneId])).toBe(1);

    const removed = await lan.agent.request(url(`/account/phones/${phoneId}/remove`), form({ csrf: lan.csrf }));
    expect(removed.status).toBe(200);
    expect(await removed.text()).toContain('Đã gỡ điện thoại');
    expect(await count('bound_phones WHERE id = $1', [phoneId])).toBe(0);
    expect(await events('PHONE_UNBOUND')).toBe(1);
    const c = await computerAtPhone();
    expect((await open(lan, c.link)).status).toBe(403);
  });
});
