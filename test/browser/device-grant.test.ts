// axe-core on the device grant's pages (RFC 8628) in Chromium, each in Vietnamese
// only and with the English shown: the code form, an unknown code, the
// confirmation, the refusal, the page after signing in (test login) and the wait
// after too many wrong codes. Same injection and rules as accessibility.test.ts;
// the strict CSP stays as it is, and no page may violate it.
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';

import { DEVICE_CODE_GRANT } from '../../src/clients/index.js';
import { discover, registerTestClient } from '../support/relying-party.js';
import { axeViolations, describeInChromium, nixaInChromium, screenshot } from './chromium.js';

describeInChromium(import.meta.url, `axe-core on the device grant's pages`, () => {
  let config: oidc.Configuration;
  // The device pages sign in with nixa's test login.
  const rig = nixaInChromium({
    env: { NIXA_TEST_LOGIN: 'true' },
    async setUp() {
      const kiosk = await registerTestClient(rig.tdb.db, {
        name: 'Ki-ốt dịch vụ công — Bưu điện Hà Nội',
        grant_types: [DEVICE_CODE_GRANT],
        token_endpoint_auth_method: 'none',
        redirect_uris: [],
        post_logout_redirect_uris: [],
      });
      config = await discover(rig.nixa, kiosk);
    },
  });

  async function axe(page: Page): Promise<string[]> {
    return (await axeViolations(page)).map((v) => `${new URL(page.url()).pathname}: ${v.id} — ${v.help} at ${v.targets.join(', ')}`);
  }

  /** A fresh browser showing `show`; `check(name)` runs axe once the page's heading is there. */
  async function open(show: 'vi' | 'vi-en') {
    const { context, problems } = await rig.newContext();
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto(`${rig.nixa}/language?show=${show}&back=/device`);
    const checked: string[] = [];
    const found: string[] = [];
    const check = async (name: string, heading: RegExp) => {
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.locator('header a.language').filter({ hasText: show === 'vi' ? 'English' : 'Chỉ tiếng Việt' }).waitFor();
      const v = await axe(page);
      if (v.length) await screenshot(page, `device-${show}-${name}`);
      checked.push(name);
      found.push(...v.map((x) => `[${show}] ${name} ${x}`));
    };
    const submit = (button: RegExp) => Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: button }).click()]);
    return { context, page, problems, checked, found, check, submit };
  }

  it.each([
    ['Vietnamese only', 'vi'],
    ['English shown beside the Vietnamese', 'vi-en'],
  ] as const)('no axe violation and no CSP violation on the device pages, %s', async (_label, show) => {
    const { context, page, problems, checked, found, check, submit } = await open(show);
    await check('code-form', /^Đăng nhập cho một thiết bị/);
    await page.getByLabel(/^Mã trên màn hình thiết bị/).fill('bcdf ghjz');
    await submit(/^Tiếp tục/);
    await page.getByRole('alert').filter({ hasText: 'Không có mã này' }).waitFor();
    await check('code-unknown', /^Đăng nhập cho một thiết bị/);

    const refused = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    await page.goto(refused.verification_uri_complete!);
    await submit(/^Tiếp tục/);
    await check('confirm', /^Đây có phải thiết bị trước mặt bạn\?/);
    await submit(/^Không phải tôi/);
    await check('denied', /^Đã từ chối/);

    const approved = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    await page.goto(approved.verification_uri_complete!);
    await submit(/^Tiếp tục/);
    await submit(/^Tiếp tục và đăng nhập/);
    await submit(/^Đăng nhập thử nghiệm/);
    await check('done', /^Thiết bị đã được đăng nhập/);
    await expect(oidc.pollDeviceAuthorizationGrant(config, approved)).resolves.toHaveProperty('access_token');

    expect(checked).toEqual(['code-form', 'code-unknown', 'confirm', 'denied', 'done']);
    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    await context.close();
    if (found.length) throw new Error(`axe found ${found.length} violation(s):\n${found.join('\n')}`);
  }, 120_000);

  it('no axe violation on the wait after too many wrong codes, in both languages', async () => {
    const { context, page, problems, found, check, submit } = await open('vi');
    // Every browser of this test comes from one address: wrong codes until it must wait.
    for (let i = 0; i < 12 && !(await page.getByRole('heading', { level: 1, name: /^Đã nhập sai mã quá nhiều lần/ }).isVisible()); i++) {
      if (i > 0) await page.goto(`${rig.nixa}/device`);
      await page.getByLabel(/^Mã trên màn hình thiết bị/).fill(`BCDF-GHJ${'KLMNPQRSTVWX'[i]}`);
      await submit(/^Tiếp tục/);
    }
    await check('wait', /^Đã nhập sai mã quá nhiều lần/);
    await page.goto(`${rig.nixa}/language?show=vi-en&back=/device`);
    await page.getByLabel(/^Mã trên màn hình thiết bị/).fill('BCDF-GHJZ');
    await submit(/^Tiếp tục/);
    await page.getByRole('heading', { level: 1, name: /^Đã nhập sai mã quá nhiều lần/ }).waitFor();
    await page.locator('header a.language').filter({ hasText: 'Chỉ tiếng Việt' }).waitFor();
    found.push(...(await axe(page)).map((x) => `[vi-en] wait ${x}`));
    expect(problems.cspViolations).toEqual([]);
    await context.close();
    if (found.length) throw new Error(`axe found ${found.length} violation(s):\n${found.join('\n')}`);
  }, 120_000);
});
