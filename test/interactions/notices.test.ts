// The account's notices on the pages of a sign-in in progress (my-account/notices.ts):
// the consent page (under its heading) and the step-up chooser show what changed,
// less what this very sign-in may have caused (notice-policy.ts), and consume
// nothing: /account, where the citizen can act on a notice, still shows them.
import type * as oidc from 'openid-client';

import { SIMULATED_SOURCE_IDS } from '../../src/app/dev-sources.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { UserAgent } from '../support/user-agent.js';

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
});

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
  });

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
