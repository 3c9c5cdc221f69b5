// The citizen's history and "this wasn't me" in a real browser: Nguyễn Văn An
// signs in to the demo service on his laptop through Citizen ID, and someone
// signs in as him on another device through Telecom. On the laptop he opens his
// nixa account, then its activity, sees both sign-ins with source, level and
// device, and — with the keyboard only — reports the Telecom one as not his: the
// other device's nixa session is gone. Screenshots in test-output/browser/.
import type { BrowserContext, Page } from 'playwright-core';

import { describeInChromium, nixaInChromium, screenshot, signInToDemo, stepper, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, `the account's activity and "this wasn't me" in Chromium`, () => {
  let laptop: BrowserContext;
  let other: BrowserContext;
  let problems: PageProblems;
  let otherProblems: PageProblems;
  const rig = nixaInChromium({
    demo: true,
    async setUp() {
      ({ context: laptop, problems } = await rig.newContext());
      ({ context: other, problems: otherProblems } = await rig.newContext());
    },
  });

  const step = stepper('activity-', () => ({ consoleErrors: [...(problems?.consoleErrors ?? []), ...(otherProblems?.consoleErrors ?? [])] }));

  const text = (s: string) => s.replace(/\s+/g, ' ').trim();
  const entryTexts = async (page: Page) => (await page.locator('ol.history > li').allInnerTexts()).map(text);

  /** Tab (only) until the focused element is `target`; fails after `max` presses. */
  async function tabTo(page: Page, target: ReturnType<Page['locator']>, max = 80): Promise<number> {
    for (let i = 1; i <= max; i++) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement)) return i;
    }
    throw new Error(`not reached with ${max} presses of Tab`);
  }

  it('shows both sign-ins with source, level and device, and "this wasn\'t me" ends the other device\'s session, by keyboard alone', async () => {
    const page = await laptop.newPage();
    const stranger = await other.newPage();
    await step(page, '01-citizen-id-on-laptop', () => signInToDemo(page, rig.demo.url, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Nguyễn Văn An'));
    await step(stranger, '02-telecom-elsewhere', () => signInToDemo(stranger, rig.demo.url, /^Nhà mạng/, 'Nguyễn Văn An'));

    await step(page, '03-account-to-activity', async () => {
      await page.getByRole('link', { name: 'tài khoản nixa của bạn' }).click();
      await page.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      await page.getByRole('link', { name: /^Xem lịch sử hoạt động của tài khoản/ }).click();
      await page.getByRole('heading', { level: 1, name: /^Hoạt động của tài khoản/ }).waitFor();
    });
    await screenshot(page, 'activity-01-history');
    const lines = await entryTexts(page);
    const telecom = lines.findIndex((l) => /Đăng nhập vào «Dịch vụ công mẫu.*» qua «Nhà mạng.*», mức độ đảm bảo «thấp», bằng mã qua tin nhắn SMS, trên Chrome trên Linux\./.test(l));
    const citizenId = lines.findIndex((l) =>
      /Đăng nhập vào «Dịch vụ công mẫu.*» qua «Cơ sở dữ liệu quốc gia về dân cư.*», mức độ đảm bảo «cao», bằng mật khẩu và mã dùng một lần, trên Chrome trên Linux\./.test(l),
    );
    expect({ telecom, citizenId, lines }).toEqual({ telecom: expect.any(Number), citizenId: expect.any(Number), lines });
    expect(telecom).toBeGreaterThanOrEqual(0);
    expect(citizenId).toBeGreaterThan(telecom); // newest first
    // In Vietnamese only by default: the English of each entry is there for the switch, hidden.
    expect(await page.locator('ol.history [lang="en"]').first().isVisible()).toBe(false);

    const entry = page.locator('ol.history > li').nth(telecom);
    const notMe = entry.getByRole('link', { name: /^Không phải tôi/ });
    await step(page, '04-report-by-keyboard', async () => {
      await page.locator('body').focus();
      await tabTo(page, notMe);
      // The link says which entry it is about, for a screen reader.
      const describedBy = await notMe.getAttribute('aria-describedby');
      expect(text(await page.locator(`#${describedBy}`).innerText())).toContain('qua «Nhà mạng');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 2, name: /^Không phải tôi/ }).waitFor();
      await screenshot(page, 'activity-02-confirm');
      await tabTo(page, page.getByRole('button', { name: /^Báo không phải tôi và khóa mọi truy cập/ }));
      await page.keyboard.press('Enter');
      await page.getByText('Đã ghi nhận: hoạt động lúc').waitFor();
    });
    await screenshot(page, 'activity-03-reported');
    expect(text(await page.locator('main').innerText())).toContain('Bạn nên làm gì tiếp');
    expect(text(await page.locator('main').innerText())).toContain('Hoạt động này đến qua «Nhà mạng');

    // The other device's nixa session is gone, and so is the laptop's.
    await step(stranger, '05-elsewhere-signed-out', async () => {
      const res = await stranger.goto(`${rig.nixa}/account`);
      expect(res?.status()).toBe(200);
      await stranger.getByText('Bạn chưa đăng nhập nixa trên trình duyệt này').waitFor();
    });
    const back = await page.goto(`${rig.nixa}/account/activity`);
    expect(back?.status()).toBe(200);
    await page.getByText('Bạn chưa đăng nhập nixa trên trình duyệt này').waitFor();

    for (const p of [problems, otherProblems]) {
      expect(p.cspViolations).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      // The 401 pages are answers, not faults of a page; anything else is.
      expect(p.consoleErrors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
    }
  }, 120_000);
});
