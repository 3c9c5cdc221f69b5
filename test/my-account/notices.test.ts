// "What changed" notices (issue 12, section 4): derived from the audit trail with a
// per-account cursor, each shown once on the next /account page: the first sign-in
// through a new source, a passkey or authenticator app added or removed, consent to
// a new service, a source unblocked. The mapping is a pure function, tested first.
// Never shown to, nor consumed by, the session whose sign-in may have caused it
// (notice-policy.ts): the SIM-swap case is over HTTP at the end.
import type * as oidc from 'openid-client';
import { generate } from 'otplib';

import { SIMULATED_SOURCE_IDS } from '../../src/app/dev-sources.js';
import { formatDate } from '../../src/pages/index.js';
import { noticesFrom, noticeWords, type TrailEvent } from '../../src/my-account/notices.js';
import { SoftwareAuthenticator } from '../support/authenticator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, signedInAgent, startFederation, type Federation } from '../support/federation.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

const ACCOUNT = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const at = (iso: string) => new Date(iso);
const ev = (seq: number, event: string, details: Record<string, unknown> = {}, actor = `account:${ACCOUNT}`): TrailEvent => ({ seq, at: at('2026-12-02T03:00:00Z'), event, actor, details });

describe('noticesFrom (pure)', () => {
  it('makes one notice per act the citizen must hear of, and none of the rest', () => {
    const notices = noticesFrom(
      ACCOUNT,
      [
        ev(10, 'SIGN_IN', { level: 'high' }, 'source:sim-citizen-id'),
        ev(11, 'ACCOUNT_LINKED', { added: ['phone_number'] }, 'source:sim-telecom'),
        ev(12, 'FACTOR_ENROLLED', { method: 'passkey', passkeyId: 'p1' }),
        ev(13, 'FACTOR_REMOVED', { method: 'passkey', passkeyId: 'p1' }),
        ev(14, 'FACTOR_ENROLLED', { method: 'totp', factorId: 'f1' }),
        ev(15, 'FACTOR_REMOVED', { method: 'totp', factorId: 'f1' }, 'admin:thu.pham'),
        ev(16, 'CONSENT_GIVEN', { client: 'dichvucong', claims: ['name'] }),
        ev(17, 'SOURCE_UNBLOCKED_BY_CITIZEN', { source: 'sim-bank', level: 'high' }),
        ev(18, 'FACTOR_USED', { method: 'totp' }),
        ev(19, 'FACTOR_ENROLLED', { method: 'something-new' }),
      ],
      new Set(),
    );
    expect(notices.map((n) => [n.seq, n.kind, n.about, n.byOther])).toEqual([
      [11, 'new-source', 'sim-telecom', undefined],
      [12, 'passkey-added', undefined, undefined],
      [13, 'passkey-removed', undefined, undefined],
      [14, 'app-added', undefined, undefined],
      [15, 'app-removed', undefined, true],
      [16, 'new-service', 'dichvucong', undefined],
      [17, 'source-unblocked', 'sim-bank', undefined],
    ]);
  });

  it('tells of consent only to a service with no consent in force just before, in trail order', () => {
    const events = [
      ev(23, 'CONSENT_GIVEN', { client: 'thue' }),
      ev(20, 'CONSENT_GIVEN', { client: 'dichvucong' }), // in force already: a renewal
      ev(21, 'CONSENT_WITHDRAWN', { client: 'dichvucong' }),
      ev(22, 'CONSENT_GIVEN', { client: 'dichvucong' }), // after a withdrawal: new again
      ev(24, 'CONSENT_GIVEN', { client: 'thue' }), // the second time in the run
      ev(25, 'CONSENT_GIVEN', {}), // no client: nothing to say
    ];
    expect(noticesFrom(ACCOUNT, events, new Set(['dichvucong'])).map((n) => [n.seq, n.about])).toEqual([
      [22, 'dichvucong'],
      [23, 'thue'],
    ]);
    expect(noticesFrom(ACCOUNT, [], new Set())).toEqual([]);
  });

  it('dates in dd/mm/yyyy in Vietnam’s time, and words with a link to act', () => {
    expect(formatDate(at('2026-12-01T17:30:00Z'))).toBe('02/12/2026');
    expect(formatDate(at('2026-12-01T16:59:59Z'))).toBe('01/12/2026');
    expect(formatDate(at('2027-01-05T00:00:00Z'))).toBe('05/01/2027');
    const [added] = noticesFrom(ACCOUNT, [{ ...ev(30, 'FACTOR_ENROLLED', { method: 'passkey' }), at: at('2026-12-01T20:00:00Z') }], new Set());
    const w = noticeWords(added!);
    expect(w.vi).toBe('Một khóa truy cập (passkey) đã được thêm vào ngày 02/12/2026.');
    expect(w.en).toBe('A passkey was added on 02/12/2026.');
    expect(w.act.href).toBe('/account#passkeys-heading');
    expect(w.act.vi).toMatch(/^Không phải bạn\?/);
    const [byOfficer] = noticesFrom(ACCOUNT, [ev(31, 'FACTOR_REMOVED', { method: 'totp' }, 'admin:thu.pham')], new Set());
    expect(noticeWords(byOfficer!).en).toBe('The authenticator app was removed on 02/12/2026 by nixa support.');
    const [service] = noticesFrom(ACCOUNT, [ev(32, 'CONSENT_GIVEN', { client: 'thue' })], new Set());
    expect(noticeWords(service!, () => ({ vi: 'Thuế điện tử', en: 'e-Tax' })).vi).toBe('Bạn đã đồng ý chia sẻ thông tin với «Thuế điện tử» vào ngày 02/12/2026.');
  });
});

// ── Over HTTP: each trigger, shown once ─────────────────────────────────────

const ORIGIN = 'http://localhost:3000';
let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, { NIXA_PASSKEY_RP_ID: 'localhost', NIXA_PASSKEY_ORIGINS: ORIGIN });
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  config = await discover(fed.nixa.config.issuer, portal);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const { url, get: getPage, post } = pagesAt(() => fed.nixa.config.issuer);

const signedIn = (source: 'citizen_id' | 'telecom' | 'bank', citizen: string, c = config, client = portal, extra: Record<string, string> = {}): Promise<UserAgent> =>
  signedInAgent(c, client.redirectUri, { source, citizen, extra });

const get = (agent: UserAgent, path = '/account') => getPage(agent, path);

/** The notices section of a page, or '' when it has none. */
const noticesOf = (html: string) => /<section class="notice" aria-labelledby="notices-heading">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';

/**
 * A new browser signed in to the citizen's own account at /account (nixa's own
 * client, no consent page): the sign-in of another session than any service's.
 */
async function signedInToAccount(source: 'citizen_id' | 'telecom' | 'bank', citizen: string): Promise<{ agent: UserAgent; html: string }> {
  const agent = new UserAgent();
  let step = await agent.follow(url('/account/sign-in'));
  let html = await step.res.text();
  const uid = new URL(step.url).pathname.split('/')[2]!;
  step = await agent.submit(url(`/interaction/${uid}/source`), { csrf: field(html, 'csrf')!, source: SIMULATED_SOURCE_IDS[source] });
  html = await step.res.text();
  const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(html)![1]!;
  step = await agent.submit(new URL(pick, step.url), { citizen });
  expect(step.url).toBe(url('/account').href);
  expect(step.res.status).toBe(200);
  return { agent, html: await step.res.text() };
}

/** The account's notices cursor. */
const cursorOf = async (citizenSub: string) =>
  Number((await tdb.db.query<{ n: string }>('SELECT notices_seen_seq AS n FROM accounts WHERE id = $1', [citizenSub])).rows[0]!.n);

/** The seq of the account's last event of a kind. */
const lastSeq = async (accountId: string, event: string) =>
  Number((await tdb.db.query<{ n: string }>('SELECT max(seq) AS n FROM audit_events WHERE subject = $1 AND event = $2', [accountId, event])).rows[0]!.n);

/** Shown on this visit, and not on the next. */
async function shownOnce(agent: UserAgent, ...texts: string[]): Promise<string> {
  const first = noticesOf((await get(agent)).html);
  for (const t of texts) expect(first).toContain(t);
  expect(noticesOf((await get(agent)).html)).toBe('');
  return first;
}

const today = () => formatDate(new Date());

describe('notices on /account', () => {
  let cuong: UserAgent;

  it('tells of the consent given at the first sign-in once, in another session than the one that gave it', async () => {
    cuong = await signedIn('citizen_id', 'le-hoang-cuong');
    // The session whose sign-in gave it is not told (it may be whoever gave it)…
    expect(noticesOf((await get(cuong)).html)).toBe('');
    // …Cường's next session is.
    const elsewhere = await signedInToAccount('citizen_id', 'le-hoang-cuong');
    const shown = noticesOf(elsewhere.html);
    expect(shown).toContain(`Bạn đã đồng ý chia sẻ thông tin với «Cổng dịch vụ công» vào ngày ${today()}.`);
    expect(shown).toContain('(You agreed to share information with “Cổng dịch vụ công”');
    expect(shown).toContain('href="/account#consents-heading"');
    expect(shown).toContain('Thay đổi gần đây');
    expect(noticesOf((await get(elsewhere.agent)).html)).toBe('');
    // Consumed there: the first session has nothing left either.
    expect(noticesOf((await get(cuong)).html)).toBe('');
  });

  it('tells of the first sign-in through a new source, with a link to block it, and not of a returning one', async () => {
    await signedIn('telecom', 'le-hoang-cuong');
    const name = fed.nixa.sources.get(SIMULATED_SOURCE_IDS.telecom)!.name.vi;
    const shown = await shownOnce(cuong, `Tài khoản của bạn được đăng nhập lần đầu bằng «${name}» vào ngày ${today()}.`);
    expect(shown).toContain('href="/account#sources-heading"');
    // The same source again: not new, nothing to say (its consent is remembered too).
    await signedIn('telecom', 'le-hoang-cuong');
    expect(noticesOf((await get(cuong)).html)).toBe('');
  });

  it('tells of an authenticator app set up and removed, on the next plain visit rather than on the answer to the act', async () => {
    const csrf = field((await get(cuong)).html, 'csrf')!;
    const start = await post(cuong, '/account/totp', { csrf });
    const secret = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(start.html)![1]!.replaceAll(' ', '');
    const into = (Date.now() / 1000) % 30;
    if (into > 27) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
    const done = await post(cuong, '/account/totp/confirm', { csrf, factorId: field(start.html, 'factorId')!, code: await generate({ secret }) });
    expect(done.res.status).toBe(200);
    expect(noticesOf(done.html)).toBe('');
    await shownOnce(cuong, `Một ứng dụng xác thực đã được thiết lập vào ngày ${today()}.`);

    const removed = await post(cuong, '/account/totp/remove', { csrf });
    expect(removed.res.status).toBe(200);
    expect(noticesOf(removed.html)).toBe('');
    await shownOnce(cuong, `Ứng dụng xác thực đã bị gỡ vào ngày ${today()}.`);
  });

  it('tells of a passkey added and removed, in any session of the account', async () => {
    const csrf = field((await get(cuong)).html, 'csrf')!;
    const authenticator = new SoftwareAuthenticator(ORIGIN, 'localhost');
    const options = await (await cuong.request(url('/account/passkeys/options'), { method: 'POST', body: new URLSearchParams({ csrf }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })).json();
    const added = await post(cuong, '/account/passkeys', { csrf, name: 'Điện thoại của Cường', response: JSON.stringify(authenticator.register(options as Parameters<SoftwareAuthenticator['register']>[0])) });
    expect(added.res.status).toBe(200);
    // Seen from another browser of Cường's (where whoever added it is not).
    const other = await signedIn('citizen_id', 'le-hoang-cuong');
    const shown = await shownOnce(other, `Một khóa truy cập (passkey) đã được thêm vào ngày ${today()}.`, `A passkey was added on ${today()}.`);
    expect(shown).toContain('href="/account#passkeys-heading"');
    // The cursor is the account's: the first browser does not see it again either.
    expect(noticesOf((await get(cuong)).html)).toBe('');

    const { rows } = await tdb.db.query<{ id: string }>('SELECT id FROM passkeys');
    await post(cuong, `/account/passkeys/${rows[0]!.id}/remove`, { csrf });
    await shownOnce(other, `Một khóa truy cập (passkey) đã bị gỡ vào ngày ${today()}.`);
  });

  it('tells of consent to a new service, not of consent asked again by one already shared with', async () => {
    const tax = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Thuế điện tử' });
    const taxConfig = await discover(fed.nixa.config.issuer, tax);
    await signedIn('citizen_id', 'le-hoang-cuong', taxConfig, tax);
    await shownOnce(cuong, `Bạn đã đồng ý chia sẻ thông tin với «Thuế điện tử» vào ngày ${today()}.`);
    // The portal asks again (prompt=consent): a renewal, not a new service.
    const given = () => tdb.db.query("SELECT 1 FROM audit_events WHERE event = 'CONSENT_GIVEN' AND details ->> 'client' = $1", [portal.clientId]).then((r) => r.rows.length);
    const before = await given();
    await signedIn('citizen_id', 'le-hoang-cuong', config, portal, { prompt: 'consent' });
    expect(await given()).toBe(before + 1);
    expect(noticesOf((await get(cuong)).html)).toBe('');
  });

  it('tells of a source unblocked', async () => {
    const bank = SIMULATED_SOURCE_IDS.bank;
    const csrf = field((await get(cuong)).html, 'csrf')!;
    await post(cuong, `/account/sources/${bank}/block`, { csrf });
    await post(cuong, `/account/sources/${bank}/unblock`, { csrf });
    const name = fed.nixa.sources.get(bank)!.name.vi;
    await shownOnce(cuong, `Nguồn định danh «${name}» đã được bỏ chặn vào ngày ${today()}.`);
  });
});

// ── SIM swap: the notice meant for the citizen is not the new holder's to read ──

describe('notices held back from the session that may have caused them', () => {
  // Phạm Thị Dung signs in through Citizen ID; later someone who took over her
  // SIM card signs in through the telecom for the first time.
  let dung: UserAgent;
  let thief: UserAgent;
  let account: string;
  const telecomName = () => fed.nixa.sources.get(SIMULATED_SOURCE_IDS.telecom)!.name.vi;
  const firstThroughTelecom = () => `Tài khoản của bạn được đăng nhập lần đầu bằng «${telecomName()}» vào ngày ${today()}.`;

  beforeAll(async () => {
    const s = await federatedSignIn(config, portal.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept' });
    account = (await redeemFederated(config, s)).claims()!.sub;
    dung = s.agent;
    // What her first sign-in caused (the consent to the portal) is consumed by a later session of hers.
    await signedInToAccount('citizen_id', 'pham-thi-dung');
    thief = await signedIn('telecom', 'pham-thi-dung');
  }, 120_000);

  it('does not show the telecom session its own first sign-in through the telecom, nor let it move the cursor', async () => {
    const linked = await lastSeq(account, 'ACCOUNT_LINKED');
    expect(linked).toBeGreaterThan(0);
    const before = await cursorOf(account);
    expect(before).toBeLessThan(linked);
    for (let i = 0; i < 2; i++) {
      const { res, html } = await get(thief);
      expect(res.status).toBe(200);
      expect(html).not.toContain('lần đầu bằng');
      expect(noticesOf(html)).toBe('');
    }
    // Up to the notice held back, not past it.
    expect(await cursorOf(account)).toBe(linked - 1);
  });

  it('nor a second sign-in through the telecom, in another browser: it is whoever holds the source, not one sign-in', async () => {
    const again = await signedIn('telecom', 'pham-thi-dung');
    expect((await get(again)).html).not.toContain('lần đầu bằng');
    const direct = await signedInToAccount('telecom', 'pham-thi-dung');
    expect(direct.html).not.toContain('lần đầu bằng');
    expect(await cursorOf(account)).toBeLessThan(await lastSeq(account, 'ACCOUNT_LINKED'));
  });

  it('shows it to Dung’s session through Citizen ID, once, and then to no one', async () => {
    await shownOnce(dung, firstThroughTelecom(), `(Your account was signed in to through “${fed.nixa.sources.get(SIMULATED_SOURCE_IDS.telecom)!.name.en}” for the first time on ${today()}.)`);
    expect(await cursorOf(account)).toBeGreaterThanOrEqual(await lastSeq(account, 'ACCOUNT_LINKED'));
    expect((await get(thief)).html).not.toContain('lần đầu bằng');
    expect(noticesOf((await signedInToAccount('citizen_id', 'pham-thi-dung')).html)).toBe('');
  });

  it('still shows the telecom session what other sessions did, consumed only up to the notice held back, and once', async () => {
    // Someone signs in through the bank (another session, another source), after the telecom.
    const bank = fed.nixa.sources.get(SIMULATED_SOURCE_IDS.bank)!.name.vi;
    const first = await federatedSignIn(config, portal.redirectUri, { source: 'citizen_id', citizen: 'dang-thi-ngoc-ha', consent: 'accept' });
    const haAccount = (await redeemFederated(config, first)).claims()!.sub;
    const hoa = first.agent;
    await signedInToAccount('citizen_id', 'dang-thi-ngoc-ha'); // her portal consent, consumed
    expect(noticesOf((await get(hoa)).html)).toBe('');
    const telecom = await signedIn('telecom', 'dang-thi-ngoc-ha');
    await signedIn('bank', 'dang-thi-ngoc-ha');
    const bankLinked = await lastSeq(haAccount, 'ACCOUNT_LINKED');
    const shown = noticesOf((await get(telecom)).html);
    expect(shown).toContain(`Tài khoản của bạn được đăng nhập lần đầu bằng «${bank}»`);
    expect(shown).not.toContain(`«${telecomName()}»`);
    // Not shown again in that session, though not consumed for the account: the telecom's notice is before it.
    expect(noticesOf((await get(telecom)).html)).toBe('');
    const telecomLinked = Number((await tdb.db.query<{ n: string }>("SELECT min(seq) AS n FROM audit_events WHERE subject = $1 AND event = 'ACCOUNT_LINKED'", [haAccount])).rows[0]!.n);
    expect(bankLinked).toBeGreaterThan(telecomLinked);
    expect(await cursorOf(haAccount)).toBe(telecomLinked - 1);
    // Her Citizen ID session is told of both, once.
    const both = await shownOnce(hoa, `«${telecomName()}»`, `«${bank}»`);
    expect(both.indexOf(`«${telecomName()}»`)).toBeLessThan(both.indexOf(`«${bank}»`));
  });
});
