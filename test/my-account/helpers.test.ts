// Helpers over real HTTP, /account/helpers: citizens signed in through the
// simulated sources as a browser would be; a session at low sees no form and
// cannot authorise, one at substantial or above can; a form without its CSRF
// token does nothing; the helper sees who asked them and can stop; the grantor
// can revoke, a third person cannot; and both histories show each act.
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { signedInAgent, startFederation, type Federation } from '../support/federation.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { UserAgent } from '../support/user-agent.js';

// Seeded test citizens (src/simulated-sources/citizens.ts).
const CUONG_ID = '048201007396';

let tdb: TestDatabase;
let fed: Federation;
let portal: { client: TestClient; config: oidc.Configuration };
let tax: TestClient;
let plain: TestClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // A service that accepts helpers, one that does not, and the service the citizens sign in to.
  tax = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ thuế', scope: 'openid profile representation', representation: ['helper'] });
  plain = await registerTestClient(tdb.db, { name: 'Cổng thông tin không nhận người giúp', scope: 'openid profile' });
  const client = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ công quốc gia', scope: 'openid profile' });
  portal = { client, config: await discover(fed.nixa.config.issuer, client) };
}, 120_000);

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const { get, post } = pagesAt(() => fed.nixa.config.issuer);
const signedIn = (source: 'citizen_id' | 'telecom', citizen: string) => signedInAgent(portal.config, portal.client.redirectUri, { source, citizen });

/** A day `days` after today in Vietnam, YYYY-MM-DD, and as the page writes it. */
function dayAhead(days: number): { iso: string; vi: string } {
  const iso = new Date(Date.now() + 7 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
  const [y, m, d] = iso.split('-');
  return { iso, vi: `${d}/${m}/${y}` };
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const delegations = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM delegations')).rows[0]!.n;
const historyOf = async (agent: UserAgent) => text((await get(agent, '/account/activity')).html);

describe('/account/helpers', () => {
  let an: UserAgent;
  let cuong: UserAgent;
  let delegationId: string;
  const until = dayAhead(30);

  it('is linked from /account under the heading "Người giúp bạn"', async () => {
    an = await signedIn('citizen_id', 'nguyen-van-an');
    // The grandson already has his nixa account (so the authorisation is in his history too).
    cuong = await signedIn('citizen_id', 'le-hoang-cuong');
    const page = await get(an, '/account');
    expect(page.html).toContain('<h2 id="helpers-heading">Người giúp bạn <span lang="en">(Helpers)</span></h2>');
    expect(page.html).toContain('<a href="/account/helpers">Quản lý người giúp bạn');
  });

  it('at low, shows no form: says which level is needed and how to reach it, and refuses a post', async () => {
    const low = await signedIn('telecom', 'nguyen-van-an');
    const page = await get(low, '/account/helpers');
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('cache-control')).toBe('no-store');
    expect(page.html).not.toContain('name="helper_national_id"');
    expect(page.html).toContain('hãy đăng nhập với mức độ đảm bảo «đáng kể» trở lên');
    expect(page.html).toContain('href="/account/sign-in?level=substantial&amp;return=%2Faccount%2Fhelpers"');
    // The lists are still there, in their sections.
    expect(page.html).toContain('<h2 id="given-heading">Những người bạn đã cho phép');
    const csrf = field((await get(low, '/account')).html, 'csrf')!;
    const refused = await post(low, '/account/helpers', { csrf, helper_national_id: CUONG_ID, clients: tax.clientId, valid_until: until.iso });
    expect(refused.res.status).toBe(403);
    expect(refused.html).toContain('Chỉ có thể cho phép người khác giúp bạn sau khi đăng nhập ở mức độ đảm bảo «đáng kể» trở lên.');
    expect(await delegations()).toBe(0);
  });

  it('at substantial or above, offers the services that accept helpers, each input labelled', async () => {
    const page = await get(an, '/account/helpers');
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('<h1 id="helpers-page-heading">Người giúp bạn <span lang="en">(Helpers)</span></h1>');
    expect(page.html).toContain('<label for="helper-national-id">');
    expect(page.html).toContain('id="helper-national-id" name="helper_national_id"');
    expect(page.html).toContain('<label for="helper-valid-until">Đến hết ngày');
    expect(page.html).toContain(`value="${tax.clientId}"`);
    expect(page.html).toMatch(/<input type="checkbox" id="helper-client-0" name="clients" value="[^"]+"><label for="helper-client-0">Cổng dịch vụ thuế<\/label>/);
    expect(page.html).not.toContain(`value="${plain.clientId}"`);
    expect(page.html).toContain('<legend>Những dịch vụ người đó được làm thay bạn');
  });

  it('a form without its CSRF token, or with another session’s, does nothing', async () => {
    const none = await post(an, '/account/helpers', { helper_national_id: CUONG_ID, clients: tax.clientId, valid_until: until.iso });
    expect(none.res.status).toBe(400);
    const other = await signedIn('citizen_id', 'pham-thi-dung');
    const foreign = field((await get(other, '/account')).html, 'csrf')!;
    expect((await post(an, '/account/helpers', { csrf: foreign, helper_national_id: CUONG_ID, clients: tax.clientId, valid_until: until.iso })).res.status).toBe(400);
    expect(await delegations()).toBe(0);
  });

  it.each([
    ['a number that is not 12 digits', { helper_national_id: '04820100739' }, 'helper-national-id', 'Số định danh cá nhân của người giúp chưa đúng'],
    ["the citizen's own number", { helper_national_id: '001085004217' }, 'helper-national-id', 'không phải số của chính bạn'],
    ['no service', { clients: '' }, 'helper-clients', 'Hãy chọn ít nhất một dịch vụ'],
    ['a last day over a year ahead', { valid_until: dayAhead(400).iso }, 'helper-valid-until', 'không quá 1 năm'],
  ])('%s is refused on the page, naming the field, in both languages; nothing stored', async (_, change, id, words) => {
    const csrf = field((await get(an, '/account/helpers')).html, 'csrf')!;
    const fields: Record<string, string> = { csrf, helper_national_id: CUONG_ID, clients: tax.clientId, valid_until: until.iso, ...change };
    if (!fields.clients) delete fields.clients;
    const page = await post(an, '/account/helpers', fields);
    expect(page.res.status).toBe(400);
    expect(page.html).toContain(words);
    expect(page.html).toContain(`<p class="field-error" id="${id}-error">`);
    expect(page.html).toMatch(new RegExp(`id="${id}"[^>]*aria-(invalid|describedby)`));
    expect(page.html).toContain('<span lang="en">(');
    expect(await delegations()).toBe(0);
  });

  it('authorises: the grantor sees the masked number, the service by name, the last day and its status', async () => {
    const csrf = field((await get(an, '/account/helpers')).html, 'csrf')!;
    const page = await post(an, '/account/helpers', { csrf, helper_national_id: CUONG_ID, clients: tax.clientId, valid_until: until.iso });
    expect(page.res.status).toBe(200);
    expect(page.html).toContain(`Đã cho phép người có số định danh *********396 làm thay bạn đến hết ngày ${until.vi}.`);
    const given = text(page.html.slice(page.html.indexOf('id="given-heading"'), page.html.indexOf('id="received-heading"')));
    expect(given).toContain(`*********396 Cổng dịch vụ thuế ${until.vi} Đang có hiệu lực (In force) Thu hồi (Revoke)`);
    expect(page.html).not.toContain(CUONG_ID);
    delegationId = /action="\/account\/helpers\/([0-9a-f-]{36})\/revoke"/.exec(page.html)![1]!;
    expect(await delegations()).toBe(1);
  });

  it('the helper sees who asked them, where and until when, with "Thôi giúp"', async () => {
    const page = await get(cuong, '/account/helpers');
    const received = text(page.html.slice(page.html.indexOf('id="received-heading"')));
    expect(received).toContain(`Nguyễn Văn An Cổng dịch vụ thuế ${until.vi} Thôi giúp (Stop helping)`);
    expect(page.html).toContain(`action="/account/helpers/${delegationId}/revoke"`);
  });

  it("both people's histories show the authorisation", async () => {
    expect(await historyOf(an)).toContain(`Bạn cho phép người có số định danh *********396 làm thay bạn tại «Cổng dịch vụ thuế» đến hết ngày ${until.vi}.`);
    expect(await historyOf(cuong)).toContain(`Nguyễn Văn An cho phép bạn làm thay họ tại «Cổng dịch vụ thuế» đến hết ngày ${until.vi}.`);
  });

  it('a third person cannot revoke it, as grantor or as helper; nor without the CSRF token', async () => {
    const dung = await signedIn('citizen_id', 'pham-thi-dung');
    const csrf = field((await get(dung, '/account')).html, 'csrf')!;
    for (const as of ['grantor', 'helper']) {
      expect((await post(dung, `/account/helpers/${delegationId}/revoke`, { csrf, as })).res.status).toBe(404);
    }
    expect((await post(cuong, `/account/helpers/${delegationId}/revoke`, { as: 'helper' })).res.status).toBe(400);
    expect(text((await get(cuong, '/account/helpers')).html)).toContain('Nguyễn Văn An Cổng dịch vụ thuế');
  });

  it('the helper stops helping: at once, for both, in both histories', async () => {
    const csrf = field((await get(cuong, '/account/helpers')).html, 'csrf')!;
    const page = await post(cuong, `/account/helpers/${delegationId}/revoke`, { csrf, as: 'helper' });
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Bạn đã thôi giúp. Việc này có hiệu lực ngay.');
    expect(text(page.html.slice(page.html.indexOf('id="received-heading"')))).toContain('Hiện không có ai nhờ bạn giúp.');
    const grantorPage = await get(an, '/account/helpers');
    expect(text(grantorPage.html)).toContain(`*********396 Cổng dịch vụ thuế ${until.vi} Đã thu hồi (Revoked)`);
    expect(await historyOf(an)).toContain('Người có số định danh *********396 thôi làm thay bạn tại «Cổng dịch vụ thuế».');
    expect(await historyOf(cuong)).toContain('Bạn thôi giúp Nguyễn Văn An tại «Cổng dịch vụ thuế».');
  });

  it('the grantor revokes: at once, the helper no longer sees it', async () => {
    const csrf = field((await get(an, '/account/helpers')).html, 'csrf')!;
    const made = await post(an, '/account/helpers', { csrf, helper_national_id: CUONG_ID, clients: tax.clientId, valid_until: until.iso });
    const id = /action="\/account\/helpers\/([0-9a-f-]{36})\/revoke"/.exec(made.html)![1]!;
    expect(id).not.toBe(delegationId);
    expect(text((await get(cuong, '/account/helpers')).html)).toContain('Nguyễn Văn An Cổng dịch vụ thuế');
    const page = await post(an, `/account/helpers/${id}/revoke`, { csrf, as: 'grantor' });
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Đã thu hồi quyền của người có số định danh *********396. Việc thu hồi có hiệu lực ngay.');
    expect(text((await get(cuong, '/account/helpers')).html)).toContain('Hiện không có ai nhờ bạn giúp.');
    expect(await historyOf(cuong)).toContain('Nguyễn Văn An thu hồi quyền bạn làm thay họ tại «Cổng dịch vụ thuế».');
  });

  it('signed out, the page offers the sign-in and a post is a 401 that does nothing', async () => {
    const { UserAgent } = await import('../support/user-agent.js');
    const stranger = new UserAgent();
    expect((await get(stranger, '/account/helpers')).html).toContain('/account/sign-in?return=%2Faccount%2Fhelpers');
    expect((await post(stranger, `/account/helpers/${delegationId}/revoke`, { as: 'grantor' })).res.status).toBe(401);
  });
});
