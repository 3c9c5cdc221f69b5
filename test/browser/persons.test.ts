// Acting for a person in a real browser (Debian's Chromium), in Vietnamese: a
// school-enrolment service registered to accept parents sends the browser to nixa;
// Nguyễn Văn An signs in through the citizen-ID source and meets the choice page,
// where his son Khôi (under 14) can be chosen and his daughter Trang (14 or over)
// is shown with the reason as her radio's description; he chooses Khôi with the
// keyboard alone, the consent page shows Khôi's details, he agrees, and the code,
// redeemed with openid-client, gives a token whose sub is Khôi's and whose act is
// An's. axe (WCAG 2.x A/AA) on both pages, Vietnamese only and with the English.
// Screenshots: test-output/browser/persons-*.png.
import * as oidc from 'openid-client';
import type { Locator, Page } from 'playwright-core';

import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { axeViolations, describeInChromium, describeViolations, leave, nixaInChromium, screenshot, stepper } from './chromium.js';

const SERVICE_NAME = 'Tuyển sinh đầu cấp (thử nghiệm)';

describeInChromium(import.meta.url, 'a parent acting for their child, in Chromium', () => {
  let service: TestClient;
  let config: oidc.Configuration;
  const rig = nixaInChromium({
    async setUp() {
      const redirectUri = await rig.callbackSayingOk();
      const registered = await registerTestClient(rig.tdb.db, { name: SERVICE_NAME, redirect_uris: [redirectUri], scope: 'openid profile representation', subject_type: 'pairwise', representation: ['guardian'] });
      service = { ...registered, redirectUri };
      config = await discover(rig.nixa, service);
    },
  });

  afterEach(() => rig.closeContexts());

  const step = stepper('persons-', () => rig.contexts.at(-1)?.problems);
  const focusedId = (page: Page) => page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;
  const hasFocus = (l: Locator) => l.evaluate((el: { ownerDocument: { activeElement: unknown } }) => el === el.ownerDocument.activeElement);

  async function axeInBothLanguages(page: Page, name: string, ready: () => Promise<unknown>): Promise<string[]> {
    const found: string[] = [];
    for (const show of ['vi', 'vi-en'] as const) {
      await ready();
      await page.locator('header a.language').filter({ hasText: show === 'vi' ? 'English' : 'Chỉ tiếng Việt' }).waitFor();
      found.push(...describeViolations(`[${show}] ${name}`, await axeViolations(page)));
      await screenshot(page, `persons-${name}-${show}`);
      await Promise.all([page.waitForEvent('load'), page.locator('header a.language').click()]);
    }
    await ready();
    return found;
  }

  it('An chooses his son under 14 with the keyboard; his daughter of 14 is shown with the reason; the token is the son’s with act = An', async () => {
    const page = await (await rig.newContext()).context.newPage();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await page.goto(
      oidc.buildAuthorizationUrl(config, { redirect_uri: service.redirectUri, scope: 'openid profile representation', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce }).href,
    );
    await step(page, '01-sign-in', async () => {
      await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
      await page.getByRole('radio', { name: 'Nguyễn Văn An', exact: true }).check();
      await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
    });

    const heading = page.getByRole('heading', { level: 1, name: /với tư cách nào\?/ });
    const khoi = page.getByRole('radio', { name: /^Nguyễn Minh Khôi/ });
    const trang = page.getByRole('radio', { name: /^Nguyễn Thu Trang/ });
    const choiceProblems = await step(page, '02-choice', async () => {
      await heading.waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('vi');
      expect(await khoi.isDisabled()).toBe(false);
      expect(await trang.isDisabled()).toBe(true);
      // The reason is the disabled radio's description, for a screen reader.
      const why = await trang.getAttribute('aria-describedby');
      expect(await page.locator(`#${why}`).innerText()).toContain('Đã đủ 14 tuổi');
      expect(await page.locator('main').innerText()).toContain('con của bạn dưới 14 tuổi');
      return axeInBothLanguages(page, '02-choice', () => heading.waitFor());
    });
    expect(choiceProblems).toEqual([]);

    await step(page, '03-choose-by-keyboard', async () => {
      for (let i = 0; i < 12 && !(await focusedId(page)).startsWith('org-') && !(await focusedId(page)).startsWith('person-'); i++) await page.keyboard.press('Tab');
      for (let i = 0; i < 4 && !(await hasFocus(khoi)); i++) await page.keyboard.press('ArrowDown');
      expect(await hasFocus(khoi)).toBe(true);
      await page.keyboard.press('Space');
      expect(await khoi.isChecked()).toBe(true);
      for (let i = 0; i < 4 && !(await hasFocus(page.getByRole('button', { name: /^Tiếp tục/ }))); i++) await page.keyboard.press('Tab');
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    });

    const consentHeading = page.getByRole('heading', { level: 1, name: /^Chia sẻ thông tin với/ });
    const consentProblems = await step(page, '04-consent', async () => {
      await consentHeading.waitFor();
      const main = await page.locator('main').innerText();
      expect(main).toContain('Bạn đăng nhập thay mặt Nguyễn Minh Khôi');
      expect(main).toContain('chia sẻ các thông tin sau của Nguyễn Minh Khôi');
      expect(main).toContain('nixa sẽ hỏi lại ở mỗi lần bạn đăng nhập thay mặt người khác');
      expect(main).toContain('20/05/2016');
      expect(main).not.toContain('14/03/1985'); // An's own birthdate is not what is shared
      return axeInBothLanguages(page, '04-consent', () => consentHeading.waitFor());
    });
    expect(consentProblems).toEqual([]);

    await step(page, '05-agree', async () => {
      await Promise.all([page.waitForURL((u) => u.href.startsWith(service.redirectUri)), page.getByRole('button', { name: /^Đồng ý chia sẻ/ }).click()]);
    });
    const claims = (await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce })).claims()!;
    expect(claims.name).toBe('Nguyễn Minh Khôi');
    expect(typeof (claims.act as { sub?: unknown }).sub).toBe('string');
    expect((claims.act as { sub: string }).sub).not.toBe(claims.sub);
    for (const { problems } of rig.contexts) {
      expect(problems.cspViolations).toEqual([]);
      expect(problems.pageErrors).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
    }
  }, 180_000);
});
