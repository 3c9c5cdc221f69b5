// Every error page says what happened and offers a way forward, and pressing
// English on it shows the same error in both languages without running anything
// again: no second callback, no second /auth, no metric, no audit event.
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;
let nixa: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  nixa = fed.nixa.config.issuer;
  service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội' });
  config = await discover(nixa, service);
});

afterEach(() => {
  for (const s of Object.values(fed.sources)) s.misbehave({ mode: 'normal' });
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const serviceHome = () => `${new URL(service.redirectUri).origin}/`;

/** What the citizen reads: the page's main element (the header holds the language switch itself). */
const main = (html: string) => /<main[^>]*>([\s\S]*)<\/main>/.exec(html)![1]!;

/** The English link's href, decoded (&amp;). */
function englishLink(html: string): string {
  const href = /<a class="language" href="([^"]+)"[^>]*>English<\/a>/.exec(html)?.[1];
  if (!href) throw new Error(`no English link in ${html.slice(0, 300)}`);
  return href.replaceAll('&amp;', '&');
}

/** What pressing English must not move: the failures operators alert on, and the audit trail. */
async function alarms() {
  const metrics = await (await fetch(`${nixa}/metrics`)).text();
  const failures = metrics
    .split('\n')
    .filter((l) => l.startsWith('nixa_sign_in_failures_total'))
    .sort();
  const audit = (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0]!.n;
  return { failures, audit };
}

/** Presses English on a page the agent is on; returns where it landed. */
async function pressEnglish(agent: UserAgent, html: string) {
  const before = await alarms();
  const href = englishLink(html);
  const landed = await agent.follow(new URL(href, nixa));
  const after = { status: landed.res.status, url: new URL(landed.url), html: await landed.res.text() };
  expect(await alarms()).toEqual(before);
  return { href, back: new URL(href, nixa).searchParams.get('back')!, ...after };
}

describe('pressing English on an error page from a source callback', () => {
  it('after a link conflict shows the same conflict, naming the source and the attribute, and raises nothing', async () => {
    // Trần Thị Bình's bank gives another birth date than her citizen-ID record.
    const first = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', consent: 'accept', scope: 'openid' });
    expect(first.stoppedAt).toBeDefined();
    const s = await federatedSignIn(config, service.redirectUri, { source: 'bank', citizen: 'tran-thi-binh', consent: 'accept', scope: 'openid' });
    expect(s.page!.status).toBe(400);
    const page = s.page!.html;
    expect(page).toContain('NIXA-FED-link-conflict');
    // The source and the attribute that disagrees, in plain words; never the value.
    const bankName = fed.nixa.sources.get('sim-bank')!.name;
    expect(main(page)).toContain(bankName.vi);
    expect(main(page)).toContain('ngày sinh');
    expect(main(page)).toContain('date of birth');
    expect(page).not.toContain('1992');
    // Ways forward: another source in this sign-in, and back to the service it was for.
    expect(main(page)).toMatch(/href="\/interaction\/[A-Za-z0-9_-]+">Chọn nguồn định danh khác/);
    expect(main(page)).toContain(`href="${serviceHome()}">Quay lại Cổng dịch vụ công Hà Nội`);

    const english = await pressEnglish(s.agent, page);
    expect(english.back).toMatch(/^\/error\/NIXA-FED-link-conflict\?/);
    expect(english.back).not.toContain('federation/callback');
    expect(english.url.pathname).toBe('/error/NIXA-FED-link-conflict');
    expect(english.status).toBe(400);
    expect(english.html).toContain('<html lang="vi">'); // English now shown beside Vietnamese
    expect(english.html).not.toContain('state-mismatch');
    expect(main(english.html)).toBe(main(page));
    // And back to Vietnamese only: the same page again.
    const vi = await s.agent.follow(new URL(/<a class="language" href="([^"]+)"/.exec(english.html)![1]!.replaceAll('&amp;', '&'), nixa));
    expect(new URL(vi.url).pathname).toBe('/error/NIXA-FED-link-conflict');
    expect(main(await vi.res.text())).toBe(main(page));
  });

  it('after the citizen cancelled at the source (access_denied) shows the same page and raises nothing', async () => {
    fed.sources.citizen_id.misbehave({ mode: 'deny' });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
    const page = s.page!.html;
    expect(page).toContain('NIXA-FED-denied');
    expect(main(page)).toContain(`href="${serviceHome()}">Quay lại`);
    const english = await pressEnglish(s.agent, page);
    expect(english.back).toMatch(/^\/error\/NIXA-FED-denied\?/);
    expect(english.status).toBe(400);
    expect(main(english.html)).toBe(main(page));
    // The way forward still works: another source in the same sign-in.
    const again = await s.agent.follow(new URL(/href="(\/interaction\/[^"]+)">Chọn nguồn/.exec(english.html)![1]!, nixa));
    expect(again.res.status).toBe(200);
    expect(await again.res.text()).toContain('name="source"');
  });
});

describe('pressing English on an /auth error page', () => {
  async function authError(params: Record<string, string>) {
    const agent = new UserAgent();
    const url = new URL(`${nixa}/auth`);
    for (const [k, v] of Object.entries({ response_type: 'code', scope: 'openid', ...params })) url.searchParams.set(k, v);
    const res = await agent.request(url, { headers: { accept: 'text/html' } });
    return { agent, status: res.status, html: await res.text() };
  }

  it('invalid_redirect_uri stays invalid_redirect_uri, and offers nixa’s home, never the service', async () => {
    const p = await authError({ client_id: service.clientId, redirect_uri: 'https://ke-gia-mao.example/cb' });
    expect(p.html).toContain('<code>invalid_redirect_uri</code>');
    expect(main(p.html)).toContain('href="/">Về trang chủ nixa');
    expect(main(p.html)).not.toContain(serviceHome());
    expect(p.html).not.toContain('ke-gia-mao');
    const english = await pressEnglish(p.agent, p.html);
    expect(english.back).toBe('/error/invalid_redirect_uri');
    expect(english.html).toContain('<code>invalid_redirect_uri</code>');
    expect(english.html).not.toContain('invalid_request');
    expect(main(english.html)).toBe(main(p.html));
  });

  it('invalid_client stays invalid_client, with nixa’s home as the way forward', async () => {
    const p = await authError({ client_id: 'dich-vu-khong-ton-tai', redirect_uri: 'https://ke-gia-mao.example/cb' });
    expect(p.html).toContain('<code>invalid_client</code>');
    expect(main(p.html)).toContain('href="/">Về trang chủ nixa');
    const english = await pressEnglish(p.agent, p.html);
    expect(english.back).toBe('/error/invalid_client');
    expect(main(english.html)).toBe(main(p.html));
  });

  it('invalid_request for a registered service offers the way back to that service, and again after English', async () => {
    // Two registered return addresses and none named: nixa cannot tell where to answer.
    const two = await registerTestClient(tdb.db, {
      name: 'Dịch vụ thuế điện tử',
      redirect_uris: ['http://localhost:9876/callback', 'http://localhost:9876/other'],
    });
    const p = await authError({ client_id: two.clientId });
    expect(p.html).toContain('<code>invalid_request</code>');
    expect(main(p.html)).toContain('href="http://localhost:9876/">Quay lại Dịch vụ thuế điện tử');
    const english = await pressEnglish(p.agent, p.html);
    expect(english.back).toBe(`/error/invalid_request?client=${encodeURIComponent(two.clientId)}`);
    expect(main(english.html)).toBe(main(p.html));
  });
});

describe('pressing English on the answer to a refused form', () => {
  it('shows the same refusal (a form without its csrf token), in plain words with the detail for support', async () => {
    const s = await federatedSignIn(config, service.redirectUri, {});
    const chooser = new URL(s.page!.url);
    expect(chooser.pathname).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
    const refused = await s.agent.submit(new URL(`${chooser.pathname}/source`, nixa), { source: 'sim-bank' });
    expect(refused.res.status).toBe(400);
    const html = await refused.res.text();
    expect(main(html)).toContain('Biểu mẫu đã hết hạn hoặc không phải do nixa gửi');
    expect(main(html)).toContain('csrf: the form expired or did not come from nixa');
    const english = await pressEnglish(s.agent, html);
    expect(english.back).toBe('/error/NIXA-INP-001?field=csrf');
    expect(main(english.html)).toBe(main(html));
  });

  it('an unknown field gets the general words and no detail', async () => {
    const html = await (await fetch(`${nixa}/error/NIXA-INP-001?field=${encodeURIComponent('toString')}`)).text();
    expect(main(html)).toContain('Yêu cầu không hợp lệ');
    expect(main(html)).not.toContain('Chi tiết');
  });
});

describe('error pages shown again at /error/<code>', () => {
  it('only from a service’s registration: an unknown client gets no link, and an untrusted code none either', async () => {
    const unknown = await (await fetch(`${nixa}/error/NIXA-FED-denied?client=khong-ton-tai&interaction=abc`)).text();
    expect(main(unknown)).not.toContain('Quay lại');
    expect(main(unknown)).toContain('href="/">Về trang chủ nixa');
    const untrusted = await (await fetch(`${nixa}/error/invalid_client?client=${encodeURIComponent(service.clientId)}`)).text();
    expect(main(untrusted)).not.toContain(serviceHome());
  });

  it('never puts words of its own on a page: unknown codes and attributes are refused or left out', async () => {
    const res = await fetch(`${nixa}/error/ban-da-bi-lua-dao`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    const odd = await (await fetch(`${nixa}/error/NIXA-FED-link-conflict?source=sim-bank&attributes=${encodeURIComponent('<b>mật khẩu</b>,birthdate')}`)).text();
    expect(odd).not.toContain('mật khẩu');
    expect(main(odd)).toContain('ngày sinh');
  });

  it('writes nothing and counts nothing', async () => {
    const before = await alarms();
    for (const [path, status, code] of [
      ['/error/NIXA-FED-state-mismatch', 400, 'NIXA-FED-state-mismatch'],
      ['/error/NIXA-FED-replayed?interaction=x', 400, 'NIXA-FED-replayed'],
      ['/error/NIXA-FED-source-timeout', 502, 'NIXA-FED-source-timeout'],
      ['/error/invalid_request', 400, 'invalid_request'],
      ['/error/NIXA-NTF-001', 404, 'NIXA-NTF-001'],
    ] as const) {
      const res = await fetch(`${nixa}${path}`);
      expect([path, res.status]).toEqual([path, status]);
      expect(await res.text()).toContain(`<code>${code}</code>`);
    }
    expect(await alarms()).toEqual(before);
  });
});

describe('a page that is not there', () => {
  it('is a bilingual 404 page with a title and a way home, and English comes back to the same path', async () => {
    const agent = new UserAgent();
    const res = await agent.request(`${nixa}/khong-co-trang-nay`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('<html lang="vi" class="lang-vi">');
    expect(html).toContain('<title>Không tìm thấy trang · nixa</title>');
    expect(main(html)).toContain('<span lang="en">(Page not found)</span>');
    expect(main(html)).toContain('href="/">Về trang chủ nixa');
    expect(main(html)).not.toContain('khong-co-trang-nay');
    expect(englishLink(html)).toBe('/language?show=vi-en&back=%2Fkhong-co-trang-nay');
  });

  it('answers an API client in JSON, as before', async () => {
    const res = await fetch(`${nixa}/khong-co-trang-nay`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'NIXA-NTF-001' });
  });
});

describe('going Back after a finished sign-in', () => {
  it('says the sign-in is over, offers a way forward, and English shows the same', async () => {
    // The browser's history: every URL it went to.
    const history: string[] = [];
    const agent = new UserAgent((url, init) => {
      history.push(url.pathname);
      return fetch(url, { ...init, redirect: 'manual' });
    });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept', agent });
    expect(s.stoppedAt).toBeDefined();
    await redeemFederated(config, s);
    // Back to the chooser, the first of nixa's pages in this sign-in.
    const path = history.find((p) => /^\/interaction\/[A-Za-z0-9_-]+$/.test(p))!;
    expect(path).toBeDefined();
    const res = await s.agent.request(`${nixa}${path}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<code>session_not_found</code>');
    expect(main(html)).toContain('Lượt đăng nhập này đã kết thúc');
    // The service this sign-in was for, from its registration.
    expect(main(html)).toContain(`<a class="button" href="${serviceHome()}">Quay lại Cổng dịch vụ công Hà Nội`);
    const english = await pressEnglish(s.agent, html);
    expect(english.back).toBe(`/error/session_not_found?client=${encodeURIComponent(service.clientId)}`);
    expect(main(english.html)).toBe(main(html));
  });
});

describe('going Back to a sign-in of a browser without a nixa session', () => {
  it('says the sign-in is over and offers nixa’s home', async () => {
    const res = await new UserAgent().request(`${nixa}/interaction/khong-con-nua`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<code>session_not_found</code>');
    expect(main(html)).toContain('href="/">Về trang chủ nixa');
    expect(main(html)).not.toContain('Quay lại');
  });
});

describe('the error code line', () => {
  it('has no space before the colon when only Vietnamese is shown', async () => {
    const html = await (await fetch(`${nixa}/error/invalid_client`)).text();
    expect(html).toContain('Mã lỗi<span lang="en"> (error code)</span>: <code>invalid_client</code>');
  });

  it('has none on a simulated source’s error page either', async () => {
    const html = await (await fetch(`${fed.sources.citizen_id.issuer}/auth?client_id=khong-ton-tai`)).text();
    expect(html).toContain('Mã lỗi<span lang="en"> (Error code)</span>: <code>');
  });
});
