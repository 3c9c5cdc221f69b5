// The console is a client of nixa over HTTP at the issuer URL. When that URL does
// not answer from nixa's own server (its host does not resolve there, as with an
// issuer only the public DNS knows), the operator gets a page that says so, in
// both languages with a way to try again, not a 500.
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { capturingLogger, freePort, startTestNixa } from '../support/nixa.js';
import type { Nixa } from '../../src/app/index.js';

let tdb: TestDatabase;
let nixa: Nixa;
let port: number;
const log = capturingLogger();
// RFC 6761: .invalid never resolves.
const issuerHost = 'nixa-console-test.invalid';

beforeAll(async () => {
  tdb = await createTestDatabase();
  port = await freePort();
  nixa = await startTestNixa(tdb.db, { PORT: String(port), NIXA_ISSUER: `https://${issuerHost}`, NIXA_TEST_LOGIN: 'false' }, { logger: log.logger });
});
afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

it('answers /console/login with a 503 page naming the issuer and why, and a link to try again', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/console/login`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  const html = await res.text();
  expect(res.status).toBe(503);
  expect(html).toContain('Bảng điều khiển chưa kết nối được với nixa');
  expect(html).toContain('The console cannot reach nixa');
  expect(html).toContain(`https://${issuerHost}`);
  expect(html).toMatch(/host name does not resolve from this server \((ENOTFOUND|EAI_AGAIN)\)/);
  expect(html).toContain('href="/console/login"');
  expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  const warned = log.lines().find((l) => l.msg === 'console: nixa unreachable at its issuer');
  expect(warned).toMatchObject({ issuer: `https://${issuerHost}` });
  expect(log.lines().some((l) => l.msg === 'request failed')).toBe(false);
});

it('says the same on a console page an operator opens without a session', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/console/keys`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  expect(res.status).toBe(503);
  expect(await res.text()).toContain('The console cannot reach nixa');
});
