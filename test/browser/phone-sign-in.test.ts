// Signing in with your phone, in two Chromium profiles: a computer (desktop
// size) and a phone (360 px, touch, with Chromium's virtual authenticator over
// CDP, which verifies its user). The citizen signs in on the phone through
// Citizen ID and binds it at /account; on the computer, the demo service's
// sign-in offers "Đăng nhập bằng điện thoại"; the test reads the QR code's link
// from its text alternative, opens it on the phone, picks the number the
// computer shows and approves with the passkey — and the computer, without a
// reload by hand, lands signed in at the level the phone was bound at. Then the
// unhappy paths: a wrong number, a denial and expiry, each said on both screens.
// Between them, a counter's CIBA request approved on the same phone.
// axe-core checks each new page where it is shown.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';

import { discover } from '../support/relying-party.js';
import { addVirtualAuthenticator, axeViolations, describeInChromium, leave, nixaInChromium, PHONE, screenshot, signInToDemo, stepper } from './chromium.js';

describeInChromium(import.meta.url, `signing in with a bound phone in two Chromium profiles`, () => {
  const rig = nixaInChromium({ demo: true });
  const step = stepper('phone-', () => rig.contexts.at(-1)?.problems);
  const violations: string[] = [];

  async function axe(page: Page, where: string) {
    for (const v of await axeViolations(page)) violations.push(`${where}: ${v.id} (${v.impact}) — ${v.help} at ${v.targets.join(', ')}`);
  }

  /** On the computer: the demo's sign-in, then "sign in with your phone"; the link in the QR code and the number. */
  async function computerAsksPhone(computer: Page) {
    await computer.goto(`${rig.demo.url}/`);
    await leave(computer, () => computer.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
    await leave(computer, () => computer.getByRole('button', { name: /^Đăng nhập bằng điện thoại/ }).click());
    await computer.getByRole('heading', { level: 1, name: /^Đăng nhập bằng điện thoại/ }).waitFor();
    // The QR code's text alternative carries its link (the short link beside it is the same).
    const alt = (await computer.getByRole('img', { name: /^Mã QR để đăng nhập bằng điện thoại/ }).getAttribute('alt'))!;
    const link = /đường dẫn: (\S+)$/.exec(alt)![1]!;
    expect(await computer.locator('a.short-link').getAttribute('href')).toBe(link);
    const number = (await computer.locator('[data-match-number]').innerText()).trim();
    expect(number).toMatch(/^\d\d$/);
    return { link, number };
  }

  it('binds the phone, then signs the computer in to the demo by scanning, matching the number and approving with the passkey', async () => {
    const { context: phoneContext, problems: phoneProblems } = await rig.newContext(PHONE);
    const phone = await phoneContext.newPage();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(phone);

    await step(phone, '01-phone-signs-in', () => signInToDemo(phone, rig.demo.url, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Hoàng Minh Đức'));
    await step(phone, '02-phone-binds', async () => {
      await phone.goto(`${rig.nixa}/account`);
      await phone.getByRole('heading', { level: 2, name: /^Điện thoại của bạn/ }).waitFor();
      await phone.getByLabel(/^Tên điện thoại này/).fill('Điện thoại của Đức');
      await phone.getByRole('button', { name: /^Dùng điện thoại này để đăng nhập/ }).tap();
      await phone.getByText(/^Đã liên kết điện thoại này/).waitFor();
      await phone.getByText(/— điện thoại này/).waitFor();
      await screenshot(phone, 'phone-01-bound');
      await axe(phone, 'account with a bound phone (phone)');
    });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);

    const { context: computerContext, problems: computerProblems } = await rig.newContext();
    const computer = await computerContext.newPage();
    const { link, number } = await step(computer, '03-computer-asks', async () => {
      const asked = await computerAsksPhone(computer);
      await screenshot(computer, 'phone-02-computer-qr');
      await axe(computer, 'QR code page (computer)');
      return asked;
    });

    await step(phone, '04-phone-opens', async () => {
      await phone.goto(link);
      await phone.getByRole('heading', { level: 1, name: /^Xác nhận đăng nhập trên máy tính/ }).waitFor();
      await phone.getByText('Dịch vụ công mẫu (Demo public service)').waitFor();
      await phone.getByText(/Chrome trên Linux|Chromium trên Linux/).waitFor();
      await screenshot(phone, 'phone-03-approve');
      await axe(phone, 'approval page (phone)');
    });
    // The computer hears that the code was scanned.
    await computer.getByText(/^Đã quét mã/).waitFor();

    await step(phone, '05-phone-picks-and-approves', async () => {
      // The pick is answered with the same address (the passkey step): wait for the page, not a new URL.
      await Promise.all([phone.waitForEvent('load'), phone.getByRole('button', { name: number, exact: true }).tap()]);
      await phone.getByRole('button', { name: /^Xác nhận đăng nhập/ }).waitFor();
      await axe(phone, 'passkey step (phone)');
      await phone.getByRole('button', { name: /^Xác nhận đăng nhập/ }).tap();
      await phone.getByRole('heading', { level: 1, name: /^Đã xác nhận/ }).waitFor();
      await screenshot(phone, 'phone-04-approved');
      await axe(phone, 'approved (phone)');
    });
    const approvedAt = Date.now();

    // The computer goes on by itself: signed in to the demo at the phone's level.
    const acr = await step(computer, '06-computer-signed-in', async () => {
      await computer.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ }).waitFor();
      await screenshot(computer, 'phone-05-computer-signed-in');
      return (await computer.locator('.acr').innerText()).trim();
    });
    // Reported, not asserted: speed is measured in the benchmark.
    console.info(`approval → computer signed in: ${Date.now() - approvedAt} ms`);
    expect(acr).toBe('urn:nixa:loa:high');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(after.credentials[0]!.signCount).toBeGreaterThan(credentials[0]!.signCount);

    // A post-office counter asks by CIBA (the demo counter npm start registers);
    // the phone lists the request at /p, shows the counter's message, and the
    // passkey approves it: the counter gets tokens at the phone's level.
    await step(phone, '06b-ciba', async () => {
      const saved = JSON.parse(readFileSync(join(rig.fed.nixa.config.dataDir, 'demo-counter.json'), 'utf8')) as { clientId: string; clientSecret: string };
      const counter = await discover(rig.nixa, { clientId: saved.clientId, secret: saved.clientSecret, redirectUri: '' });
      const asked = await oidc.initiateBackchannelAuthentication(counter, { scope: 'openid profile', login_hint: '046069113502', binding_message: 'Quầy 1: 2207' });
      await phone.goto(`${rig.nixa}/p`);
      await axe(phone, 'pending requests (phone)');
      await leave(phone, () => phone.getByRole('link', { name: /^Bưu điện mẫu/ }).tap());
      await phone.getByText('Quầy 1: 2207').waitFor();
      await screenshot(phone, 'phone-06-ciba');
      await axe(phone, 'CIBA request (phone)');
      await phone.getByRole('button', { name: /^Xác nhận/ }).tap();
      await phone.getByRole('heading', { level: 1, name: /^Đã xác nhận/ }).waitFor();
      const tokens = await oidc.genericGrantRequest(counter, 'urn:openid:params:grant-type:ciba', { auth_req_id: asked.auth_req_id });
      expect(tokens.claims()!.acr).toBe('urn:nixa:loa:high');
    });

    // Unhappy paths, each said on both screens. A wrong number ends the request.
    const other = await rig.newContext();
    const computer2 = await other.context.newPage();
    const wrong = await step(computer2, '07-wrong-number', async () => {
      const asked = await computerAsksPhone(computer2);
      await phone.goto(asked.link);
      const choices = await phone.locator('button[name="number"]').allInnerTexts();
      const pick = choices.map((c) => c.trim()).find((c) => c !== asked.number)!;
      await leave(phone, () => phone.getByRole('button', { name: pick, exact: true }).tap());
      await phone.getByRole('heading', { level: 1, name: /^Số không khớp/ }).waitFor();
      await axe(phone, 'wrong number (phone)');
      await computer2.getByRole('heading', { level: 1, name: /^Số không khớp/ }).waitFor();
      await computer2.getByRole('alert').filter({ hasText: /không khớp/ }).waitFor();
      await axe(computer2, 'wrong number (computer)');
      return asked;
    });
    expect(wrong.number).toMatch(/^\d\d$/);

    // A new code from the refusal page; the citizen denies on the phone.
    await step(computer2, '08-denied', async () => {
      await leave(computer2, () => computer2.getByRole('button', { name: /^Tạo mã mới/ }).click());
      const alt = (await computer2.getByRole('img', { name: /^Mã QR/ }).getAttribute('alt'))!;
      await phone.goto(/đường dẫn: (\S+)$/.exec(alt)![1]!);
      await leave(phone, () => phone.getByRole('button', { name: /^Không phải tôi/ }).tap());
      await phone.getByText(/^Bạn đã từ chối/).waitFor();
      await computer2.getByText(/^Đăng nhập đã bị từ chối trên điện thoại/).waitFor();
    });

    // A code left past its two minutes: the computer says so by itself, and so does the phone.
    await step(computer2, '09-expired', async () => {
      await leave(computer2, () => computer2.getByRole('button', { name: /^Tạo mã mới/ }).click());
      const alt = (await computer2.getByRole('img', { name: /^Mã QR/ }).getAttribute('alt'))!;
      await rig.tdb.db.query(`UPDATE cross_device_requests SET expires_at = now() - interval '1 second' WHERE state = 'pending'`);
      await computer2.getByRole('heading', { level: 1, name: /^Mã đã hết hạn/ }).waitFor();
      await phone.goto(/đường dẫn: (\S+)$/.exec(alt)![1]!);
      await phone.getByRole('heading', { level: 1, name: /^Mã đã hết hạn/ }).waitFor();
      await axe(phone, 'expired (phone)');
    });

    expect(violations).toEqual([]);
    for (const p of [phoneProblems, computerProblems, other.problems]) {
      expect(p.cspViolations).toEqual([]);
      expect(p.pageErrors).toEqual([]);
    }
  }, 180_000);
});
