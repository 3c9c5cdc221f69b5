// /account for a citizen whose sources can never bring a sign-in to the level that
// adding a factor needs (Bùi Thị Lan, known to the telecom only): it says plainly
// which sources could vouch for it, and that a level-2 e-ID account activated at
// the police is the way, instead of "sign in at substantial", which she cannot.
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, { NIXA_PASSKEY_RP_ID: 'localhost', NIXA_PASSKEY_ORIGINS: 'http://localhost:3000' });
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  config = await discover(fed.nixa.config.issuer, portal);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

async function accountPage(source: 'citizen_id' | 'telecom' | 'bank', citizen: string): Promise<string> {
  const s = await federatedSignIn(config, portal.redirectUri, { source, citizen, consent: 'accept' });
  await redeemFederated(config, s);
  return account(s.agent);
}

async function account(agent: UserAgent): Promise<string> {
  const res = await agent.request(new URL('/account', fed.nixa.config.issuer));
  expect(res.status).toBe(200);
  return res.text();
}

const section = (html: string, heading: string) => new RegExp(`<section aria-labelledby="${heading}">[\\s\\S]*?</section>`).exec(html)![0];
const SIGN_IN_AT_SUBSTANTIAL = 'hãy đăng nhập với mức độ đảm bảo «đáng kể» trở lên';

it('tells Bùi Thị Lan, known only to the telecom, which sources could vouch for substantial and that a level-2 e-ID account at the police is the way', async () => {
  const html = await accountPage('telecom', 'bui-thi-lan');
  const passkeys = section(html, 'passkeys-heading');
  expect(passkeys).not.toContain('data-passkey="register"');
  expect(passkeys).not.toContain(SIGN_IN_AT_SUBSTANTIAL);
  expect(passkeys).toContain('Tài khoản của bạn hiện chỉ liên kết với «Nhà mạng (mô phỏng)», nguồn không xác nhận được mức «đáng kể» cần để thêm khóa truy cập hoặc ứng dụng xác thực.');
  expect(passkeys).toContain('Hãy đăng nhập một lần qua «Cơ sở dữ liệu quốc gia về dân cư (mô phỏng)», «Ngân hàng (mô phỏng)»');
  expect(passkeys).toContain('cơ quan công an nơi bạn cư trú để kích hoạt <strong>tài khoản định danh điện tử mức 2</strong>');
  expect(passkeys).toContain('<span lang="en">(Your account is linked only to “Telecom, simulated”, which cannot vouch for the level “substantial”');
  // Said once: the authenticator-app section points to it rather than repeating it, or telling her to sign in at substantial.
  const app = section(html, 'factors-heading');
  expect(app).toContain('<a href="#passkeys-heading">cách đạt mức «đáng kể»</a>');
  expect(app).not.toContain('action="/account/totp"');
  expect(app).not.toContain('ví dụ qua ứng dụng định danh điện tử');
  expect(html.match(/tài khoản định danh điện tử mức 2/g)).toHaveLength(1);
});

it('still tells a citizen whose account is linked to the bank to sign in at substantial, when this sign-in went through the telecom', async () => {
  expect(await accountPage('bank', 'tran-thi-binh')).toContain('data-passkey="register"');
  const html = await accountPage('telecom', 'tran-thi-binh');
  const passkeys = section(html, 'passkeys-heading');
  expect(passkeys).not.toContain('data-passkey="register"');
  expect(passkeys).toContain(`Để thêm khóa truy cập, ${SIGN_IN_AT_SUBSTANTIAL}.`);
  expect(html).not.toContain('tài khoản định danh điện tử mức 2');
  expect(section(html, 'factors-heading')).toContain('Để thiết lập ứng dụng xác thực, hãy đăng nhập với mức độ đảm bảo «đáng kể» trở lên');
});
