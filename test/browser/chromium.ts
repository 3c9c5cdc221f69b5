// Debian's Chromium, driven by playwright-core, for browser tests. Nothing is ever
// downloaded: the browser is the system package (CI installs it with apt-get), and
// on a machine without it the browser tests are skipped with a message saying so.
// nixaInChromium() below is the setup every browser test shares (nixa, its sources,
// the demo service, Chromium); describeInChromium() the skip.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';

import { seedDemo, type DemoCredentials } from '../../src/app/demo.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { createLogger, silentLogger, type Logger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';

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

/**
 * A fresh profile (no cookies) in Vietnamese, as a citizen in Vietnam would have it;
 * `options` change the device (PHONE below, for one).
 */
export function vietnameseContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    viewport: { width: 1024, height: 768 },
    deviceScaleFactor: 1,
    ...options,
  });
}

/** The screen of a small Android phone, as most citizens have one: 360×740 CSS px. */
export const PHONE_SCREEN = { width: 360, height: 740 };

/** vietnameseContext's options for that phone: its screen, device scale factor 2, mobile viewport, touch. */
export const PHONE: BrowserContextOptions = { viewport: PHONE_SCREEN, screen: PHONE_SCREEN, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

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

// ── The fixture most browser tests share ────────────────────────────────────

/** nixa's logs in a test: none, unless NIXA_TEST_LOG names a level. */
export function testLogger(): Logger {
  return process.env.NIXA_TEST_LOG ? createLogger(process.env.NIXA_TEST_LOG) : silentLogger;
}

/**
 * describe() when Chromium is installed; otherwise describe.skip, with the reason
 * in the title and a warning naming the test file (`file`: its import.meta.url).
 */
export function describeInChromium(file: string, title: string, fn: () => void): void {
  if (!hasChromium) console.warn(`${relative(REPO_ROOT, fileURLToPath(file))} ${skipReason}`);
  (hasChromium ? describe : describe.skip)(`${title}${skipReason ? ` (${skipReason})` : ''}`, fn);
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A browser profile made by the rig, with what its pages complained of. */
export interface WatchedContext {
  context: BrowserContext;
  problems: PageProblems;
}

export interface RigOptions {
  /** More of nixa's environment (its PORT, and NIXA_ISSUER on localhost, are set by the rig). */
  env?: Record<string, string>;
  /**
   * An assurance policy document for nixa: the rig writes it to a file of its own
   * (removed at the end) and names it in NIXA_ASSURANCE_POLICY_FILE.
   */
  policy?: unknown;
  /** Also the demo service, registered exactly as `npm start` registers it. */
  demo?: boolean;
  /** Runs last in the rig's beforeAll, everything up: clients to register, more servers, contexts. */
  setUp?: (rig: Rig) => Promise<void>;
}

/** What a browser test walks against; set by the rig's beforeAll. */
export interface Rig {
  logger: Logger;
  tdb: TestDatabase;
  fed: Federation;
  /** nixa's issuer, on localhost (browsers share cookies across the ports of one host). */
  nixa: string;
  /** Only with `demo: true`. */
  demo: DemoService;
  /** The demo's registration at nixa, as seedDemo returned it; only with `demo: true`. */
  demoCredentials: DemoCredentials;
  browser: Browser;
  /** Every profile newContext made, in order. */
  contexts: WatchedContext[];
  /** A fresh Vietnamese profile (no cookies), 15 s default timeout, its problems watched; `options` as vietnameseContext's. */
  newContext(options?: BrowserContextOptions): Promise<WatchedContext>;
  /** Closes every profile newContext made, and forgets them. */
  closeContexts(): Promise<void>;
  /** Something the test started, closed after Chromium and the demo, before nixa and its sources. */
  closeWith(what: string, close: () => Promise<unknown>): void;
  /**
   * A service's redirect URI on localhost: a real server that only says "ok", so
   * that the browser lands somewhere and the test redeems the code; closed by the rig.
   */
  callbackSayingOk(): Promise<string>;
}

/**
 * Registers, in the describe block it is called in, a beforeAll that starts a
 * test database, nixa with the three simulated sources on localhost, the demo
 * service if asked, and Chromium; and an afterAll that closes each of them in
 * turn, even when one fails, so that nothing is left running.
 */
export function nixaInChromium(options: RigOptions = {}): Rig {
  const closers: [string, () => Promise<unknown>][] = [];
  let tdb: TestDatabase | undefined;
  let fed: Federation | undefined;
  let demo: DemoService | undefined;
  let browser: Browser | undefined;
  let policyDir: string | undefined;
  const rig = {
    logger: testLogger(),
    contexts: [] as WatchedContext[],
    async newContext(contextOptions?: BrowserContextOptions): Promise<WatchedContext> {
      const context = await vietnameseContext(rig.browser, contextOptions);
      context.setDefaultTimeout(15_000);
      const watched = { context, problems: await watchProblems(context) };
      rig.contexts.push(watched);
      return watched;
    },
    async closeContexts() {
      for (const { context } of rig.contexts.splice(0)) await context.close();
    },
    closeWith(what: string, close: () => Promise<unknown>) {
      closers.push([what, close]);
    },
    async callbackSayingOk(): Promise<string> {
      const callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
      await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
      rig.closeWith('callback', () => {
        callback.closeAllConnections();
        return new Promise((resolve) => callback.close(resolve));
      });
      return `http://localhost:${(callback.address() as AddressInfo).port}/callback`;
    },
  } as Rig;

  beforeAll(async () => {
    rig.tdb = tdb = await createTestDatabase();
    const port = await freePort();
    const env: Record<string, string> = { PORT: String(port), NIXA_ISSUER: `http://localhost:${port}`, ...options.env };
    if (options.policy !== undefined) {
      policyDir = await mkdtemp(join(tmpdir(), 'nixa-browser-policy-'));
      env.NIXA_ASSURANCE_POLICY_FILE = join(policyDir, 'policy.json');
      await writeFile(env.NIXA_ASSURANCE_POLICY_FILE, JSON.stringify(options.policy));
    }
    rig.fed = fed = await startFederation(tdb, env, { logger: rig.logger });
    rig.nixa = fed.nixa.config.issuer;
    if (options.demo) {
      // seedDemo names the demo's origin http://localhost:(PORT+100): pretend nixa's PORT is 100 below a free port.
      const demoPort = await freePort();
      const credentials = (rig.demoCredentials = await seedDemo(tdb.db, { ...fed.nixa.config, port: demoPort - 100 }, rig.logger));
      rig.demo = demo = await startDemoService({ issuer: rig.nixa, credentials, port: demoPort, host: '127.0.0.1', logger: rig.logger });
    }
    rig.browser = browser = await launchChromium();
    await options.setUp?.(rig);
    // More than a minute on the embedded PGlite for a rig with the demo and more servers beside it.
  }, 180_000);

  afterAll(async () => {
    const steps: [string, (() => Promise<unknown>) | undefined][] = [
      ['browser', browser && (() => browser!.close())],
      ['demo service', demo && (() => demo!.close())],
      ...closers,
      ['nixa and sources', fed && (() => fed!.close())],
      ['database', tdb && (() => tdb!.drop())],
      ['policy file', policyDir ? () => rm(policyDir!, { recursive: true, force: true }) : undefined],
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

  return rig;
}

/**
 * From the demo service's home page through nixa's chooser, a simulated source
 * and nixa's consent page when it asks, back to the demo signed in; returns the
 * acr the demo shows.
 */
export async function signInToDemo(page: Page, demoUrl: string, source: RegExp, citizen: string): Promise<string> {
  await page.goto(`${demoUrl}/`);
  await page.getByRole('link', { name: /^Đăng nhập với nixa/ }).click();
  await page.getByRole('button', { name: source }).click();
  await page.getByRole('radio', { name: citizen, exact: true }).check();
  await page.getByRole('button', { name: /^Xác nhận và tiếp tục/ }).click();
  const consent = page.getByRole('button', { name: /^Đồng ý chia sẻ/ });
  const signedIn = page.getByRole('heading', { level: 1, name: /^Bạn đã đăng nhập/ });
  // The demo takes parents and helpers: a citizen with a child is asked whom they act for (themselves).
  const self = page.getByRole('radio', { name: /^Chính tôi/ });
  await consent.or(signedIn).or(self).first().waitFor();
  if (await self.isVisible()) {
    await self.check();
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: /^Tiếp tục/ }).click()]);
    await consent.or(signedIn).first().waitFor();
  }
  if (await consent.isVisible()) await consent.click();
  await signedIn.waitFor();
  return (await page.locator('.assurance .acr').innerText()).trim();
}

/** Does `act` (a click, a key press) and waits until the browser has left the page it was on; returns where it arrived. */
export async function leave(page: Page, act: () => Promise<unknown>): Promise<URL> {
  const before = page.url();
  await Promise.all([page.waitForURL((u) => u.href !== before), act()]);
  return new URL(page.url());
}

/** One axe-core finding, compact. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  targets: string[];
}

/** What axe found on one page, as a failure message shows it. */
export function describeViolations(where: string, violations: AxeViolation[]): string[] {
  return violations.map((v) => `${where}: ${v.id} (${v.impact ?? 'no impact'}) — ${v.help}\n    at ${v.targets.join('\n    at ')}\n    ${v.helpUrl}`);
}

let axeSource: string | undefined;

/**
 * axe-core (WCAG 2.0/2.1 A and AA and best practices) on the page as it is now.
 * Injected by CDP evaluation, which nixa's strict CSP does not govern.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Strings, not functions: this project compiles without the DOM library.
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  return page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, targets: v.nodes.map((n) => n.target.join(' ')) })))`);
}
