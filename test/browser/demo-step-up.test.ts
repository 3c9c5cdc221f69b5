// The issue's "done when", in a real browser against the demo service: a citizen
// proven through Citizen ID adds a passkey at nixa; another day she signs in to
// the demo through Telecom (low), opens the demo's records page, which needs high;
// nixa asks for the passkey (Chromium's virtual authenticator over CDP), and she
// lands on her records at high.
import type { Browser, BrowserContext, Page } from 'playwright-core';

import { seedDemo } from '../../src/app/demo.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { createLogger, silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { addVirtualAuthenticator, hasChromium, launchChromium, screenshot, skipReason, stepper, vietnameseContext, watchProblems, type PageProblems } from './chromium.js';

if (!hasChromium) console.warn(`test/browser/demo-step-up.test.ts ${skipReason}`);

const describeInChromium = hasChromium ? describe : describe.skip;
const title = `the demo's records page: step-up with a passkey in Chromium${skipReason ? ` (${skipReason})` : ''}`;

describeInChromium(title, () => {
  const logger = process.env.NIXA_TEST_LOG ? createLogger(process.env.NIXA_TEST_LOG) : silentLogger;
  let tdb: TestDatabase | undefined;
  let fed: Federation | undefined;
  let demo: DemoService | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let problems: PageProblems;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const port = await freePort();
    fed = await startFederation(tdb, { PORT: String(port), NIXA_ISSUER: `http://localhost:${port}` }, { logger });
    // Registered as `npm start` does: seedDemo names the origin http://localhost:(PORT+100).
    const demoPort = await freePort();
    const credentials = await seedDemo(tdb.db, { ...fed.nixa.config, port: demoPort - 100 }, logger);
    demo = await startDemoService({ issuer: fed.nixa.config.issuer, credentials, port: demoPort, host: '127.0.0.1', logger });
    browser = await launchChromium();
    context = await vietnameseContext(browser);
    context.setDefaultTimeout(15_000);
    problems = await watchProblems(context);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await fed?.close();
    await tdb?.drop();
  }, 60_000);

  const step = stepper('demo-step-up-', () => problems);

  /** From the demo's home page through nixa and a source, back to the demo signed in. */
  async function signInToDemo(page: Page, source: RegExp, citizen: string) {
    await page.goto(`${demo!.url}/`);
    await page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click();
    await page.getByRole('button', { name: source }).click();
    await page.getByRole('radio', { name: citizen, exact: true }).check();
    await page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click();
    const consent = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
    const signedIn = page.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ });
    await consent.or(signedIn).first().waitFor();
    if (await consent.isVisible()) await consent.click();
    await signedIn.waitFor();
    return (await page.locator('.assurance .acr').innerText()).trim();
  }

  it('raises a Telecom sign-in to high with the passkey added after a Citizen ID sign-in, and shows the records', async () => {
    const page = await context.newPage();
    await addVirtualAuthenticator(page);

    expect(await step(page, '01-citizen-id', () => signInToDemo(page, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Phạm Thị Dung'))).toBe('urn:nixa:loa:high');

    await step(page, '02-add-passkey', async () => {
      await page.getByRole('link', { name: 'tài khoản nixa của bạn' }).click();
      await page.getByLabel(/^Tên khóa truy cập/).fill('Máy tính của Dung');
      await page.getByRole('button', { name: /^Thêm khóa truy cập/ }).click();
      await page.getByText('Đã thêm khóa truy cập.').waitFor();
    });

    // Another day: the browser remembers no session anywhere; the authenticator keeps its key.
    await context.clearCookies();
    expect(await step(page, '03-telecom', () => signInToDemo(page, /^Nhà mạng/, 'Phạm Thị Dung'))).toBe('urn:nixa:loa:low');

    await step(page, '04-records-step-up', async () => {
      await page.getByRole('link', { name: /^Xem hồ sơ của bạn/ }).click();
      const passkey = page.getByRole('button', { name: /^Xác thực bằng khóa truy cập/ });
      await passkey.waitFor();
      await screenshot(page, 'demo-step-up-01-nixa-asks-passkey');
      await passkey.click();
      await page.getByRole('heading', { level: 1, name: /^Hồ sơ của bạn/ }).waitFor();
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
