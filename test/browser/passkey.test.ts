// Passkeys in a real browser: Debian's Chromium with its virtual authenticator
// over CDP (WebAuthn.enable, WebAuthn.addVirtualAuthenticator), talking to nixa's
// own pages and scripts under nixa's CSP. A citizen signs in through Citizen ID
// (proven at high), adds a passkey at /account; another day signs in through
// Telecom (low); the service asks for high and the passkey raises the session:
// the service's token says acr high with amr hwk and user.
import type { BrowserContext, Page } from 'playwright-core';
import * as oidc from 'openid-client';

import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { addVirtualAuthenticator, describeInChromium, nixaInChromium, screenshot, stepper, type PageProblems } from './chromium.js';

describeInChromium(import.meta.url, `passkey step-up in Chromium with a virtual authenticator`, () => {
  let context: BrowserContext;
  let problems: PageProblems;
  let service: TestClient;
  let config: oidc.Configuration;
  // On localhost (the rig's): an IP address cannot be a WebAuthn RP ID; passkeys default to the issuer's host.
  const rig = nixaInChromium({
    async setUp() {
      // The service's redirect URI: a real server that only says "ok"; the test redeems the code.
      const redirectUri = await rig.callbackSayingOk();
      const registered = await registerTestClient(rig.tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công', redirect_uris: [redirectUri] });
      service = { ...registered, redirectUri };
      config = await discover(rig.nixa, service);
      ({ context, problems } = await rig.newContext());
    },
  });

  const step = stepper('passkey-', () => problems);

  /** The service sends the browser to nixa; returns what the test needs to redeem the code. */
  async function authorize(page: Page, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: service.redirectUri,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    await page.goto(url.href);
    return { verifier, state };
  }

  /** Waits for the browser to land on the service, then redeems the code as the service would. */
  async function landed(page: Page, a: { verifier: string; state: string }) {
    await page.waitForURL((u) => u.href.startsWith(service.redirectUri));
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: a.verifier, expectedState: a.state });
    return tokens.claims()!;
  }

  /** Chooser → source → test citizen → (consent when first asked). */
  async function throughSource(page: Page, source: RegExp, citizen: string) {
    await page.getByRole('button', { name: source }).click();
    await page.getByRole('radio', { name: citizen, exact: true }).check();
    await page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click();
    await page.waitForURL((u) => u.origin === rig.nixa || u.href.startsWith(service.redirectUri));
    const consent = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
    if (new URL(page.url()).origin === rig.nixa && (await consent.count())) await consent.click();
  }


  it('adds a passkey after a Citizen ID sign-in, then raises a later Telecom sign-in to high with it', async () => {
    const page = await context.newPage();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(page);

    const first = await step(page, '01-citizen-id', async () => {
      const a = await authorize(page);
      await throughSource(page, /^Cơ sở dữ liệu quốc gia về dân cư/, 'Hoàng Minh Đức');
      return landed(page, a);
    });
    expect(first.acr).toBe('urn:nixa:loa:high');

    await step(page, '02-account-add-passkey', async () => {
      await page.goto(`${rig.nixa}/account`);
      await page.getByRole('heading', { level: 2, name: /^Khóa truy cập/ }).waitFor();
      await page.getByLabel(/^Tên khóa truy cập/).fill('Điện thoại của Đức');
      await screenshot(page, 'passkey-01-account');
      await page.getByRole('button', { name: /^Thêm khóa truy cập/ }).click();
      await page.getByText('Đã thêm khóa truy cập.').waitFor();
      await page.getByText('Điện thoại của Đức', { exact: true }).waitFor();
      await screenshot(page, 'passkey-02-added');
    });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);

    // Another day: the browser has forgotten nixa's session (the authenticator keeps its key).
    await context.clearCookies();
    const low = await step(page, '03-telecom', async () => {
      const a = await authorize(page);
      await throughSource(page, /^Nhà mạng/, 'Hoàng Minh Đức');
      return landed(page, a);
    });
    expect(low.acr).toBe('urn:nixa:loa:low');
    expect(low.sub).toBe(first.sub);

    const high = await step(page, '04-step-up', async () => {
      const a = await authorize(page, { acr_values: 'urn:nixa:loa:high' });
      const button = page.getByRole('button', { name: /^Xác thực bằng khóa truy cập/ });
      await button.waitFor();
      await page.getByText(/cao hơn lần đăng nhập hiện tại/).waitFor();
      await screenshot(page, 'passkey-03-step-up-chooser');
      await button.click();
      return landed(page, a);
    });
    expect(high.acr).toBe('urn:nixa:loa:high');
    expect(high.amr).toEqual(expect.arrayContaining(['hwk', 'user', 'mfa', 'fed']));
    expect(high.sub).toBe(first.sub);
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(after.credentials[0]!.signCount).toBeGreaterThan(credentials[0]!.signCount);

    expect(problems.cspViolations).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
