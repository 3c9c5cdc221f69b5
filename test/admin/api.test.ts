// The admin API over real HTTP: operators call it with the JWT access token nixa
// issues for the admin resource after a sign-in at high (here through the
// simulated Citizen ID source), machines with a client_credentials token whose
// scopes name admin permissions. The first security officer is made with
// `nixa operators bootstrap`; after that only a security officer grants roles,
// never on their own account. Every change is audited with its reason.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import type * as oidc from 'openid-client';

import { accountIdByNationalId } from '../../src/accounts/index.js';
import { ADMIN_SCOPES, ROUTES, adminResource } from '../../src/admin/index.js';
import { openApiDocument } from '../../src/admin/openapi.js';
import { addClient, updateClient } from '../../src/clients/index.js';
import { consoleClient } from '../../src/console/index.js';
import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { getSource, updateSource } from '../../src/sources/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

const HIGH = 'urn:nixa:loa:high';
// Test citizens of the simulated sources (README: Test citizens).
const AN = { key: 'nguyen-van-an', nid: '001085004217' };
const CUONG = { key: 'le-hoang-cuong', nid: '048201007396' };

let tdb: TestDatabase;
let fed: Federation;
let console_: TestClient;
let config: oidc.Configuration;
let api: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  const issuer = fed.nixa.config.issuer;
  // The console's own registration (nixa makes it at start): the one service whose API is the admin API.
  const c = consoleClient(fed.nixa.config, fed.nixa.cipher);
  console_ = { clientId: c.clientId, secret: c.clientSecret, redirectUri: c.redirectUri };
  config = await discover(issuer, console_);
  api = `${issuer}/admin/api/v1`;
});
afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

/** An operator's access token for the admin API, after a sign-in through `source`. */
async function operatorToken(citizen: string, source: 'citizen_id' | 'telecom' = 'citizen_id'): Promise<string> {
  const s = await federatedSignIn(config, console_.redirectUri, {
    source,
    citizen,
    consent: 'accept',
    extra: { resource: adminResource(fed.nixa.config.issuer), ...(source === 'citizen_id' ? { acr_values: HIGH } : {}) },
  });
  return (await redeemFederated(config, s)).access_token;
}

async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string; field?: string; message?: string }, challenge: res.headers.get('www-authenticate') };
}

const auditCount = async (event?: string) =>
  (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events${event ? ' WHERE event = $1' : ''}`, event ? [event] : [])).rows[0]!.n;
const accountOf = async (nid: string) =>
  (await accountIdByNationalId({ db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') }, nid))!;

describe('the admin API', () => {
  let officer: string;
  let cuong: string;

  it('refuses a call without a token, with a bad one, or from a sign-in below high', async () => {
    const none = await call(undefined, 'GET', '/me');
    expect(none.status).toBe(401);
    expect(none.challenge).toBe('Bearer realm="nixa admin"');
    const garbage = await call('not-a-token', 'GET', '/me');
    expect(garbage.status).toBe(401);
    expect(garbage.challenge).toContain('error="invalid_token"');

    // The console is registered with minimum level high, so nixa never issues it a
    // low token; lift that for a moment to see the API refuse one on its own.
    await updateClient(tdb.db, 'nixa-console', { min_level: null }, 'test', { allowHttpLoopback: true });
    const low = await operatorToken(CUONG.key, 'telecom');
    await updateClient(tdb.db, 'nixa-console', { min_level: 'high', security_profile: 'standard' }, 'test', { allowHttpLoopback: true, reason: 'the console, back at high as nixa registers it' });
    const refused = await call(low, 'GET', '/me');
    expect(refused.status).toBe(401);
    expect(refused.challenge).toContain('error="insufficient_user_authentication"');
    expect(refused.challenge).toContain(`acr_values="${HIGH}"`);
  });

  it('shows an operator without a role nothing', async () => {
    const token = await operatorToken(CUONG.key);
    for (const path of ['/me', '/keys', '/operators']) {
      const r = await call(token, 'GET', path);
      expect(r.status).toBe(403);
      expect(r.body.message).toBe('this account holds no operator role');
    }
  });

  it('makes the first security officer with `nixa operators bootstrap`, and only the first', async () => {
    await operatorToken(AN.key); // An has signed in once
    const nixa = cliRunner(() => tdb.db);
    const bad = await nixa('operators', 'bootstrap', '--national-id', '123', '--reason', 'Khởi tạo hệ thống');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--national-id');
    const short = await nixa('operators', 'bootstrap', '--national-id', AN.nid, '--reason', 'vì');
    expect(short.stderr).toContain('--reason');
    expect(await auditCount('OPERATOR_ROLE_GRANTED')).toBe(0);

    const ok = await nixa('operators', 'bootstrap', '--national-id', AN.nid, '--reason', 'Khởi tạo hệ thống: cán bộ an ninh đầu tiên');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    officer = await accountOf(AN.nid);
    cuong = await accountOf(CUONG.nid);
    expect(ok.stdout).toContain(`account ${officer} is now a security officer`);
    const { rows } = await tdb.db.query<{ actor: string; details: Record<string, unknown>; reason: string }>(
      "SELECT actor, details, reason FROM audit_events WHERE event = 'OPERATOR_ROLE_GRANTED'",
    );
    expect(rows).toEqual([{ actor: 'cli:test', details: { role: 'security-officer', bootstrap: true, nationalId: expect.not.stringContaining(AN.nid) }, reason: 'Khởi tạo hệ thống: cán bộ an ninh đầu tiên' }]);

    const again = await nixa('operators', 'bootstrap', '--national-id', CUONG.nid, '--reason', 'Một cán bộ an ninh nữa');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('a security officer already exists');
    expect((await nixa('operators', 'list')).stdout).toContain('security-officer');
  });

  it('lets the security officer see keys, rotate them and revoke one, each audited with its reason', async () => {
    const token = await operatorToken(AN.key);
    const me = await call(token, 'GET', '/me');
    expect(me.body).toMatchObject({ kind: 'operator', accountId: officer, roles: ['security-officer'] });

    const before = await auditCount();
    const noReason = await call(token, 'POST', '/keys/rotate', {});
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ error: 'NIXA-INP-001', field: 'reason' });
    const badUse = await call(token, 'POST', '/keys/rotate', { reason: 'Định kỳ hằng quý', use: 'everything' });
    expect(badUse.body.field).toBe('use');
    expect(await auditCount()).toBe(before);

    const rotated = await call(token, 'POST', '/keys/rotate', { reason: 'Xoay khóa định kỳ hằng quý', use: 'sig' });
    expect(rotated.status).toBe(200);
    expect((await tdb.db.query<{ actor: string }>("SELECT DISTINCT actor FROM audit_events WHERE event = 'KEY_ACTIVATED' AND seq > $1", [before])).rows).toEqual([{ actor: `operator:${officer}` }]);
    // The reason the API insisted on is the one the trail keeps, on every step of the rotation.
    expect((await tdb.db.query("SELECT DISTINCT reason FROM audit_events WHERE event LIKE 'KEY_%' AND seq > $1", [before])).rows).toEqual([{ reason: 'Xoay khóa định kỳ hằng quý' }]);

    const keys = (await call(token, 'GET', '/keys')).body.keys as { kid: string; state: string; use: string }[];
    const retired = keys.find((k) => k.state === 'retired' && k.use === 'sig')!;
    const jwks = async () => ((await (await fetch(`${fed.nixa.config.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(await jwks()).toContain(retired.kid);
    const revoked = await call(token, 'POST', `/keys/${retired.kid}/revoke`, { reason: 'Nghi lộ khóa bí mật trên máy chủ cũ' });
    expect(revoked.status).toBe(200);
    expect(await jwks()).not.toContain(retired.kid);
    expect((await tdb.db.query("SELECT 1 FROM audit_events WHERE event = 'KEY_REVOKED' AND subject = $1", [retired.kid])).rows).toHaveLength(1);
    const twice = await call(token, 'POST', `/keys/${retired.kid}/revoke`, { reason: 'Nghi lộ khóa bí mật trên máy chủ cũ' });
    expect(twice.status).toBe(409);
    const unknown = await call(token, 'POST', '/keys/no-such-kid/revoke', { reason: 'Nghi lộ khóa bí mật trên máy chủ cũ' });
    expect(unknown.status).toBe(404);
  });

  it('grants and takes away roles: only by a security officer, never on their own account', async () => {
    const token = await operatorToken(AN.key);
    const self = await call(token, 'POST', `/operators/${officer}/roles`, { role: 'auditor', reason: 'Tự cấp thêm quyền đọc' });
    expect(self.status).toBe(403);
    expect(self.body.message).toContain('own account');
    const badRole = await call(token, 'POST', `/operators/${cuong}/roles`, { role: 'root', reason: 'Phân công vận hành dịch vụ' });
    expect(badRole.body).toMatchObject({ error: 'NIXA-INP-001', field: 'role' });
    const nobody = await call(token, 'POST', '/operators/00000000-0000-4000-8000-000000000000/roles', { role: 'auditor', reason: 'Phân công kiểm toán nội bộ' });
    expect(nobody.status).toBe(404);

    const granted = await call(token, 'POST', `/operators/${cuong}/roles`, { role: 'service-operator', reason: 'Phân công vận hành dịch vụ công' });
    expect(granted.status).toBe(200);
    expect((granted.body.roles as { role: string }[]).map((r) => r.role)).toEqual(['service-operator']);
    expect((await call(token, 'POST', `/operators/${cuong}/roles`, { role: 'service-operator', reason: 'Phân công vận hành dịch vụ công' })).status).toBe(409);

    // The service operator: no keys, and no role changes, not even his own.
    const cuongToken = await operatorToken(CUONG.key);
    expect((await call(cuongToken, 'GET', '/me')).body).toMatchObject({ roles: ['service-operator'], permissions: ['clients:read', 'clients:write'] });
    expect((await call(cuongToken, 'GET', '/keys')).status).toBe(403);
    expect((await call(cuongToken, 'POST', '/keys/rotate', { reason: 'Tôi muốn xoay khóa' })).status).toBe(403);
    const selfGrant = await call(cuongToken, 'POST', `/operators/${cuong}/roles`, { role: 'security-officer', reason: 'Tự nâng quyền của mình' });
    expect(selfGrant.status).toBe(403);

    const taken = await call(token, 'POST', `/operators/${cuong}/roles/service-operator/revoke`, { reason: 'Hết nhiệm vụ vận hành' });
    expect(taken.status).toBe(200);
    // At once: the same token now shows nothing.
    expect((await call(cuongToken, 'GET', '/me')).status).toBe(403);
    expect((await call(token, 'POST', `/operators/${cuong}/roles/service-operator/revoke`, { reason: 'Hết nhiệm vụ vận hành' })).status).toBe(404);
    const { rows } = await tdb.db.query<{ event: string; actor: string; reason: string }>(
      "SELECT event, actor, reason FROM audit_events WHERE subject = $1 AND event LIKE 'OPERATOR_ROLE_%' ORDER BY seq",
      [cuong],
    );
    expect(rows).toEqual([
      { event: 'OPERATOR_ROLE_GRANTED', actor: `operator:${officer}`, reason: 'Phân công vận hành dịch vụ công' },
      { event: 'OPERATOR_ROLE_REVOKED', actor: `operator:${officer}`, reason: 'Hết nhiệm vụ vận hành' },
    ]);
  });

  it('gives a machine client exactly what its admin scopes name', async () => {
    const issuer = fed.nixa.config.issuer;
    const { secret } = await addClient(
      tdb.db,
      { client_id: 'giam-sat-khoa', name: 'Giám sát khóa', grant_types: ['client_credentials'], scope: 'admin:keys:read admin:audit:read' },
      'test',
      { allowHttpLoopback: true },
    );
    const tokenRes = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`giam-sat-khoa:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin:keys:read admin:audit:read' }),
    });
    const machine = ((await tokenRes.json()) as { access_token: string }).access_token;
    expect((await call(machine, 'GET', '/me')).body).toMatchObject({ kind: 'machine', clientId: 'giam-sat-khoa', permissions: ['audit:read', 'keys:read'] });
    expect((await call(machine, 'GET', '/keys')).status).toBe(200);
    const verify = await call(machine, 'GET', '/audit/verify');
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    expect((await call(machine, 'POST', '/keys/rotate', { reason: 'Máy tự xoay khóa' })).status).toBe(403);
    expect((await call(machine, 'GET', '/operators')).status).toBe(403);

    // Admin scopes are refused on a client that signs citizens in.
    await expect(
      addClient(tdb.db, { name: 'Cổng lạ', redirect_uris: ['https://cong.example.vn/cb'], scope: 'openid admin:keys:write' }, 'test', { allowHttpLoopback: true }),
    ).rejects.toMatchObject({ field: 'scope' });
  });

  it('answers malformed requests with an error naming what is wrong', async () => {
    const token = await operatorToken(AN.key);
    expect((await call(token, 'POST', '/keys/rotate', '{"reason": ', {})).status).toBe(400);
    const notJson = await call(token, 'POST', '/keys/rotate', 'reason=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(notJson.body).toMatchObject({ field: '(body)' });
    const array = await call(token, 'POST', '/keys/rotate', []);
    expect(array.body).toMatchObject({ field: '(body)' });
    const huge = await call(token, 'POST', '/keys/rotate', { reason: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    const route = await call(token, 'DELETE', '/keys');
    expect(route.status).toBe(404);
    expect(route.body.error).toBe('NIXA-NTF-001');
    const hostile = await call(token, 'POST', `/keys/${encodeURIComponent('../../etc')}/revoke`, { reason: 'Nghi lộ khóa bí mật' });
    expect(hostile.status).toBe(404);
    const broken = await call(token, 'POST', '/keys/%E0%A4%A/revoke', { reason: 'Nghi lộ khóa bí mật' });
    expect(broken.status).toBe(404);
  });
});

describe('sources and services through the admin API', () => {
  let machine: string;
  const etag = (r: Response) => r.headers.get('etag');
  async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${machine}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { res, body: (await res.json()) as Record<string, unknown> & { error?: string; field?: string; version?: number } };
  }

  beforeAll(async () => {
    const scope = 'admin:sources:read admin:sources:write admin:clients:read admin:clients:write';
    const { secret } = await addClient(tdb.db, { client_id: 'tu-dong-hoa', name: 'Tự động hóa vận hành', grant_types: ['client_credentials'], scope }, 'test', {
      allowHttpLoopback: true,
    });
    const tokenRes = await fetch(`${fed.nixa.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`tu-dong-hoa:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    machine = ((await tokenRes.json()) as { access_token: string }).access_token;
  });

  it('disables and enables a source only with the version read (If-Match), refusing a stale one without writing', async () => {
    const list = await raw('GET', '/sources');
    expect((list.body.sources as { id: string; hasClientSecret: boolean }[]).map((x) => x.id)).toEqual(expect.arrayContaining(['sim-citizen-id', 'sim-telecom', 'sim-bank']));
    expect(JSON.stringify(list.body)).not.toMatch(/clientSecret"\s*:\s*"/);
    const read = await raw('GET', '/sources/sim-bank');
    const version = etag(read.res)!;
    expect(version).toBe(`"${read.body.version}"`);

    const before = await auditCount();
    const noMatch = await raw('POST', '/sources/sim-bank/disable', { reason: 'Ngân hàng bảo trì hệ thống' });
    expect(noMatch.res.status).toBe(428);
    expect(noMatch.body.error).toBe('NIXA-CNF-002');
    const stale = await raw('POST', '/sources/sim-bank/disable', { reason: 'Ngân hàng bảo trì hệ thống' }, { 'if-match': `"${Number(read.body.version) - 1}"` });
    expect(stale.res.status).toBe(412);
    expect(stale.body.error).toBe('NIXA-CNF-001');
    const badField = await raw('POST', '/sources/sim-bank', { reason: 'Đổi tên hiển thị', name_vi: '' }, { 'if-match': version });
    expect(badField.res.status).toBe(400);
    expect(badField.body.field).toBe('name_vi');
    expect(await auditCount()).toBe(before);

    const disabled = await raw('POST', '/sources/sim-bank/disable', { reason: 'Ngân hàng bảo trì hệ thống' }, { 'if-match': version });
    expect(disabled.res.status).toBe(200);
    expect(disabled.body.enabled).toBe(false);
    expect(etag(disabled.res)).not.toBe(version);
    // The change read before is now stale for everyone else.
    expect((await raw('POST', '/sources/sim-bank/enable', { reason: 'Ngân hàng hoạt động lại' }, { 'if-match': version })).res.status).toBe(412);
    const enabled = await raw('POST', '/sources/sim-bank/enable', { reason: 'Ngân hàng hoạt động lại' }, { 'if-match': etag(disabled.res)! });
    expect(enabled.body.enabled).toBe(true);
    const { rows } = await tdb.db.query<{ event: string; actor: string }>(
      "SELECT event, actor FROM audit_events WHERE subject = 'sim-bank' AND seq > (SELECT max(seq) - 2 FROM audit_events) ORDER BY seq",
    );
    expect(rows).toEqual([
      { event: 'SOURCE_DISABLED', actor: 'client:tu-dong-hoa' },
      { event: 'SOURCE_UPDATED', actor: 'client:tu-dong-hoa' },
    ]);

    const tested = await raw('POST', '/sources/sim-citizen-id/test', {});
    expect(tested.body.ok).toBe(true);
    expect((await raw('GET', '/sources/no-such-source')).res.status).toBe(404);
  });

  it('tests a source’s connection: the client credentials are checked, a refused secret fails the test, naming the check', async () => {
    type Check = { ok: boolean; steps: { name: string; status: string; detail: string }[] };
    const good = (await raw('POST', '/sources/sim-telecom/test', {})).body as unknown as Check;
    expect(good.ok).toBe(true);
    expect(good.steps.find((x) => x.name === 'credentials')).toMatchObject({ status: 'ok' });
    const kept = (await getSource(tdb.db, fed.nixa.cipher, 'sim-telecom')).clientSecret!;
    const wrong = `khong-dung-${kept}`;
    await updateSource(tdb.db, fed.nixa.cipher, 'sim-telecom', { client_secret: wrong }, 'test', { allowHttpLoopback: true });
    try {
      const tested = await raw('POST', '/sources/sim-telecom/test', {});
      expect(tested.res.status).toBe(200);
      const bad = tested.body as unknown as Check;
      expect(bad.ok).toBe(false);
      expect(bad.steps.find((x) => x.name === 'credentials')).toMatchObject({ status: 'fail', detail: expect.stringContaining('invalid_client') });
      expect(bad.steps.filter((x) => x.status === 'fail').map((x) => x.name)).toEqual(['credentials']);
      expect(JSON.stringify(tested.body)).not.toContain(wrong);
    } finally {
      await updateSource(tdb.db, fed.nixa.cipher, 'sim-telecom', { client_secret: kept }, 'test', { allowHttpLoopback: true });
    }
  });

  it('registers a source disabled, and enables it only through a passing connection test, as the CLI does', async () => {
    const bank = await getSource(tdb.db, fed.nixa.cipher, 'sim-bank');
    const issuer = bank.discoveryUrl.replace(/\/\.well-known\/openid-configuration$/, '');
    const registration = (id: string, secret: string) => ({ ...simulatedSourceRegistration('bank', issuer, secret), id, reason: 'Kết nối ngân hàng đối tác mới' });
    const before = await auditCount();
    const eager = await raw('POST', '/sources', { ...registration('ngan-hang-voi', bank.clientSecret!), enabled: true });
    expect(eager.res.status).toBe(400);
    expect(eager.body.field).toBe('enabled');
    expect(await auditCount()).toBe(before);

    const added = await raw('POST', '/sources', registration('ngan-hang-moi', bank.clientSecret!));
    expect(added.res.status).toBe(201);
    expect(added.body.enabled).toBe(false);
    const sneaked = await raw('POST', '/sources/ngan-hang-moi', { reason: 'Bật thẳng không kiểm tra', enabled: true }, { 'if-match': etag(added.res)! });
    expect(sneaked.res.status).toBe(400);
    expect(sneaked.body.field).toBe('enabled');

    // A wrong secret fails the test: the source stays disabled and nothing is written.
    const broken = await raw('POST', '/sources', registration('ngan-hang-sai', `khong-dung-${bank.clientSecret!}`));
    const written = await auditCount();
    const refused = await raw('POST', '/sources/ngan-hang-sai/enable', { reason: 'Ngân hàng đã sẵn sàng' }, { 'if-match': etag(broken.res)! });
    expect(refused.res.status).toBe(409);
    expect(refused.body.error).toBe('NIXA-STA-001');
    expect(refused.body.message).toMatch(/connection test failed \(credentials: .*invalid_client/);
    expect((await getSource(tdb.db, fed.nixa.cipher, 'ngan-hang-sai')).enabled).toBe(false);
    expect(await auditCount()).toBe(written);

    const enabled = await raw('POST', '/sources/ngan-hang-moi/enable', { reason: 'Ngân hàng đã sẵn sàng' }, { 'if-match': etag(added.res)! });
    expect(enabled.res.status).toBe(200);
    expect(enabled.body.enabled).toBe(true);
    const again = await raw('POST', '/sources/ngan-hang-moi/enable', { reason: 'Ngân hàng đã sẵn sàng' }, { 'if-match': etag(enabled.res)! });
    expect(again.res.status).toBe(200);
    expect(etag(again.res)).toBe(etag(enabled.res));
    await raw('POST', '/sources/ngan-hang-moi/disable', { reason: 'Xong phần thử kết nối' }, { 'if-match': etag(enabled.res)! });
  });

  it('registers a service, sets its minimum level with the version read, rotates its secret and disables it, each with its reason', async () => {
    const bad = await raw('POST', '/clients', { reason: 'Đăng ký cổng thuế', name: 'Cổng thuế', redirect_uris: ['ftp://x'] });
    expect(bad.res.status).toBe(400);
    expect(bad.body.field).toMatch(/^redirect_uris/);
    const noReason = await raw('POST', '/clients', { name: 'Cổng thuế', redirect_uris: ['https://thue.example.vn/cb'] });
    expect(noReason.body.field).toBe('reason');

    const created = await raw('POST', '/clients', { reason: 'Đăng ký cổng thuế điện tử', client_id: 'cong-thue', name: 'Cổng thuế', redirect_uris: ['https://thue.example.vn/cb'] });
    expect(created.res.status).toBe(201);
    expect(created.body.clientSecret).toEqual(expect.any(String));
    const secret = String(created.body.clientSecret);
    // The secret is shown once: never again.
    const shown = await raw('GET', '/clients/cong-thue');
    expect(JSON.stringify(shown.body)).not.toContain(secret);

    const wrongLevel = await raw('POST', '/clients/cong-thue', { reason: 'Yêu cầu mức cao', min_level: 'very-high' }, { 'if-match': etag(shown.res)! });
    expect(wrongLevel.body.field).toBe('min_level');
    // A service with a secret raised to high is fapi2 unless kept standard: the operator says which.
    const undecided = await raw('POST', '/clients/cong-thue', { reason: 'Hồ sơ thuế cần mức cao', min_level: 'high' }, { 'if-match': etag(shown.res)! });
    expect(undecided.res.status).toBe(400);
    expect(undecided.body.field).toBe('security_profile');
    const raised = await raw('POST', '/clients/cong-thue', { reason: 'Hồ sơ thuế cần mức cao', min_level: 'high', security_profile: 'standard' }, { 'if-match': etag(shown.res)! });
    expect(raised.res.status).toBe(200);
    expect(raised.body).toMatchObject({ minLevel: 'high', securityProfile: 'standard', securityProfileReason: 'Hồ sơ thuế cần mức cao' });
    const lost = await raw('POST', '/clients/cong-thue', { reason: 'Hạ xuống mức đáng kể', min_level: 'substantial' }, { 'if-match': etag(shown.res)! });
    expect(lost.res.status).toBe(412);
    expect((await raw('GET', '/clients/cong-thue')).body.minLevel).toBe('high');

    // The registration itself: redirect URIs and scopes, validated whole, exactly as when registering.
    let current = await raw('GET', '/clients/cong-thue');
    const moved = await raw(
      'POST',
      '/clients/cong-thue',
      { reason: 'Cổng thuế chuyển sang tên miền mới', redirect_uris: ['https://thuedientu.example.vn/cb'], scope: 'openid profile' },
      { 'if-match': etag(current.res)! },
    );
    expect(moved.res.status).toBe(200);
    expect(moved.body).toMatchObject({ redirectUris: ['https://thuedientu.example.vn/cb'], scope: 'openid profile', minLevel: 'high' });
    current = moved;
    for (const [patch, field] of [
      [{ redirect_uris: ['https://*.example.vn/cb'] }, 'redirect_uris[0]'],
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ scope: 'openid telepathy' }, 'scope'],
      [{ grant_types: ['client_credentials'] }, 'grant_types'],
      [{ token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method'],
    ] as const) {
      const refused = await raw('POST', '/clients/cong-thue', { reason: 'Thử thay đổi không hợp lệ', ...patch }, { 'if-match': etag(current.res)! });
      expect([refused.res.status, refused.body.field]).toEqual([400, field]);
    }
    expect((await raw('GET', '/clients/cong-thue')).body.version).toBe(current.body.version);

    const rotated = await raw('POST', '/clients/cong-thue/rotate-secret', { reason: 'Nghi lộ bí mật của cổng thuế' });
    expect(rotated.body.clientSecret).not.toBe(secret);
    const disabled = await raw('POST', '/clients/cong-thue/disable', { reason: 'Ngừng cổng thuế cũ' });
    expect(disabled.body.status).toBe('disabled');
    const { rows } = await tdb.db.query<{ event: string; reason: string | null; details: Record<string, unknown> }>(
      "SELECT event, reason, details FROM audit_events WHERE subject = 'cong-thue' ORDER BY seq",
    );
    expect(rows.map((r) => [r.event, r.reason ?? r.details.reason])).toEqual([
      ['CLIENT_ADDED', 'Đăng ký cổng thuế điện tử'],
      ['CLIENT_UPDATED', 'Hồ sơ thuế cần mức cao'],
      ['CLIENT_UPDATED', 'Cổng thuế chuyển sang tên miền mới'],
      ['CLIENT_SECRET_ROTATED', 'Nghi lộ bí mật của cổng thuế'],
      ['CLIENT_DISABLED', 'Ngừng cổng thuế cũ'],
    ]);
  });

  it('keeps nixa’s console and admin powers out of reach of clients:write', async () => {
    const admin = adminResource(fed.nixa.config.issuer);
    const machineClient = { reason: 'Tự động hóa sao lưu khóa', name: 'Sao lưu', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' };
    const adminScoped = await raw('POST', '/clients', { ...machineClient, scope: 'admin:keys:write' });
    expect([adminScoped.res.status, adminScoped.body.error]).toEqual([403, 'NIXA-AUTH-002']);
    const ownsAdminApi = await raw('POST', '/clients', { reason: 'Cổng giả mạo bảng điều khiển', name: 'Giả', redirect_uris: ['https://gia.example.vn/cb'], api_resource: admin });
    expect(ownsAdminApi.res.status).toBe(403);
    const console = await raw('GET', '/clients/nixa-console');
    for (const [path, body] of [
      ['/clients/nixa-console', { reason: 'Thêm địa chỉ chuyển hướng', redirect_uris: ['https://gia.example.vn/cb'] }],
      ['/clients/nixa-console/rotate-secret', { reason: 'Lấy bí mật của bảng điều khiển' }],
      ['/clients/nixa-console/disable', { reason: 'Tắt bảng điều khiển' }],
      ['/clients/giam-sat-khoa/rotate-secret', { reason: 'Lấy bí mật của máy có quyền quản trị' }],
    ] as const) {
      const r = await raw('POST', path, body, { 'if-match': etag(console.res)! });
      expect([path, r.res.status]).toEqual([path, 403]);
    }
    expect((await raw('GET', '/clients/nixa-console')).body.version).toBe(console.body.version);
  });

  it('keeps the citizens’ own account client (nixa-account) out of reach of clients:write, as the console', async () => {
    const account = await raw('GET', '/clients/nixa-account');
    expect(account.res.status).toBe(200);
    const before = await auditCount();
    for (const [path, body] of [
      ['/clients/nixa-account', { reason: 'Thêm địa chỉ chuyển hướng', redirect_uris: ['https://gia.example.vn/account/callback'] }],
      ['/clients/nixa-account', { reason: 'Đổi tên hiển thị của tài khoản', name: 'Tài khoản giả' }],
      ['/clients/nixa-account/rotate-secret', { reason: 'Lấy bí mật của trang tài khoản' }],
      ['/clients/nixa-account/disable', { reason: 'Tắt trang tài khoản công dân' }],
      ['/clients', { reason: 'Đăng ký lại trang tài khoản', client_id: 'nixa-account', name: 'Giả', redirect_uris: ['https://gia.example.vn/cb'] }],
    ] as const) {
      const r = await raw('POST', path, body, { 'if-match': etag(account.res)! });
      expect([path, r.res.status, r.body.message]).toEqual([path, 403, 'the citizens’ own nixa account is registered and kept by nixa itself']);
    }
    const after = await raw('GET', '/clients/nixa-account');
    expect(after.body).toMatchObject({ status: 'enabled', version: account.body.version, redirectUris: account.body.redirectUris });
    expect(await auditCount()).toBe(before);
  });

  it('refuses an operator without the permission (a service operator cannot touch sources)', async () => {
    const officerToken = await operatorToken(AN.key);
    const cuong = await accountOf(CUONG.nid);
    await call(officerToken, 'POST', `/operators/${cuong}/roles`, { role: 'service-operator', reason: 'Phân công vận hành dịch vụ công' });
    const token = await operatorToken(CUONG.key);
    expect((await call(token, 'GET', '/clients')).status).toBe(200);
    expect((await call(token, 'GET', '/sources')).status).toBe(403);
    expect((await call(token, 'POST', '/sources/sim-bank/disable', { reason: 'Thử tắt nguồn ngân hàng' }, { 'if-match': '"1"' })).status).toBe(403);
  });
});

describe('citizens’ accounts and the audit trail through the admin API', () => {
  it('looks an account up only with a reason, always audited, the number masked; suspends and reinstates with the version read', async () => {
    const token = await operatorToken(AN.key);
    const before = await auditCount();
    const noReason = await call(token, 'POST', '/accounts/lookup', { national_id: CUONG.nid });
    expect(noReason.body).toMatchObject({ error: 'NIXA-INP-001', field: 'reason' });
    const badNumber = await call(token, 'POST', '/accounts/lookup', { national_id: 48201007396, reason: 'Hỗ trợ công dân qua tổng đài' });
    expect(badNumber.body.field).toBe('national_id');
    expect(await auditCount()).toBe(before);

    const res = await fetch(`${api}/accounts/lookup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ national_id: CUONG.nid, reason: 'Hỗ trợ công dân qua tổng đài 1022' }),
    });
    const found = (await res.json()) as { accountId: string; nationalId: string; version: number; linkedSources: { sourceId: string }[] };
    expect(res.status).toBe(200);
    expect(found.nationalId).not.toContain(CUONG.nid);
    expect(JSON.stringify(found)).not.toContain(CUONG.nid);
    expect(found.linkedSources.map((l) => l.sourceId)).toEqual(expect.arrayContaining(['sim-citizen-id']));
    const { rows } = await tdb.db.query<{ actor: string; reason: string }>("SELECT actor, reason FROM audit_events WHERE event = 'ACCOUNT_LOOKED_UP' ORDER BY seq DESC LIMIT 1");
    expect(rows).toEqual([{ actor: `operator:${await accountOf(AN.nid)}`, reason: 'Hỗ trợ công dân qua tổng đài 1022' }]);
    const version = res.headers.get('etag')!;

    const id = found.accountId;
    // Cường is a service operator (granted above); a token he holds when suspended stops working at once.
    const cuongToken = await operatorToken(CUONG.key);
    expect((await call(cuongToken, 'GET', '/me')).status).toBe(200);
    expect((await call(token, 'POST', `/accounts/${id}/suspend`, { reason: 'Nghi bị chiếm đoạt tài khoản' })).status).toBe(428);
    expect((await call(token, 'POST', `/accounts/${id}/suspend`, { reason: 'Nghi bị chiếm đoạt tài khoản' }, { 'if-match': `"${found.version + 5}"` })).status).toBe(412);
    const suspended = await call(token, 'POST', `/accounts/${id}/suspend`, { reason: 'Nghi bị chiếm đoạt tài khoản' }, { 'if-match': version });
    expect(suspended.status).toBe(200);
    expect(suspended.body.suspended).toBe(true);
    const refusedAfter = await call(cuongToken, 'GET', '/me');
    expect([refusedAfter.status, refusedAfter.body.message]).toEqual([403, 'this account is suspended']);
    expect((await call(token, 'POST', `/accounts/${id}/view`, { reason: {} })).body.field).toBe('reason');
    const again = await call(token, 'POST', `/accounts/${id}/suspend`, { reason: 'Nghi bị chiếm đoạt tài khoản' }, { 'if-match': `"${suspended.body.version}"` });
    expect(again.status).toBe(409);
    const back = await call(token, 'POST', `/accounts/${id}/reinstate`, { reason: 'Công dân đã xác minh trực tiếp' }, { 'if-match': `"${suspended.body.version}"` });
    expect(back.body.suspended).toBe(false);
    expect((await call(token, 'POST', `/accounts/${id}/unlock-factors`, { reason: 'Công dân đã xác minh trực tiếp' })).status).toBe(409);

    // Viewing by id is a lookup too: audited with its reason.
    const viewed = await call(token, 'POST', `/accounts/${id}/view`, { reason: 'Kiểm tra sau khi mở lại tài khoản' });
    expect(viewed.body).toMatchObject({ accountId: id, suspended: false });
    // A citizen locked out of second factors (five wrong codes), unlocked after proving who they are at a counter.
    await tdb.db.query(
      `INSERT INTO factor_attempts (scope, key, failures, window_started_at, last_failure_at, locked_until, lock_count, last_lock_ends_at, updated_at)
       VALUES ('account', $1, 5, now(), now(), now() + interval '5 minutes', 1, now() + interval '5 minutes', now())`,
      [id],
    );
    const unlocked = await call(token, 'POST', `/accounts/${id}/unlock-factors`, { reason: 'Công dân đã xác minh trực tiếp tại quầy' });
    expect(unlocked.body).toEqual({ accountId: id, unlocked: true });
    const { rows: lifted } = await tdb.db.query<{ actor: string }>("SELECT actor FROM audit_events WHERE event = 'ACCOUNT_UNLOCKED' AND subject = $1", [id]);
    expect(lifted).toEqual([{ actor: `operator:${await accountOf(AN.nid)}` }]);
  });

  it('tells each service of the suspended citizen’s sessions by back-channel logout, as the citizen’s own “end all my sessions” does', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const service = await registerTestClient(tdb.db, {
        name: 'Cổng dịch vụ công tỉnh Đắk Lắk',
        scope: 'openid profile',
        backchannel_logout_uri: `http://localhost:${(receiver.address() as AddressInfo).port}/backchannel`,
      });
      const s = await federatedSignIn(await discover(fed.nixa.config.issuer, service), service.redirectUri, { source: 'citizen_id', citizen: CUONG.key, consent: 'accept' });
      if (!s.stoppedAt?.includes('code=')) throw new Error(`sign-in stopped at ${s.page?.url ?? s.stoppedAt}`);
      const id = await accountOf(CUONG.nid);
      const token = await operatorToken(AN.key);
      const found = await call(token, 'POST', `/accounts/${id}/view`, { reason: 'Công dân báo mất điện thoại và SIM' });
      expect(received).toEqual([]);

      const suspended = await call(token, 'POST', `/accounts/${id}/suspend`, { reason: 'Công dân báo mất điện thoại và SIM' }, { 'if-match': `"${found.body.version}"` });
      expect(suspended.status).toBe(200);
      expect(received).toHaveLength(1);
      expect(suspended.body.servicesTold).toBe(1);
      expect(JSON.stringify(suspended.body)).not.toMatch(/logouts|sid/);
      const logoutToken = new URLSearchParams(received[0]).get('logout_token')!;
      const { payload } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`)), { issuer: fed.nixa.config.issuer, audience: service.clientId });
      expect(payload).toMatchObject({ sub: id, sid: expect.any(String), events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });

      await call(token, 'POST', `/accounts/${id}/reinstate`, { reason: 'Công dân đã xác minh trực tiếp' }, { 'if-match': `"${suspended.body.version}"` });
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

  it('searches the audit trail by event, actor and time, page by page, and names a bad filter', async () => {
    const token = await operatorToken(AN.key);
    const officerActor = `operator:${await accountOf(AN.nid)}`;
    const all = await call(token, 'GET', `/audit/events?actor=${encodeURIComponent(officerActor)}&limit=500`);
    const events = all.body.events as { seq: number; event: string; actor: string }[];
    expect(events.length).toBeGreaterThan(3);
    expect(events.every((e) => e.actor === officerActor)).toBe(true);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => b - a));

    const first = await call(token, 'GET', `/audit/events?actor=${encodeURIComponent(officerActor)}&limit=2`);
    expect(first.body.events).toHaveLength(2);
    const second = await call(token, 'GET', `/audit/events?actor=${encodeURIComponent(officerActor)}&limit=2&before=${first.body.next}`);
    expect((second.body.events as { seq: number }[])[0]!.seq).toBe(events[2]!.seq);

    const granted = await call(token, 'GET', '/audit/events?event=OPERATOR_ROLE_GRANTED');
    expect((granted.body.events as { event: string }[]).every((e) => e.event === 'OPERATOR_ROLE_GRANTED')).toBe(true);
    const future = await call(token, 'GET', `/audit/events?from=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`);
    expect(future.body.events).toEqual([]);

    expect((await call(token, 'GET', '/audit/events?event=NOT_AN_EVENT')).body.field).toBe('event');
    expect((await call(token, 'GET', '/audit/events?from=yesterday')).body.field).toBe('from');
    expect((await call(token, 'GET', '/audit/events?from=2026-11-02&to=2026-11-01')).body.field).toBe('to');
    expect((await call(token, 'GET', '/audit/events?limit=0')).body.field).toBe('limit');
    expect((await call(token, 'GET', '/audit/events?limit=5&limit=6')).body.field).toBe('limit');
  });
});

describe('every route, the same way', () => {
  const sample = (path: string) =>
    path.replace('{kid}', 'no-such-kid').replace('{id}', 'sim-citizen-id').replace('{accountId}', '00000000-0000-4000-8000-000000000000').replace('{role}', 'auditor');
  async function machineWith(clientId: string, scope: string): Promise<string> {
    const { secret } = await addClient(tdb.db, { client_id: clientId, name: clientId, grant_types: ['client_credentials'], scope }, 'test', { allowHttpLoopback: true });
    const res = await fetch(`${fed.nixa.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('refuses a caller without the route’s permission with 403, writing nothing', async () => {
    const reader = await machineWith('chi-doc-nhat-ky', 'admin:audit:read');
    const before = await auditCount();
    for (const r of ROUTES.filter((x) => x.permission && x.permission !== 'audit:read')) {
      const res = await call(reader, r.method, sample(r.path), r.method === 'POST' ? { reason: 'Thử quyền truy cập' } : undefined, { 'if-match': '"1"' });
      expect([`${r.method} ${r.path}`, res.status]).toEqual([`${r.method} ${r.path}`, 403]);
    }
    expect(await auditCount()).toBe(before);
  });

  it('refuses every change without its required fields, naming one, writing nothing', async () => {
    const all = await machineWith('toan-quyen', ADMIN_SCOPES.join(' '));
    const doc = openApiDocument(fed.nixa.config.issuer);
    const before = await auditCount();
    for (const r of ROUTES.filter((x) => x.method === 'POST' && !x.path.startsWith('/operators'))) {
      const schema = (doc.paths[r.path]!.post as { requestBody: { content: { 'application/json': { schema: { required?: string[] } } } } }).requestBody.content['application/json'].schema;
      if (!schema.required?.length) continue;
      const res = await call(all, 'POST', sample(r.path), {}, { 'if-match': '"1"' });
      expect([`${r.method} ${r.path}`, res.status]).toEqual([`${r.method} ${r.path}`, 400]);
      expect(res.body.field).toEqual(expect.any(String));
    }
    expect(await auditCount()).toBe(before);
  });
});

describe('the OpenAPI document', () => {
  it('describes exactly the routes the API serves', async () => {
    const doc = openApiDocument('https://id.example.vn');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const served = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented).toEqual(served);
    for (const r of ROUTES.filter((x) => x.method === 'POST')) {
      expect(doc.paths[r.path]![r.method.toLowerCase()]).toHaveProperty('requestBody');
    }
    const served2 = await (await fetch(`${api}/openapi.json`)).json();
    expect(served2).toMatchObject({ openapi: '3.1.0', servers: [{ url: api }] });
  });
});
