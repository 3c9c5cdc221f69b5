// Vietnamese by default, English one click away, on every nixa page.
import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let nixa: Nixa;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

const errorPage = '/auth?client_id=khong-ton-tai';

it('shows Vietnamese only by default, with a link to show English', async () => {
  const agent = new UserAgent();
  const html = await (await agent.request(`${nixa.url}${errorPage}`, { headers: { accept: 'text/html' } })).text();
  expect(html).toContain('<html lang="vi" class="lang-vi">');
  // Back to a page that shows the same error, not to /auth (which would run again without its query).
  expect(html).toMatch(/<a class="language" href="\/language\?show=vi-en&amp;back=%2Ferror%2Finvalid_client" lang="en" hreflang="en">English<\/a>/);
  expect(html).not.toContain('khong-ton-tai'); // the query string is never echoed
  const css = await (await fetch(`${nixa.url}/assets/nixa.css`)).text();
  // English is hidden, except the link that shows it.
  expect(css).toContain('.lang-vi [lang="en"]:not(.language) { display: none; }');
});

it('shows English beside Vietnamese after one click, and back to Vietnamese only', async () => {
  const agent = new UserAgent();
  const click = await agent.follow(`${nixa.url}/language?show=vi-en&back=${encodeURIComponent(errorPage)}`, { headers: { accept: 'text/html' } });
  expect(click.url).toBe(`${nixa.url}${errorPage}`);
  const html = await click.res.text();
  expect(html).toContain('<html lang="vi">');
  expect(html).toContain('Chỉ tiếng Việt');
  const back = await agent.follow(`${nixa.url}/language?show=vi&back=/healthz`);
  expect(back.url).toBe(`${nixa.url}/healthz`);
  expect(agent.cookies.get(new URL(nixa.url).host)!.get('nixa_lang')).toBe('vi');
});

it.each(['https://attacker.example/', '//attacker.example/', '/\\attacker.example'])('never redirects off-site (back=%s)', async (back) => {
  const res = await fetch(`${nixa.url}/language?show=vi-en&back=${encodeURIComponent(back)}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/');
});
