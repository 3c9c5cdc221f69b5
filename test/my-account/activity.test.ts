// The citizen's history over real HTTP, /account/activity: sign-ins through two
// sources with the service, source, level, factors and device of each, consents,
// an operator's lookup with the reason they gave, a page at a time, and never an
// event of another account.
import { randomUUID } from 'node:crypto';

import type * as oidc from 'openid-client';

import { lookUpAccount, suspendAccount, reinstateAccount, type AccountsContext } from '../../src/accounts/index.js';
import { appendAudit } from '../../src/audit/index.js';
import { getSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { pagesAt } from '../support/pages.js';
import { UserAgent } from '../support/user-agent.js';

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

let tdb: TestDatabase;
let fed: Federation;
let accounts: AccountsContext;
let tax: { client: TestClient; config: oidc.Configuration };
let insurance: { client: TestClient; config: oidc.Configuration };

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  accounts = { db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') };
  const service = async (name: string) => {
    const client = await registerTestClient(tdb.db, { name, scope: 'openid profile' });
    return { client, config: await discover(fed.nixa.config.issuer, client) };
  };
  tax = await service('Cổng dịch vụ thuế');
  insurance = await service('Bảo hiểm xã hội Việt Nam');
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});


/** A browser that says what it is in every request, as a real one does. */
const browserSaying = (userAgent: string) =>
  new UserAgent((u, init) => {
    const headers = new Headers(init.headers);
    headers.set('user-agent', userAgent);
    return fetch(u, { ...init, headers, redirect: 'manual' });
  });

const { get } = pagesAt(() => fed.nixa.config.issuer);

async function signIn(s: { client: TestClient; config: oidc.Configuration }, source: 'citizen_id' | 'telecom', citizen: string, agent: UserAgent) {
  const r = await federatedSignIn(s.config, s.client.redirectUri, { source, citizen, consent: 'accept', agent });
  const tokens = await redeemFederated(s.config, r);
  return tokens.claims()!.sub;
}

/** The entries of a history page, each as its text without tags, in page order. */
function entries(html: string): { seq: number; text: string }[] {
  return [...html.matchAll(/<li id="event-(\d+)"[^>]*>([\s\S]*?)<\/li>/g)].map((m) => ({
    seq: Number(m[1]),
    text: m[2]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim(),
  }));
}

const sourceName = async (kind: 'citizen_id' | 'telecom') => (await getSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS[kind])).name;

describe('/account/activity', () => {
  let anAccount: string;
  let onPhone: UserAgent;

  it('shows each sign-in with service, source, level, factors and device, and each consent, newest first', async () => {
    const laptop = browserSaying(CHROME_WINDOWS);
    anAccount = await signIn(tax, 'citizen_id', 'nguyen-van-an', laptop);
    onPhone = browserSaying(SAFARI_IPHONE);
    expect(await signIn(insurance, 'telecom', 'nguyen-van-an', onPhone)).toBe(anAccount);

    const page = await get(onPhone, '/account/activity');
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<h1 id="history-heading">Hoạt động của tài khoản <span lang="en">(Account activity)</span></h1>');
    const citizenId = await sourceName('citizen_id');
    const telecom = await sourceName('telecom');
    const lines = entries(page.html).map((e) => e.text);
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    const phoneSignIn = `Đăng nhập vào «Bảo hiểm xã hội Việt Nam» qua «${telecom.vi}», mức độ đảm bảo «thấp», bằng mã qua tin nhắn SMS, trên Safari trên iOS.`;
    const laptopSignIn = `Đăng nhập vào «Cổng dịch vụ thuế» qua «${citizenId.vi}», mức độ đảm bảo «cao», bằng mật khẩu và mã dùng một lần, trên Chrome trên Windows.`;
    expect(at(phoneSignIn)).toBeGreaterThanOrEqual(0);
    expect(at(laptopSignIn)).toBeGreaterThanOrEqual(0);
    expect(lines[at(laptopSignIn)]).toContain(`(Signed in to “Cổng dịch vụ thuế” through “${citizenId.en}”, assurance level “high”, with password and one-time code, on Chrome on Windows.)`);
    // Newest first: the phone's consent, its sign-in and link, then the laptop's consent, sign-in and the account's creation.
    const order = [
      'Đồng ý chia sẻ thông tin với «Bảo hiểm xã hội Việt Nam»',
      phoneSignIn,
      `«${telecom.vi}» được liên kết với tài khoản của bạn`,
      'Đồng ý chia sẻ thông tin với «Cổng dịch vụ thuế»',
      laptopSignIn,
      `Tài khoản nixa được tạo khi bạn đăng nhập lần đầu qua «${citizenId.vi}»`,
    ].map(at);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const seqs = entries(page.html).map((e) => e.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    // Dates as dd/mm/yyyy HH:mm, and "this wasn't me" beside each entry.
    expect(lines[0]).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}: /);
    expect(page.html).toContain(`href="/account/activity/${seqs[0]}/dispute"`);

    // The trail holds the coarse device only, never the User-Agent, never the full ID number.
    const { rows } = await tdb.db.query<{ details: string }>("SELECT details::text AS details FROM audit_events WHERE subject = $1 AND event = 'SIGN_IN'", [anAccount]);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.details).not.toMatch(/Mozilla|Win64|iPhone OS|AppleWebKit/);
      expect(r.details).not.toContain('001085004217');
    }
    expect(rows.map((r) => JSON.parse(r.details).device)).toEqual(expect.arrayContaining([{ browser: 'Chrome', os: 'Windows' }, { browser: 'Safari', os: 'iOS' }]));
    expect(page.html).not.toContain('001085004217');
  });

  it('explains the words its entries use ("mức độ đảm bảo", "nguồn định danh"), after the list', async () => {
    const page = await get(onPhone, '/account/activity');
    expect(page.html).toContain('mức độ đảm bảo «thấp»');
    expect(page.html.split('<details class="terms">').length - 1).toBe(1);
    expect(page.html.indexOf('<details class="terms">')).toBeGreaterThan(page.html.indexOf('<ol class="history"'));
    expect(page.html).toContain('<dt>Mức độ đảm bảo <span lang="en">(Assurance level)</span></dt>');
  });

  it('is linked from the account page', async () => {
    const page = await get(onPhone, '/account');
    expect(page.html).toContain('<a href="/account/activity">Xem lịch sử hoạt động của tài khoản');
  });

  it("shows an operator's lookup and suspension with the operator as recorded and the reason they stated", async () => {
    const officer = `operator:${randomUUID()}`;
    await lookUpAccount(accounts, { nationalId: '001085004217', actor: officer, reason: 'Công dân gọi tổng đài <1900> xin hỗ trợ, phiếu 2026-1187' });
    const page = await get(onPhone, '/account/activity');
    const first = entries(page.html)[0]!;
    expect(first.text).toContain('Tài khoản của bạn được tra cứu');
    expect(first.text).toContain(`Thực hiện bởi: cán bộ vận hành có mã tài khoản ${officer.slice('operator:'.length)}`);
    // The reason as typed, escaped: it is an operator's text.
    expect(page.html).toContain('Lý do đã ghi: «Công dân gọi tổng đài &lt;1900&gt; xin hỗ trợ, phiếu 2026-1187»');
    expect(page.html).not.toContain('<1900>');

    // Suspended and reinstated by an officer: both shown with their reasons (the suspension ended this session).
    const s = await suspendAccount(accounts, { accountId: anAccount, actor: officer, reason: 'Nghi ngờ SIM bị chiếm, chờ công dân xác minh' });
    await reinstateAccount(accounts, { accountId: anAccount, actor: officer, reason: 'Công dân đã xác minh tại bộ phận một cửa' });
    expect(s.revoked.sessions).toBeGreaterThan(0);
    const again = browserSaying(CHROME_WINDOWS);
    await signIn(tax, 'citizen_id', 'nguyen-van-an', again);
    const after = entries((await get(again, '/account/activity')).html).map((e) => e.text);
    expect(after.some((l) => l.includes('Tài khoản của bạn bị tạm khóa') && l.includes('Nghi ngờ SIM bị chiếm, chờ công dân xác minh'))).toBe(true);
    expect(after.some((l) => l.includes('Tài khoản của bạn được mở lại') && l.includes('Công dân đã xác minh tại bộ phận một cửa'))).toBe(true);
  });

  it('shows 20 entries a page, newest first, with an "Older" link to the next page until the first entry', async () => {
    const agent = browserSaying(CHROME_WINDOWS);
    const account = await signIn(tax, 'citizen_id', 'le-hoang-cuong', agent);
    // Enough history for three pages: factor attempts, as the lockout writes them.
    for (let i = 0; i < 40; i++) await appendAudit(tdb.db, { event: 'FACTOR_FAILED', actor: `account:${account}`, subject: account, details: { method: 'totp', reason: 'wrong-code' } });
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE subject = $1`, [account]);
    const total = rows[0]!.n;
    expect(total).toBeGreaterThan(40);

    const seen: number[] = [];
    let path = '/account/activity';
    let pages = 0;
    for (;;) {
      const page = await get(agent, path);
      expect(page.res.status).toBe(200);
      const got = entries(page.html).map((e) => e.seq);
      pages++;
      seen.push(...got);
      const older = /<a href="(\/account\/activity\?before=(\d+))" rel="next">Cũ hơn <span lang="en">\(Older\)<\/span><\/a>/.exec(page.html);
      if (pages > 1) expect(page.html).toContain('<a href="/account/activity">Mới nhất');
      if (!older) {
        expect(got.length).toBeLessThanOrEqual(20);
        break;
      }
      expect(got).toHaveLength(20);
      expect(Number(older[2])).toBe(got[got.length - 1]);
      path = older[1]!;
    }
    expect(pages).toBe(Math.ceil(total / 20));
    expect(seen).toHaveLength(total);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(new Set(seen).size).toBe(total);

    // A page number that is not one is refused, and a page past the first entry says so.
    expect((await get(agent, '/account/activity?before=abc')).res.status).toBe(400);
    expect((await get(agent, '/account/activity?before=0')).res.status).toBe(400);
    expect((await get(agent, `/account/activity?before=${Math.min(...seen)}`)).html).toContain('Không còn hoạt động cũ hơn.');
  });

  it("never shows another account's events, nor an event that only shares the account id as its subject", async () => {
    const binh = browserSaying(SAFARI_IPHONE);
    const binhAccount = await signIn(insurance, 'citizen_id', 'tran-thi-binh', binh);
    // Not one of the citizen's events, though its subject is the account id.
    await appendAudit(tdb.db, { event: 'SOURCE_UPDATED', actor: 'cli:root', subject: binhAccount, details: { changed: ['name_vi'] } });
    const page = await get(binh, '/account/activity');
    const mine = entries(page.html);
    const { rows } = await tdb.db.query<{ seq: string; subject: string | null; event: string }>('SELECT seq, subject, event FROM audit_events');
    const bySeq = new Map(rows.map((r) => [Number(r.seq), r]));
    expect(mine.length).toBeGreaterThan(0);
    for (const e of mine) expect(bySeq.get(e.seq)?.subject).toBe(binhAccount);
    expect(mine.map((e) => bySeq.get(e.seq)?.event)).not.toContain('SOURCE_UPDATED');
    expect(page.html).not.toContain('Cổng dịch vụ thuế');
    // "This wasn't me" on another account's entry is not found.
    const anSeq = rows.find((r) => r.subject === anAccount && r.event === 'SIGN_IN')!.seq;
    expect((await get(binh, `/account/activity/${anSeq}/dispute`)).res.status).toBe(404);
  });

  it('asks a browser without a nixa session to sign in', async () => {
    const page = await get(new UserAgent(), '/account/activity');
    // A GET offers the sign-in (a page, not an error), and shows nothing of any account.
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Bạn chưa đăng nhập nixa');
    expect(page.html).not.toContain('event-');
  });
});
