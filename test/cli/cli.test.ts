// The `nixa` command: in-process for the many cases, and as a real process for
// exit codes, configuration errors and the embedded control socket.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startNixa } from '../../src/app/index.js';
import { GRANT_TYPES } from '../../src/clients/index.js';
import { ACCOUNT_SIGN_IN_FAILURES, CONSOLE_SIGN_IN_FAILURES, ERROR_CATALOGUE } from '../../src/errors/index.js';
import { FAILURE_MESSAGES } from '../../src/federation/index.js';
import { loadConfig } from '../../src/config/index.js';
import { PAGE_ERRORS } from '../../src/protocol/errors.js';
import { silentLogger } from '../../src/logging/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { keyPair } from '../support/fapi.js';
import { freePort, TEST_MASTER_KEY } from '../support/nixa.js';

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

const nixa = cliRunner(() => tdb.db);
/** Every change to a client says why (the admin API's rule). */
const WHY = ['--reason', 'Đăng ký theo công văn của Sở'];

async function count(table: string): Promise<number> {
  const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

describe('nixa clients', () => {
  it('registers a confidential service and prints its secret once', async () => {
    const r = await nixa(
      'clients', 'add', '--client-id', 'dvc-hanoi', '--name', 'Cổng dịch vụ công Hà Nội',
      '--redirect-uri', 'https://dichvucong.hanoi.gov.vn/oidc/callback',
      '--post-logout-uri', 'https://dichvucong.hanoi.gov.vn/',
      '--grant-type', 'authorization_code', '--grant-type', 'refresh_token', '--scope', 'openid offline_access', ...WHY,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('client_id:        dvc-hanoi');
    expect(r.stdout).toMatch(/client_secret: +[A-Za-z0-9_-]{43}/);

    const show = await nixa('clients', 'show', 'dvc-hanoi', '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({
      clientId: 'dvc-hanoi',
      name: 'Cổng dịch vụ công Hà Nội',
      status: 'enabled',
      redirectUris: ['https://dichvucong.hanoi.gov.vn/oidc/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    expect(show.stdout).not.toMatch(/argon2|client_secret\b(?!_basic)/);
    const list = await nixa('clients', 'list');
    expect(list.stdout).toMatch(/dvc-hanoi +Cổng dịch vụ công Hà Nội +enabled/);
  });

  it.each([
    [['--name', 'X', '--redirect-uri', 'http://dichvucong.gov.vn/cb'], 'redirect_uris[0]', /must use https/],
    [['--name', 'X', '--redirect-uri', 'https://*.gov.vn/cb'], 'redirect_uris[0]', /wildcards/],
    [['--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb#frag'], 'redirect_uris[0]', /fragment/],
    [['--redirect-uri', 'https://a.gov.vn/cb'], 'name', /required/],
    [['--name', 'X'], 'redirect_uris', /at least one/],
    [['--name', 'X', '--auth-method', 'private_key_jwt', '--redirect-uri', 'https://a.gov.vn/cb'], 'jwks', /jwks or jwks_uri/],
    [['--name', 'X', '--auth-method', 'none', '--grant-type', 'client_credentials'], 'grant_types', /public client/],
    [['--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--scope', 'openid admin'], 'scope', /scopes from/],
    [['--name', 'X', '--client-id', 'có dấu', '--redirect-uri', 'https://a.gov.vn/cb'], 'client_id', /letters, digits/],
  ])('refuses %j naming %s, and writes nothing', async (args, field, problem) => {
    const [clients, events] = [await count('clients'), await count('audit_events')];
    const r = await nixa('clients', 'add', ...args, ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${field}:`);
    expect(r.stderr).toMatch(problem);
    expect(r.stderr).toContain('NIXA-INP-001');
    expect(await count('clients')).toBe(clients);
    expect(await count('audit_events')).toBe(events);
  });

  it('refuses an unknown authentication method and an unknown command with usage help', async () => {
    const bad = await nixa('clients', 'add', '--name', 'X', '--auth-method', 'client_secret_post', ...WHY);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/client_secret_post.*invalid|Allowed choices/is);
    const unknown = await nixa('clients', 'remove', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
  });

  it('lists in `clients add --help` every grant type the registration schema allows, the device grant included', async () => {
    const r = await nixa('clients', 'add', '--help');
    expect(r.code).toBe(0);
    const line = r.stdout.slice(r.stdout.indexOf('--grant-type'), r.stdout.indexOf('--auth-method'));
    expect(line).toContain('urn:ietf:params:oauth:grant-type:device_code');
    for (const g of GRANT_TYPES) expect(line).toContain(g);
  });

  it('refuses to register the same client_id twice', async () => {
    await nixa('clients', 'add', '--client-id', 'dvc-hue', '--name', 'Huế', '--redirect-uri', 'https://hue.gov.vn/cb', ...WHY);
    const again = await nixa('clients', 'add', '--client-id', 'dvc-hue', '--name', 'Huế 2', '--redirect-uri', 'https://hue.gov.vn/cb', ...WHY);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/client_id: "dvc-hue" is already registered/);
  });

  it('disables a client once, rotates only secrets that exist, and reports unknown ids', async () => {
    await nixa('clients', 'add', '--client-id', 'dvc-app', '--name', 'Ứng dụng VNeID thử', '--auth-method', 'none', '--redirect-uri', 'http://localhost:7000/cb', ...WHY);
    const rotate = await nixa('clients', 'rotate-secret', 'dvc-app', ...WHY);
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/uses none and has no secret/);

    expect((await nixa('clients', 'disable', 'dvc-app', '--reason', 'thử nghiệm kết thúc')).code).toBe(0);
    const twice = await nixa('clients', 'disable', 'dvc-app', ...WHY);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already disabled/);

    const missing = await nixa('clients', 'show', 'khong-co');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/client "khong-co" not found/);

    const { rows } = await tdb.db.query<{ event: string; subject: string; details: { reason: string } }>(
      `SELECT event, subject, details FROM audit_events WHERE subject = 'dvc-app' ORDER BY seq`,
    );
    expect(rows.map((r) => r.event)).toEqual(['CLIENT_ADDED', 'CLIENT_DISABLED']);
    expect(rows[1]!.details.reason).toBe('thử nghiệm kết thúc');
  });
});

describe('nixa clients: every change says why', () => {
  it.each([
    ['add', ['clients', 'add', '--client-id', 'dvc-ly-do', '--name', 'Lý do', '--redirect-uri', 'https://lydo.gov.vn/cb']],
    ['update', ['clients', 'update', 'dvc-hanoi', '--min-level', 'high']],
    ['disable', ['clients', 'disable', 'dvc-hanoi']],
    ['rotate-secret', ['clients', 'rotate-secret', 'dvc-hanoi']],
  ])('refuses `clients %s` without a reason of 10 characters, writing nothing', async (_, argv) => {
    const [clients, events] = [await count('clients'), await count('audit_events')];
    const before = (await nixa('clients', 'show', 'dvc-hanoi', '--json')).stdout;
    for (const reason of [[], ['--reason', 'cần thiết']]) {
      const r = await nixa(...argv, ...reason);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--reason: say why, in at least 10 characters');
      expect(r.stdout).toBe('');
    }
    expect(await count('clients')).toBe(clients);
    expect(await count('audit_events')).toBe(events);
    expect((await nixa('clients', 'show', 'dvc-hanoi', '--json')).stdout).toBe(before);
  });

  it('records the reason of a registration and of a secret rotation in the trail', async () => {
    expect((await nixa('clients', 'add', '--client-id', 'dvc-can-tho', '--name', 'Cần Thơ', '--redirect-uri', 'https://cantho.gov.vn/cb', '--reason', 'Kết nối cổng dịch vụ công Cần Thơ')).code).toBe(0);
    expect((await nixa('clients', 'rotate-secret', 'dvc-can-tho', '--reason', 'Nghi lộ bí mật qua email')).code).toBe(0);
    const { rows } = await tdb.db.query<{ event: string; reason: string }>(`SELECT event, reason FROM audit_events WHERE subject = 'dvc-can-tho' ORDER BY seq`);
    expect(rows).toEqual([
      { event: 'CLIENT_ADDED', reason: 'Kết nối cổng dịch vụ công Cần Thơ' },
      { event: 'CLIENT_SECRET_ROTATED', reason: 'Nghi lộ bí mật qua email' },
    ]);
  });
});

describe('nixa errors', () => {
  const FED = Object.keys(FAILURE_MESSAGES).map((r) => `NIXA-FED-${r}`);
  const ACC = Object.keys(ACCOUNT_SIGN_IN_FAILURES).map((r) => `NIXA-ACC-${r}`);
  const CON = ['NIXA-CON-expired', 'NIXA-CON-refused', 'NIXA-CON-level', 'NIXA-CON-invalid'];

  it("lists nixa's own codes, every sign-in failure a citizen can see, and the OAuth errors services receive", async () => {
    const r = await nixa('errors');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^CODE +KIND +HTTP +MEANING$/);
    expect(FED.length).toBeGreaterThanOrEqual(16);
    expect(ACC.length).toBe(9);
    for (const code of [...Object.keys(ERROR_CATALOGUE), ...FED, ...ACC, ...CON, 'invalid_request', 'invalid_redirect_uri', 'temporarily_unavailable']) {
      expect(r.stdout).toMatch(new RegExp(`^${code} +`, 'm'));
    }
    expect(r.stdout).toMatch(/^NIXA-FED-source-timeout +sign-in +502 +The identity source you chose took too long to answer/m);
    expect(r.stdout).toMatch(/^NIXA-FED-account-suspended +sign-in +403 /m);
    // A failed sign-in to the citizen's own account: its status and what it means.
    expect(r.stdout).toMatch(/^NIXA-ACC-expired +account-sign-in +400 +Account sign-in: no sign-in in progress in this browser/m);
    expect(r.stdout).toMatch(/^NIXA-ACC-issuer-unavailable +account-sign-in +503 /m);
    // A failed operator sign-in to the console: 403 below level high, 400 otherwise.
    expect(r.stdout).toMatch(/^NIXA-CON-expired +console-sign-in +400 +Console sign-in: no sign-in in progress in this browser/m);
    expect(r.stdout).toMatch(/^NIXA-CON-refused +console-sign-in +400 /m);
    expect(r.stdout).toMatch(/^NIXA-CON-level +console-sign-in +403 /m);
    expect(r.stdout).toMatch(/^NIXA-CON-invalid +console-sign-in +400 /m);
  });

  it('prints the same catalogue as JSON, each code once', async () => {
    const r = await nixa('errors', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { code: string; kind: string; status: number | null; meaning: string }[];
    expect(new Set(list.map((e) => e.code)).size).toBe(list.length);
    expect(list.filter((e) => e.kind === 'sign-in').map((e) => e.code)).toEqual(FED);
    expect(list.find((e) => e.code === 'NIXA-FED-denied')).toEqual({ code: 'NIXA-FED-denied', kind: 'sign-in', status: 400, meaning: FAILURE_MESSAGES.denied.en });
    expect(list.filter((e) => e.kind === 'account-sign-in').map((e) => e.code)).toEqual(ACC);
    expect(list.filter((e) => e.kind === 'console-sign-in').map((e) => e.code)).toEqual(CON);
    expect(list.find((e) => e.code === 'NIXA-CON-level')).toEqual({ code: 'NIXA-CON-level', kind: 'console-sign-in', status: 403, meaning: CONSOLE_SIGN_IN_FAILURES.level.meaning });
    expect(list.find((e) => e.code === 'NIXA-ACC-token-exchange')).toEqual({
      code: 'NIXA-ACC-token-exchange',
      kind: 'account-sign-in',
      status: 502,
      meaning: ACCOUNT_SIGN_IN_FAILURES['token-exchange'].meaning,
    });
    for (const e of list) expect(e.meaning.length).toBeGreaterThan(10);
  });

  it('lists every OAuth error a citizen or service can meet: each code an error page shows, and the device grant’s and CIBA’s', async () => {
    const list = JSON.parse((await nixa('errors', '--json')).stdout) as { code: string; kind: string; meaning: string }[];
    const listed = new Set(list.filter((e) => e.kind === 'oauth').map((e) => e.code));
    // PAGE_ERRORS: every code nixa renders as a page (and shows again at /error/<code>),
    // session_not_found (Back after a finished sign-in) and unmet_authentication_requirements
    // (no source reaches the level) included.
    expect([...PAGE_ERRORS].filter((c) => !listed.has(c))).toEqual([]);
    // The token endpoint's polls (RFC 8628 §3.5, CIBA §11) and CIBA's backchannel
    // authentication endpoint (src/ciba/index.ts, src/device-grant/index.ts).
    const polling = ['authorization_pending', 'slow_down', 'expired_token', 'unknown_user_id', 'invalid_binding_message', 'invalid_user_code'];
    expect(polling.filter((c) => !listed.has(c))).toEqual([]);
    expect(list.find((e) => e.code === 'slow_down')?.meaning).toMatch(/5 s/);
  });

  it('lists every fixed code an error class in src declares (NIXA-REG-001 of the organisation registries included)', async () => {
    const src = join(process.cwd(), 'src');
    const declared = new Set<string>();
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(src, file), 'utf8').matchAll(/readonly code = '(NIXA-[A-Z]+-\d{3})'/g)) declared.add(m[1]!);
    }
    expect(declared).toContain('NIXA-REG-001');
    const listed = new Set((JSON.parse((await nixa('errors', '--json')).stdout) as { code: string }[]).map((e) => e.code));
    expect([...declared].filter((c) => !listed.has(c))).toEqual([]);
  });

  it("is what README's error table documents: every NIXA code the command lists has a row", async () => {
    const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
    const list = JSON.parse((await nixa('errors', '--json')).stdout) as { code: string; kind: string }[];
    for (const e of list.filter((x) => x.kind !== 'oauth')) expect(readme).toMatch(new RegExp(`^\\| \`${e.code}\` \\|`, 'm'));
  });
});

describe('nixa clients: minimum level and API', () => {
  it('registers a minimum level and an API, shows them, and changes them with an audited update', async () => {
    const add = await nixa(
      'clients', 'add', '--client-id', 'dvc-dat-dai', '--name', 'Đăng ký đất đai', '--redirect-uri', 'https://datdai.gov.vn/cb',
      '--min-level', 'substantial', '--api-resource', 'https://datdai.gov.vn/api', '--security-profile', 'standard', ...WHY,
    );
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('minimum level:    substantial');
    // At substantial a service is fapi2 unless kept standard: the reason given is why.
    expect(add.stdout).toContain(`security profile: standard — kept standard: ${WHY[1]}`);
    expect(add.stdout).toContain('API (resource):   https://datdai.gov.vn/api');
    expect((await nixa('clients', 'list')).stdout).toMatch(/dvc-dat-dai +Đăng ký đất đai +enabled +client_secret_basic +authorization_code +substantial +standard/);

    const up = await nixa('clients', 'update', 'dvc-dat-dai', '--min-level', 'high', '--reason', 'hồ sơ địa chính cần mức cao', '--json');
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ minLevel: 'high', apiResource: 'https://datdai.gov.vn/api', version: 2 });
    const cleared = await nixa('clients', 'update', 'dvc-dat-dai', '--api-resource', 'none', ...WHY);
    expect(cleared.stdout).toContain('API (resource):   -');
    expect(cleared.stdout).toContain('minimum level:    high');

    const { rows } = await tdb.db.query<{ event: string; details: Record<string, unknown> }>(
      `SELECT event, details FROM audit_events WHERE subject = 'dvc-dat-dai' ORDER BY seq`,
    );
    expect(rows.map((r) => r.event)).toEqual(['CLIENT_ADDED', 'CLIENT_UPDATED', 'CLIENT_UPDATED']);
    expect(rows[0]!.details).toMatchObject({ minLevel: 'substantial', apiResource: 'https://datdai.gov.vn/api', securityProfile: 'standard', securityProfileReason: WHY[1] });
    expect(rows[1]!.details).toEqual({ changed: { minLevel: { from: 'substantial', to: 'high' } }, reason: 'hồ sơ địa chính cần mức cao' });
    expect(rows[2]!.details).toEqual({ changed: { apiResource: { from: 'https://datdai.gov.vn/api', to: null } }, reason: WHY[1] });
  });

  it.each([
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--min-level', 'cao'], 'min_level', /one of low, substantial, high/],
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--api-resource', 'http://a.gov.vn/api'], 'api_resource', /must use https/],
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--api-resource', 'https://a.gov.vn/api#v1'], 'api_resource', /fragment/],
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--api-resource', 'https://a.gov.vn/api?v=1'], 'api_resource', /query/],
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--api-resource', '/api'], 'api_resource', /not an absolute URL/],
    [['update', 'dvc-dat-dai', '--min-level', 'extreme'], 'min_level', /one of low, substantial, high/],
    [['update', 'dvc-dat-dai'], '--min-level', /give --min-level, --api-resource, --security-profile/],
    // At high a service is fapi2 by default: one with a secret must be kept standard, and say so.
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--min-level', 'high', '--auth-method', 'client_secret_basic'], 'token_endpoint_auth_method', /private_key_jwt only/],
    [['add', '--name', 'X', '--redirect-uri', 'https://a.gov.vn/cb', '--min-level', 'high'], 'jwks', /jwks or jwks_uri is required for private_key_jwt/],
  ])('refuses %j naming %s, and writes nothing', async (args, field, problem) => {
    const [clients, events] = [await count('clients'), await count('audit_events')];
    const r = await nixa('clients', ...args, ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${field}:`);
    expect(r.stderr).toMatch(problem);
    expect(await count('clients')).toBe(clients);
    expect(await count('audit_events')).toBe(events);
  });

  it("refuses another service's API, and a stale --if-version", async () => {
    await nixa('clients', 'add', '--client-id', 'dvc-ho-tich', '--name', 'Hộ tịch', '--redirect-uri', 'https://hotich.gov.vn/cb', '--api-resource', 'https://hotich.gov.vn/api', ...WHY);
    const taken = await nixa('clients', 'add', '--name', 'Kẻ mạo danh', '--redirect-uri', 'https://gia.example/cb', '--api-resource', 'https://hotich.gov.vn/api', ...WHY);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/api_resource: "https:\/\/hotich.gov.vn\/api" is already the API of service "dvc-ho-tich"/);
    const stolen = await nixa('clients', 'update', 'dvc-dat-dai', '--api-resource', 'https://hotich.gov.vn/api', ...WHY);
    expect(stolen.code).toBe(2);
    expect(stolen.stderr).toMatch(/api_resource: .* already the API of service "dvc-ho-tich"/);

    const stale = await nixa('clients', 'update', 'dvc-ho-tich', '--min-level', 'high', '--if-version', '7', ...WHY);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/changed by someone else \(version 1, you had 7\)/);
    const missing = await nixa('clients', 'update', 'khong-co', '--min-level', 'high', ...WHY);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/client "khong-co" not found/);
  });

  it('registers a service at high as fapi2 with its keys, and keeps it standard only with the reason given', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nixa-cli-jwks-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [(await keyPair('ES256', 'bhxh-1')).publicJwk] }));
    const add = await nixa('clients', 'add', '--client-id', 'dvc-bhxh', '--name', 'Bảo hiểm xã hội', '--redirect-uri', 'https://bhxh.gov.vn/cb', '--min-level', 'high', '--jwks-file', file, ...WHY);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('security profile: fapi2 (FAPI 2.0: PAR, DPoP, private_key_jwt)');
    expect(add.stdout).toContain('auth method:      private_key_jwt');
    expect(add.stdout).toContain('ID token alg:     ES256');
    expect(add.stdout).not.toContain('client_secret:');
    const why = 'Đối tác cần thêm một quý để triển khai DPoP';
    const lowered = await nixa('clients', 'update', 'dvc-bhxh', '--security-profile', 'standard', '--reason', why);
    expect(lowered.code).toBe(0);
    expect(lowered.stdout).toContain(`security profile: standard — kept standard: ${why}`);
    const signed = await nixa('clients', 'update', 'dvc-bhxh', '--security-profile', 'fapi2', '--require-signed-request-object', 'yes', ...WHY);
    expect(signed.stdout).toContain('security profile: fapi2');
    expect(signed.stdout).toContain('signed requests:  required (RFC 9101)');
  });

  it('writes no event and no new version for an update that changes nothing', async () => {
    await nixa('clients', 'add', '--client-id', 'dvc-cu-tru', '--name', 'Cư trú', '--redirect-uri', 'https://cutru.gov.vn/cb', '--min-level', 'substantial', '--security-profile', 'standard', ...WHY);
    const events = await count('audit_events');
    const same = await nixa('clients', 'update', 'dvc-cu-tru', '--min-level', 'substantial', '--api-resource', 'none', ...WHY);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('nothing changed');
    const json = await nixa('clients', 'update', 'dvc-cu-tru', '--min-level', 'substantial', '--json', ...WHY);
    expect(JSON.parse(json.stdout)).toMatchObject({ minLevel: 'substantial', version: 1 });
    expect(await count('audit_events')).toBe(events);

    // A real change still writes its one event, listing only what changed.
    const raised = await nixa('clients', 'update', 'dvc-cu-tru', '--min-level', 'high', '--api-resource', 'none', ...WHY);
    expect(raised.stdout).not.toContain('nothing changed');
    const { rows } = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'CLIENT_UPDATED' AND subject = 'dvc-cu-tru' ORDER BY seq`);
    expect(rows[0]!.details).toEqual({ changed: { minLevel: { from: 'substantial', to: 'high' } }, reason: WHY[1] });
    expect(await count('audit_events')).toBe(events + 1);
  });
});

describe('nixa keys', () => {
  const KEY_WHY = ['--reason', 'Xoay khóa định kỳ hằng quý'];
  it('lists, rotates and revokes keys with an audited reason', async () => {
    // Keys are created by an instance's first maintenance; do the same here.
    const rotate = await nixa('keys', 'rotate', ...KEY_WHY);
    expect(rotate.code).toBe(0);
    const list = JSON.parse((await nixa('keys', 'list', '--json')).stdout) as { kid: string; alg: string; state: string; use: string }[];
    const active = list.find((k) => k.use === 'sig' && k.alg === 'ES256' && k.state === 'active')!;
    expect(active).toBeDefined();
    expect(list.filter((k) => k.use === 'sig' && k.state === 'next').map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);

    const noReason = await nixa('keys', 'revoke', active.kid);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);

    const revoked = await nixa('keys', 'revoke', active.kid, '--reason', 'khóa bị lộ (key exposed in a backup)');
    // Seen once on the embedded database under heavy load: exit 2. Say what the command said, should it fail again.
    expect(`exit ${revoked.code}: ${revoked.stderr}`).toBe('exit 0: ');
    expect(revoked.stdout).toMatch(/removed from JWKS/);
    const after = JSON.parse((await nixa('keys', 'list', '--all', '--json')).stdout) as { kid: string; state: string; revokedReason: string }[];
    expect(after.find((k) => k.kid === active.kid)).toMatchObject({ state: 'revoked', revokedReason: 'khóa bị lộ (key exposed in a backup)' });

    const again = await nixa('keys', 'revoke', active.kid, ...KEY_WHY);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already revoked/);
    expect((await nixa('keys', 'revoke', 'no-such-kid', ...KEY_WHY)).code).toBe(1);
  });

  it.each([
    ['rotate', []],
    ['rotate', ['--reason', 'định kỳ']],
    ['revoke', ['--reason', 'bị lộ']],
    ['revoke', ['--reason', '          ']],
  ])('refuses `keys %s` %j without a reason of 10 characters, as the admin API does, changing nothing', async (command, reason) => {
    if (!(await nixa('keys', 'list', '--json')).stdout.includes('"active"')) await nixa('keys', 'rotate', ...KEY_WHY);
    const keys = (await nixa('keys', 'list', '--all', '--json')).stdout;
    const active = (JSON.parse(keys) as { kid: string; state: string }[]).find((k) => k.state === 'active')!;
    const events = await count('audit_events');
    const r = await nixa('keys', ...(command === 'revoke' ? ['revoke', active.kid] : ['rotate']), ...reason);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^nixa: --reason: say why, in at least 10 characters/);
    expect((await nixa('keys', 'list', '--all', '--json')).stdout).toBe(keys);
    expect(await count('audit_events')).toBe(events);
  });

  it('records the reason of a rotation on each of its events', async () => {
    const before = (await tdb.db.query<{ seq: number }>('SELECT coalesce(max(seq), 0)::int AS seq FROM audit_events')).rows[0]!.seq;
    expect((await nixa('keys', 'rotate', '--alg', 'RS256', ...KEY_WHY)).code).toBe(0);
    const { rows } = await tdb.db.query<{ event: string; reason: string | null }>('SELECT event, reason FROM audit_events WHERE seq > $1 ORDER BY seq', [before]);
    expect(rows.map((r) => r.event)).toEqual(expect.arrayContaining(['KEY_RETIRED', 'KEY_ACTIVATED', 'KEY_CREATED']));
    const keyEvents = rows.filter((r) => r.event.startsWith('KEY_'));
    expect(keyEvents).toEqual(keyEvents.map((r) => ({ event: r.event, reason: KEY_WHY[1] })));
  });

  it('refuses to rotate an algorithm that is not configured', async () => {
    const r = await nixa('keys', 'rotate', '--alg', 'HS256', ...KEY_WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--alg: .*ES256, RS256/);
  });
});

describe('the nixa process', () => {
  const run = promisify(execFile);
  const bin = join(process.cwd(), 'bin', 'nixa.js');
  const exec = async (args: string[], env: Record<string, string>) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH!, ...env } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('exits 2 naming the bad variable when the configuration is wrong', async () => {
    const r = await exec(['clients', 'list'], { PORT: 'abc', NIXA_DATA_DIR: mkdtempSync(join(tmpdir(), 'nixa-cli-')) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PORT must be a TCP port/);
  });

  it('prints help and exits 0', async () => {
    const r = await exec(['--help'], { NIXA_DATA_DIR: mkdtempSync(join(tmpdir(), 'nixa-cli-')) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/clients/);
    expect(r.stdout).toMatch(/keys/);
  });

  (TEST_DATABASE_URL ? it : it.skip)('works directly on PostgreSQL with DATABASE_URL', async () => {
    const r = await exec(['clients', 'list', '--json'], { DATABASE_URL: tdb.url!, NIXA_MASTER_KEY: TEST_MASTER_KEY });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { clientId: string }[]).map((c) => c.clientId)).toContain('dvc-hanoi');
  });

  it('on the embedded database, goes through the running server, and opens the database itself when none runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nixa-embedded-'));
    const env = { NIXA_DATA_DIR: dataDir, NIXA_MASTER_KEY: TEST_MASTER_KEY, NIXA_DEMO: 'false', NIXA_LOG_LEVEL: 'silent' };
    const port = await freePort();
    const server = await startNixa(loadConfig({ ...env, PORT: String(port), NIXA_HOST: '127.0.0.1' }), { logger: silentLogger });
    try {
      const add = await exec(['clients', 'add', '--client-id', 'dvc-danang', '--name', 'Đà Nẵng', '--redirect-uri', 'https://danang.gov.vn/cb', ...WHY], env);
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      // The server's own handle sees it: the command ran inside the server.
      const { rows } = await server.db.query('SELECT 1 FROM clients WHERE client_id = $1', ['dvc-danang']);
      expect(rows).toHaveLength(1);
    } finally {
      await server.close();
    }
    const list = await exec(['clients', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('dvc-danang');
    // Two first starts of an embedded database (the server's, then the command's own):
    // over a minute on a busy two-core machine.
  }, 180_000);
});
