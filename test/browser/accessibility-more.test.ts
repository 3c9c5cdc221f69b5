// axe-core on the pages test/browser/accessibility.test.ts does not reach, in
// Chromium (Debian's, through playwright-core): the operator console (every page,
// from "no role yet" to the key revocation and the signed-out message), the demo
// service (home, signed in, records, signed out, its error page, and its home
// when nixa is unreachable), and the citizen's second factors (setting up an
// authenticator app, its recovery codes, and the step-up chooser with the passkey
// button, the app's code and the recovery code). Pages with a language switch are
// checked in Vietnamese only and with the English shown beside it; the demo has
// no switch and shows both.
//
// Each page is reached as a person reaches it: the operator signs in to the
// console through a source (roles are granted in the database, as a security
// officer would have done), the citizen adds a passkey and an app at /account and
// is asked for more by a service another day. On every page, the page's main
// action is reached with Tab from the top and shows a visible focus outline.
//
// The setup is copied from accessibility.test.ts (another change is moving it to a
// shared module). axe is injected by CDP evaluation, which nixa's strict CSP does
// not govern; rules: WCAG 2.0 and 2.1 A and AA, and axe's best practices.

import * as oidc from 'openid-client';
import { generate } from 'otplib';
import type { Locator, Page } from 'playwright-core';

import { DEFAULT_POLICY_DOCUMENT } from '../../src/assurance/index.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { freePort } from '../support/nixa.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { addVirtualAuthenticator, axeViolations, describeInChromium, describeViolations, leave, nixaInChromium, screenshot, stepper, vietnameseContext, type AxeViolation } from './chromium.js';

type Show = 'vi' | 'vi-en';

describeInChromium(import.meta.url, `axe-core and the keyboard on the console, the demo service and second factors in Chromium`, () => {
  let demoWithoutNixa: DemoService;
  let service: TestClient;
  let config: oidc.Configuration;
  // A policy under which a recovery code reaches substantial, so that the step-up
  // chooser offers it (the default policy never does for substantial or above).
  const policy = structuredClone(DEFAULT_POLICY_DOCUMENT) as { factors: { recovery_code: { level: string } } };
  policy.factors.recovery_code.level = 'substantial';
  const rig = nixaInChromium({
    policy,
    demo: true,
    async setUp() {
      // The same demo, pointed at an issuer where nothing listens: its home says nixa is unavailable.
      const deadPort = await freePort();
      const otherPort = await freePort();
      demoWithoutNixa = await startDemoService({
        issuer: `http://localhost:${deadPort}`,
        credentials: { ...rig.demoCredentials, origin: `http://localhost:${otherPort}` },
        port: otherPort,
        host: '127.0.0.1',
        logger: rig.logger,
      });
      rig.closeWith('demo service without nixa', () => demoWithoutNixa.close());
      // A service whose redirect URI is a real server that only says "ok".
      const redirectUri = await rig.callbackSayingOk();
      service = { ...(await registerTestClient(rig.tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội', redirect_uris: [redirectUri] })), redirectUri };
      config = await discover(rig.nixa, service);
    },
  });

  const step = stepper('a11y-more-', () => rig.contexts.at(-1)?.problems);

  /** Runs axe on the page as it is now; returns its violations, compact. */
  const axe = (page: Page) => axeViolations(page);

  /** The element, as a test sees it inside the page (this project compiles without the DOM library). */
  interface InPage {
    ownerDocument: { activeElement: unknown; defaultView: { getComputedStyle(el: unknown): { outlineStyle: string; outlineWidth: string } } };
  }

  /**
   * Presses Tab from the top of the page until `target` has the focus (at most 80
   * times); returns how many presses it took, or a sentence saying why it failed:
   * never reached, or reached without a visible outline.
   */
  async function tabTo(page: Page, target: Locator): Promise<number | string> {
    await target.waitFor();
    // From the top, as after loading a page: a link put first, focused and taken away.
    await page.evaluate(`(() => { window.scrollTo(0, 0); const a = document.createElement('a'); a.href = '#'; document.body.prepend(a); a.focus(); a.remove(); })()`);
    for (let presses = 1; presses <= 80; presses++) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((el: InPage) => el === el.ownerDocument.activeElement)) {
        const outline = await target.evaluate((el: InPage) => {
          const s = el.ownerDocument.defaultView.getComputedStyle(el);
          return { style: s.outlineStyle, width: s.outlineWidth };
        });
        if (outline.style === 'none' || parseFloat(outline.width) === 0) return `focused after ${presses} Tab(s) but shows no outline (outline ${outline.style} ${outline.width})`;
        return presses;
      }
    }
    const focused = await page.evaluate('document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "(none)"');
    return `not reached in 80 Tabs (focus ended on ${String(focused)})`;
  }

  interface Walk {
    page: Page;
    checked: string[];
    found: string[];
    keyboard: string[];
    /** axe on the page as it is now, and Tab to its main action. */
    check: (name: string, ready: () => Promise<unknown>, mainAction: Locator | undefined) => Promise<void>;
    done: () => Promise<void>;
  }

  /** A fresh profile; `show` undefined for a site with no language switch (the demo). */
  async function newWalk(label: string, show: Show | undefined): Promise<Walk> {
    const { context, problems } = await rig.newContext();
    const page = await context.newPage();
    const w: Walk = {
      page,
      checked: [],
      found: [],
      keyboard: [],
      check: (name, ready, mainAction) =>
        step(page, `${label}-${name}`, async () => {
          await ready();
          // The language the walk asked for is the one shown: the switch offers the other.
          if (show) await page.locator('header a.language').filter({ hasText: show === 'vi' ? 'English' : 'Chỉ tiếng Việt' }).waitFor();
          const violations = await axe(page);
          if (violations.length) await screenshot(page, `a11y-more-${label}-${name}`);
          w.checked.push(name);
          w.found.push(...describeViolations(`[${label}] ${name} ${new URL(page.url()).pathname}`, violations));
          if (mainAction) {
            const r = await tabTo(page, mainAction);
            if (typeof r === 'string') w.keyboard.push(`[${label}] ${name} ${new URL(page.url()).pathname}: main action ${r}`);
          }
        }),
      done: async () => {
        expect(problems.cspViolations).toEqual([]);
        expect(problems.pageErrors).toEqual([]);
        await context.close();
      },
    };
    if (show) await page.goto(`${rig.nixa}/language?show=${show}&back=/`);
    return w;
  }

  function report(w: Walk, expected: string[]): void {
    expect(w.checked).toEqual(expected);
    const all = [...w.found, ...w.keyboard];
    if (all.length) throw new Error(`${w.found.length} axe violation(s) and ${w.keyboard.length} keyboard problem(s):\n${all.join('\n')}`);
  }

  /** nixa's chooser → the simulated source → a test citizen → consent when asked → until. */
  async function throughSource(page: Page, source: RegExp, citizen: string, until: (u: URL) => boolean) {
    await page.getByRole('button', { name: source }).click();
    await page.getByRole('radio', { name: citizen, exact: true }).check();
    await page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click();
    await page.waitForURL((u) => (u.origin === rig.nixa && u.pathname.startsWith('/interaction/')) || until(u));
    const consent = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
    if (!until(new URL(page.url())) && (await consent.count())) await consent.click();
    await page.waitForURL(until);
  }

  it('the keyboard check itself sees a main action Tab never reaches, and one that shows no focus outline', async () => {
    // So that "reached by Tab" above means something: the same check on a page
    // spoiled on purpose (a button taken out of the Tab order, a link whose outline is removed).
    const context = await vietnameseContext(rig.browser);
    try {
      const page = await context.newPage();
      await page.goto(`${rig.nixa}/help`);
      const heading = page.getByRole('heading', { level: 1 });
      await heading.waitFor();
      await page.evaluate(`(() => {
        const button = document.createElement('button');
        button.id = 'out-of-order';
        button.textContent = 'Không tới được';
        button.tabIndex = -1;
        const link = document.createElement('a');
        link.id = 'no-outline';
        link.href = '/help';
        link.textContent = 'Không thấy tiêu điểm';
        link.style.outline = 'none';
        document.querySelector('main').append(button, link);
      })()`);
      expect(await tabTo(page, page.locator('#out-of-order'))).toMatch(/^not reached in 80 Tabs/);
      expect(await tabTo(page, page.locator('#no-outline'))).toMatch(/^focused after \d+ Tab\(s\) but shows no outline \(outline none/);
      // And an ordinary link of the page is reached, with nixa's outline.
      expect(await tabTo(page, page.locator('main a').first())).toEqual(expect.any(Number));
    } finally {
      await context.close();
    }
  }, 60_000);

  // ── The console ─────────────────────────────────────────────────────────────

  const CONSOLE_PAGES = [
    'no-role',
    'home',
    'sources',
    'source',
    'source-new',
    'source-new-errors',
    'services',
    'service',
    'service-new',
    'keys',
    'key-revoke',
    'operators',
    'audit',
    'refused',
    'message-signed-out',
  ];

  it.each([
    ['Vietnamese only', 'vi', 'Nguyễn Văn An'],
    ['English shown beside the Vietnamese', 'vi-en', 'Lê Hoàng Cường'],
  ] as const)('the console: no axe violation and the main action reached by Tab on every page, %s', async (_label, show, operator) => {
    const w = await newWalk(`console-${show}`, show);
    const { page } = w;
    const h1 = (name: RegExp) => () => page.getByRole('heading', { level: 1, name }).waitFor();
    const main = page.locator('main');
    const atConsole = (u: URL) => u.origin === rig.nixa && u.pathname === '/console';

    await page.goto(`${rig.nixa}/console`);
    await step(page, `console-${show}-sign-in`, () => throughSource(page, /^Cơ sở dữ liệu quốc gia về dân cư/, operator, atConsole));
    await w.check('no-role', h1(/^Bạn chưa có vai trò vận hành nào/), page.getByRole('button', { name: /^Đăng xuất/ }));
    // A security officer gives the roles (not a page of this walk).
    const accountId = (await page.locator('dl.facts dd code').innerText()).trim();
    for (const role of ['security-officer', 'source-operator', 'service-operator']) {
      await rig.tdb.db.query('INSERT INTO operator_roles (account_id, role, granted_by, reason) VALUES ($1, $2, $3, $4)', [accountId, role, 'test', 'Kiểm tra khả năng tiếp cận của bảng điều khiển']);
    }

    await page.goto(`${rig.nixa}/console`);
    const nav = page.getByRole('navigation');
    await w.check('home', () => nav.waitFor(), nav.getByRole('link', { name: /^Nguồn định danh/ }));
    await page.goto(`${rig.nixa}/console/sources`);
    await w.check('sources', () => page.getByRole('link', { name: /^Thêm nguồn định danh/ }).waitFor(), page.getByRole('link', { name: /^Thêm nguồn định danh/ }));
    await leave(page, () => main.getByRole('link', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).first().click());
    await w.check('source', () => page.getByRole('button', { name: /^Kiểm tra kết nối/ }).waitFor(), page.getByRole('button', { name: /^Kiểm tra kết nối/ }));
    await page.goto(`${rig.nixa}/console/sources/new`);
    const register = page.getByRole('button', { name: /^Đăng ký nguồn/ });
    await w.check('source-new', () => register.waitFor(), page.getByLabel(/^Mã nguồn/));
    // A form the API refuses: each error beside its field.
    await page.getByLabel(/^Mã nguồn/).fill('nguon-thu');
    await page.getByLabel(/^Tên hiển thị tiếng Việt/).fill('Nguồn thử');
    await page.getByLabel(/^Tên hiển thị tiếng Anh/).fill('Trial source');
    await page.getByLabel(/^Địa chỉ tài liệu khám phá/).fill('http://nguon-thu.example/.well-known/openid-configuration');
    await page.getByLabel(/^Mã khách/).fill('nixa');
    await page.getByLabel(/^Mật khẩu khách/).fill('mat-khau-thu-nghiem-du-dai-0123456789');
    await page.getByLabel(/^Lý do/).fill('Thử biểu mẫu');
    await Promise.all([page.waitForEvent('load'), register.click()]);
    await w.check('source-new-errors', () => page.locator('[aria-invalid="true"]').first().waitFor(), page.locator('[aria-invalid="true"]').first());

    await page.goto(`${rig.nixa}/console/services`);
    const newService = page.getByRole('link', { name: /^Đăng ký dịch vụ/ });
    await w.check('services', () => newService.waitFor(), newService);
    await leave(page, () => main.getByRole('link', { name: /^Cổng dịch vụ công Hà Nội/ }).first().click());
    await w.check('service', h1(/Cổng dịch vụ công Hà Nội/), main.getByRole('button').first());
    await page.goto(`${rig.nixa}/console/services/new`);
    await w.check('service-new', () => page.getByRole('button', { name: /^Đăng ký dịch vụ/ }).waitFor(), main.locator('input:not([type=hidden]), select, textarea').first());

    await page.goto(`${rig.nixa}/console/keys`);
    const rotate = page.getByRole('button', { name: /^Xoay vòng ngay/ });
    await w.check('keys', () => rotate.waitFor(), rotate);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Thu hồi khóa này/ }).first().click()]);
    const revoke = main.getByRole('button', { name: /^Có, thu hồi khóa này/ });
    await w.check('key-revoke', h1(/^Thu hồi khóa/), revoke);

    await page.goto(`${rig.nixa}/console/operators`);
    const grant = page.getByRole('button', { name: /^Cấp vai trò/ });
    await w.check('operators', () => grant.waitFor(), grant);
    await page.goto(`${rig.nixa}/console/audit`);
    await w.check('audit', () => main.getByRole('button').first().waitFor(), main.getByRole('button').first());
    await page.goto(`${rig.nixa}/console/sources/khong-co-nguon-nay`);
    await w.check('refused', () => main.getByRole('alert').waitFor(), nav.getByRole('link', { name: /^Tổng quan/ }));

    // Signing out: nixa asks, then the console says it is done.
    await step(page, `console-${show}-sign-out`, async () => {
      await leave(page, () => page.getByRole('button', { name: /^Đăng xuất/ }).click());
      await leave(page, () => page.getByRole('button', { name: /^Đăng xuất/ }).click());
    });
    const signInAgain = page.getByRole('link', { name: /^Đăng nhập/ });
    await w.check('message-signed-out', h1(/^Đã đăng xuất/), signInAgain);

    await w.done();
    report(w, CONSOLE_PAGES);
  }, 180_000);

  // ── The demo service ────────────────────────────────────────────────────────

  const DEMO_PAGES = ['home', 'signed-in', 'records', 'signed-out', 'error-404', 'error-expired', 'home-nixa-unavailable'];

  it('the demo service: no axe violation and the main action reached by Tab on every page (both languages shown)', async () => {
    const w = await newWalk('demo', undefined);
    const { page } = w;
    const h1 = (name: RegExp) => () => page.getByRole('heading', { level: 1, name }).waitFor();
    const signIn = page.getByRole('link', { name: /^Đăng nhập với nixa/ });

    await page.goto(`${rig.demo.url}/`);
    await w.check('home', () => signIn.waitFor(), signIn);
    await leave(page, () => signIn.click());
    await step(page, 'demo-sign-in', () => throughSource(page, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Trần Thị Bình', (u) => u.origin === new URL(rig.demo.url).origin && u.pathname === '/'));
    const records = page.getByRole('link', { name: /^Xem hồ sơ của bạn/ });
    await w.check('signed-in', h1(/^Bạn đã đăng nhập/), records);
    await leave(page, () => records.click());
    const home = page.getByRole('link', { name: /^Về trang chủ/ });
    await w.check('records', h1(/^Hồ sơ của bạn/), home);
    await step(page, 'demo-sign-out', async () => {
      await leave(page, () => home.click());
      await leave(page, () => page.getByRole('button', { name: /^Đăng xuất/ }).click());
      await page.waitForURL((u) => u.origin === rig.nixa);
      await leave(page, () => page.getByRole('button', { name: /^Đăng xuất/ }).click());
    });
    await w.check('signed-out', () => page.waitForURL((u) => u.origin === new URL(rig.demo.url).origin), signIn);
    await page.goto(`${rig.demo.url}/khong-co-trang-nay`);
    const again = page.getByRole('link', { name: /^Thử đăng nhập lại/ });
    await w.check('error-404', h1(/^Không tìm thấy trang/), again);
    await page.goto(`${rig.demo.url}/callback?code=abc&state=xyz`);
    await w.check('error-expired', () => page.getByRole('alert').waitFor(), again);
    await page.goto(`${demoWithoutNixa.url}/`);
    const tryAgain = page.getByRole('link', { name: /^Thử lại/ });
    await w.check('home-nixa-unavailable', () => page.getByText(/^nixa hiện không truy cập được/).waitFor(), tryAgain);

    await w.done();
    report(w, DEMO_PAGES);
  }, 120_000);

  // ── Second factors: passkey, authenticator app, recovery codes, step-up ─────

  const FACTOR_PAGES = ['totp-set-up', 'totp-wrong-code', 'recovery-codes', 'step-up-passkey-and-code', 'step-up-recovery-code-open', 'step-up-wrong-code'];

  it.each([
    ['Vietnamese only', 'vi', 'Hoàng Minh Đức'],
    ['English shown beside the Vietnamese', 'vi-en', 'Phạm Thị Dung'],
  ] as const)('passkey, authenticator app and recovery codes: no axe violation and the main action reached by Tab, %s', async (_label, show, citizen) => {
    const w = await newWalk(`factors-${show}`, show);
    const { page } = w;
    await addVirtualAuthenticator(page);
    const h1 = (name: RegExp) => () => page.getByRole('heading', { level: 1, name }).waitFor();
    const atService = (u: URL) => u.href.startsWith(service.redirectUri);

    // Signed in at high through Citizen ID: a passkey, then an authenticator app.
    await page.goto(await authorizationUrl(config, service));
    await step(page, `factors-${show}-citizen-id`, () => throughSource(page, /^Cơ sở dữ liệu quốc gia về dân cư/, citizen, atService));
    await step(page, `factors-${show}-add-passkey`, async () => {
      await page.goto(`${rig.nixa}/account`);
      await page.getByLabel(/^Tên khóa truy cập/).fill('Điện thoại');
      await page.getByRole('button', { name: /^Thêm khóa truy cập/ }).click();
      await page.getByText('Đã thêm khóa truy cập.').waitFor();
    });
    await leave(page, () => page.getByRole('button', { name: /^Thiết lập ứng dụng xác thực/ }).click());
    const codeField = page.getByLabel(/^Mã từ ứng dụng xác thực/);
    await w.check('totp-set-up', h1(/^Thiết lập ứng dụng xác thực/), codeField);
    const secret = (await page.locator('code.secret').innerText()).replaceAll(' ', '');
    const right = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
    await codeField.fill(right === '000000' ? '111111' : '000000');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Xác nhận/ }).click()]);
    await w.check('totp-wrong-code', () => page.getByRole('alert').filter({ hasText: /^Mã không đúng/ }).waitFor(), codeField);
    await codeField.fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) }));
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Xác nhận/ }).click()]);
    const saved = page.getByRole('link', { name: /^Tôi đã lưu các mã này/ });
    await w.check('recovery-codes', h1(/^Mã khôi phục của bạn/), saved);

    // Another day: the browser forgot nixa (the authenticator keeps its key); a Telecom sign-in (low).
    await page.context().clearCookies();
    await page.goto(`${rig.nixa}/language?show=${show}&back=/`);
    await page.goto(await authorizationUrl(config, service));
    await step(page, `factors-${show}-telecom`, () => throughSource(page, /^Nhà mạng/, citizen, atService));
    // The service asks for substantial: the chooser offers the passkey, the app's code and a recovery code.
    await page.goto(await authorizationUrl(config, service, { acr_values: 'urn:nixa:loa:substantial' }));
    const passkey = page.getByRole('button', { name: /^Xác thực bằng khóa truy cập/ });
    const totp = page.getByLabel(/^Mã gồm 6 chữ số/);
    await w.check('step-up-passkey-and-code', async () => {
      await passkey.waitFor();
      await totp.waitFor();
    }, passkey);
    const tabToCode = await tabTo(page, totp);
    if (typeof tabToCode === 'string') w.keyboard.push(`[factors-${show}] step-up code field: ${tabToCode}`);
    await page.getByText(/^Không có điện thoại\? Dùng mã khôi phục/).click();
    const recovery = page.getByLabel(/^Mã khôi phục, ví dụ/);
    await w.check('step-up-recovery-code-open', () => recovery.waitFor(), recovery);
    const right2 = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
    await totp.fill(right2 === '000000' ? '111111' : '000000');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Xác nhận/ }).first().click()]);
    await w.check('step-up-wrong-code', () => page.getByRole('alert').filter({ hasText: /^Mã không đúng/ }).waitFor(), totp);

    await w.done();
    report(w, FACTOR_PAGES);
  }, 180_000);
});
