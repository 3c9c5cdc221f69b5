// Issue 12's "Done when", walked in Chromium as a newcomer after `npm start`:
// Nguyễn Văn An signs in to the demo service through the bank, then opens nixa's
// home page in the same browser, follows "Đăng nhập vào tài khoản nixa" (silent:
// nixa's session exists) to his account, finds that sign-in in his history with
// its source and level, ends all his sessions, signs in again, blocks the telecom
// operator, and a sign-in through the operator is refused with a page that offers
// another source. On every page: a way forward in main (a link or a button besides
// the language switch), and no CSP violation or console error.
//
// The demo service registers a back-channel logout URI (src/demo-service/app.ts):
// ending all sessions tells it, and its page then shows the citizen signed out.
// Screenshots go to test-output/browser/newcomer-NN-*.png.
import type { BrowserContext, Page } from 'playwright-core';

import { describeInChromium, nixaInChromium, screenshot, stepper, type PageProblems } from './chromium.js';

const title = `a newcomer's walk: demo sign-in, nixa's home, history, end all sessions, block a source in Chromium`;

describeInChromium(import.meta.url, title, () => {
  let context: BrowserContext;
  let problems: PageProblems;
  const rig = nixaInChromium({
    demo: true,
    async setUp() {
      ({ context, problems } = await rig.newContext());
    },
  });

  const step = stepper('newcomer-', () => problems);
  const text = (s: string) => s.replace(/\s+/g, ' ').trim();
  const path = (page: Page) => new URL(page.url()).pathname;
  const origin = (page: Page) => new URL(page.url()).origin;

  /** Every page a newcomer meets: one main, with a link or button in it that is not the language switch. */
  async function wayForward(page: Page, where: string): Promise<string[]> {
    expect({ where, mains: await page.getByRole('main').count() }).toEqual({ where, mains: 1 });
    const ways = page.locator('main').locator('a[href]:not(.language), button, input[type="submit"]');
    const names = (await ways.allInnerTexts()).map(text).filter(Boolean);
    expect({ where, ways: names.length > 0 }).toEqual({ where, ways: true });
    return names;
  }

  /** Waits for the navigation `act` starts; returns the path arrived at. */
  async function leave(page: Page, act: () => Promise<void>): Promise<string> {
    const before = page.url();
    await Promise.all([page.waitForURL((u) => u.href !== before), act()]);
    await page.waitForLoadState('load');
    return path(page);
  }

  /** The simulated source's own page: pick the citizen and confirm. */
  async function atSource(page: Page, shot: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name: /^Chọn người dân thử nghiệm/ }).waitFor();
    await wayForward(page, shot);
    await page.getByRole('radio', { name: 'Nguyễn Văn An', exact: true }).check();
    await screenshot(page, shot);
    await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
  }

  it('walks the issue\'s "Done when" with a way forward on every page', async () => {
    const page = await context.newPage();

    // 1. Sign in to the demo service through the bank.
    await step(page, '01-demo-home', async () => {
      await page.goto(`${rig.demo.url}/`);
      await wayForward(page, 'demo home');
      await screenshot(page, 'newcomer-01-demo-home');
      await leave(page, () => page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
    });
    await step(page, '02-chooser', async () => {
      expect(origin(page)).toBe(new URL(rig.nixa).origin);
      await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
      await wayForward(page, 'chooser');
      await screenshot(page, 'newcomer-02-chooser');
      await leave(page, () => page.getByRole('button', { name: /^Ngân hàng/ }).click());
      expect(origin(page)).toBe(new URL(rig.fed.sources.bank.issuer).origin);
    });
    await step(page, '03-bank', () => atSource(page, 'newcomer-03-bank'));
    await step(page, '04-consent', async () => {
      const accept = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
      await accept.waitFor();
      await wayForward(page, 'consent');
      await screenshot(page, 'newcomer-04-consent');
      await leave(page, () => accept.click());
    });
    await step(page, '05-demo-signed-in', async () => {
      await page.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ }).waitFor();
      expect(origin(page)).toBe(new URL(rig.demo.url).origin);
      expect(text(await page.locator('.assurance .acr').innerText())).toBe('urn:nixa:loa:substantial');
      await wayForward(page, 'demo signed in');
      await screenshot(page, 'newcomer-05-demo-signed-in');
    });

    // 2. nixa's home in the same browser; its sign-in button is silent (nixa's session exists).
    await step(page, '06-home', async () => {
      await page.goto(`${rig.nixa}/`);
      await page.getByRole('heading', { level: 1, name: /^nixa — Định danh quốc gia/ }).waitFor();
      await wayForward(page, 'home');
      await screenshot(page, 'newcomer-06-home');
      await leave(page, () => page.getByRole('link', { name: /^Đăng nhập vào tài khoản nixa/ }).click());
      // No chooser, no source, no consent: straight to the account.
      await page.waitForURL(`${rig.nixa}/account`);
    });
    await step(page, '07-account', async () => {
      await page.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      await page.getByText('Lần đăng nhập hiện tại ở mức độ đảm bảo «đáng kể».').waitFor();
      await wayForward(page, 'account');
      await screenshot(page, 'newcomer-07-account');
      expect(await leave(page, () => page.getByRole('link', { name: /^Xem lịch sử hoạt động của tài khoản/ }).click())).toBe('/account/activity');
    });

    // 3. The history shows the demo sign-in, its source and its level.
    await step(page, '08-activity', async () => {
      await page.getByRole('heading', { level: 1, name: /^Hoạt động của tài khoản/ }).waitFor();
      await wayForward(page, 'activity');
      const lines = (await page.locator('ol.history > li').allInnerTexts()).map(text);
      const demoSignIn = lines.filter((l) => /^.*Đăng nhập vào «Dịch vụ công mẫu[^»]*» qua «Ngân hàng[^»]*», mức độ đảm bảo «đáng kể»/.test(l));
      expect({ demoSignIn: demoSignIn.length, lines }).toEqual({ demoSignIn: 1, lines });
      await screenshot(page, 'newcomer-08-activity');
    });

    // 4. End all sessions, from /account.
    await step(page, '09-end-all-sessions', async () => {
      await page.goto(`${rig.nixa}/account`);
      await leave(page, () => page.getByRole('button', { name: /^Kết thúc mọi phiên đăng nhập/ }).click());
      expect(path(page)).toBe('/account/sessions/end');
      await page.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      expect(text(await page.locator('main').innerText())).toContain('Đã kết thúc 1 phiên đăng nhập nixa của bạn');
      // The demo service registers a back-channel logout URI and answered: the page says it was told.
      expect(text(await page.locator('main').innerText())).toContain('Các dịch vụ bạn đã đăng nhập qua nixa đã được báo để đăng xuất bạn.');
      expect(text(await page.locator('main').innerText())).not.toContain('Có dịch vụ chưa nhận được thông báo đăng xuất từ nixa');
      await screenshot(page, 'newcomer-09-sessions-ended');
      await wayForward(page, 'sessions ended');
    });
    await step(page, '10-signed-out', async () => {
      // The way forward from the page that ended them (added with this test: the page had none).
      expect(await leave(page, () => page.getByRole('link', { name: /^Đăng nhập lại vào tài khoản/ }).click())).toBe('/account');
      await page.getByText(/^Bạn chưa đăng nhập nixa trên trình duyệt này/).waitFor();
      await wayForward(page, 'account signed out');
      await screenshot(page, 'newcomer-10-account-signed-out');
    });
    // The demo service was told (back-channel logout): its page now shows the citizen signed out.
    await step(page, '10b-demo-signed-out', async () => {
      await page.goto(`${rig.demo.url}/`);
      await page.getByRole('link', { name: /^Đăng nhập với nixa/ }).waitFor();
      expect(text(await page.locator('main').innerText())).not.toContain('Bạn đã đăng nhập');
      await wayForward(page, 'demo signed out');
      await screenshot(page, 'newcomer-10b-demo-signed-out');
      await page.goto(`${rig.nixa}/account`);
      await page.getByText(/^Bạn chưa đăng nhập nixa trên trình duyệt này/).waitFor();
    });

    // 5. Sign in again, through the bank, from the account page.
    await step(page, '11-sign-in-again', async () => {
      await leave(page, () => page.getByRole('link', { name: /^Đăng nhập vào tài khoản nixa/ }).click());
      await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
      await wayForward(page, 'chooser (own account)');
      await screenshot(page, 'newcomer-11-chooser-again');
      await leave(page, () => page.getByRole('button', { name: /^Ngân hàng/ }).click());
    });
    // The bank still has its own session (nixa ended only its own): the bank answers at once, without its page.
    await step(page, '12-bank-again', async () => {
      await page.waitForURL(`${rig.nixa}/account`);
    });

    // 6. Block the telecom operator.
    await step(page, '13-block-telecom', async () => {
      await page.waitForURL(`${rig.nixa}/account`);
      await page.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      await wayForward(page, 'account again');
      await screenshot(page, 'newcomer-13-account-again');
      await leave(page, () => page.getByRole('button', { name: /^Chặn Nhà mạng \(mô phỏng\)/ }).click());
      await page.getByRole('status').filter({ hasText: 'Đã chặn «Nhà mạng (mô phỏng)»' }).waitFor();
      await wayForward(page, 'telecom blocked');
      await screenshot(page, 'newcomer-14-telecom-blocked');
    });

    // 7. Another day (no cookies): a sign-in to the demo through the telecom is refused, with another source offered.
    await context.clearCookies();
    await step(page, '15-refused', async () => {
      await page.goto(`${rig.demo.url}/`);
      await leave(page, () => page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
      await leave(page, () => page.getByRole('button', { name: /^Nhà mạng/ }).click());
      await page.getByRole('heading', { level: 1, name: /^Chọn người dân thử nghiệm/ }).waitFor();
      await wayForward(page, 'telecom');
      await page.getByRole('radio', { name: 'Nguyễn Văn An', exact: true }).check();
      await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      expect(origin(page)).toBe(new URL(rig.nixa).origin);
      await page.getByRole('heading', { level: 1, name: /^Chưa đăng nhập được/ }).waitFor();
      expect(await page.getByRole('alert').innerText()).toMatch(/^Bạn đã chặn nguồn định danh này cho tài khoản nixa của mình/);
      expect(await page.locator('main code').innerText()).toBe('NIXA-FED-source-blocked');
      const ways = await wayForward(page, 'refused');
      expect(ways.some((w) => /^Chọn nguồn định danh khác/.test(w))).toBe(true);
      await screenshot(page, 'newcomer-15-telecom-refused');
      await leave(page, () => page.getByRole('link', { name: /^Chọn nguồn định danh khác/ }).click());
      await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
      await wayForward(page, 'chooser after refusal');
      await screenshot(page, 'newcomer-16-chooser-after-refusal');
    });

    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    // Chromium logs the refusal page's status (403) as a console error: an answer, not a fault of a page.
    const refusal = (e: string) => /\/federation\/callback\?.*status of 403 \(Forbidden\)$/.test(e);
    expect(problems.consoleErrors.filter(refusal)).toHaveLength(1);
    expect(problems.consoleErrors.filter((e) => !refusal(e))).toEqual([]);
    // nixa serves its icon; the demo service does not (its /favicon.ico is a 404, not one of nixa's pages).
    expect(problems.faviconErrors.filter((e) => e.startsWith(`${rig.nixa}/`))).toEqual([]);
    expect(problems.faviconErrors.filter((e) => !e.startsWith(`${rig.nixa}/`) && !e.startsWith(`${rig.demo.url}/`))).toEqual([]);
    await page.close();
  }, 180_000);
});
