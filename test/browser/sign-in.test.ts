// The whole federated sign-in once, in a real browser (Debian's Chromium through
// playwright-core), in Vietnamese: demo public service → nixa's chooser → the
// simulated citizen-ID source's picker → nixa's consent page → back to the
// service, signed in. Every page is screenshotted into test-output/browser/.
//
// Everything runs in this process on `localhost`, as `npm start` does: browsers
// share cookies across the ports of one host, so nixa, the sources and the demo
// service must all be reached under the same name (the demo redirects any other).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { BrowserContext, Page } from 'playwright-core';

import { waitFor } from '../support/wait.js';
import { describeInChromium, nixaInChromium, screenshot, stepper, vietnameseContext, watchProblems, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, `sign-in in Chromium, in Vietnamese`, () => {
  let context: BrowserContext;
  let problems: PageProblems;
  let nixaOrigin: string;
  let citizenSourceOrigin: string;
  // The demo registered exactly as `npm start` does (see nixaInChromium).
  const rig = nixaInChromium({
    demo: true,
    async setUp() {
      nixaOrigin = new URL(rig.nixa).origin;
      citizenSourceOrigin = new URL(rig.fed.sources.citizen_id.issuer).origin;
      ({ context, problems } = await rig.newContext());
    },
  });

  const step = stepper('', () => problems);

  /**
   * Does `act` (a click, a key press) and waits until the browser has left the
   * current page, wherever it went (an error page too, so that a failure shows
   * at once rather than as a time-out); returns where it arrived.
   */
  async function leave(page: Page, act: () => Promise<void>): Promise<{ origin: string; path: string }> {
    const before = page.url();
    await Promise.all([page.waitForURL((u) => u.href !== before), act()]);
    const u = new URL(page.url());
    return { origin: u.origin, path: u.pathname };
  }
  const interactionPage = expect.stringMatching(/^\/interaction\/[A-Za-z0-9_-]+$/);

  /** nixa's pages are in Vietnamese by default: the English beside each text is hidden (see the last test for the switch). */
  async function inVietnameseOnly(page: Page): Promise<void> {
    expect(await page.locator('h1 [lang="en"]').count()).toBeGreaterThan(0);
    expect(await page.locator('h1 [lang="en"]').first().isVisible()).toBe(false);
  }

  const lang = (page: Page) => page.locator('html').getAttribute('lang');
  const focused = async (page: Page) => (await page.locator(':focus').innerText()).replace(/\s+/g, ' ').trim();

  /** The rows of a table.claims as a citizen sees them (visible text only): [heading, value]. */
  const claimRows = (page: Page) =>
    page.locator('table.claims tbody tr').evaluateAll((rows) =>
      rows.map((r) => [r.querySelector('th')?.innerText ?? '', r.querySelector('td')?.innerText ?? ''].map((t: string) => t.replace(/\s+/g, ' ').trim())),
    );

  it('sees a Content-Security-Policy violation when there is one (so that "none" below means none)', async () => {
    // A page under a policy like nixa's that breaks it: an image from another origin.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'self'" });
      res.end('<!DOCTYPE html><html lang="vi"><title>CSP</title><img src="http://localhost:9/x.png" alt="">');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const own = await vietnameseContext(rig.browser);
    try {
      const seen = await watchProblems(own);
      const page = await own.newPage();
      await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
      await waitFor(() => seen.cspViolations.length >= 2, 5_000, 'the console error and the securitypolicyviolation event');
      expect(seen.cspViolations.some((v) => /Content Security Policy/.test(v))).toBe(true);
      expect(seen.cspViolations.some((v) => v.includes('[securitypolicyviolation] img-src blocked http://localhost:9/x.png'))).toBe(true);
    } finally {
      await own.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('walks demo service → chooser (by keyboard) → citizen-ID source → consent → signed in, with no CSP violation', async () => {
    const page = await context.newPage();

    await step(page, '01-demo-home', async () => {
      await page.goto(`${rig.demo.url}/`);
      expect(page.url()).toBe(`${rig.demo.url}/`);
      expect(await lang(page)).toBe('vi');
      await page.getByRole('heading', { level: 1, name: /^Cổng dịch vụ công mẫu/ }).waitFor();
      await page.getByRole('link', { name: /^Đăng nhập với nixa/ }).waitFor();
      await screenshot(page, '01-demo-home');
    });

    await step(page, '02-nixa-chooser', async () => {
      const at = await leave(page, () => page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
      expect(at).toEqual({ origin: nixaOrigin, path: interactionPage });
      expect(await lang(page)).toBe('vi');
      await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
      await inVietnameseOnly(page);
      await page.getByText('Dịch vụ công mẫu (Demo public service)', { exact: true }).waitFor();
      const sources = page.getByRole('form', { name: /^Chọn nguồn định danh/ }).getByRole('button');
      const names = (await sources.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      expect(names).toHaveLength(3);
      for (const vi of ['Cơ sở dữ liệu quốc gia về dân cư (mô phỏng)', 'Nhà mạng (mô phỏng)', 'Ngân hàng (mô phỏng)']) {
        expect(names.filter((n) => n.startsWith(vi))).toHaveLength(1);
      }
      // NIXA_TEST_LOGIN is off: no "type any account id" form.
      expect(await page.locator('input[name="account"]').count()).toBe(0);
      await page.getByRole('button', { name: /^Hủy và quay lại dịch vụ/ }).waitFor();
      await screenshot(page, '02-nixa-chooser');
    });

    await step(page, '03-nixa-chooser-keyboard', async () => {
      // By keyboard only: Tab from the top of the page reaches the first source button…
      const first = page.getByRole('form', { name: /^Chọn nguồn định danh/ }).getByRole('button').first();
      const isFocused = (l: typeof first) => l.evaluate((el) => el === el.ownerDocument.activeElement && el.matches(':focus-visible'));
      let tabs = 0;
      while (!(await isFocused(first))) {
        expect(++tabs).toBeLessThanOrEqual(3); // the skip link (and the header's language link) come first
        await page.keyboard.press('Tab');
      }
      // …and onwards to the citizen-ID source, which Enter then chooses.
      const citizen = page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ });
      while (!(await isFocused(citizen))) {
        expect(++tabs).toBeLessThanOrEqual(6);
        await page.keyboard.press('Tab');
      }
      expect(await focused(page)).toMatch(/^Cơ sở dữ liệu quốc gia về dân cư \(mô phỏng\)/);
      await screenshot(page, '03-nixa-chooser-keyboard');
      const at = await leave(page, () => page.keyboard.press('Enter'));
      expect(at).toEqual({ origin: citizenSourceOrigin, path: interactionPage });
    });

    await step(page, '04-source-picker', async () => {
      expect(await lang(page)).toBe('vi');
      await page.getByRole('heading', { level: 1, name: /^Chọn người dân thử nghiệm/ }).waitFor();
      await page.getByRole('group', { name: /^Người dân thử nghiệm/ }).waitFor();
      const binh = page.getByRole('radio', { name: 'Trần Thị Bình', exact: true });
      await binh.check();
      expect(await binh.isChecked()).toBe(true);
      expect(await page.getByRole('radio', { name: 'Nguyễn Văn An', exact: true }).isChecked()).toBe(false);
      await screenshot(page, '04-source-picker');
      const at = await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      expect(at).toEqual({ origin: nixaOrigin, path: interactionPage });
    });

    await step(page, '05-nixa-consent', async () => {
      expect(await lang(page)).toBe('vi');
      await page.getByRole('heading', { level: 1, name: /^Chia sẻ thông tin với Dịch vụ công mẫu \(Demo public service\)\?/ }).waitFor();
      await page.getByRole('table', { name: /^Thông tin sẽ được chia sẻ/ }).waitFor();
      await inVietnameseOnly(page);
      // The demo asks for "openid profile phone"; the citizen-ID source knows all but the phone number.
      // (In no particular order: nixa lists them by claim name.)
      const byLabel = (a: string[], b: string[]) => a[0]!.localeCompare(b[0]!);
      expect((await claimRows(page)).sort(byLabel)).toEqual([
        ['Họ và tên', 'Trần Thị Bình'],
        ['Ngày sinh', '12/07/1992'],
        ['Giới tính', 'Nữ'],
        ['Quê quán', 'Xã Tân Phú Trung, huyện Củ Chi, Thành phố Hồ Chí Minh'],
        ['Số điện thoại', 'Chưa có'],
      ].sort(byLabel));
      const accept = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
      await page.getByRole('button', { name: /^Không chia sẻ/ }).waitFor();
      await screenshot(page, '05-nixa-consent');
      const at = await leave(page, () => accept.click());
      expect(at).toEqual({ origin: rig.demo.url, path: '/' });
    });

    await step(page, '06-demo-signed-in', async () => {
      expect(await lang(page)).toBe('vi');
      await page.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ }).waitFor();
      // The assurance level nixa vouches for: the citizen-ID source's high level, in nixa's own terms.
      const assurance = page.getByRole('region', { name: /^Mức độ đảm bảo/ });
      expect((await assurance.locator('.acr').innerText()).trim()).toBe('urn:nixa:loa:high');
      const rows = new Map((await claimRows(page)).map(([k, v]) => [k!, v!]));
      expect(rows.get('Họ và tên (Full name) name')).toBe('Trần Thị Bình');
      expect(rows.get('Mức độ đảm bảo (Assurance level) acr')).toBe('urn:nixa:loa:high');
      expect(rows.get('Giới tính (Gender) gender')).toBe('Nữ (female)');
      await page.getByRole('button', { name: /^Đăng xuất/ }).waitFor();
      await screenshot(page, '06-demo-signed-in');
    });

    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('offers English one click away on nixa\'s pages, and back to Vietnamese only', async () => {
    // A context of its own: the choice is a cookie, and the walk above is in the default Vietnamese.
    const own = await vietnameseContext(rig.browser);
    const page = await own.newPage();
    try {
      await step(page, '07-nixa-language-switch', async () => {
        // Any nixa page will do; the chooser of a sign-in started at the demo service is the one citizens see.
        await page.goto(`${rig.demo.url}/login`);
        expect(new URL(page.url()).origin).toBe(nixaOrigin);
        await inVietnameseOnly(page);
        // In the page, and visible (getByRole would skip it if it were hidden).
        const english = page.getByRole('banner').getByRole('link', { name: 'English', exact: true, includeHidden: true });
        expect(await english.count()).toBe(1);
        expect({ 'the "English" link is visible': await english.isVisible() }).toEqual({ 'the "English" link is visible': true });
        // The switch comes back to the page it was clicked on (same URL), so wait for the load.
        const before = page.url();
        await Promise.all([page.waitForEvent('load'), english.click()]);
        expect(page.url()).toBe(before);
        await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
        expect(await page.locator('h1 [lang="en"]').first().innerText()).toBe('(Sign in with an identity you already have)');
        await screenshot(page, '07-nixa-chooser-english');
        await Promise.all([page.waitForEvent('load'), page.getByRole('banner').getByRole('link', { name: 'Chỉ tiếng Việt', exact: true }).click()]);
        await inVietnameseOnly(page);
      });
    } finally {
      await own.close();
    }
  });
});
