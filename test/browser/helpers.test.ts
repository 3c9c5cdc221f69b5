// /account/helpers in a real browser, with axe-core: Nguyễn Văn An signs in to the
// demo service through Citizen ID (level high), goes from his account to
// "Người giúp bạn", makes a mistake in the ID number (no such province: the field is named and
// marked), then authorises his grandson Lê Hoàng Cường at the tax portal by
// keyboard and labels only; Cường sees the request on his own page. axe on the
// form, the refused form, the list, and the helper's page, in Vietnamese and with
// the English shown beside it. Screenshots in test-output/browser/.
import type { BrowserContext, Locator, Page } from 'playwright-core';

import { registerTestClient } from '../support/relying-party.js';
import { axeViolations, describeInChromium, describeViolations, nixaInChromium, screenshot, signInToDemo, stepper, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, 'the helpers page in Chromium, with axe', () => {
  let an: BrowserContext;
  let cuong: BrowserContext;
  let problems: PageProblems;
  const rig = nixaInChromium({
    demo: true,
    async setUp() {
      await registerTestClient(rig.tdb.db, { name: 'Cổng dịch vụ thuế', scope: 'openid profile representation', representation: ['helper'] });
      ({ context: an, problems } = await rig.newContext());
      ({ context: cuong } = await rig.newContext());
    },
  });
  const step = stepper('helpers-', () => problems);
  const found: string[] = [];
  /** Shows the page in `show` (the language switch, then back to the same address by GET). */
  const language = async (page: Page, show: 'vi' | 'vi-en') => {
    const back = new URL(page.url()).pathname;
    await page.goto(`${rig.nixa}/language?show=${show}&back=${encodeURIComponent(back)}`);
    await page.waitForURL((u) => u.pathname === back);
  };
  /** axe on the page as it is now (a form's answer is not reloaded). */
  const axe = async (page: Page, name: string) => {
    const v = await axeViolations(page);
    if (v.length) await screenshot(page, `helpers-a11y-${name}`);
    found.push(...describeViolations(name, v));
  };
  /** The button is there, and a screen reader hears whose row it is (its aria-describedby). */
  const describedAs = async (page: Page, button: Locator, whom: string) => {
    await button.waitFor();
    expect((await page.locator(`#${await button.getAttribute('aria-describedby')}`).innerText()).trim()).toBe(whom);
  };
  const inThreeWeeks = new Date(Date.now() + 7 * 3600_000 + 21 * 86_400_000).toISOString().slice(0, 10);

  it('authorises a helper by labels alone; axe finds nothing on the form, its errors, the list and the helper’s page', async () => {
    const page = await an.newPage();
    const other = await cuong.newPage();
    await step(other, '01-helper-signs-in', () => signInToDemo(other, rig.demo.url, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Lê Hoàng Cường'));
    await step(page, '02-grantor-to-helpers', async () => {
      await signInToDemo(page, rig.demo.url, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Nguyễn Văn An');
      await page.goto(`${rig.nixa}/account`);
      await page.getByRole('region', { name: /^Người giúp bạn/ }).getByRole('link', { name: /^Quản lý người giúp bạn/ }).click();
      await page.getByRole('heading', { level: 1, name: /^Người giúp bạn/ }).waitFor();
    });
    await screenshot(page, 'helpers-01-form');
    await axe(page, '[vi] form');
    // The rest with the English shown beside the Vietnamese: every word of the page is checked.
    await language(page, 'vi-en');
    await axe(page, '[vi-en] form');

    await step(page, '03-wrong-number', async () => {
      await page.getByLabel(/^Số định danh cá nhân của người giúp/).fill('003201007396'); // 12 digits (the browser's own check passes) but no province has code 003
      await page.getByRole('checkbox', { name: 'Cổng dịch vụ thuế' }).check();
      await page.getByLabel(/^Đến hết ngày/).fill(inThreeWeeks);
      await page.getByRole('button', { name: /^Cho phép/ }).click();
      await page.getByRole('alert').filter({ hasText: 'Chưa cho phép được' }).waitFor();
      expect(await page.getByLabel(/^Số định danh cá nhân của người giúp/).getAttribute('aria-invalid')).toBe('true');
      // The choices made are kept on the refused form.
      expect(await page.getByRole('checkbox', { name: 'Cổng dịch vụ thuế' }).isChecked()).toBe(true);
    });
    await screenshot(page, 'helpers-02-refused');
    await axe(page, '[vi-en] refused');

    await step(page, '04-authorised', async () => {
      await page.getByLabel(/^Số định danh cá nhân của người giúp/).fill('048201007396');
      await page.getByRole('button', { name: /^Cho phép/ }).focus();
      await page.keyboard.press('Enter');
      await page.getByText(/^Đã cho phép người có số định danh \*{9}396/).waitFor();
      await describedAs(page, page.getByRole('table', { name: /^Người giúp, dịch vụ và thời hạn/ }).getByRole('button', { name: /^Thu hồi/ }), '*********396');
    });
    await screenshot(page, 'helpers-03-list');
    await axe(page, '[vi-en] list');

    await step(other, '05-helper-sees-it', async () => {
      await other.goto(`${rig.nixa}/account/helpers`);
      await describedAs(other, other.getByRole('table', { name: /^Người nhờ bạn/ }).getByRole('button', { name: /^Thôi giúp/ }), 'Nguyễn Văn An');
    });
    await screenshot(other, 'helpers-04-helper');
    await axe(other, '[vi] helper');

    expect(found).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    // The refused form is a 400 answer, not a fault of the page.
    expect(problems.consoleErrors.filter((e) => !/400 \(Bad Request\)/.test(e))).toEqual([]);
  }, 180_000);
});
