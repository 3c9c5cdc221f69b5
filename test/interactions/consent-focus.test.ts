// The consent page starts on its heading, not on "Đồng ý chia sẻ": a citizen who
// presses Enter as the page opens must not share everything unread.
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

it('focuses the heading (focusable, not in the tab order) and no button', async () => {
  const service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội' });
  const s = await federatedSignIn(await discover(fed.nixa.config.issuer, service), service.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong' });
  const html = s.page!.html;
  expect(html).toContain('name="decision" value="accept"');
  expect(html).toMatch(/<h1 tabindex="-1" autofocus>Chia sẻ thông tin với Cổng dịch vụ công Hà Nội\?/);
  expect(html.match(/autofocus/g)).toHaveLength(1);
});
