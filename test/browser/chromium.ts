// Debian's Chromium, driven by playwright-core, for browser tests. Nothing is ever
// downloaded: the browser is the system package (CI installs it with apt-get), and
// on a machine without it the browser tests are skipped with a message saying so.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Why browser tests did not run, or undefined when they can. */
export const skipReason = hasChromium ? undefined : `skipped: ${CHROMIUM_PATH} not installed (apt-get install chromium)`;

// The machine has no network: without these Chromium keeps trying to reach Google's
// services (updates, sync, QUIC probes) and fills the logs with refused connections.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A fresh profile (no cookies) in Vietnamese, as a citizen in Vietnam would have it. */
export function vietnameseContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    viewport: { width: 1024, height: 768 },
    deviceScaleFactor: 1,
  });
}

/** Screenshots go to test-output/browser/ at the repository root (git-ignored). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-output/browser/', import.meta.url));

/** A full-page screenshot saved as test-output/browser/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

export interface PageProblems {
  /** Every console message of type error (but the favicon's, below), with the page and resource it came from. */
  consoleErrors: string[];
  /** Browsers ask every origin for /favicon.ico by themselves; a 404 there is logged but is no fault of a page. */
  faviconErrors: string[];
  /** Content-Security-Policy violations: console errors that name the policy, and securitypolicyviolation events. */
  cspViolations: string[];
  /** Uncaught exceptions in pages. */
  pageErrors: string[];
}

const CSP_EVENT_PREFIX = '[securitypolicyviolation]';

/**
 * Records what a page complains about while a test walks it. Chromium reports a
 * CSP violation as a console error ("Refused to … because it violates the
 * following Content Security Policy directive …"); a script injected before any
 * page script (not subject to the page's CSP) also reports the DOM event, so a
 * violation is seen even if the console wording changes.
 */
export async function watchProblems(context: BrowserContext): Promise<PageProblems> {
  const problems: PageProblems = { consoleErrors: [], faviconErrors: [], cspViolations: [], pageErrors: [] };
  // A string, not a function: this project compiles without the DOM library.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      console.error(${JSON.stringify(CSP_EVENT_PREFIX)} + ' ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' on ' + e.documentURI);
    });`,
  });
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const resource = msg.location().url;
      const text = `${page.url()}${resource && resource !== page.url() ? ` (${resource})` : ''}: ${msg.text()}`;
      if (resource && URL.canParse(resource) && new URL(resource).pathname === '/favicon.ico') problems.faviconErrors.push(text);
      else problems.consoleErrors.push(text);
      if (msg.text().startsWith(CSP_EVENT_PREFIX) || /Content Security Policy/i.test(msg.text())) problems.cspViolations.push(text);
    });
    page.on('pageerror', (err) => problems.pageErrors.push(`${page.url()}: ${err.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

/**
 * The `step` of a browser walk: runs one named step and, when it fails, saves a
 * screenshot (test-output/browser/failed-<prefix><name>.png) and says where the
 * browser was, what the page showed and which console errors were seen.
 */
export function stepper(prefix: string, problems: () => Pick<PageProblems, 'consoleErrors'> | undefined) {
  return async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const shot = await screenshot(page, `failed-${prefix}${name}`).catch(() => 'none');
      const text = await page
        .locator('body')
        .innerText({ timeout: 2_000 })
        .catch(() => '(no page)');
      throw new Error(
        `step "${name}" failed at ${page.url()}: ${(err as Error).message}\n` +
          `screenshot: ${shot}\npage text: ${text.slice(0, 1500)}\nconsole errors: ${problems()?.consoleErrors.join('\n') || 'none'}`,
        { cause: err },
      );
    }
  };
}

/**
 * Chromium's virtual authenticator on this page (CDP WebAuthn domain, no browser
 * UI): a platform authenticator with resident keys that verifies the person, as
 * a phone or laptop with a fingerprint reader does.
 */
export async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return { cdp, authenticatorId };
}
