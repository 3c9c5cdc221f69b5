// The account's notices on the pages of a sign-in in progress (my-account/notices.ts):
// the consent page (under its heading) and the step-up chooser show what changed,
// less what this very sign-in may have caused (notice-policy.ts), and consume
// nothing: /account, where the citizen can act on a notice, still shows them.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import type * as oidc from 'openid-client';
import type { Page } from 'playwright-core';

import { SIMULATED_SOURCE_IDS } from '../../src/app/dev-sources.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { UserAgent } from '../support/user-agent.js';
import { hasChromium, launchChromium, skipReason, vietnameseContext } from '../browser/chromium.js';

const SUBSTANTIAL = { acr_values: 'urn:nixa:loa:substantial' };

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let tax: TestClient;
let portalConfig: oidc.Configuration;
let taxConfig: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  tax = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Thuế điện tử' });
  portalConfig = await discover(fed.nixa.config.issuer, portal);
  taxConfig = await discover(fed.nixa.config.issuer, tax);
  // The embedded PGlite on a loaded machine takes its time over the migrations.
}, 120_000);

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

/** The notices section of a page, or '' when it has none. */
const noticesOf = (html: string) => /<section class="notice" aria-labelledby="notices-heading">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
const nameOf = (kind: keyof typeof SIMULATED_SOURCE_IDS) => fed.nixa.sources.get(SIMULATED_SOURCE_IDS[kind])!.name.vi;
const firstThrough = (kind: keyof typeof SIMULATED_SOURCE_IDS) => `Tài khoản của bạn được đăng nhập lần đầu bằng «${nameOf(kind)}»`;
const cursorOf = async (accountId: string) =>
  Number((await tdb.db.query<{ n: string }>('SELECT notices_seen_seq AS n FROM accounts WHERE id = $1', [accountId])).rows[0]!.n);

describe('notices during a sign-in', () => {
  // Hoàng Minh Đức signed in to the portal through Citizen ID, then through the
  // bank in another browser; now someone signs in through the telecom (a first)
  // in a third browser, to the tax service (a first too).
  let duc: UserAgent;
  let account: string;
  let telecom: UserAgent;
  let consentPage: string;

  beforeAll(async () => {
    const first = await federatedSignIn(portalConfig, portal.redirectUri, { source: 'citizen_id', citizen: 'hoang-minh-duc', consent: 'accept' });
    account = (await redeemFederated(portalConfig, first)).claims()!.sub;
    duc = first.agent;
    const bank = await federatedSignIn(portalConfig, portal.redirectUri, { source: 'bank', citizen: 'hoang-minh-duc', consent: 'accept' });
    expect(bank.stoppedAt).toBeDefined();
    const s = await federatedSignIn(taxConfig, tax.redirectUri, { source: 'telecom', citizen: 'hoang-minh-duc' });
    expect(s.page?.status).toBe(200);
    expect(s.page!.html).toContain('name="decision" value="accept"');
    telecom = s.agent;
    consentPage = s.page!.html;
  }, 120_000);

  it('shows the consent page, under its heading, what others did and not this sign-in’s first use of the telecom', async () => {
    const shown = noticesOf(consentPage);
    expect(shown).toContain(firstThrough('bank'));
    expect(shown).toContain('Bạn đã đồng ý chia sẻ thông tin với «Cổng dịch vụ công»');
    expect(shown).toContain('<span lang="en">(Recent changes)</span>');
    expect(consentPage).not.toContain(firstThrough('telecom'));
    // Under the h1, before what the service asks.
    const h1 = consentPage.indexOf('</h1>');
    expect(h1).toBeGreaterThan(0);
    expect(consentPage.indexOf(shown)).toBeGreaterThan(h1);
    expect(consentPage.indexOf(shown)).toBeLessThan(consentPage.indexOf('đề nghị nixa chia sẻ'));
    expect(consentPage.match(/id="notices-heading"/g)).toHaveLength(1);
  });

  it('consumes nothing there, however often it is shown', async () => {
    const before = await cursorOf(account);
    // Reloading the consent page (the interaction's URL) shows them again.
    const uid = /action="\/interaction\/([^/"]+)\/consent"/.exec(consentPage)![1]!;
    const reload = await (await telecom.request(new URL(`/interaction/${uid}`, fed.nixa.config.issuer))).text();
    expect(noticesOf(reload)).toContain(firstThrough('bank'));
    expect(await cursorOf(account)).toBe(before);
  });

  it('shows them on the step-up chooser, without this session’s own (its source, its services), and consumes nothing', async () => {
    // Agree at the tax service, then it asks for more than the telecom's level.
    const uid = /action="\/interaction\/([^/"]+)\/consent"/.exec(consentPage)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(consentPage)![1]!;
    const shownFields = /name="shown" value="([^"]*)"/.exec(consentPage)![1]!;
    const agreed = await telecom.submit(new URL(`/interaction/${uid}/consent`, fed.nixa.config.issuer), { csrf, decision: 'accept', shown: shownFields }, tax.redirectUri);
    expect(agreed.stoppedAt).toBeDefined();
    const before = await cursorOf(account);
    const stepUp = await federatedSignIn(taxConfig, tax.redirectUri, { agent: telecom, extra: SUBSTANTIAL });
    expect(stepUp.page?.status).toBe(200);
    const html = stepUp.page!.html;
    expect(html).toContain('cao hơn lần đăng nhập hiện tại của bạn');
    const shown = noticesOf(html);
    expect(shown).toContain(firstThrough('bank'));
    expect(html).not.toContain(firstThrough('telecom'));
    // The consent to the tax service was given in this session: not told here.
    expect(html).not.toContain('Bạn đã đồng ý chia sẻ thông tin với «Thuế điện tử»');
    // After the page's heading and why it is shown, before the sources.
    expect(html.indexOf(shown)).toBeGreaterThan(html.indexOf('cao hơn lần đăng nhập hiện tại của bạn'));
    expect(html.indexOf(shown)).toBeLessThan(html.indexOf('id="sources-heading"'));
    expect(await cursorOf(account)).toBe(before);
  });

  it('leaves them for /account, where Đức’s own session is told of them all, once', async () => {
    const page = async () => (await (await duc.request(new URL('/account', fed.nixa.config.issuer))).text());
    const shown = noticesOf(await page());
    expect(shown).toContain(firstThrough('bank'));
    expect(shown).toContain(firstThrough('telecom'));
    expect(shown).toContain('Bạn đã đồng ý chia sẻ thông tin với «Thuế điện tử»');
    expect(noticesOf(await page())).toBe('');
  });

  it('shows no notices region on the consent page of a first sign-in, nor on a chooser before any sign-in', async () => {
    const s = await federatedSignIn(portalConfig, portal.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an' });
    expect(s.page!.html).toContain('name="decision" value="accept"');
    expect(s.page!.html).not.toContain('notices-heading');
    const chooser = await federatedSignIn(portalConfig, portal.redirectUri, {});
    expect(chooser.page!.html).toContain('name="source"');
    expect(chooser.page!.html).not.toContain('notices-heading');
  });
});

// ── axe-core in Chromium on the pages with notices showing ───────────────────

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

(hasChromium ? describe : describe.skip)(`the pages with notices, checked by axe-core in Chromium${skipReason ? ` (${skipReason})` : ''}`, () => {
  it('has no violation on the consent page, the step-up chooser and /account, in Vietnamese and with English beside it', async () => {
    const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const issuer = fed.nixa.config.issuer;
    // Đặng Thị Ngọc Hà through Citizen ID, then the bank elsewhere; then the telecom, to the tax service.
    await federatedSignIn(portalConfig, portal.redirectUri, { source: 'citizen_id', citizen: 'dang-thi-ngoc-ha', consent: 'accept' });
    await federatedSignIn(portalConfig, portal.redirectUri, { source: 'bank', citizen: 'dang-thi-ngoc-ha', consent: 'accept' });
    const consent = await federatedSignIn(taxConfig, tax.redirectUri, { source: 'telecom', citizen: 'dang-thi-ngoc-ha' });
    const agent = consent.agent;
    expect(noticesOf(consent.page!.html)).toContain(firstThrough('bank'));

    const browser = await launchChromium();
    const found: string[] = [];
    try {
      const context = await vietnameseContext(browser);
      const page = await context.newPage();
      /** The agent's cookies into the browser (the session's changes at every step), then the page, then axe. */
      const check = async (name: string, at: string, ready: (p: Page) => Promise<unknown>, shows: readonly ('vi' | 'vi-en')[] = ['vi', 'vi-en']) => {
        await context.addCookies([...agent.cookies.get(new URL(issuer).host)!].map(([n, value]) => ({ name: n, value, url: issuer })));
        for (const show of shows) {
          await page.goto(`${issuer}/language?show=${show}&back=${encodeURIComponent(new URL(at).pathname)}`);
          await ready(page);
          await page.getByRole('region', { name: /^Thay đổi gần đây/ }).waitFor();
          if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
          const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} }, resultTypes: ['violations'] })
            .then((r) => r.violations.map((v) => v.id + ' (' + v.impact + ') at ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
          found.push(...violations.map((v) => `[${show}] ${name}: ${v}`));
        }
      };
      await check('consent', consent.page!.url, (p) => p.getByRole('button', { name: /^Đồng ý chia sẻ/ }).waitFor());

      const uid = /action="\/interaction\/([^/"]+)\/consent"/.exec(consent.page!.html)![1]!;
      const agreed = await agent.submit(new URL(`/interaction/${uid}/consent`, issuer), {
        csrf: /name="csrf" value="([^"]+)"/.exec(consent.page!.html)![1]!,
        decision: 'accept',
        shown: /name="shown" value="([^"]*)"/.exec(consent.page!.html)![1]!,
      }, tax.redirectUri);
      expect(agreed.stoppedAt).toBeDefined();
      const stepUp = await federatedSignIn(taxConfig, tax.redirectUri, { agent, extra: SUBSTANTIAL });
      expect(noticesOf(stepUp.page!.html)).toContain(firstThrough('bank'));
      await check('step-up chooser', stepUp.page!.url, (p) => p.getByRole('heading', { level: 2, name: /^Chọn nguồn định danh/ }).waitFor());
      // /account shows them once (it consumes): English beside, the larger page.
      await check('account', `${issuer}/account`, (p) => p.getByRole('heading', { level: 1 }).waitFor(), ['vi-en']);
      await context.close();
    } finally {
      await browser.close();
    }
    expect(found).toEqual([]);
  }, 120_000);
});
