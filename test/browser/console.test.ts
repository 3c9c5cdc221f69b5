// The admin console in a real browser: Debian's Chromium with its virtual
// authenticator, under nixa's CSP. Nguyễn Văn An is bootstrapped as the first
// security officer; a second officer (Hoàng Minh Đức) gives him the
// source-operator role (nobody grants their own). Another day An signs in through
// Telecom (low), the console asks for high and his passkey raises the session; he
// onboards a fourth identity source (a second simulated bank), tests the
// connection, enables it and sees it on nixa's chooser, then rotates a key.
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import * as oidc from 'openid-client';

import { SIGNED_OUT_PATH } from '../../src/federation/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { startSimulatedSource, type SimulatedSource } from '../../src/simulated-sources/index.js';
import { cliRunner } from '../support/cli.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { addVirtualAuthenticator, describeInChromium, nixaInChromium, screenshot, stepper } from './chromium.js';

describeInChromium(import.meta.url, `the admin console in Chromium`, () => {
  let fourth: SimulatedSource;
  let fourthSecret: string;
  let service: TestClient;
  let config: oidc.Configuration;
  // On localhost (the rig's): an IP address cannot be a WebAuthn RP ID.
  const rig = nixaInChromium({
    async setUp() {
      // The fourth source: one more simulated bank, on its own port, with nixa registered as its client.
      fourthSecret = randomBytes(24).toString('base64url');
      fourth = await startSimulatedSource({
        kind: 'bank',
        clients: [
          {
            client_id: 'nixa',
            client_secret: fourthSecret,
            token_endpoint_auth_method: 'client_secret_basic',
            redirect_uris: [`${rig.nixa}${CALLBACK_PATH}`],
            post_logout_redirect_uris: [`${rig.nixa}${SIGNED_OUT_PATH}`],
          },
        ],
      });
      rig.closeWith('the fourth source', () => fourth.close());
      // A public service, to give An a Telecom session another day.
      const redirectUri = await rig.callbackSayingOk();
      service = { ...(await registerTestClient(rig.tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công', redirect_uris: [redirectUri] })), redirectUri };
      config = await discover(rig.nixa, service);
    },
  });

  const newContext = async (): Promise<BrowserContext> => (await rig.newContext()).context;
  const step = stepper('console-', () => ({ consoleErrors: rig.contexts.flatMap((c) => c.problems.consoleErrors) }));

  /** nixa's chooser → the simulated source → a test citizen → consent when first asked → back. */
  async function throughSource(page: Page, source: RegExp, citizen: string, until: (u: URL) => boolean) {
    await page.getByRole('button', { name: source }).click();
    await page.getByRole('radio', { name: citizen, exact: true }).check();
    await page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click();
    await page.waitForURL((u) => (u.origin === rig.nixa && u.pathname.startsWith('/interaction/')) || until(u));
    const consent = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
    if (!until(new URL(page.url())) && (await consent.count())) await consent.click();
    await page.waitForURL(until);
  }

  const atConsole = (path = '/console') => (u: URL) => u.origin === rig.nixa && u.pathname === path;

  it('a security officer signs in with a passkey, onboards a fourth source, tests it, enables it, sees it on the chooser and rotates a key', async () => {
    const an = await (await newContext()).newPage();
    await addVirtualAuthenticator(an);

    await step(an, '01-an-no-role', async () => {
      await an.goto(`${rig.nixa}/console`);
      await throughSource(an, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Nguyễn Văn An', atConsole());
      await an.getByRole('heading', { level: 1, name: /^Bạn chưa có vai trò vận hành nào/ }).waitFor();
      await screenshot(an, 'console-01-no-role');
    });
    const made = await cliRunner(() => rig.tdb.db)('operators', 'bootstrap', '--national-id', '001085004217', '--reason', 'Khởi tạo hệ thống: cán bộ an ninh đầu tiên');
    expect(made.code).toBe(0);

    await step(an, '02-passkey', async () => {
      await an.goto(`${rig.nixa}/account`);
      await an.getByLabel(/^Tên khóa truy cập/).fill('Khóa của An');
      await an.getByRole('button', { name: /^Thêm khóa truy cập/ }).click();
      await an.getByText('Đã thêm khóa truy cập.').waitFor();
    });

    // A second officer: An gives Đức the role, and Đức gives An source-operator (nobody grants their own).
    const duc = await (await newContext()).newPage();
    const ducId = await step(duc, '03-duc', async () => {
      await duc.goto(`${rig.nixa}/console`);
      await throughSource(duc, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Hoàng Minh Đức', atConsole());
      return (await duc.locator('dl.facts dd code').innerText()).trim();
    });
    await step(an, '04-grant-duc', async () => {
      await an.goto(`${rig.nixa}/console/operators`);
      await an.getByLabel(/^Mã tài khoản/).fill(ducId);
      await an.getByLabel(/^Vai trò/).selectOption('security-officer');
      await an.locator('#f-reason').fill('Cán bộ an ninh thứ hai theo quy định bốn mắt');
      await an.getByRole('button', { name: /^Cấp vai trò/ }).click();
      await an.getByText('Đã cấp vai trò.').waitFor();
    });
    await step(duc, '05-duc-grants-an', async () => {
      await duc.goto(`${rig.nixa}/console/operators`);
      await duc.getByLabel(/^Mã tài khoản/).fill((await rig.tdb.db.query<{ account_id: string }>("SELECT account_id FROM operator_roles WHERE granted_by = 'cli:test'")).rows[0]!.account_id);
      await duc.getByLabel(/^Vai trò/).selectOption('source-operator');
      await duc.locator('#f-reason').fill('Anh An phụ trách kết nối nguồn định danh mới');
      await duc.getByRole('button', { name: /^Cấp vai trò/ }).click();
      await duc.getByText('Đã cấp vai trò.').waitFor();
    });

    // Another day: the browser forgot nixa's session; An signs in to a service through Telecom (low).
    await an.context().clearCookies();
    await step(an, '06-telecom', async () => {
      await an.goto(await authorizationUrl(config, service));
      await throughSource(an, /^Nhà mạng/, 'Nguyễn Văn An', (u) => u.href.startsWith(service.redirectUri));
    });
    await step(an, '07-console-step-up', async () => {
      await an.goto(`${rig.nixa}/console`);
      const passkey = an.getByRole('button', { name: /^Xác thực bằng khóa truy cập/ });
      await passkey.waitFor();
      await passkey.click();
      await an.waitForURL(atConsole());
      await an.getByText('Cán bộ an ninh').first().waitFor();
      await an.getByText('Vận hành nguồn định danh').first().waitFor();
      await screenshot(an, 'console-02-home');
    });

    await step(an, '08-onboard', async () => {
      await an.getByRole('navigation').getByRole('link', { name: /^Nguồn định danh/ }).click();
      await an.getByRole('link', { name: /^Thêm nguồn định danh/ }).click();
      await an.getByLabel(/^Mã nguồn/).fill('ngan-hang-thu-hai');
      await an.getByLabel(/^Loại nguồn/).selectOption('bank');
      await an.getByLabel(/^Tên hiển thị tiếng Việt/).fill('Ngân hàng Thứ Hai (mô phỏng)');
      await an.getByLabel(/^Tên hiển thị tiếng Anh/).fill('Second Bank (simulated)');
      await an.getByLabel(/^Địa chỉ tài liệu khám phá/).fill(`${fourth.issuer}/.well-known/openid-configuration`);
      await an.getByLabel(/^Mã khách/).fill('nixa');
      await an.getByLabel(/^Mật khẩu khách/).fill(fourthSecret);
      await an.getByLabel(/^Phạm vi/).fill('openid kyc');
      for (const [attribute, claim] of [['national_id', 'id_number'], ['full_name', 'name'], ['birthdate', 'birthdate']] as const) {
        await an.locator(`#f-map-${attribute}`).fill(claim);
        await an.locator(`#f-auth-${attribute}`).check();
      }
      await an.getByLabel(/^Mức xác minh danh tính/).selectOption('substantial');
      await an.getByLabel(/^Bảng acr/).fill('urn:vn:bank:loa:substantial=substantial');
      await an.getByLabel(/^Mức xác thực cao nhất/).selectOption('substantial');
      await an.getByLabel(/^Lý do/).fill('Kết nối ngân hàng thứ hai theo hợp đồng số 12/2025');
      await screenshot(an, 'console-03-source-form');
      await an.getByRole('button', { name: /^Đăng ký nguồn/ }).click();
      await an.waitForURL((u) => u.pathname === '/console/sources/ngan-hang-thu-hai');
      await an.getByText('Đã đăng ký nguồn (đang tắt).').waitFor();
    });

    await step(an, '09-test-connection', async () => {
      await an.getByRole('button', { name: /^Kiểm tra kết nối/ }).click();
      await an.getByText('Kết nối tốt: mọi bước đều đạt.').waitFor();
      const results = await an.locator('.test-result td.ok, .test-result td.fail').allInnerTexts();
      expect(results.length).toBeGreaterThanOrEqual(4);
      expect(results.every((r) => r === 'ok')).toBe(true);
      await screenshot(an, 'console-04-test-connection');
    });

    await step(an, '10-enable', async () => {
      await an.getByLabel(/^Lý do/).fill('Đã kiểm tra kết nối, mở cho công dân');
      await an.getByRole('button', { name: /^Bật nguồn/ }).click();
      await an.getByText('Đã bật nguồn').waitFor();
      await screenshot(an, 'console-05-enabled');
    });

    // A citizen who is not signed in sees the fourth source on nixa's chooser.
    const citizen = await (await newContext()).newPage();
    await step(citizen, '11-chooser', async () => {
      await citizen.goto(await authorizationUrl(config, service));
      await citizen.getByRole('button', { name: /^Ngân hàng Thứ Hai/ }).waitFor();
      await screenshot(citizen, 'console-06-chooser');
    });

    const before = (await rig.tdb.db.query<{ kid: string }>("SELECT kid FROM keys WHERE state = 'active' AND use = 'sig' ORDER BY kid")).rows.map((r) => r.kid);
    await step(an, '12-rotate', async () => {
      await an.getByRole('navigation').getByRole('link', { name: /^Khóa ký/ }).click();
      await an.locator('ol.timeline').first().waitFor();
      await an.getByLabel(/^Lý do/).fill('Xoay vòng sau khi kết nối nguồn mới');
      await an.getByRole('button', { name: /^Xoay vòng ngay/ }).click();
      await an.getByText('Đã xoay vòng khóa.').waitFor();
      await screenshot(an, 'console-07-keys');
    });
    const after = (await rig.tdb.db.query<{ kid: string }>("SELECT kid FROM keys WHERE state = 'active' AND use = 'sig' ORDER BY kid")).rows.map((r) => r.kid);
    expect(after.some((k) => before.includes(k))).toBe(false);
    const { rows } = await rig.tdb.db.query<{ event: string; reason: string | null }>(
      "SELECT event, reason FROM audit_events WHERE subject = 'ngan-hang-thu-hai' ORDER BY seq",
    );
    expect(rows.map((r) => r.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED']);

    for (const { problems: p } of rig.contexts) {
      expect(p.cspViolations).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleErrors).toEqual([]);
    }
    await rig.closeContexts();
  }, 180_000);
});
