// Acting for an organisation in a real browser (Debian's Chromium through
// playwright-core), in Vietnamese: a tax service registered to accept legal
// representatives and tax-filing mandates sends the browser to nixa; the person
// signs in through the citizen ID source, meets the choice page ("Bạn đăng nhập
// vào … với tư cách nào?"), chooses with the keyboard alone, agrees on the consent
// page that names the company, and lands back at the service, whose code, redeemed
// with openid-client, gives the `organisation` claim of the one company chosen.
//
//   Nguyễn Văn An   represents two companies; picks Hoàn Kiếm Foods
//   Trần Thị Bình   sees her dissolved company shown but not choosable, the
//                   reason its radio's description; picks her tax-filing mandate
//   the registry down: the page says so and offers to go on as oneself
//
// axe-core (WCAG 2.0/2.1 A and AA, best practices) on the choice page and the
// consent page, in Vietnamese only and with the English shown beside it (the
// /language switch), as test/browser/accessibility.test.ts does for the others.
// Screenshots go to test-output/browser/representation-*.png.
import { randomBytes } from 'node:crypto';

import * as oidc from 'openid-client';
import type { Locator, Page } from 'playwright-core';

import { simulatedRegistryRegistration } from '../../src/app/dev-sources.js';
import { addRegistry } from '../../src/registries/index.js';
import { startSimulatedRegistry, type SimulatedRegistry } from '../../src/simulated-registry/index.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { axeViolations, describeInChromium, describeViolations, leave, nixaInChromium, screenshot, stepper } from './chromium.js';

// The simulated business registry's seed (src/simulated-registry/seed.ts).
const SONG_HONG = '0108523417'; // An is its legal representative; Bình holds its tax_filing mandate
const HOAN_KIEM = '0106791235'; // An's second company
const BEN_THANH = '0312456780'; // Bình's, dissolved

const SERVICE_NAME = 'Thuế điện tử (thử nghiệm)';

describeInChromium(import.meta.url, `choosing whom to act for, and consenting to it, in Chromium`, () => {
  let registry: SimulatedRegistry;
  let service: TestClient;
  let config: oidc.Configuration;
  const rig = nixaInChromium({
    async setUp() {
      // The registry as npm start runs it: a real HTTP service, registered in nixa as an operator would.
      const secret = randomBytes(24).toString('base64url');
      registry = await startSimulatedRegistry({ clients: [{ client_id: 'nixa', client_secret: secret }] });
      rig.closeWith('registry', () => registry.close());
      await addRegistry(rig.tdb.db, rig.fed.nixa.cipher, simulatedRegistryRegistration(registry, secret), 'test', { allowHttpLoopback: true, reason: 'test registry' });
      await rig.fed.nixa.registryCatalogue.refresh();
      // The service's redirect URI: a real server that only says "ok"; the test redeems the code.
      const redirectUri = await rig.callbackSayingOk();
      const registered = await registerTestClient(rig.tdb.db, {
        name: SERVICE_NAME,
        redirect_uris: [redirectUri],
        scope: 'openid profile representation',
        representation: ['legal_representative', 'mandate:tax_filing'],
      });
      service = { ...registered, redirectUri };
      config = await discover(rig.nixa, service);
    },
  });

  afterEach(async () => {
    registry.reset();
    await rig.closeContexts();
  });

  const step = stepper('representation-', () => rig.contexts.at(-1)?.problems);

  /** The element, as a test sees it inside the page (this project compiles without the DOM library). */
  interface InPage {
    id: string;
    checked?: boolean;
    ownerDocument: { activeElement: unknown; defaultView: { getComputedStyle(el: unknown): { outlineStyle: string; outlineWidth: string } } };
  }
  const hasFocus = (l: Locator) => l.evaluate((el: InPage) => el === el.ownerDocument.activeElement);
  /** The focused element's tag and id, e.g. "INPUT#org-self". */
  const focused = (page: Page) => page.evaluate('document.activeElement ? document.activeElement.tagName + "#" + document.activeElement.id : "(none)"') as Promise<string>;

  /** Tab (only) until `target` has the focus, which it must show with an outline; at most `max` presses. */
  async function tabTo(page: Page, target: Locator, max = 30): Promise<void> {
    for (let i = 0; i < max; i++) {
      if (await hasFocus(target)) {
        const outline = await target.evaluate((el: InPage) => {
          const s = el.ownerDocument.defaultView.getComputedStyle(el);
          return `${s.outlineStyle} ${s.outlineWidth}`;
        });
        expect(outline).not.toMatch(/^none|\s0px$/);
        return;
      }
      await page.keyboard.press('Tab');
    }
    throw new Error(`${max} presses of Tab did not reach ${String(target)} (focus on ${await focused(page)})`);
  }

  /**
   * axe on the page as it is, in Vietnamese only and then with the English shown
   * (through the header's switch, which comes back to the same step of the
   * sign-in), and back to Vietnamese only. Returns what axe found.
   */
  async function axeInBothLanguages(page: Page, name: string, ready: () => Promise<unknown>): Promise<string[]> {
    const found: string[] = [];
    for (const show of ['vi', 'vi-en'] as const) {
      await ready();
      // The language the walk asked for is the one shown: the switch offers the other.
      await page.locator('header a.language').filter({ hasText: show === 'vi' ? 'English' : 'Chỉ tiếng Việt' }).waitFor();
      const violations = await axeViolations(page);
      await screenshot(page, `representation-${name}-${show}`);
      found.push(...describeViolations(`[${show}] ${name} ${new URL(page.url()).pathname}`, violations));
      // The switch comes back to the same address (/interaction/:uid): wait for the page it loads.
      await Promise.all([page.waitForEvent('load'), page.locator('header a.language').click()]);
    }
    await ready();
    return found;
  }

  /** The service sends the browser to nixa, which shows its chooser; returns what the test needs to redeem the code. */
  async function authorize(page: Page) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: service.redirectUri,
      scope: 'openid profile representation',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    await page.goto(url.href);
    return { verifier, state, nonce };
  }

  /** Chooser → the citizen ID source → the test citizen: the next page is nixa's. */
  async function throughCitizenId(page: Page, citizen: string): Promise<void> {
    await leave(page, () => page.getByRole('button', { name: /^Cơ sở dữ liệu quốc gia về dân cư/ }).click());
    await page.getByRole('radio', { name: citizen, exact: true }).check();
    await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
    expect(new URL(page.url()).origin).toBe(rig.nixa);
  }

  const choiceHeading = (page: Page) => page.getByRole('heading', { level: 1, name: new RegExp(`^Bạn đăng nhập vào ${SERVICE_NAME.replace(/[()]/g, '\\$&')} với tư cách nào\\?`) });
  const consentHeading = (page: Page) => page.getByRole('heading', { level: 1, name: /^Chia sẻ thông tin với/ });
  const radio = (page: Page, name: RegExp | string) => page.getByRole('radio', { name });

  /** With the keyboard alone: into the radio group, arrows until `target` is checked, Space, Tab to Continue, Enter. */
  async function chooseByKeyboard(page: Page, target: Locator): Promise<string[]> {
    // From the heading (focused when the page opens), Tab enters the group.
    for (let i = 0; i < 10 && !(await focused(page)).startsWith('INPUT#org-'); i++) await page.keyboard.press('Tab');
    const visited = [await focused(page)];
    for (let i = 0; i < 6 && !(await hasFocus(target)); i++) {
      await page.keyboard.press('ArrowDown');
      visited.push(await focused(page));
    }
    expect(await hasFocus(target)).toBe(true);
    await page.keyboard.press('Space');
    expect(await target.isChecked()).toBe(true);
    await tabTo(page, page.getByRole('button', { name: /^Tiếp tục/ }), 3);
    // The consent page is at the same address as the choice (/interaction/:uid): wait for the page the form loads.
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    return visited;
  }

  /** On the consent page: Tab to "Đồng ý chia sẻ", Enter, and the browser lands at the service. */
  async function acceptByKeyboard(page: Page): Promise<void> {
    await tabTo(page, page.getByRole('button', { name: /^Đồng ý chia sẻ/ }));
    await Promise.all([page.waitForURL((u) => u.href.startsWith(service.redirectUri)), page.keyboard.press('Enter')]);
  }

  async function redeem(page: Page, a: { verifier: string; state: string; nonce: string }) {
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
    return tokens.claims()!;
  }

  function noProblems(): void {
    for (const { problems } of rig.contexts) {
      expect(problems.cspViolations).toEqual([]);
      expect(problems.pageErrors).toEqual([]);
      expect(problems.consoleErrors).toEqual([]);
    }
  }

  it('Nguyễn Văn An chooses one of his two companies with the keyboard, agrees, and the service gets that one in the organisation claim', async () => {
    const page = await (await rig.newContext()).context.newPage();
    const a = await authorize(page);
    await step(page, '01-sign-in', () => throughCitizenId(page, 'Nguyễn Văn An'));

    const found = await step(page, '02-choice', async () => {
      await choiceHeading(page).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('vi');
      await radio(page, /^Công ty TNHH Phần mềm Sông Hồng/).waitFor();
      await radio(page, /^Công ty Cổ phần Thực phẩm Hoàn Kiếm/).waitFor();
      await radio(page, /^Chính tôi/).waitFor();
      expect(await page.getByRole('radio').count()).toBe(3);
      const main = await page.locator('main').innerText();
      expect(main).toContain(SONG_HONG);
      expect(main).toContain(HOAN_KIEM);
      // Vietnamese only, as the browser's locale asks: the English beside it is hidden.
      expect(main).not.toContain('(Myself)');
      expect(main).toContain('Người đại diện theo pháp luật');
      return axeInBothLanguages(page, '02-choice', () => choiceHeading(page).waitFor());
    });
    expect(found).toEqual([]);

    const visited = await step(page, '03-choose-by-keyboard', async () => {
      // The page opened with the focus on its heading.
      expect(await hasFocus(choiceHeading(page))).toBe(true);
      return chooseByKeyboard(page, radio(page, /^Công ty Cổ phần Thực phẩm Hoàn Kiếm/));
    });
    expect(visited[0]).toBe('INPUT#org-self');

    const consentFound = await step(page, '04-consent', async () => {
      await consentHeading(page).waitFor();
      const main = await page.locator('main').innerText();
      expect(main).toContain('Bạn đăng nhập thay mặt Công ty Cổ phần Thực phẩm Hoàn Kiếm');
      const organisation = page.getByRole('table', { name: /^Thông tin tổ chức sẽ được chia sẻ/ });
      expect(await organisation.innerText()).toContain(HOAN_KIEM);
      expect(await organisation.innerText()).not.toContain(SONG_HONG);
      return axeInBothLanguages(page, '04-consent', () => consentHeading(page).waitFor());
    });
    expect(consentFound).toEqual([]);

    const claims = await step(page, '05-accept-and-land', async () => {
      await acceptByKeyboard(page);
      return redeem(page, a);
    });
    expect(claims.organisation).toMatchObject({ enterprise_code: HOAN_KIEM, name: 'Công ty Cổ phần Thực phẩm Hoàn Kiếm', status: 'active', role: 'legal_representative', registry: 'sim-business-registry' });
    expect(JSON.stringify(claims)).not.toContain(SONG_HONG);
    noProblems();
  }, 180_000);

  it('Trần Thị Bình: the focus is on the heading, her dissolved company is shown disabled and described by its reason, the keyboard never reaches it', async () => {
    const { context } = await rig.newContext();
    const page = await context.newPage();
    const a = await authorize(page);
    await step(page, '11-sign-in', () => throughCitizenId(page, 'Trần Thị Bình'));

    const dissolved = radio(page, /^Công ty TNHH Thương mại Bến Thành/);
    const mandate = radio(page, /^Công ty TNHH Phần mềm Sông Hồng/);
    const found = await step(page, '12-choice', async () => {
      await choiceHeading(page).waitFor();
      // The page opens with the focus on its heading: a screen reader starts with the question.
      expect(await focused(page)).toBe('H1#');
      expect(await hasFocus(choiceHeading(page))).toBe(true);
      expect(await dissolved.isDisabled()).toBe(true);
      expect(await dissolved.getAttribute('value')).toBe(BEN_THANH);
      expect(await mandate.isEnabled()).toBe(true);
      // The reason is the disabled radio's description, as Chromium computes it for assistive technology.
      const describedBy = await dissolved.getAttribute('aria-describedby');
      expect(describedBy).toBeTruthy();
      expect(await page.locator(`#${describedBy}`).innerText()).toMatch(/^Không chọn được: Doanh nghiệp đã giải thể/);
      const cdp = await context.newCDPSession(page);
      const { nodes } = await cdp.send('Accessibility.getFullAXTree');
      const node = nodes.find((n) => n.role?.value === 'radio' && String(n.name?.value ?? '').startsWith('Công ty TNHH Thương mại Bến Thành'));
      expect(node?.properties?.find((p) => p.name === 'disabled')?.value.value).toBe(true);
      expect(String(node?.description?.value ?? '')).toMatch(/^Không chọn được: Doanh nghiệp đã giải thể/);
      // Said once: the reason is the description, not also part of the name.
      expect(String(node?.name?.value ?? '')).not.toContain('Không chọn được');
      await cdp.detach();
      // The mandate is shown with what it covers and until when.
      expect(await page.locator('main').innerText()).toMatch(/Được ủy quyền\s*—\s*khai và nộp thuế[^\n]*đến hết ngày 30\/06\/2027/);
      return axeInBothLanguages(page, '12-choice', () => choiceHeading(page).waitFor());
    });
    expect(found).toEqual([]);

    await step(page, '13-keyboard-skips-the-dissolved', async () => {
      // After the language round trip the page opened again: focus on the heading again.
      expect(await hasFocus(choiceHeading(page))).toBe(true);
      for (let i = 0; i < 5 && !(await focused(page)).startsWith('INPUT#org-'); i++) await page.keyboard.press('Tab');
      const seen = new Set([await focused(page)]);
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('ArrowDown');
        seen.add(await focused(page));
      }
      const dissolvedId = `INPUT#${await dissolved.getAttribute('id')}`;
      expect([...seen].sort()).toEqual(['INPUT#org-self', `INPUT#${await mandate.getAttribute('id')}`].sort());
      expect(seen.has(dissolvedId)).toBe(false);
      expect(await dissolved.isChecked()).toBe(false);
    });

    await step(page, '14-choose-the-mandate', async () => {
      await page.reload();
      await choiceHeading(page).waitFor();
      await chooseByKeyboard(page, mandate);
      await consentHeading(page).waitFor();
      expect(await page.locator('main').innerText()).toContain('Bạn đăng nhập thay mặt Công ty TNHH Phần mềm Sông Hồng');
      await acceptByKeyboard(page);
    });
    const claims = await redeem(page, a);
    expect(claims.organisation).toMatchObject({ enterprise_code: SONG_HONG, role: 'mandate', tasks: ['tax_filing'], valid_until: '2027-06-30' });
    expect(JSON.stringify(claims)).not.toContain(BEN_THANH);
    noProblems();
  }, 180_000);

  it('the registry down: the page says the registry is not answering and offers to continue as oneself, which works', async () => {
    const page = await (await rig.newContext()).context.newPage();
    const a = await authorize(page);
    registry.misbehave({ mode: 'down' });
    await step(page, '21-sign-in', () => throughCitizenId(page, 'Nguyễn Văn An'));

    const found = await step(page, '22-registry-down', async () => {
      await choiceHeading(page).waitFor();
      expect(await page.getByRole('alert').innerText()).toMatch(/cơ quan đăng ký doanh nghiệp không trả lời\. Bạn vẫn có thể tiếp tục với tư cách cá nhân/);
      // Only "myself", already chosen; no company.
      expect(await page.getByRole('radio').count()).toBe(1);
      expect(await radio(page, /^Chính tôi/).isChecked()).toBe(true);
      expect(await page.locator('main').innerText()).not.toContain(SONG_HONG);
      return axeInBothLanguages(page, '22-registry-down', () => choiceHeading(page).waitFor());
    });
    expect(found).toEqual([]);

    const claims = await step(page, '23-continue-as-oneself', async () => {
      await tabTo(page, page.getByRole('button', { name: /^Tiếp tục/ }));
      // An's own profile was agreed to for this service in the first test, or is asked now.
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
      if (!page.url().startsWith(service.redirectUri)) {
        await consentHeading(page).waitFor();
        await acceptByKeyboard(page);
      }
      return redeem(page, a);
    });
    expect(claims.organisation).toBeUndefined();
    noProblems();
  }, 180_000);
});
