// nixa's front door in Chromium, by keyboard only: the home page → "Đăng nhập vào
// tài khoản nixa" → nixa's chooser → the simulated telecom source → back at
// /account, signed in at level low, with the way to a higher level offered; the
// footer of a state service on every page; no CSP violation, no console error,
// and the favicon found. Screenshots go to test-output/browser/home-*.png.
//
// Beside axe-core's checks (test/browser/accessibility.test.ts), the structure a
// screen reader relies on is checked here on the way: the page's language, one h1,
// the main and contentinfo landmarks, visible focus.
import type { BrowserContext, Locator, Page } from 'playwright-core';

import { describeInChromium, nixaInChromium, screenshot, stepper, vietnameseContext, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, `nixa's home page and the sign-in to one's own account in Chromium`, () => {
  let context: BrowserContext;
  let problems: PageProblems;
  const rig = nixaInChromium({
    async setUp() {
      ({ context, problems } = await rig.newContext());
    },
  });

  const step = stepper('home-', () => problems);

  const isFocused = (l: Locator) => l.evaluate((el) => el === el.ownerDocument.activeElement && el.matches(':focus-visible'));

  /** Presses Tab until `target` has the (visible) focus, at most `max` times. */
  async function tabTo(page: Page, target: Locator, max: number): Promise<number> {
    let tabs = 0;
    while (!(await isFocused(target))) {
      if (++tabs > max) throw new Error(`not reached in ${max} presses of Tab`);
      await page.keyboard.press('Tab');
    }
    return tabs;
  }

  /** Presses a key and waits until the browser has left the page; returns the path it arrived at. */
  async function leave(page: Page, key: string): Promise<string> {
    const before = page.url();
    await Promise.all([page.waitForURL((u) => u.href !== before), page.keyboard.press(key)]);
    return new URL(page.url()).pathname;
  }

  /** What a screen reader needs of every nixa page. */
  async function wellFormed(page: Page): Promise<void> {
    expect(await page.locator('html').getAttribute('lang')).toBe('vi');
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.getByRole('main').count()).toBe(1);
    const footer = page.getByRole('contentinfo');
    expect(await footer.count()).toBe(1);
    const links = footer.getByRole('navigation', { name: /^Thông tin về dịch vụ/ }).getByRole('link');
    expect((await links.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      'Trợ giúp',
      'hotro@nixa.example',
      'Quyền riêng tư',
      'Khả năng tiếp cận',
      'Điều khoản sử dụng',
    ]);
    // No stray space where the hidden English sat ("Liên hệ :").
    expect((await footer.innerText()).replace(/\s+/g, ' ')).toContain('Liên hệ: hotro@nixa.example');
    // Vietnamese only by default: the English beside it is hidden from eyes and screen readers.
    expect(await page.locator('h1 [lang="en"]').first().isVisible()).toBe(false);
  }

  it('walks home → sign in → chooser → telecom → /account by keyboard only, with the footer on every page', async () => {
    const page = await context.newPage();

    await step(page, '01-home', async () => {
      await page.goto(`${rig.nixa}/`);
      await page.getByRole('heading', { level: 1, name: /^nixa — Định danh quốc gia/ }).waitFor();
      await wellFormed(page);
      await page.getByText('Đơn vị vận hành nixa (bản trình diễn)', { exact: true }).first().waitFor();
      await page.getByRole('term').filter({ hasText: 'Nguồn định danh' }).waitFor();
      await screenshot(page, 'home-01-home');
    });

    await step(page, '02-keyboard-to-sign-in', async () => {
      const button = page.getByRole('link', { name: /^Đăng nhập vào tài khoản nixa/ });
      // The skip link and the language link come first.
      expect(await tabTo(page, button, 3)).toBeLessThanOrEqual(3);
      await screenshot(page, 'home-02-focus-on-sign-in');
      expect(await leave(page, 'Enter')).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
    });

    await step(page, '03-chooser', async () => {
      await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
      await wellFormed(page);
      // The service asking is nixa's own account page.
      await page.getByText(/^Tài khoản nixa/).first().waitFor();
      const telecom = page.getByRole('button', { name: /^Nhà mạng/ });
      await tabTo(page, telecom, 8);
      await screenshot(page, 'home-03-chooser');
      expect(new URL(await leave(page, 'Enter').then(() => page.url())).origin).toBe(new URL(rig.fed.sources.telecom.issuer).origin);
    });

    await step(page, '04-source', async () => {
      await page.getByRole('heading', { level: 1, name: /^Chọn người dân thử nghiệm/ }).waitFor();
      // The first citizen is chosen; Tab reaches the group, the arrow moves to the next, Tab to the button.
      const first = page.getByRole('radio').first();
      await tabTo(page, first, 6);
      await page.keyboard.press('ArrowDown');
      const chosen = await page.locator('input[name="citizen"]:checked').evaluate((el) => (el as unknown as { labels: { textContent: string }[] }).labels[0]!.textContent);
      const confirm = page.getByRole('button', { name: /^Xác nhận và tiếp tục/ });
      await tabTo(page, confirm, 3);
      await screenshot(page, 'home-04-source');
      expect(await leave(page, 'Enter')).toMatch(/^\/(interaction|account)/);
      await page.waitForURL(`${rig.nixa}/account`);
      expect(chosen).toBeTruthy();
    });

    await step(page, '05-account', async () => {
      await page.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      await wellFormed(page);
      await page.getByText('Lần đăng nhập hiện tại ở mức độ đảm bảo «thấp».').waitFor();
      // The way to a higher level, by the same sign-in.
      const raise = page.getByRole('link', { name: /^Đăng nhập lại ở mức «đáng kể»/ });
      expect(await raise.getAttribute('href')).toBe('/account/sign-in?level=substantial');
      await tabTo(page, raise, 6);
      await screenshot(page, 'home-05-account');
    });

    await step(page, '06-footer-by-keyboard', async () => {
      // The footer's links are reachable by keyboard and lead to nixa's own pages.
      const help = page.getByRole('contentinfo').getByRole('link', { name: /^Trợ giúp/ });
      await tabTo(page, help, 40);
      expect(await leave(page, 'Enter')).toBe('/help');
      await page.getByRole('heading', { level: 1, name: /^Trợ giúp/ }).waitFor();
      await wellFormed(page);
      await screenshot(page, 'home-06-help');
    });

    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    // nixa serves its own icon: the browser's own request for one finds it.
    expect(problems.faviconErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('offers the same sign-in on /account without a session, and the icon nixa serves', async () => {
    const own = await vietnameseContext(rig.browser);
    try {
      const page = await own.newPage();
      await step(page, '07-account-signed-out', async () => {
        const res = await page.goto(`${rig.nixa}/account`);
        expect(res!.status()).toBe(200);
        await wellFormed(page);
        await page.getByText(/^Bạn chưa đăng nhập nixa trên trình duyệt này/).waitFor();
        const button = page.getByRole('link', { name: /^Đăng nhập vào tài khoản nixa/ });
        expect(await button.getAttribute('href')).toBe('/account/sign-in');
        const icon = await page.evaluate(async () => {
          const r = await fetch('/favicon.svg');
          return { status: r.status, type: r.headers.get('content-type') };
        });
        expect(icon).toEqual({ status: 200, type: 'image/svg+xml' });
        await screenshot(page, 'home-07-account-signed-out');
      });
    } finally {
      await own.close();
    }
  }, 60_000);
});
