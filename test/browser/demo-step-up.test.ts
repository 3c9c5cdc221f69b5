// The "done when", in a real browser against the demo service: a citizen
// proven through Citizen ID adds a passkey at nixa; another day she signs in to
// the demo through Telecom (low), opens the demo's records page, which needs high;
// nixa asks for the passkey (Chromium's virtual authenticator over CDP), and she
// lands on her records at high.
import type { BrowserContext } from 'playwright-core';

import { addVirtualAuthenticator, describeInChromium, nixaInChromium, screenshot, signInToDemo, stepper, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, `the demo's records page: step-up with a passkey in Chromium`, () => {
  let context: BrowserContext;
  let problems: PageProblems;
  const rig = nixaInChromium({
    demo: true,
    async setUp() {
      ({ context, problems } = await rig.newContext());
    },
  });

  const step = stepper('demo-step-up-', () => problems);

  it('raises a Telecom sign-in to high with the passkey added after a Citizen ID sign-in, and shows the records', async () => {
    const page = await context.newPage();
    await addVirtualAuthenticator(page);

    expect(await step(page, '01-citizen-id', () => signInToDemo(page, rig.demo.url, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Phạm Thị Dung'))).toBe('urn:nixa:loa:high');

    await step(page, '02-add-passkey', async () => {
      await page.getByRole('link', { name: 'tài khoản nixa của bạn' }).click();
      await page.getByLabel(/^Tên khóa truy cập/).fill('Máy tính của Dung');
      await page.getByRole('button', { name: /^Thêm khóa truy cập/ }).click();
      await page.getByText('Đã thêm khóa truy cập.').waitFor();
    });

    // Another day: the browser remembers no session anywhere; the authenticator keeps its key.
    await context.clearCookies();
    expect(await step(page, '03-telecom', () => signInToDemo(page, rig.demo.url, /^Nhà mạng/, 'Phạm Thị Dung'))).toBe('urn:nixa:loa:low');

    await step(page, '04-records-step-up', async () => {
      await page.getByRole('link', { name: /^Xem hồ sơ của bạn/ }).click();
      const passkey = page.getByRole('button', { name: /^Xác thực bằng khóa truy cập/ });
      await passkey.waitFor();
      await screenshot(page, 'demo-step-up-01-nixa-asks-passkey');
      await passkey.click();
      // The demo takes parents, and Dung's daughter is under 14: every sign-in asks whom she acts for.
      const records = page.getByRole('heading', { level: 1, name: /^Hồ sơ của bạn/ });
      const self = page.getByRole('radio', { name: /^Chính tôi/ });
      await records.or(self).first().waitFor();
      if (await self.isVisible()) {
        await self.check();
        await page.getByRole('button', { name: /^Tiếp tục/ }).click();
      }
      await records.waitFor();
      await screenshot(page, 'demo-step-up-02-records');
    });
    expect((await page.locator('.assurance .acr').innerText()).trim()).toBe('urn:nixa:loa:high');
    const how = await page.locator('.assurance table').innerText();
    expect(how).toContain('hwk');
    expect(how).toContain('user');

    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
