// nixa's chooser in Chromium, as a citizen meets it: the sources with their logos
// (inline images the strict CSP allows), one line on which to choose, the terms
// explained, advice when the service asks for more than some sources give, and a
// source that has just gone down — picked by keyboard, answered by nixa's own
// chooser saying so, the citizen going on with another source. No CSP violation,
// no console error; every step reachable by keyboard. Screenshots go to
// test-output/browser/chooser-*.png.
import * as oidc from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';

import { silentLogger } from '../../src/logging/index.js';
import { checkSourcesHealth } from '../../src/sources/index.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { describeInChromium, nixaInChromium, screenshot, stepper, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, `the chooser in Chromium`, () => {
  let context: BrowserContext;
  let problems: PageProblems;
  let service: TestClient;
  let config: oidc.Configuration;
  const rig = nixaInChromium({
    env: { NIXA_SOURCE_HEALTH_SECONDS: '3600' },
    async setUp() {
      service = await registerTestClient(rig.tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công quốc gia' });
      config = await discover(rig.nixa, service);
      ({ context, problems } = await rig.newContext());
    },
  });

  afterEach(async () => {
    for (const s of Object.values(rig.fed.sources)) s.misbehave({ mode: 'normal' });
    await checkSourcesHealth(rig.fed.nixa.sources, silentLogger);
    expect(problems.cspViolations).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
  });

  const step = stepper('chooser-', () => problems);

  /** Opens nixa's chooser as the service would send the citizen there. */
  async function openChooser(page: Page, extra: Record<string, string> = {}): Promise<void> {
    await page.goto(await authorizationUrl(config, service, extra));
    await page.getByRole('heading', { level: 1, name: /^Đăng nhập bằng danh tính bạn đã có/ }).waitFor();
  }

  const sourceButtons = (page: Page) => page.getByRole('form', { name: /^Chọn nguồn định danh/ }).getByRole('button');
  const isFocused = (page: Page, name: RegExp) =>
    page.getByRole('button', { name }).evaluate((el) => el === el.ownerDocument.activeElement && el.matches(':focus-visible'));

  /** Tabs forward until the button named `name` has the focus; fails after `max` presses. */
  async function tabTo(page: Page, name: RegExp, max = 12): Promise<void> {
    for (let tabs = 0; !(await isFocused(page, name)); tabs++) {
      expect(tabs).toBeLessThan(max);
      await page.keyboard.press('Tab');
    }
  }

  it('shows every source with its logo and the level it vouches for, one line on which to choose, and the terms explained on demand', async () => {
    const page = await context.newPage();
    await step(page, 'logos', async () => {
      await openChooser(page);
      expect(await sourceButtons(page).count()).toBe(3);
      // Every logo decoded and drawn (a blocked or broken image has no natural size).
      const logos = await sourceButtons(page)
        .locator('img')
        .evaluateAll((imgs) => imgs.map((i) => ({ w: (i as unknown as { naturalWidth: number }).naturalWidth, alt: i.getAttribute('alt'), src: i.getAttribute('src')!.slice(0, 26) })));
      expect(logos).toEqual(Array.from({ length: 3 }, () => ({ w: 40, alt: '', src: 'data:image/svg+xml;base64,' })));
      await page.getByRole('button', { name: /^Ngân hàng \(mô phỏng\).*Xác nhận đến mức «đáng kể»/ }).waitFor();
      await page.getByText('Chọn nguồn nào?', { exact: true }).waitFor();
      expect(await page.getByText(/^Nơi đã xác minh bạn là ai/).isVisible()).toBe(false);
      await screenshot(page, 'chooser-01-sources');
    });
    await step(page, 'terms', async () => {
      // By keyboard: past the three sources to the explanation, opened with Enter.
      const summary = page.locator('details.terms summary');
      for (let tabs = 0; !(await summary.evaluate((el) => el === el.ownerDocument.activeElement)); tabs++) {
        expect(tabs).toBeLessThan(10);
        await page.keyboard.press('Tab');
      }
      await page.keyboard.press('Enter');
      await page.getByText(/^Nơi đã xác minh bạn là ai/).waitFor();
      await page.getByText(/^Mức chắc chắn rằng người đăng nhập đúng là bạn/).waitFor();
      await screenshot(page, 'chooser-02-terms');
    });
    await page.close();
  });

  it('for the high level, lists the citizen-ID source alone and says why, and where to get an account there', async () => {
    const page = await context.newPage();
    await step(page, 'high', async () => {
      await openChooser(page, { acr_values: 'urn:nixa:loa:high' });
      expect((await sourceButtons(page).allInnerTexts()).map((t) => t.split('\n')[0]!.trim())).toEqual(['Cơ sở dữ liệu quốc gia về dân cư (mô phỏng)']);
      await page.getByRole('heading', { level: 2, name: /^Không thấy nguồn bạn thường dùng\?/ }).waitFor();
      await page.getByText(/tài khoản định danh điện tử mức 2/).waitFor();
      await screenshot(page, 'chooser-03-high-advice');
    });
    await page.close();
  });

  it('picking a source that has just gone down, by keyboard, brings the citizen back to nixa’s chooser saying so; they go on with another source', async () => {
    const page = await context.newPage();
    const telecomOrigin = new URL(rig.fed.sources.telecom.issuer).origin;
    const citizenOrigin = new URL(rig.fed.sources.citizen_id.issuer).origin;
    await step(page, 'down', async () => {
      await openChooser(page);
      rig.fed.sources.telecom.misbehave({ mode: 'down' });
      await tabTo(page, /^Nhà mạng \(mô phỏng\)/);
      await Promise.all([page.waitForURL((u) => u.searchParams.get('unanswered') === 'sim-telecom'), page.keyboard.press('Enter')]);
      expect(new URL(page.url()).origin).toBe(new URL(rig.fed.nixa.config.issuer).origin);
      expect(page.url().startsWith(telecomOrigin)).toBe(false);
      const alert = page.getByRole('alert').filter({ hasText: 'không phản hồi' });
      await alert.getByRole('heading', { level: 2, name: /^«Nhà mạng \(mô phỏng\)» không phản hồi/ }).waitFor();
      expect(await page.title()).toBe('Nguồn định danh không phản hồi · nixa');
      // Shown, not offered: two sources left to choose.
      expect(await sourceButtons(page).count()).toBe(2);
      await page.locator('li.unavailable', { hasText: 'Nhà mạng (mô phỏng)' }).waitFor();
      await screenshot(page, 'chooser-04-not-answering');
    });
    await step(page, 'another source', async () => {
      await tabTo(page, /^Cơ sở dữ liệu quốc gia về dân cư/);
      await Promise.all([page.waitForURL((u) => u.origin === citizenOrigin), page.keyboard.press('Enter')]);
      await page.getByRole('heading', { level: 1, name: /^Chọn người dân thử nghiệm/ }).waitFor();
    });
    await page.close();
  });
});
