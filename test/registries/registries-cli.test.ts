// `nixa registries …`, run in-process as operators would: register from JSON
// (disabled), list, show (never the secret), update, test the registry (metadata
// and a token), enable only after a passing test, disable; every change says why.
// The registry is a small one started here (local-registry.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cliRunner } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CLIENT_SECRET, startLocalRegistry, type LocalRegistry } from './local-registry.js';

let tdb: TestDatabase;
let registry: LocalRegistry;
const dir = mkdtempSync(join(tmpdir(), 'registries-cli-'));
const nixa = cliRunner(() => tdb.db);
const WHY = ['--reason', 'Kết nối sổ đăng ký doanh nghiệp quốc gia'];

beforeAll(async () => {
  tdb = await createTestDatabase();
  registry = await startLocalRegistry({ organisations: {} });
});

afterAll(async () => {
  await registry?.close();
  await tdb?.drop();
});

let files = 0;
function jsonFile(value: unknown): string {
  files += 1;
  const path = join(dir, `registry-${files}.json`);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

const registration = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  kind: 'business',
  name_vi: 'Cổng thông tin quốc gia về đăng ký doanh nghiệp',
  name_en: 'National business registration portal',
  issuer: registry.issuer,
  api_url: registry.apiUrl,
  client_id: 'nixa',
  auth_method: 'client_secret_basic',
  client_secret: CLIENT_SECRET,
  timeout_ms: 2000,
  ...overrides,
});

async function events(id: string) {
  const { rows } = await tdb.db.query<{ event: string; reason: string; details: Record<string, unknown> }>('SELECT event, reason, details FROM audit_events WHERE subject = $1 ORDER BY seq', [id]);
  return rows;
}

describe('nixa registries', () => {
  it('adds a registry disabled, shows it without its secret, tests it, enables it, and disables it, each with its reason', async () => {
    const add = await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd')), ...WHY);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('status:    disabled; health unknown');
    expect(add.stdout).toContain('client:    nixa (client_secret_basic, secret stored encrypted)');
    expect(add.stdout).toContain('registered dkkd, disabled. Next: nixa registries test dkkd, then nixa registries enable dkkd --reason …');
    expect(add.stdout).not.toContain(CLIENT_SECRET);

    const list = await nixa('registries', 'list');
    expect(list.stdout).toMatch(/^ID\s+KIND\s+NAME\s+STATUS\s+HEALTH\s+VERSION\ndkkd\s+business\s+Cổng thông tin quốc gia về đăng ký doanh nghiệp\s+disabled\s+unknown\s+1\n$/);
    const show = await nixa('registries', 'show', 'dkkd', '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({ id: 'dkkd', hasClientSecret: true, enabled: false });
    expect(show.stdout).not.toContain(CLIENT_SECRET);

    const tokensBefore = registry.tokenRequests;
    const test = await nixa('registries', 'test', 'dkkd');
    expect(test.code).toBe(0);
    expect(test.stdout).toContain(`ok    discovery   issuer ${registry.issuer}, token endpoint ${registry.issuer}/token`);
    expect(test.stdout).toContain('ok    token       client nixa (client_secret_basic) given a token for representation.read, valid 600 s');
    expect(registry.tokenRequests - tokensBefore).toBe(1);

    const enable = await nixa('registries', 'enable', 'dkkd', '--reason', 'Sổ đăng ký đã sẵn sàng');
    expect(enable.code).toBe(0);
    expect(enable.stdout).toContain('enabled dkkd: sign-ins ask it');
    const disable = await nixa('registries', 'disable', 'dkkd', '--reason', 'Sổ đăng ký bảo trì ngoài giờ');
    expect(disable.stdout).toBe('disabled dkkd\n');
    expect((await events('dkkd')).map((e) => [e.event, e.reason, e.details.enabled])).toEqual([
      ['REGISTRY_ADDED', WHY[1], false],
      ['REGISTRY_CHANGED', 'Sổ đăng ký đã sẵn sàng', true],
      ['REGISTRY_CHANGED', 'Sổ đăng ký bảo trì ngoài giờ', false],
    ]);
  });

  it('fails the test and leaves the registry disabled when the registry refuses nixa’s secret', async () => {
    await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd-sai', { client_secret: 'mat-khau-khong-dung-2026' })), ...WHY);
    const test = await nixa('registries', 'test', 'dkkd-sai');
    expect(test.code).toBe(1);
    expect(test.stdout).toContain("FAIL  token       the registry refused nixa's client credentials (invalid_client): check client_id \"nixa\", the secret and auth_method client_secret_basic");
    expect(test.stdout).not.toContain('mat-khau-khong-dung-2026');
    const enable = await nixa('registries', 'enable', 'dkkd-sai', ...WHY);
    expect(enable.code).toBe(1);
    expect(enable.stderr).toContain('nixa: dkkd-sai stays disabled');
    expect((await events('dkkd-sai')).map((e) => e.event)).toEqual(['REGISTRY_ADDED']);
  });

  it('fails the test when the issuer has no metadata', async () => {
    await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd-lac', { issuer: registry.apiUrl })), ...WHY);
    const test = await nixa('registries', 'test', 'dkkd-lac');
    expect(test.code).toBe(1);
    expect(test.stdout).toMatch(/^FAIL {2}discovery {3}discovery: no usable metadata at /m);
  });

  it('refuses without a reason, a file asking to be enabled, and a malformed file, naming the field (exit 2)', async () => {
    const noReason = await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd-x')));
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
    const enabled = await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd-y', { enabled: true })), ...WHY);
    expect(enabled.code).toBe(2);
    expect(enabled.stderr).toContain('enabled: a registry is registered disabled');
    const bad = await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd-z', { api_url: 'ftp://api.example.vn', timeout_ms: 10 })), ...WHY);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('api_url: an https URL (http only for localhost)');
    expect(bad.stderr).toContain('timeout_ms: at least 100 ms');
    expect((await nixa('registries', 'show', 'dkkd-z')).code).toBe(1);
  });

  it('updates fields from JSON, refusing enabled=true (enable tests first) and a stale version', async () => {
    await nixa('registries', 'add', '--from-json', jsonFile(registration('dkkd-u')), ...WHY);
    const up = await nixa('registries', 'update', 'dkkd-u', '--from-json', jsonFile({ timeout_ms: 1200, name_en: 'Business registration portal' }), ...WHY);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('timeout:   1200 ms');
    const again = await nixa('registries', 'update', 'dkkd-u', '--from-json', jsonFile({ timeout_ms: 1200 }), ...WHY);
    expect(again.stdout).toContain('nothing changed');
    const enable = await nixa('registries', 'update', 'dkkd-u', '--from-json', jsonFile({ enabled: true }), ...WHY);
    expect(enable.code).toBe(2);
    expect(enable.stderr).toContain('use nixa registries enable dkkd-u');
    const stale = await nixa('registries', 'update', 'dkkd-u', '--if-version', '1', '--from-json', jsonFile({ timeout_ms: 900 }), ...WHY);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('[NIXA-CNF-001]');
    expect((await events('dkkd-u')).map((e) => [e.event, e.details.changed])).toEqual([
      ['REGISTRY_ADDED', undefined],
      ['REGISTRY_CHANGED', ['timeout_ms', 'name_en']],
    ]);
  });
});
