// The pieces every error page is made of, without a server: the way back to a
// service (from its registration only), the URL that shows a page again, where
// the language switch returns when a page names nowhere, and the words explained.
import type { AddressInfo } from 'node:net';

import Koa from 'koa';

import { FAILURE_MESSAGES } from '../../src/federation/index.js';
import { errorPageUrl, language, languageReturnsTo, renderErrorPage, serviceLink } from '../../src/pages/index.js';

describe('the way back to a service', () => {
  it('is the origin of its first web redirect URI, under its registered name', () => {
    expect(serviceLink({ clientId: 'dvc-ha-noi', clientName: 'Cổng dịch vụ công Hà Nội', redirectUris: ['https://dichvucong.hanoi.gov.vn/oidc/callback?x=1'] })).toEqual({
      name: 'Cổng dịch vụ công Hà Nội',
      url: 'https://dichvucong.hanoi.gov.vn/',
    });
  });

  it('skips a native app’s custom scheme, and is its id when it has no name', () => {
    expect(serviceLink({ clientId: 'vneid-app', redirectUris: ['vn.gov.vneid:/callback', 'https://vneid.gov.vn/cb'] })).toEqual({ name: 'vneid-app', url: 'https://vneid.gov.vn/' });
  });

  it('is none for a service with no web page to go back to, or no service', () => {
    expect(serviceLink({ clientId: 'may-chu', redirectUris: [] })).toBeUndefined();
    expect(serviceLink({ clientId: 'app', redirectUris: ['vn.gov.app:/cb', 'javascript:alert(1)'] })).toBeUndefined();
    expect(serviceLink(undefined)).toBeUndefined();
  });
});

describe('the URL that shows an error page again', () => {
  it('carries only the facts given, encoded', () => {
    expect(errorPageUrl('invalid_client')).toBe('/error/invalid_client');
    expect(errorPageUrl('NIXA-FED-link-conflict', { client: 'dvc ha noi', interaction: 'abc_1', source: 'sim-bank', attributes: ['birthdate', 'full_name'] })).toBe(
      '/error/NIXA-FED-link-conflict?client=dvc+ha+noi&interaction=abc_1&source=sim-bank&attributes=birthdate%2Cfull_name',
    );
  });
});

describe('where the language switch returns', () => {
  let server: ReturnType<Koa['listen']>;
  let base: string;
  beforeAll(async () => {
    const app = new Koa();
    app.use(language);
    app.use((ctx) => {
      const page = '<html lang="vi"><header><!-- nixa:language --></header></html>';
      if (ctx.path === '/named') languageReturnsTo(ctx, '/error/invalid_request?client=a');
      if (ctx.path === '/off-site') languageReturnsTo(ctx, '//ke-gian.example/');
      if (ctx.path.startsWith('/failed')) ctx.status = 400;
      else ctx.status = 200;
      ctx.type = 'html';
      ctx.body = page;
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const back = async (path: string, method = 'GET') => {
    const html = await (await fetch(`${base}${path}`, { method })).text();
    return decodeURIComponent(/back=([^"]+)"/.exec(html)![1]!);
  };

  it('to the URL the page named', async () => {
    expect(await back('/named?code=bi-mat')).toBe('/error/invalid_request?client=a');
  });

  it('never off the site, even when a page names it', async () => {
    expect(await back('/off-site')).toBe('/');
  });

  it('to the path of a page that showed fine, without its query', async () => {
    expect(await back('/interaction/abc?code=bi-mat')).toBe('/interaction/abc');
  });

  it('for an error that named nowhere, to nixa’s home: asking again could replay what failed', async () => {
    expect(await back('/failed/callback?state=bi-mat')).toBe('/');
  });

  it('for a form’s answer in a sign-in, to that sign-in’s page, never the form’s address', async () => {
    expect(await back('/interaction/abc_1/code', 'POST')).toBe('/interaction/abc_1');
  });

  it('for another form’s answer, to the form’s address (a GET there never replays the form)', async () => {
    expect(await back('/failed/account/totp?x=1', 'POST')).toBe('/failed/account/totp');
  });
});

describe('the words a first-time citizen does not know', () => {
  const page = (message: { vi: string; en: string }) =>
    renderErrorPage({ view: 'sign-in-failed', code: 'NIXA-FED-x', heading: { vi: 'Chưa đăng nhập được', en: 'Not signed in' }, message, ways: [{ to: 'home' }] });
  const TERMS = '<details class="terms">';

  it('are explained on a failure page that uses them, after its ways forward', () => {
    for (const reason of ['source-blocked', 'insufficient-level', 'source-unavailable'] as const) {
      const html = page(FAILURE_MESSAGES[reason]);
      expect({ reason, terms: html.split(TERMS).length - 1 }).toEqual({ reason, terms: 1 });
      expect(html.indexOf(TERMS)).toBeGreaterThan(html.indexOf('<div class="actions">'));
      expect(html).toContain('<dt>Nguồn định danh <span lang="en">(Identity source)</span></dt>');
    }
  });

  it('are not explained on a page that does not use them', () => {
    expect(page({ vi: 'Yêu cầu đăng nhập không hợp lệ.', en: 'The sign-in request is not valid.' })).not.toContain(TERMS);
  });
});
