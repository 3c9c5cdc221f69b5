// nixa's front door over HTTP: the home page says what nixa is and who runs it and
// leads to the citizen's own account; every page carries the operator's footer
// (error pages too); the help and policy pages are nixa's own until the operator
// points the links elsewhere; the favicon is served and cached.
import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';

let tdb: TestDatabase;
let nixa: Nixa;
let operated: Nixa;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  // The same database, another instance: an operator who published their own privacy notice.
  operated = await startTestNixa(tdb.db, {
    NIXA_AGENCY_NAME: 'Trung tâm Dữ liệu quốc gia & "Định danh"',
    NIXA_AGENCY_NAME_EN: 'National Data Centre',
    NIXA_CONTACT_EMAIL: 'hotro@dinhdanh.gov.vn',
    NIXA_CONTACT_PHONE: '1900 0368',
    NIXA_PRIVACY_URL: 'https://dinhdanh.gov.vn/quyen-rieng-tu',
  });
});

afterAll(async () => {
  await operated?.close();
  await nixa?.close();
  await tdb?.drop();
});

const get = async (base: Nixa, path: string, init: RequestInit = {}) => {
  const res = await fetch(`${base.url}${path}`, { redirect: 'manual', ...init });
  return { res, html: await res.text() };
};

describe('the home page', () => {
  it('says what nixa is and who runs it, in Vietnamese with English beside, and leads to the account sign-in', async () => {
    const { res, html } = await get(nixa, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('<html lang="vi" class="lang-vi">');
    expect(html).toContain('<title>Định danh quốc gia · nixa</title>');
    expect(html).toMatch(/<h1>nixa — Định danh quốc gia <span lang="en">\(nixa — national identity\)<\/span><\/h1>/);
    expect(html).toContain('Dịch vụ này do <strong>Đơn vị vận hành nixa (bản trình diễn)</strong> vận hành.');
    expect(html).toContain('<a class="button" href="/account/sign-in">Đăng nhập vào tài khoản nixa <span lang="en">(Sign in to your nixa account)</span></a>');
    // The words a newcomer meets on the chooser, explained.
    expect(html).toContain('<dt>Nguồn định danh');
    expect(html).toContain('<dt>Mức độ đảm bảo');
    expect(html).not.toContain('{{'); // every placeholder filled
    expect((await get(nixa, '/', { method: 'HEAD' })).res.status).toBe(200);
  });

  it('names the operator’s agency, escaped, and its contact', async () => {
    const { html } = await get(operated, '/');
    expect(html).toContain('<strong>Trung tâm Dữ liệu quốc gia &amp; &quot;Định danh&quot;</strong>');
    expect(html).toContain('(This service is run by National Data Centre.)');
    expect(html).toContain('<a href="mailto:hotro@dinhdanh.gov.vn">hotro@dinhdanh.gov.vn</a>');
    expect(html).toContain('<a href="tel:19000368">1900 0368</a>');
  });
});

describe('the footer of a state service', () => {
  const links = (html: string) => {
    const footer = /<footer class="site">([\s\S]*?)<\/footer>/.exec(html)?.[1] ?? '';
    return [...footer.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
  };

  it('is on the home page, the account page, the journey’s error pages and the help pages', async () => {
    const pages = [
      await get(nixa, '/'),
      await get(nixa, '/account'),
      await get(nixa, '/auth?client_id=khong-ton-tai', { headers: { accept: 'text/html' } }),
      await get(nixa, '/help'),
    ];
    for (const { html } of pages) {
      expect(links(html)).toEqual(['/help', 'mailto:hotro@nixa.example', '/privacy', '/accessibility', '/terms']);
      expect(html).toContain('Dịch vụ do <strong>Đơn vị vận hành nixa (bản trình diễn)</strong> vận hành.');
      expect(html).not.toContain('<!-- nixa:footer -->');
    }
    expect(pages[2]!.res.status).toBeGreaterThanOrEqual(400);
  });

  it('follows the operator’s configuration, and nixa stops serving a page whose link points elsewhere', async () => {
    const { html } = await get(operated, '/help');
    expect(links(html)).toEqual(['/help', 'mailto:hotro@dinhdanh.gov.vn', 'tel:19000368', 'https://dinhdanh.gov.vn/quyen-rieng-tu', '/accessibility', '/terms']);
    expect((await get(operated, '/privacy')).res.status).toBe(404);
    expect((await get(nixa, '/privacy')).res.status).toBe(200);
  });
});

describe('the help and policy pages', () => {
  it.each([
    ['/help', 'Trợ giúp'],
    ['/privacy', 'Thông báo về quyền riêng tư'],
    ['/accessibility', 'Tuyên bố về khả năng tiếp cận'],
    ['/terms', 'Điều khoản sử dụng'],
  ])('%s is a bilingual page with the contact and a way home', async (path, heading) => {
    const { res, html } = await get(nixa, path);
    expect(res.status).toBe(200);
    expect(html).toContain(`<h1>${heading} <span lang="en">`);
    expect(html).toContain('<a href="/">Về trang chủ nixa');
    expect(html).toContain('hotro@nixa.example');
    expect(html).not.toContain('{{');
  });
});

describe('the favicon', () => {
  it('is nixa’s own SVG, linked from every page and cached; /favicon.ico answers too', async () => {
    const { html } = await get(nixa, '/');
    expect(html).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const { res, html: svg } = await get(nixa, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml');
      expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/<script|href=/i);
    }
  });
});
