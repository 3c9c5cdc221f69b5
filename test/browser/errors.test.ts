// Error pages in a real browser (Debian's Chromium): pressing English on a page
// reached from a source's callback or from /auth shows the same error in both
// languages, runs nothing again (no metric, no audit event moves), and the way
// forward still works by keyboard. And the consent page starts on its heading, so
// that one Enter does not share everything.
import type { Page } from 'playwright-core';
import * as oidc from 'openid-client';

import { federatedSignIn } from '../support/federation.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { describeInChromium, leave, nixaInChromium, screenshot, stepper } from './chromium.js';

describeInChromium(import.meta.url, `error pages in Chromium`, () => {
  let service: TestClient;
  let config: oidc.Configuration;
  // On localhost, as `npm start` runs: the browser shares cookies across the ports of one host.
  const rig = nixaInChromium({
    async setUp() {
      service = await registerTestClient(rig.tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội' });
      config = await discover(rig.nixa, service);
    },
  });

  afterEach(() => {
    for (const s of Object.values(rig.fed.sources)) s.misbehave({ mode: 'normal' });
  });

  /** A fresh browser profile (no cookies, Vietnamese only) for each test. */
  const freshPage = async (): Promise<Page> => (await rig.newContext()).context.newPage();
  const step = stepper('errors-', () => rig.contexts.at(-1)?.problems);

  /** The failures operators alert on, and the length of the audit trail. */
  async function alarms() {
    const metrics = await (await fetch(`${rig.nixa}/metrics`)).text();
    const failures = metrics
      .split('\n')
      .filter((l) => l.startsWith('nixa_sign_in_failures_total'))
      .sort();
    const audit = (await rig.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0]!.n;
    return { failures, audit };
  }

  const mainText = async (page: Page) => (await page.locator('main').innerText()).replace(/\s+/g, ' ').trim();
  /** The main content's Vietnamese: its text without the English elements. */
  const vietnamese = (page: Page) =>
    page.locator('main').evaluate((el) => {
      const copy = el.cloneNode(true) as typeof el;
      for (const en of copy.querySelectorAll('[lang="en"]')) en.remove();
      return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
    });
  const code = (page: Page) => page.locator('p.code code').innerText();

  /** Presses English; the same error, now with its English visible, and nothing ran again. */
  async function pressEnglish(page: Page, expectedCode: string): Promise<URL> {
    const before = await alarms();
    const vi = await vietnamese(page);
    const at = await leave(page, () => page.getByRole('link', { name: 'English' }).click());
    expect(await code(page)).toBe(expectedCode);
    expect(await page.locator('h1 [lang="en"]').first().isVisible()).toBe(true);
    // The same page, English added beside the same Vietnamese.
    expect(await vietnamese(page)).toBe(vi);
    await page.getByRole('link', { name: 'Chỉ tiếng Việt' }).waitFor();
    expect(await alarms()).toEqual(before);
    return at;
  }

  it('link conflict at the source callback: English shows the same conflict, and "another source" still works by keyboard', async () => {
    // Trần Thị Bình signed in once with her citizen ID; her bank has another birth date.
    const first = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', consent: 'accept', scope: 'openid' });
    expect(first.stoppedAt).toBeDefined();
    const page = await freshPage();

    await step(page, 'conflict', async () => {
      await page.goto(await authorizationUrl(config, service));
      await leave(page, () => page.getByRole('button', { name: /^Ngân hàng \(mô phỏng\)/ }).click());
      await page.getByRole('radio', { name: 'Trần Thị Bình', exact: true }).check();
      const at = await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      expect(at.pathname).toBe('/federation/callback');
      await page.getByRole('heading', { level: 1, name: /^Chưa đăng nhập được/ }).waitFor();
      expect(await code(page)).toBe('NIXA-FED-link-conflict');
      const text = await mainText(page);
      expect(text).toContain('Ngân hàng (mô phỏng)');
      expect(text).toContain('ngày sinh');
      expect(text).not.toContain('1992');
      expect(text).toContain('Mã lỗi: NIXA-FED-link-conflict'); // no stray space before the colon
      await screenshot(page, 'errors-01-link-conflict');
    });

    await step(page, 'conflict-english', async () => {
      const at = await pressEnglish(page, 'NIXA-FED-link-conflict');
      expect(at.pathname).toBe('/error/NIXA-FED-link-conflict');
      expect(await mainText(page)).toContain('date of birth');
      expect(await page.getByText('NIXA-FED-state-mismatch').count()).toBe(0);
      await page.getByRole('link', { name: /^Quay lại Cổng dịch vụ công Hà Nội/ }).waitFor();
      await screenshot(page, 'errors-02-link-conflict-english');
    });

    await step(page, 'conflict-keyboard', async () => {
      const another = page.getByRole('link', { name: /^Chọn nguồn định danh khác/ });
      const isFocused = () => another.evaluate((el) => el === el.ownerDocument.activeElement);
      let tabs = 0;
      while (!(await isFocused())) {
        expect(++tabs).toBeLessThanOrEqual(5);
        await page.keyboard.press('Tab');
      }
      const at = await leave(page, () => page.keyboard.press('Enter'));
      expect(at.pathname).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
      await page.getByRole('form', { name: /^Chọn nguồn định danh/ }).waitFor();
    });
  });

  it('the citizen cancelled at the source (access_denied): English shows the same refusal', async () => {
    rig.fed.sources.citizen_id.misbehave({ mode: 'deny' });
    const page = await freshPage();
    await step(page, 'denied', async () => {
      await page.goto(await authorizationUrl(config, service));
      await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
      await page.waitForURL((u) => u.pathname === '/federation/callback');
      expect(await code(page)).toBe('NIXA-FED-denied');
      const at = await pressEnglish(page, 'NIXA-FED-denied');
      expect(at.pathname).toBe('/error/NIXA-FED-denied');
      await page.getByRole('link', { name: /^Quay lại Cổng dịch vụ công Hà Nội/ }).waitFor();
    });
  });

  it.each([
    ['invalid_redirect_uri', { redirect_uri: 'https://ke-gia-mao.example/cb' }],
    ['invalid_client', { client_id: 'dich-vu-khong-ton-tai' }],
  ] as const)('/auth answering %s: English shows the same error, with nixa’s home as the way forward', async (error, extra) => {
    const page = await freshPage();
    await step(page, error, async () => {
      await page.goto(await authorizationUrl(config, service, extra));
      expect(await code(page)).toBe(error);
      const at = await pressEnglish(page, error);
      expect(at.pathname).toBe(`/error/${error}`);
      const home = page.getByRole('link', { name: /^Về trang chủ nixa/ });
      expect(await home.getAttribute('href')).toBe('/');
      expect(await page.getByRole('link', { name: /^Quay lại/ }).count()).toBe(0);
      await screenshot(page, `errors-03-${error}-english`);
    });
  });

  it('the consent page starts on its heading: Enter alone shares nothing', async () => {
    const page = await freshPage();
    await step(page, 'consent-focus', async () => {
      await page.goto(await authorizationUrl(config, service));
      await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
      await page.getByRole('radio', { name: 'Nguyễn Văn An', exact: true }).check();
      await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      const heading = page.getByRole('heading', { level: 1, name: /^Chia sẻ thông tin với/ });
      await heading.waitFor();
      expect(await heading.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
      const url = page.url();
      const before = (await rig.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'CONSENT_GIVEN'`)).rows[0]!.n;
      await page.keyboard.press('Enter');
      await page.waitForTimeout(300);
      expect(page.url()).toBe(url);
      expect((await rig.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'CONSENT_GIVEN'`)).rows[0]!.n).toBe(before);
      await screenshot(page, 'errors-04-consent-focus');
    });
  });

  it('shows no Content-Security-Policy violation and no script error on these pages', () => {
    for (const { problems } of rig.contexts) {
      expect(problems.cspViolations).toEqual([]);
      expect(problems.pageErrors).toEqual([]);
    }
  });
});
