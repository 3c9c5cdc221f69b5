// Blocking a source in a real browser (Debian's Chromium through playwright-core),
// by keyboard only, in Vietnamese: Lê Hoàng Cường signs in to the demo service
// through the citizen ID app, opens his nixa account, sees once what changed,
// blocks the telecom operator ("my SIM was swapped away"); whoever then signs in
// through the operator meets a page that says why and offers another source.
// Blocking the source of his own session asks first, then signs him out.
// Screenshots go to test-output/browser/block-source-*.png.
import type { Page } from 'playwright-core';

import { describeInChromium, leave, nixaInChromium, screenshot, stepper } from './chromium.js';

describeInChromium(import.meta.url, `blocking a source in Chromium`, () => {
  const rig = nixaInChromium({ demo: true });

  /** A fresh browser profile (no cookies), watched for CSP violations and errors. */
  const freshBrowser = async (): Promise<Page> => (await rig.newContext()).context.newPage();

  const step = stepper('block-source-', () => ({ consoleErrors: rig.contexts.flatMap((c) => c.problems.consoleErrors) }));

  /** Presses Tab until `target` has the keyboard focus (at most `max` times). */
  async function tabTo(page: Page, target: ReturnType<Page['getByRole']>, max = 40): Promise<void> {
    for (let i = 0; i < max; i++) {
      if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
      await page.keyboard.press('Tab');
    }
    throw new Error(`${max} presses of Tab did not reach ${String(target)}`);
  }

  /** Demo service → chooser → `source` (clicked) → Cường at the source → consent if asked. */
  async function signInAtDemo(page: Page, source: RegExp): Promise<void> {
    await page.goto(`${rig.demo.url}/`);
    await leave(page, () => page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
    await leave(page, () => page.getByRole('button', { name: source }).click());
    await page.getByRole('radio', { name: 'Lê Hoàng Cường', exact: true }).check();
    await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
    const accept = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
    if (await accept.count()) await leave(page, () => accept.click());
  }

  it('blocks the telecom operator by keyboard; a sign-in through it then meets a page that says why and offers another source', async () => {
    const page = await freshBrowser();

    await step(page, '01-signed-in', async () => {
      await signInAtDemo(page, /^Cơ sở dữ liệu quốc gia về dân cư/);
      await page.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ }).waitFor();
    });

    await step(page, '02-account', async () => {
      // Meanwhile Cường signs in through the bank in another browser, a first.
      await signInAtDemo(await freshBrowser(), /^Ngân hàng/);
      await page.goto(`${rig.nixa}/account`);
      // What changed, once: the bank's first sign-in (not the consent this session's
      // own sign-in gave: a session is never told what it may have caused itself).
      const notices = page.getByRole('region', { name: /^Thay đổi gần đây/ });
      await notices.waitFor();
      expect(await notices.innerText()).toMatch(/đăng nhập lần đầu bằng «Ngân hàng/);
      expect(await notices.innerText()).not.toMatch(/Dịch vụ công mẫu/);
      await page.getByRole('heading', { level: 2, name: /^Nguồn định danh của bạn/ }).waitFor();
      await screenshot(page, 'block-source-02-account');
    });

    await step(page, '03-block-by-keyboard', async () => {
      const block = page.getByRole('button', { name: /^Chặn Nhà mạng \(mô phỏng\)/ });
      await tabTo(page, block);
      await leave(page, () => page.keyboard.press('Enter'));
      await page.getByRole('status').filter({ hasText: 'Đã chặn «Nhà mạng (mô phỏng)»' }).waitFor();
      // The notice was shown once: gone on this page and after.
      expect(await page.getByRole('region', { name: /^Thay đổi gần đây/ }).count()).toBe(0);
      // Unblocking is offered (this session is at high, through another source).
      await page.getByRole('button', { name: /^Bỏ chặn Nhà mạng/ }).waitFor();
      await screenshot(page, 'block-source-03-blocked');
    });

    const thief = await freshBrowser();
    await step(thief, '04-refused', async () => {
      await signInAtDemo(thief, /^Nhà mạng/);
      expect(new URL(thief.url()).origin).toBe(new URL(rig.nixa).origin);
      await thief.getByRole('heading', { level: 1, name: /^Chưa đăng nhập được/ }).waitFor();
      expect(await thief.getByRole('alert').innerText()).toMatch(/^Bạn đã chặn nguồn định danh này cho tài khoản nixa của mình/);
      expect(await thief.locator('code').innerText()).toBe('NIXA-FED-source-blocked');
      await screenshot(thief, 'block-source-04-refused');
      // The way forward: another source, by keyboard.
      const other = thief.getByRole('link', { name: /^Chọn nguồn định danh khác/ });
      await tabTo(thief, other);
      await leave(thief, () => thief.keyboard.press('Enter'));
      await thief.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
    });

    await step(page, '05-block-own-source', async () => {
      await page.goto(`${rig.nixa}/account`);
      const own = page.getByRole('button', { name: /^Chặn Cơ sở dữ liệu quốc gia về dân cư/ });
      await tabTo(page, own);
      await leave(page, () => page.keyboard.press('Enter'));
      await page.getByRole('heading', { level: 1, name: /^Chặn «Cơ sở dữ liệu quốc gia về dân cư/ }).waitFor();
      await screenshot(page, 'block-source-05-confirm');
      const confirm = page.getByRole('button', { name: /^Chặn và đăng xuất/ });
      await tabTo(page, confirm);
      // The confirmation posts to the same address: wait for the page it answers with.
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
      await page.getByRole('heading', { level: 1, name: /^Đã chặn «Cơ sở dữ liệu quốc gia về dân cư/ }).waitFor();
      await screenshot(page, 'block-source-06-signed-out');
      const account = await page.goto(`${rig.nixa}/account`);
      expect(account?.status()).toBe(200);
      await page.getByText('Bạn chưa đăng nhập nixa trên trình duyệt này').waitFor();
    });

    for (const { problems: p } of rig.contexts) {
      expect(p.cspViolations).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleErrors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
    }
    await rig.closeContexts();
  }, 180_000);
});
