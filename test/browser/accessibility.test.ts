// axe-core on every page a citizen meets in nixa, in Chromium (Debian's, through
// playwright-core): the home page, the information pages, a 404, /account signed
// out, the chooser of a sign-in started by a service (with its advice when the
// service asks for the high level, and when the source picked is not answering),
// an error page reached by a real failure at the source, the consent page,
// /account signed in with a notice showing, the activity and "this wasn't me",
// the confirmation asked before blocking a source, the page after it, the
// refusal of the blocked source, and the pages that answer "end all my sessions"
// and "this wasn't me" — each in Vietnamese only and with the English shown
// beside it (the /language switch).
//
// axe is injected by CDP evaluation, which nixa's strict CSP does not govern; the
// CSP itself is left as it is (no bypassCSP). Rules: WCAG 2.0 and 2.1 A and AA,
// and axe's best practices. No violation is expected; a failure lists each one
// with its rule id, impact, target selectors and help.

import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';

import { silentLogger } from '../../src/logging/index.js';
import { checkSourcesHealth } from '../../src/sources/index.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { axeViolations, describeInChromium, describeViolations, leave, nixaInChromium, screenshot, stepper, vietnameseContext, type AxeViolation } from './chromium.js';

describeInChromium(import.meta.url, `axe-core on nixa's pages in Chromium`, () => {
  let service: TestClient;
  let config: oidc.Configuration;
  const rig = nixaInChromium({
    // No periodic health check: only picking the source that is down finds it down.
    env: { NIXA_SOURCE_HEALTH_SECONDS: '3600' },
    demo: true,
    async setUp() {
      service = await registerTestClient(rig.tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội' });
      config = await discover(rig.nixa, service);
    },
  });

  afterEach(() => {
    for (const s of Object.values(rig.fed.sources)) s.misbehave({ mode: 'normal' });
  });

  const step = stepper('a11y-', () => rig.contexts.at(-1)?.problems);

  /** Runs axe on the page as it is now; returns its violations, compact. */
  const axe = (page: Page) => axeViolations(page);

  /**
   * Walks every page in a fresh profile, in Vietnamese only or with English shown,
   * signing in as `citizen` (one who has not yet used the demo service, so that it
   * asks for consent and /account then shows the notice of it). Returns what axe
   * found, page by page.
   */
  async function walk(show: 'vi' | 'vi-en', citizen: string): Promise<{ checked: string[]; found: string[] }> {
    const { context, problems } = await rig.newContext();
    const page = await context.newPage();
    const checked: string[] = [];
    const found: string[] = [];
    const check = async (name: string, ready: () => Promise<unknown>) =>
      step(page, `${show}-${name}`, async () => {
        await ready();
        // The language the walk asked for is the one shown: the switch offers the other.
        await page.locator('header a.language').filter({ hasText: show === 'vi' ? 'English' : 'Chỉ tiếng Việt' }).waitFor();
        const violations = await axe(page);
        if (violations.length) await screenshot(page, `a11y-${show}-${name}`);
        checked.push(name);
        found.push(...describeViolations(`[${show}] ${name} ${new URL(page.url()).pathname}`, violations));
      });
    const h1 = (name: RegExp) => () => page.getByRole('heading', { level: 1, name }).waitFor();

    await page.goto(`${rig.nixa}/language?show=${show}&back=/`);
    await check('home', h1(/^nixa — Định danh quốc gia/));
    for (const [path, heading] of [
      ['/help', /^Trợ giúp/],
      ['/privacy', /^Thông báo về quyền riêng tư/],
      ['/accessibility', /^Tuyên bố về khả năng tiếp cận/],
      ['/terms', /^Điều khoản sử dụng/],
    ] as const) {
      await page.goto(`${rig.nixa}${path}`);
      await check(path.slice(1), h1(heading));
    }
    const missing = await page.goto(`${rig.nixa}/khong-co-trang-nay`);
    expect(missing!.status()).toBe(404);
    await check('404', () => page.locator('h1').waitFor());
    await page.goto(`${rig.nixa}/account`);
    await check('account-signed-out', () => page.getByText(/^Bạn chưa đăng nhập nixa trên trình duyệt này/).waitFor());

    await page.goto(await authorizationUrl(config, service));
    await check('chooser', h1(/^Đăng nhập bằng danh tính bạn đã có/));
    await page.goto(await authorizationUrl(config, service, { acr_values: 'urn:nixa:loa:high' }));
    await check('chooser-high-advice', () => page.getByRole('heading', { level: 2, name: /^Không thấy nguồn bạn thường dùng\?/ }).waitFor());

    // A real failure at the source: the citizen cancels there (access_denied).
    rig.fed.sources.citizen_id.misbehave({ mode: 'deny' });
    await page.goto(await authorizationUrl(config, service));
    await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
    await page.waitForURL((u) => u.pathname === '/federation/callback');
    await check('source-error', () => page.locator('p.code code').filter({ hasText: 'NIXA-FED-denied' }).waitFor());
    rig.fed.sources.citizen_id.misbehave({ mode: 'normal' });

    // A source that has just gone down, picked: nixa's chooser says so.
    rig.fed.sources.telecom.misbehave({ mode: 'down' });
    await page.goto(await authorizationUrl(config, service));
    await step(page, `${show}-pick-telecom-down`, () => leave(page, () => page.getByRole('button', { name: /^Nhà mạng/ }).click()));
    await check('chooser-source-not-answering', () => page.getByRole('alert').filter({ hasText: 'không phản hồi' }).waitFor());
    rig.fed.sources.telecom.misbehave({ mode: 'normal' });
    await checkSourcesHealth(rig.fed.nixa.sources, silentLogger);

    // A sign-in to the demo service: the consent page, then the citizen's own account.
    await page.goto(`${rig.demo.url}/`);
    await leave(page, () => page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
    await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
    await page.getByRole('radio', { name: citizen, exact: true }).check();
    await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
    // The demo takes parents: An, whose son is under 14, is asked whom he acts for.
    await check('representation-choice', () => page.getByRole('radio', { name: /^Chính tôi/ }).waitFor());
    await page.getByRole('radio', { name: /^Chính tôi/ }).check();
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Tiếp tục/ }).click()]);
    await check('consent', () => page.getByRole('button', { name: /^Đồng ý chia sẻ/ }).waitFor());
    await leave(page, () => page.getByRole('button', { name: /^Đồng ý chia sẻ/ }).click());
    await page.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ }).waitFor();

    // A notice for this session: the citizen's first sign-in through the telecom, in
    // another browser (the consent this session gave is never told to it).
    const other = await (await vietnameseContext(rig.browser)).newPage();
    await other.goto(`${rig.demo.url}/`);
    await leave(other, () => other.getByRole('link', { name: /^Đăng nhập với nixa/ }).click());
    await leave(other, () => other.getByRole('button', { name: /^Nhà mạng/ }).click());
    await other.getByRole('radio', { name: citizen, exact: true }).check();
    await leave(other, () => other.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
    await other.context().close();
    await page.goto(`${rig.nixa}/account`);
    await check('account-with-notice', () => page.getByRole('region', { name: /^Thay đổi gần đây/ }).waitFor());
    await page.goto(`${rig.nixa}/account/activity`);
    await check('activity', h1(/^Hoạt động của tài khoản/));
    await leave(page, () => page.getByRole('link', { name: /^Không phải tôi/ }).first().click());
    await check('not-me-confirm', () => page.getByRole('heading', { level: 2, name: /^Không phải tôi/ }).waitFor());
    await page.goto(`${rig.nixa}/account`);
    await leave(page, () => page.getByRole('button', { name: /^Chặn Cơ sở dữ liệu quốc gia về dân cư/ }).click());
    await check('block-confirm', h1(/^Chặn «Cơ sở dữ liệu quốc gia về dân cư/));
    // The confirmation posts to the same address: wait for the page it answers with.
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Chặn và đăng xuất/ }).click()]);
    await check('blocked-signed-out', h1(/^Đã chặn «Cơ sở dữ liệu quốc gia về dân cư/));
    // Signing in again through the blocked source: refused, with a page that says why.
    await step(page, `${show}-sign-in-through-blocked`, async () => {
      await page.goto(await authorizationUrl(config, service));
      await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
      // The source may still remember the citizen (its own session), and then asks nothing.
      const radio = page.getByRole('radio', { name: citizen, exact: true });
      const refused = page.locator('p.code code');
      await radio.or(refused).first().waitFor();
      if (await radio.isVisible()) {
        await radio.check();
        await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      }
    });
    await check('source-blocked-refused', () => page.locator('p.code code').filter({ hasText: 'NIXA-FED-source-blocked' }).waitFor());

    // In again through the bank: the pages that end every session and that answer "this wasn't me".
    await step(page, `${show}-sign-in-through-bank`, async () => {
      await page.goto(`${rig.nixa}/account/sign-in`);
      await leave(page, () => page.getByRole('button', { name: /^Ngân hàng/ }).click());
      await page.getByRole('radio', { name: citizen, exact: true }).check();
      await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      await page.waitForURL(`${rig.nixa}/account`);
      await leave(page, () => page.getByRole('button', { name: /^Kết thúc mọi phiên đăng nhập/ }).click());
    });
    await check('sessions-ended', () => page.getByRole('link', { name: /^Đăng nhập lại vào tài khoản/ }).waitFor());
    await step(page, `${show}-sign-in-again`, async () => {
      // nixa's session is over; the bank's is not, so it answers at once.
      await page.goto(`${rig.nixa}/account/sign-in`);
      await leave(page, () => page.getByRole('button', { name: /^Ngân hàng/ }).click());
      await page.waitForURL(`${rig.nixa}/account`);
      await page.goto(`${rig.nixa}/account/activity`);
      await leave(page, () => page.getByRole('link', { name: /^Không phải tôi/ }).first().click());
      await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Báo không phải tôi/ }).click()]);
    });
    await check('not-me-done', () => page.getByText(/^Đã ghi nhận: hoạt động lúc/).waitFor());

    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    await context.close();
    return { checked, found };
  }

  const PAGES = [
    'home',
    'help',
    'privacy',
    'accessibility',
    'terms',
    '404',
    'account-signed-out',
    'chooser',
    'chooser-high-advice',
    'source-error',
    'chooser-source-not-answering',
    'representation-choice',
    'consent',
    'account-with-notice',
    'activity',
    'not-me-confirm',
    'block-confirm',
    'blocked-signed-out',
    'source-blocked-refused',
    'sessions-ended',
    'not-me-done',
  ];

  it.each([
    ['Vietnamese only', 'vi', 'Nguyễn Văn An'],
    // Both have a child under 14: the demo (which takes parents) asks whom they act for, and axe sees that page too.
    ['English shown beside the Vietnamese', 'vi-en', 'Phạm Thị Dung'],
  ] as const)('no axe violation on any page, %s', async (_label, show, citizen) => {
    const { checked, found } = await walk(show, citizen);
    expect(checked).toEqual(PAGES);
    if (found.length) throw new Error(`axe found ${found.length} violation(s):\n${found.join('\n')}`);
  }, 180_000);

  it('the check itself sees a violation, and names its rule, impact, target and help', async () => {
    // So that "no violation" above means something: the same injection and run on a
    // page spoiled on purpose (an image without a text alternative, a nameless button).
    const context = await vietnameseContext(rig.browser);
    try {
      const page = await context.newPage();
      await page.goto(`${rig.nixa}/help`);
      expect(await axe(page)).toEqual([]);
      await page.evaluate(`(() => {
        const img = document.createElement('img');
        img.src = '/favicon.svg';
        img.id = 'spoilt-image';
        const button = document.createElement('button');
        button.id = 'spoilt-button';
        document.querySelector('main').append(img, button);
      })()`);
      const violations = await axe(page);
      expect(violations.map((v) => [v.id, v.impact, v.targets]).sort()).toEqual([
        ['button-name', 'critical', ['#spoilt-button']],
        ['image-alt', 'critical', ['#spoilt-image']],
      ]);
      const message = describeViolations('[vi] help /help', violations).join('\n');
      expect(message).toContain('[vi] help /help: image-alt (critical) — Images must have alternative text\n    at #spoilt-image');
      expect(message).toContain('https://dequeuniversity.com/rules/axe/');
    } finally {
      await context.close();
    }
  }, 60_000);
});
