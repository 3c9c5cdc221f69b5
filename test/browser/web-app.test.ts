// nixa installed as a web app, in Chromium emulating a phone: the page registers
// the service worker and Chromium finds the manifest (DevTools' Page.getAppManifest)
// without errors, nor anything that keeps nixa from being installed
// (Page.getInstallabilityErrors). A citizen signs in to /account, then the phone
// goes offline (context.setOffline): a public page shows nixa's bilingual offline
// page, styled from the worker's copy and without an axe violation, while /account
// is not served at all (the browser's own network error) and the worker's cache
// holds nothing but the public files it precached. Back online, /account is there.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import type { Page } from 'playwright-core';

import { describeInChromium, leave, nixaInChromium, PHONE, screenshot, stepper, type WatchedContext } from './chromium.js';

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

// Strings, not functions: this project compiles without the DOM library.
const WORKER_READY = `navigator.serviceWorker.ready.then((r) => ({ scope: r.scope, script: r.active && r.active.scriptURL }))`;
const CACHED = `caches.keys().then((names) => Promise.all(names.map((name) => caches.open(name).then((c) => c.keys()).then((rs) => rs.map((r) => name.replace(/-[0-9a-f]+$/, '') + ' ' + new URL(r.url).pathname))))).then((l) => l.flat().sort())`;

describeInChromium(import.meta.url, 'nixa installed as a web app on a phone, online and offline, in Chromium', () => {
  let phone: WatchedContext;
  let axeSource: string;
  const rig = nixaInChromium({
    async setUp() {
      axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
      phone = await rig.newContext(PHONE);
    },
  });

  const step = stepper('web-app-', () => phone?.problems);

  async function axe(page: Page): Promise<string[]> {
    await page.evaluate(axeSource);
    return page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} }, resultTypes: ['violations'] })
      .then((r) => r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`);
  }

  it('registers the worker, is installable, and offline shows the offline page but never the account', async () => {
    const page = await phone.context.newPage();
    const cdp = await phone.context.newCDPSession(page);

    await step(page, '01-registered', async () => {
      await page.goto(`${rig.nixa}/account`);
      expect(await page.evaluate(WORKER_READY)).toEqual({ scope: `${rig.nixa}/`, script: `${rig.nixa}/sw.js` });
    });

    await step(page, '02-manifest', async () => {
      const manifest = await cdp.send('Page.getAppManifest', {});
      expect(manifest.url).toBe(`${rig.nixa}/manifest.webmanifest`);
      expect(manifest.errors).toEqual([]);
      expect(JSON.parse(manifest.data!)).toMatchObject({ start_url: '/account', lang: 'vi', display: 'standalone' });
      expect(manifest.parsed?.scope).toBe(`${rig.nixa}/`);
      // Chromium's own check of what a browser needs to offer "Install app"
      // (manifest members, icons fetched and sized, a worker with a fetch handler).
      // A Playwright context is an incognito profile, where Chromium never installs:
      // that one reason is the profile's, not nixa's.
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      expect(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
    });

    await step(page, '03-sign-in', async () => {
      await leave(page, () => page.getByRole('link', { name: /^Đăng nhập vào tài khoản nixa/ }).click());
      await leave(page, () => page.getByRole('button', { name: /^Nhà mạng/ }).click());
      await page.getByRole('radio').first().check();
      await leave(page, () => page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click());
      await page.waitForURL(`${rig.nixa}/account`);
      await page.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      // The page is under the worker now: it is what answers a navigation offline.
      expect(await page.evaluate('navigator.serviceWorker.controller !== null')).toBe(true);
    });

    await step(page, '04-offline-public-page', async () => {
      await phone.context.setOffline(true);
      const res = await page.goto(`${rig.nixa}/help`);
      expect(res!.status()).toBe(200);
      await page.getByRole('heading', { level: 1, name: 'Không có kết nối mạng (You are offline)' }).waitFor();
      // The English beside it is shown, and the page has nixa's style from the worker's copy.
      expect(await page.getByText('Your device cannot reach the Internet.', { exact: false }).isVisible()).toBe(true);
      expect(await page.evaluate(`getComputedStyle(document.querySelector('header')).backgroundColor`)).toBe('rgb(161, 18, 26)');
      expect(await axe(page)).toEqual([]);
      await screenshot(page, 'web-app-04-offline');
    });

    await step(page, '05-offline-account-not-served', async () => {
      await page.goto(`${rig.nixa}/`);
      await page.getByRole('heading', { level: 1, name: /^Không có kết nối mạng/ }).waitFor();
      // A script on nixa's own page does not get the account from the worker either.
      expect(await page.evaluate(`fetch('/account').then((r) => 'answered ' + r.status, (e) => 'failed')`)).toBe('failed');
      // The worker's cache: the public files it precached, nothing the citizen saw signed in.
      expect(await page.evaluate(CACHED)).toEqual(
        ['/assets/nixa.css', '/assets/web-app.js', '/favicon.svg', '/manifest.webmanifest', '/offline'].map((p) => `nixa-static ${p}`),
      );
      // The worker leaves /account to the browser, which has no network: an error, not a copy.
      await expect(page.goto(`${rig.nixa}/account`)).rejects.toThrow(/net::ERR_INTERNET_DISCONNECTED/);
      expect(await page.getByRole('heading', { name: /^Tài khoản của bạn/ }).count()).toBe(0);
    });

    await step(page, '06-online-again', async () => {
      await phone.context.setOffline(false);
      // A new tab: the one above is still settling on Chromium's error page.
      const again = await phone.context.newPage();
      await again.goto(`${rig.nixa}/account`);
      await again.getByRole('heading', { level: 1, name: /^Tài khoản của bạn/ }).waitFor();
      await again.close();
    });

    expect(phone.problems.cspViolations).toEqual([]);
    // The one error expected: the script's fetch of /account while offline, above.
    expect(phone.problems.consoleErrors.filter((e) => !e.endsWith(`(${rig.nixa}/account): Failed to load resource: net::ERR_INTERNET_DISCONNECTED`))).toEqual([]);
    expect(phone.problems.pageErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
