// Blocking a source in a real browser (Debian's Chromium through playwright-core),
// by keyboard only, in Vietnamese: Lê Hoàng Cường signs in to the demo service
// through the citizen ID app, opens his nixa account, sees once what changed,
// blocks the telecom operator ("my SIM was swapped away"); whoever then signs in
// through the operator meets a page that says why and offers another source.
// Blocking the source of his own session asks first, then signs him out.
// Screenshots go to test-output/browser/block-source-*.png.
import type { Browser, BrowserContext, Page } from 'playwright-core';

import { seedDemo } from '../../src/app/demo.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { createLogger, silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { hasChromium, launchChromium, screenshot, skipReason, stepper, vietnameseContext, watchProblems, type PageProblems } from './chromium.js';

if (!hasChromium) console.warn(`test/browser/block-source.test.ts ${skipReason}`);

const describeInChromium = hasChromium ? describe : describe.skip;

describeInChromium(`blocking a source in Chromium${skipReason ? ` (${skipReason})` : ''}`, () => {
  const logger = process.env.NIXA_TEST_LOG ? createLogger(process.env.NIXA_TEST_LOG) : silentLogger;
  let tdb: TestDatabase | undefined;
  let fed: Federation | undefined;
  let demo: DemoService | undefined;
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  let problems: PageProblems[] = [];
  let nixaOrigin: string;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const port = await freePort();
    fed = await startFederation(tdb, { PORT: String(port), NIXA_ISSUER: `http://localhost:${port}` }, { logger });
    nixaOrigin = new URL(fed.nixa.config.issuer).origin;
    const demoPort = await freePort();
    const credentials = await seedDemo(tdb.db, { ...fed.nixa.config, port: demoPort - 100 }, logger);
    demo = await startDemoService({ issuer: fed.nixa.config.issuer, credentials, port: demoPort, host: '127.0.0.1', logger });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    const steps: [string, (() => Promise<unknown>) | undefined][] = [
      ['browser', browser && (() => browser!.close())],
      ['demo service', demo && (() => demo!.close())],
      ['nixa and sources', fed && (() => fed!.close())],
      ['database', tdb && (() => tdb!.drop())],
    ];
    const failures: string[] = [];
    for (const [what, close] of steps) {
      try {
        await close?.();
      } catch (err) {
        failures.push(`${what}: ${(err as Error).message}`);
      }
    }
    if (failures.length) throw new Error(`cleanup failed: ${failures.join('; ')}`);
  }, 60_000);

  /** A fresh browser profile (no cookies), watched for CSP violations and errors. */
  async function freshBrowser(): Promise<Page> {
    const context = await vietnameseContext(browser!);
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    problems.push(await watchProblems(context));
    return context.newPage();
  }

  const step = stepper('block-source-', () => ({ consoleErrors: problems.flatMap((p) => p.consoleErrors) }));

  async function leave(page: Page, act: () => Promise<void>): Promise<URL> {
    const before = page.url();
    await Promise.all([page.waitForURL((u) => u.href !== before), act()]);
    return new URL(page.url());
  }

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
    await page.goto(`${demo!.url}/`);
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
      await page.goto(`${nixaOrigin}/account`);
      // What changed, once: the consent just given to the demo service.
      const notices = page.getByRole('region', { name: /^Thay đổi gần đây/ });
      await notices.waitFor();
      expect(await notices.innerText()).toMatch(/Bạn đã đồng ý chia sẻ thông tin với «Dịch vụ công mẫu/);
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
      expect(new URL(thief.url()).origin).toBe(nixaOrigin);
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
      await page.goto(`${nixaOrigin}/account`);
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
      const account = await page.goto(`${nixaOrigin}/account`);
      expect(account?.status()).toBe(200);
      await page.getByText('Bạn chưa đăng nhập nixa trên trình duyệt này').waitFor();
    });

    for (const p of problems) {
      expect(p.cspViolations).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleErrors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
    }
    for (const c of contexts) await c.close();
    contexts = [];
    problems = [];
  }, 180_000);
});
