// Blocking a source for one's own account (issue 12, section 3): from /account a
// citizen blocks a source ("my SIM was swapped away"); the next sign-in through it
// is refused with a page that says why and what to do, and nothing is written but
// the refusal; other sources still sign them in; unblocking needs a session at
// substantial or above that did not come through the blocked source; and a block
// made through one instance holds on another at once.
import type * as oidc from 'openid-client';

import { blockSource, findAccount, signInFromSource, type AccountsContext } from '../../src/accounts/index.js';
import type { Nixa } from '../../src/app/index.js';
import { SIMULATED_SOURCE_IDS } from '../../src/app/dev-sources.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, signedInAgent, startFederation, type Federation } from '../support/federation.js';
import { startTestNixa } from '../support/nixa.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;
let accounts: AccountsContext;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  config = await discover(fed.nixa.config.issuer, portal);
  accounts = { db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') };
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const TELECOM = SIMULATED_SOURCE_IDS.telecom;
const BANK = SIMULATED_SOURCE_IDS.bank;
const CITIZEN_ID = SIMULATED_SOURCE_IDS.citizen_id;

const { get, post } = pagesAt(() => fed.nixa.config.issuer);

const signedIn = (source: 'citizen_id' | 'telecom' | 'bank', citizen: string): Promise<UserAgent> => signedInAgent(config, portal.redirectUri, { source, citizen });

const csrfOf = async (agent: UserAgent) => field((await get(agent, '/account')).html, 'csrf')!;
const blocks = async () =>
  (await tdb.db.query<{ account_id: string; source_id: string }>('SELECT account_id, source_id FROM account_blocked_sources ORDER BY source_id')).rows;
const lastEvent = async (event: string) =>
  (await tdb.db.query<{ actor: string; subject: string; details: Record<string, unknown> }>('SELECT actor, subject, details FROM audit_events WHERE event = $1 ORDER BY seq DESC LIMIT 1', [event]))
    .rows[0];
const count = async (sql: string, params: unknown[] = []) => (await tdb.db.query<{ n: number }>(sql, params)).rows[0]!.n;

/** Everything a sign-in could write about people (the audit trail apart). */
const stateOfAccounts = async () =>
  (
    await tdb.db.query<{ s: string }>(
      `SELECT (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM linked_identities t) || '#' ||
              (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM account_attributes t) || '#' ||
              (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM accounts t) || '#' ||
              (SELECT count(*) FROM upstream_sessions WHERE account_id IS NOT NULL) || '#' ||
              (SELECT count(*) FROM oidc_payloads WHERE model IN ('Session', 'Grant', 'AuthorizationCode', 'AccessToken', 'RefreshToken')) AS s`,
    )
  ).rows[0]!.s;

describe('blocking a source', () => {
  /** Lê Hoàng Cường, known to all three sources: signed in at high through the citizen ID app. */
  let cuong: UserAgent;
  let cuongId: string;

  it('lists every source with a block button, and refuses a forged or missing CSRF token and an unknown source', async () => {
    cuong = await signedIn('citizen_id', 'le-hoang-cuong');
    const page = await get(cuong, '/account');
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('id="sources-heading"');
    for (const id of [CITIZEN_ID, TELECOM, BANK]) expect(page.html).toContain(`action="/account/sources/${id}/block"`);
    // The session's own source is named as such.
    expect(page.html).toContain('Bạn đang đăng nhập bằng nguồn này');
    cuongId = (await tdb.db.query<{ account_id: string }>('SELECT account_id FROM linked_identities WHERE source_id = $1', [CITIZEN_ID])).rows[0]!.account_id;

    expect((await post(cuong, `/account/sources/${TELECOM}/block`, {})).res.status).toBe(400);
    expect((await post(cuong, `/account/sources/${TELECOM}/block`, { csrf: 'forged' })).res.status).toBe(400);
    const unknown = await post(cuong, '/account/sources/sim-nowhere/block', { csrf: await csrfOf(cuong) });
    expect(unknown.res.status).toBe(404);
    expect(unknown.html).toContain('Không có nguồn định danh như vậy');
    expect(await blocks()).toEqual([]);
  });

  it('refuses the next sign-in through the blocked source with a page saying why and what to do, writing only the refusal', async () => {
    // Cường once signed in through the telecom operator too (his SIM card).
    await signedIn('telecom', 'le-hoang-cuong');
    const done = await post(cuong, `/account/sources/${TELECOM}/block`, { csrf: await csrfOf(cuong) });
    expect(done.res.status).toBe(200);
    expect(done.html).toContain('Đã chặn');
    expect(done.html).toContain(`action="/account/sources/${TELECOM}/unblock"`);
    expect(await blocks()).toEqual([{ account_id: cuongId, source_id: TELECOM }]);
    expect(await lastEvent('SOURCE_BLOCKED_BY_CITIZEN')).toMatchObject({
      actor: `account:${cuongId}`,
      subject: cuongId,
      details: { source: TELECOM, level: 'high', endedSession: false },
    });

    // Whoever now holds the SIM card signs in through the operator.
    const before = await stateOfAccounts();
    const events = await count('SELECT count(*)::int AS n FROM audit_events');
    const s = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'le-hoang-cuong', consent: 'accept' });
    expect(s.stoppedAt).toBeUndefined();
    expect(s.page!.status).toBe(403);
    expect(s.page!.html).toContain('NIXA-FED-source-blocked');
    expect(s.page!.html).toContain('Bạn đã chặn nguồn định danh này');
    expect(s.page!.html).toContain('You blocked this identity source');
    expect(s.page!.html).toContain('/account');
    // Another source is the way in: the page offers it.
    expect(s.page!.html).toContain('Chọn nguồn định danh khác');
    expect(s.page!.html).not.toContain('048201007396');

    expect(await stateOfAccounts()).toBe(before);
    expect(await count('SELECT count(*)::int AS n FROM audit_events')).toBe(events + 1);
    expect(await lastEvent('SIGN_IN_REFUSED')).toMatchObject({ actor: `source:${TELECOM}`, subject: cuongId, details: { reason: 'source-blocked', client: portal.clientId } });
  });

  it('still signs the citizen in through another source, including one linked for the first time', async () => {
    const bank = await signedIn('bank', 'le-hoang-cuong');
    expect((await get(bank, '/account')).res.status).toBe(200);
    expect(await count('SELECT count(*)::int AS n FROM linked_identities WHERE account_id = $1 AND source_id = $2', [cuongId, BANK])).toBe(1);
  });

  it('refuses a source blocked before it was ever linked: the first link is not made', async () => {
    // Phạm Thị Dung signed in only through the citizen ID app; she blocks the bank before anyone uses it.
    const dung = await signedIn('citizen_id', 'pham-thi-dung');
    await post(dung, `/account/sources/${BANK}/block`, { csrf: await csrfOf(dung) });
    const before = await stateOfAccounts();
    const s = await federatedSignIn(config, portal.redirectUri, { source: 'bank', citizen: 'pham-thi-dung', consent: 'accept' });
    expect(s.page?.status).toBe(403);
    expect(s.page!.html).toContain('NIXA-FED-source-blocked');
    expect(await stateOfAccounts()).toBe(before);
  });

  it('blocks a stronger source only from a session at its level: a swapped SIM cannot shut the citizen out of the others', async () => {
    // Đặng Thị Ngọc Hà: whoever holds her SIM card signs in through the telecom (low).
    const before = await blocks();
    const thief = await signedIn('telecom', 'dang-thi-ngoc-ha');
    const page = (await get(thief, '/account')).html;
    expect(page).toContain('Để chặn nguồn này, hãy đăng nhập ở mức độ đảm bảo');
    expect(page).not.toContain(`action="/account/sources/${BANK}/block"`);
    expect(page).not.toContain(`action="/account/sources/${CITIZEN_ID}/block"`);
    for (const target of [BANK, CITIZEN_ID]) {
      const res = await post(thief, `/account/sources/${target}/block`, { csrf: await csrfOf(thief) });
      expect(res.res.status).toBe(403);
      expect(res.html).toContain('Chưa thể chặn');
      expect(res.html).toContain('This sign-in is at “low”');
      expect(res.html).toContain('href="/account/sign-in?level=');
    }
    expect(await blocks()).toEqual(before);
    // Her own source the low session may block (it shuts out only whoever holds it).
    expect(page).toContain(`action="/account/sources/${TELECOM}/block"`);
    // The bank session (substantial) may block the telecom, not the citizen ID app (high).
    const bank = await signedIn('bank', 'dang-thi-ngoc-ha');
    expect((await post(bank, `/account/sources/${CITIZEN_ID}/block`, { csrf: await csrfOf(bank) })).res.status).toBe(403);
    expect((await post(bank, `/account/sources/${TELECOM}/block`, { csrf: await csrfOf(bank) })).res.status).toBe(200);
    const added = (await blocks()).filter((b) => !before.some((x) => x.account_id === b.account_id && x.source_id === b.source_id));
    expect(added.map((b) => b.source_id)).toEqual([TELECOM]);
  });

  it('unblocks only from a session at substantial or above that did not come through the blocked source', async () => {
    // Hoàng Minh Đức: a low session through his SIM card, a high one through the citizen ID app.
    const low = await signedIn('telecom', 'hoang-minh-duc');
    const high = await signedIn('citizen_id', 'hoang-minh-duc');
    // The high session blocks the bank; the low one sees it blocked, and may not lift it.
    const blocked = await post(high, `/account/sources/${BANK}/block`, { csrf: await csrfOf(high) });
    expect(blocked.res.status).toBe(200);
    const lowPage = (await get(low, '/account')).html;
    expect(lowPage).toContain('Để bỏ chặn, hãy đăng nhập bằng một nguồn khác');
    expect(lowPage).not.toContain(`action="/account/sources/${BANK}/unblock"`);
    const lowUnblock = await post(low, `/account/sources/${BANK}/unblock`, { csrf: await csrfOf(low) });
    expect(lowUnblock.res.status).toBe(403);
    expect(lowUnblock.html).toContain('Chưa thể bỏ chặn');
    // The citizen ID app blocked too (from another high session, as if from another
    // device): the high session, though at high, came through it and may not lift that block.
    const accountId = (await lastEvent('SOURCE_BLOCKED_BY_CITIZEN'))!.subject;
    await blockSource(accounts, { accountId, sourceId: CITIZEN_ID, actor: `account:${accountId}`, details: { level: 'high', endedSession: false } });
    const sameSource = await post(high, `/account/sources/${CITIZEN_ID}/unblock`, { csrf: await csrfOf(high) });
    expect(sameSource.res.status).toBe(403);
    expect(await count('SELECT count(*)::int AS n FROM account_blocked_sources WHERE source_id = $1', [CITIZEN_ID])).toBe(1);

    // The high session, through another source than the bank, lifts the bank's block.
    const lifted = await post(high, `/account/sources/${BANK}/unblock`, { csrf: await csrfOf(high) });
    expect(lifted.res.status).toBe(200);
    expect(lifted.html).toContain('Đã bỏ chặn');
    const event = await lastEvent('SOURCE_UNBLOCKED_BY_CITIZEN');
    expect(event).toMatchObject({ details: { source: BANK, level: 'high' } });
    expect(await count('SELECT count(*)::int AS n FROM account_blocked_sources WHERE source_id = $1 AND account_id = $2', [BANK, event!.subject])).toBe(0);
    const s = await federatedSignIn(config, portal.redirectUri, { source: 'bank', citizen: 'hoang-minh-duc', consent: 'accept' });
    expect(s.stoppedAt).toBeDefined();
  });

  it('asks a session to confirm before blocking the source it came through, then ends it', async () => {
    const lan = await signedIn('telecom', 'bui-thi-lan');
    const csrf = await csrfOf(lan);
    const before = await count('SELECT count(*)::int AS n FROM account_blocked_sources');
    const ask = await post(lan, `/account/sources/${TELECOM}/block`, { csrf });
    expect(ask.res.status).toBe(200);
    expect(ask.html).toContain('Bạn đang đăng nhập nixa bằng chính nguồn này');
    expect(ask.html).toContain('name="confirm" value="end-session"');
    expect(ask.html).toContain('href="/account"');
    // "nguồn định danh" is explained where the page uses it.
    expect(ask.html).toContain('<details class="terms">');
    expect(await count('SELECT count(*)::int AS n FROM account_blocked_sources')).toBe(before);
    // Still signed in: nothing happened yet.
    expect((await get(lan, '/account')).res.status).toBe(200);

    const done = await post(lan, `/account/sources/${TELECOM}/block`, { csrf, confirm: 'end-session' });
    expect(done.res.status).toBe(200);
    expect(done.html).toContain('bạn đã được đăng xuất khỏi nixa trên trình duyệt này');
    expect(done.html).toContain('<details class="terms">');
    expect(await count('SELECT count(*)::int AS n FROM account_blocked_sources')).toBe(before + 1);
    expect(await lastEvent('SOURCE_BLOCKED_BY_CITIZEN')).toMatchObject({ details: { source: TELECOM, level: 'low', endedSession: true } });
    expect((await get(lan, '/account')).html).toContain('Bạn chưa đăng nhập nixa');
  });
});

describe('a block made through one instance', () => {
  let b: Nixa;
  let dbB: Database | undefined;

  beforeAll(async () => {
    dbB = tdb.url ? await openPostgres(tdb.url, 4) : undefined;
    b = await startTestNixa(dbB ?? tdb.db, { NIXA_ISSUER: fed.nixa.config.issuer, NIXA_TEST_LOGIN: 'false', NIXA_KEYS_REFRESH_SECONDS: '3600' });
  });

  afterAll(async () => {
    await b?.close();
    await dbB?.close();
  });

  /** What B's provider reads accounts through. */
  const atB = (): AccountsContext => ({ db: b.db, cipher: b.cipher, pepper: b.cipher.derive('national-id-hash'), cache: b.caches.accounts });

  it('holds at once on another that had the account in memory, for a returning link and a national ID alike', async () => {
    // Nguyễn Văn An signs in at A through the citizen ID app and the bank.
    const an = await signedIn('citizen_id', 'nguyen-van-an');
    await signedIn('bank', 'nguyen-van-an');
    const { rows } = await tdb.db.query<{ account_id: string; subject: string }>('SELECT account_id, subject FROM linked_identities WHERE source_id = $1 AND account_id = (SELECT account_id FROM linked_identities WHERE source_id = $2 ORDER BY linked_at DESC LIMIT 1)', [BANK, CITIZEN_ID]);
    const { account_id: id, subject } = rows[0]!;
    // B holds the account in memory.
    expect(await findAccount(atB(), id)).toBeDefined();
    expect(await findAccount(atB(), id)).toBeDefined();
    expect(b.caches.accounts.stats.hits).toBeGreaterThan(0);

    await post(an, `/account/sources/${BANK}/block`, { csrf: await csrfOf(an) });

    // At once, through B's accounts (B's provider and callback sign in through exactly
    // this context): a returning login known by its link (no ID number asserted) and one asserting it.
    const bySubject = await signInFromSource(atB(), { sourceId: BANK, proofingLevel: 'substantial', authoritativeFor: ['national_id', 'full_name', 'birthdate'], subject, attributes: {} });
    expect(bySubject).toMatchObject({ outcome: 'refused', reason: 'source-blocked' });
    const byNumber = await signInFromSource(atB(), {
      sourceId: BANK,
      proofingLevel: 'substantial',
      authoritativeFor: ['national_id', 'full_name', 'birthdate'],
      subject,
      attributes: { national_id: '001085004217', full_name: 'Nguyễn Văn An', birthdate: '1985-03-14' },
    });
    expect(byNumber).toMatchObject({ outcome: 'refused', reason: 'source-blocked' });

  });
});
