// `nixa sources …`, run in-process as operators would run it: register from a
// JSON file (disabled, or enabled only after a passing connection test), list,
// show (never the secret), update with --set and --if-version, enable, disable,
// and test a source's discovery document and JWKS. Every change says why.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { startSimulatedSource, type SimulatedSource } from '../../src/simulated-sources/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/nixa.js';

let tdb: TestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'nixa-sources-cli-'));

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

const nixa = cliRunner(() => tdb.db);

let files = 0;
function jsonFile(value: unknown): string {
  files += 1;
  const path = join(dir, `registration-${files}.json`);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

const secretOf = () => `bi-mat-${randomBytes(18).toString('base64url')}`;
const WHY = ['--reason', 'Kết nối ngân hàng đối tác mới'];

/** Registers a source through the command; returns its id and secret. */
async function added(id: string, issuer = `https://id.${id}.example.vn`, kind: 'bank' | 'telecom' | 'citizen_id' = 'bank', overrides: Record<string, unknown> = {}) {
  const secret = typeof overrides.client_secret === 'string' ? overrides.client_secret : secretOf();
  const r = await nixa('sources', 'add', '--from-json', jsonFile({ ...simulatedSourceRegistration(kind, issuer, secret), id, ...overrides }), ...WHY);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { id, secret, out: r.stdout };
}

async function auditEvents(id: string) {
  const { rows } = await tdb.db.query<{ event: string; actor: string; details: Record<string, unknown> }>(
    'SELECT event, actor, details FROM audit_events WHERE subject = $1 ORDER BY seq',
    [id],
  );
  return rows;
}

describe('nixa sources add, list and show', () => {
  it('registers a source from a JSON file, disabled, and prints it without its secret', async () => {
    const { id, secret, out } = await added('ngan-hang-a');
    expect(out).toContain('status:          disabled; health unknown');
    expect(out).toContain('registered ngan-hang-a, disabled. Next: nixa sources test ngan-hang-a, then nixa sources enable ngan-hang-a --reason …');
    expect(out).toContain('id:              ngan-hang-a (bank)');
    expect(out).toContain('name:            Ngân hàng (mô phỏng) / Bank, simulated');
    expect(out).toContain('discovery:       https://id.ngan-hang-a.example.vn/.well-known/openid-configuration');
    expect(out).toContain('client:          nixa (client_secret_basic, secret stored encrypted)');
    expect(out).toContain('levels:          proofing substantial; authentication from acr (urn:vn:bank:loa:substantial=substantial), at most substantial');
    expect(out).not.toContain(secret);
    expect((await auditEvents(id)).map((e) => [e.event, e.actor])).toEqual([['SOURCE_ADDED', 'cli:test']]);
    const { rows } = await tdb.db.query<{ reason: string }>('SELECT reason FROM audit_events WHERE subject = $1', [id]);
    expect(rows[0]!.reason).toBe(WHY[1]);
  });

  it('refuses a registration file that asks to be enabled: only --enable does, after a passing test', async () => {
    const reg = { ...simulatedSourceRegistration('bank', 'https://id.ngan-hang-bat.example.vn', secretOf()), id: 'ngan-hang-bat', enabled: true };
    const r = await nixa('sources', 'add', '--from-json', jsonFile(reg), ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('enabled: a source is registered disabled; give --enable');
    expect((await nixa('sources', 'show', 'ngan-hang-bat')).code).toBe(1);
  });

  it('lists sources with their Vietnamese name, status, health and version', async () => {
    await added('nha-mang-a', 'https://id.nha-mang-a.example.vn', 'telecom');
    const r = await nixa('sources', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID +KIND +NAME +STATUS +HEALTH +VERSION$/);
    expect(r.stdout).toMatch(/nha-mang-a +telecom +Nhà mạng \(mô phỏng\) +disabled +unknown +1/);
    const json = JSON.parse((await nixa('sources', 'list', '--json')).stdout) as { id: string; hasClientSecret: boolean; clientSecret?: string }[];
    const entry = json.find((s) => s.id === 'nha-mang-a')!;
    expect(entry.hasClientSecret).toBe(true);
    expect(entry).not.toHaveProperty('clientSecret');
  });

  it('shows one source, as text or JSON, saying the secret is stored encrypted and never printing it', async () => {
    const { id, secret } = await added('ngan-hang-b');
    const text = await nixa('sources', 'show', id);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('secret stored encrypted');
    expect(text.stdout).toContain('status:          disabled; health unknown');
    expect(text.stdout).toContain('version:         1');
    const json = await nixa('sources', 'show', id, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, hasClientSecret: true, authMethod: 'client_secret_basic' });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(out).not.toContain(secret);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('clientSecret');
  });

  it('reports an unknown source id with exit 1', async () => {
    const r = await nixa('sources', 'show', 'khong-co');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/identity source "khong-co" not found/);
  });

  it('refuses a file that is not JSON with exit 2, naming --from-json, and writes nothing', async () => {
    const before = (await nixa('sources', 'list', '--json')).stdout;
    const path = jsonFile('{ "id": "ngan-hang-hong", ');
    const r = await nixa('sources', 'add', '--from-json', path, ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--from-json: ${path} is not valid JSON`);
    expect((await nixa('sources', 'list', '--json')).stdout).toBe(before);
  });

  it('refuses a missing file with exit 2, naming --from-json', async () => {
    const r = await nixa('sources', 'add', '--from-json', join(dir, 'khong-ton-tai.json'), ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from-json: cannot read/);
  });

  it('refuses an invalid registration with exit 2, naming the field', async () => {
    const reg = { ...simulatedSourceRegistration('bank', 'http://id.ngan-hang-c.example.vn', secretOf()), id: 'ngan-hang-c' };
    const r = await nixa('sources', 'add', '--from-json', jsonFile(reg), ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/discovery_url: an https URL/);
    expect(r.stderr).toContain('NIXA-INP-001');
    expect((await nixa('sources', 'show', 'ngan-hang-c')).code).toBe(1);
  });

  it('reports every problem of a registration file at once, each naming its field', async () => {
    const { claim_mapping: _, ...reg } = simulatedSourceRegistration('bank', 'http://id.ngan-hang-loi.example.vn', 'ngắn');
    const r = await nixa('sources', 'add', '--from-json', jsonFile({ ...reg, id: 'Ngan Hang', scopes: ['kyc'], colour: 'xanh', claim_mapping: { full_name: 'ho_ten' }, authoritative_for: ['full_name'] }), ...WHY);
    expect(r.code).toBe(2);
    for (const problem of [
      'id: 2 to 41 lowercase letters',
      'discovery_url: an https URL',
      'client_secret: at least 16 characters',
      'scopes: must include openid',
      'unknown field(s): colour',
      // A rule between fields, reported with the malformed ones rather than on the next run.
      'claim_mapping.national_id: name the claim carrying the national ID number',
    ]) {
      expect(r.stderr).toContain(problem);
    }
    expect(r.stderr.match(/NIXA-INP-001/g)).toHaveLength(1);
  });
});

describe('nixa sources update and disable', () => {
  it('puts a source in maintenance with a Vietnamese message given as a plain string', async () => {
    const { id } = await added('ngan-hang-d');
    const r = await nixa('sources', 'update', id, '--set', 'maintenance=true', '--set', 'maintenance_message_vi=Bảo trì đến 22:00', '--reason', 'bảo trì định kỳ');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('status:          disabled, in maintenance');
    expect(r.stdout).toContain('version:         2');
    const shown = JSON.parse((await nixa('sources', 'show', id, '--json')).stdout) as { maintenance: unknown };
    expect(shown.maintenance).toEqual({ on: true, message: { vi: 'Bảo trì đến 22:00', en: null } });
    expect((await nixa('sources', 'list')).stdout).toMatch(new RegExp(`${id} +bank +Ngân hàng \\(mô phỏng\\) +disabled +unknown +2`));
    const events = await auditEvents(id);
    expect(events.map((e) => e.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED']);
    expect(events[1]!.details).toEqual({ changed: ['maintenance', 'maintenance_message_vi'], reason: 'bảo trì định kỳ' });
  });

  it('refuses an update on a stale --if-version with exit 1 and a clear message, changing nothing', async () => {
    const { id } = await added('ngan-hang-e');
    expect((await nixa('sources', 'update', id, '--set', 'timeout_ms=4000', '--if-version', '1', ...WHY)).code).toBe(0);
    const stale = await nixa('sources', 'update', id, '--set', 'maintenance=true', '--if-version', '1', ...WHY);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`identity source "${id}" was changed by someone else (version 2, you had 1); reload and try again`);
    expect(stale.stdout).toBe('');
    const shown = JSON.parse((await nixa('sources', 'show', id, '--json')).stdout) as { version: number; timeoutMs: number; maintenance: { on: boolean } };
    expect(shown).toMatchObject({ version: 2, timeoutMs: 4000, maintenance: { on: false } });
    expect((await auditEvents(id)).map((e) => e.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED']);
  });

  it('refuses an update with nothing to change, or a --set without a field, with exit 2', async () => {
    const { id } = await added('ngan-hang-f');
    const none = await nixa('sources', 'update', id, ...WHY);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--set: give at least one field/);
    const bad = await nixa('sources', 'update', id, '--set', '=true', ...WHY);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--set: "=true" must look like field=value/);
    const unknown = await nixa('sources', 'update', id, '--set', 'colour=blue', ...WHY);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown field\(s\): colour/);
    expect(JSON.parse((await nixa('sources', 'show', id, '--json')).stdout).version).toBe(1);
  });

  it('disables a source: listed as disabled and audited as SOURCE_DISABLED with the reason', async () => {
    const { id } = await added('ngan-hang-g');
    // Registered disabled; enabled here by hand, as a source enabled long ago would be.
    await tdb.db.query('UPDATE identity_sources SET enabled = true WHERE id = $1', [id]);
    const r = await nixa('sources', 'disable', id, '--reason', 'hợp đồng kết thúc');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`disabled ${id}\n`);
    expect((await nixa('sources', 'list')).stdout).toMatch(new RegExp(`${id} +bank +Ngân hàng \\(mô phỏng\\) +disabled`));
    expect((await nixa('sources', 'show', id)).stdout).toContain('status:          disabled');
    const events = await auditEvents(id);
    expect(events.map((e) => e.event)).toEqual(['SOURCE_ADDED', 'SOURCE_DISABLED']);
    expect(events[1]!.details).toEqual({ changed: ['enabled'], reason: 'hợp đồng kết thúc' });
  });

  it('writes nothing when disabling a disabled source, or setting a field to the value it has', async () => {
    const { id } = await added('ngan-hang-h');
    const again = await nixa('sources', 'disable', id, '--reason', 'hợp đồng kết thúc');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${id} was already disabled; nothing changed\n`);
    // The mapping in another key order is the same mapping.
    const mapping = JSON.stringify({ birthdate: 'birthdate', full_name: 'name', national_id: 'id_number' });
    const same = await nixa('sources', 'update', id, '--set', 'timeout_ms=5000', '--set', 'scopes=["openid","kyc"]', '--set', `claim_mapping=${mapping}`, '--reason', 'đặt lại như cũ cho chắc');
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('nothing changed: every field already had that value');
    expect(same.stdout).toContain('version:         1');
    expect((await auditEvents(id)).map((e) => e.event)).toEqual(['SOURCE_ADDED']);
    // One field that changes among several that do not: only it is named.
    await nixa('sources', 'update', id, '--set', 'timeout_ms=7000', '--set', 'use_userinfo=false', '--set', `claim_mapping=${mapping}`, '--reason', 'nguồn chậm vào giờ cao điểm');
    const events = await auditEvents(id);
    expect(events.map((e) => e.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED']);
    expect(events[1]!.details.changed).toEqual(['timeout_ms']);
  });

  it('refuses enabling through update: only `sources enable` does, after a passing test', async () => {
    const { id } = await added('ngan-hang-i');
    const r = await nixa('sources', 'update', id, '--set', 'enabled=true', ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`enabled: use nixa sources enable ${id} --reason …`);
    expect((await nixa('sources', 'show', id)).stdout).toContain('status:          disabled');
  });

  it.each([
    ['add', (id: string) => ['sources', 'add', '--from-json', jsonFile({ ...simulatedSourceRegistration('bank', `https://id.${id}.example.vn`, secretOf()), id })]],
    ['update', (id: string) => ['sources', 'update', id, '--set', 'timeout_ms=9000']],
    ['enable', (id: string) => ['sources', 'enable', id]],
    ['disable', (id: string) => ['sources', 'disable', id]],
  ])('refuses `sources %s` without a reason of 10 characters, writing nothing', async (verb, argv) => {
    const { id } = await added(`ngan-hang-ly-do-${verb}`);
    const target = verb === 'add' ? `${id}-moi` : id;
    for (const reason of [[], ['--reason', 'vì thế']]) {
      const r = await nixa(...argv(target), ...reason);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--reason: say why, in at least 10 characters');
    }
    expect((await auditEvents(id)).map((e) => e.event)).toEqual(['SOURCE_ADDED']);
    expect(await auditEvents(`${id}-moi`)).toEqual([]);
  });
});

describe('nixa sources test', () => {
  // The source knows nixa by its secret; a registration with another secret must not pass.
  const secret = secretOf();
  const postSecret = secretOf();
  let live: SimulatedSource;

  beforeAll(async () => {
    live = await startSimulatedSource({
      kind: 'bank',
      clients: [
        { client_id: 'nixa', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['http://127.0.0.1:1/federation/callback'] },
        // Like LemonLDAP: the secret in the request body, and a client id with a dash.
        { client_id: 'nixa-prod', client_secret: postSecret, token_endpoint_auth_method: 'client_secret_post', redirect_uris: ['http://127.0.0.1:1/federation/callback'] },
      ],
    });
  });

  afterAll(async () => {
    await live?.close();
  });

  const STEPS = ['discovery', 'endpoints', 'pkce', 'scopes', 'jwks', 'credentials'];

  it('reports every check ok for a live source, the client credentials included, and exits 0', async () => {
    const { id } = await added('ngan-hang-song', live.issuer, 'bank', { client_secret: secret });
    const r = await nixa('sources', 'test', id);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const step of STEPS) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ok +${step} `)));
    }
    expect(r.stdout).toContain(`issuer ${live.issuer}`);
    expect(r.stdout).toMatch(/jwks +[1-9]\d* key\(s\)/);
    expect(r.stdout).toMatch(/^ok +credentials +.*invalid_grant/m);
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).not.toContain('WARN');
    expect(lines.at(-1)).toBe('source reachable and well-formed');
    expect(r.stdout).not.toContain(secret);
  });

  it('fails the credentials check, and exits 1, when the source refuses nixa\'s client secret', async () => {
    const wrong = secretOf();
    const { id } = await added('ngan-hang-sai-khoa', live.issuer, 'bank', { client_secret: wrong });
    const r = await nixa('sources', 'test', id);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL +credentials +the source refused nixa's client credentials \(invalid_client\)/m);
    // The rest of the source is fine: only the credentials line fails.
    for (const step of STEPS.slice(0, -1)) expect(r.stdout).toMatch(new RegExp(`^ok +${step} `, 'm'));
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('source has problems (see FAIL lines)');
    expect(r.stdout).not.toContain(wrong);
    expect(r.stdout).not.toContain(secret);
  });

  it('checks a client_secret_post source whose client id has a dash: ok with its secret, FAIL when sent as client_secret_basic', async () => {
    const post = await added('ngan-hang-post', live.issuer, 'bank', { client_id: 'nixa-prod', auth_method: 'client_secret_post', client_secret: postSecret });
    const ok = await nixa('sources', 'test', post.id);
    expect(ok.stdout).toMatch(/^ok +credentials /m);
    expect(ok.code).toBe(0);
    const basic = await added('ngan-hang-post-basic', live.issuer, 'bank', { client_id: 'nixa-prod', auth_method: 'client_secret_basic', client_secret: postSecret });
    const refused = await nixa('sources', 'test', basic.id);
    expect(refused.stdout).toMatch(/^FAIL +credentials +.*invalid_client/m);
    expect(refused.code).toBe(1);
  });

  it('reports a scope the source does not advertise as a warning, and exits 0', async () => {
    const { id } = await added('ngan-hang-them-scope', live.issuer, 'bank', { client_secret: secret, scopes: ['openid', 'kyc', 'so_tai_khoan'] });
    const r = await nixa('sources', 'test', id);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^WARN +scopes +not advertised: so_tai_khoan/m);
    expect(r.stdout).toMatch(/^ok +credentials /m);
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('source reachable and well-formed, with warnings (see WARN lines)');
  });

  it('add --enable: offers the source to citizens only after its connection test passes', async () => {
    const reg = { ...simulatedSourceRegistration('bank', live.issuer, secret), id: 'ngan-hang-bat-ngay' };
    const r = await nixa('sources', 'add', '--from-json', jsonFile(reg), '--enable', ...WHY);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok +credentials /m);
    expect(r.stdout).toContain('enabled ngan-hang-bat-ngay: citizens are offered it on the chooser');
    expect((await nixa('sources', 'show', 'ngan-hang-bat-ngay')).stdout).toContain('status:          enabled');
    const events = await auditEvents('ngan-hang-bat-ngay');
    expect(events.map((e) => e.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED']);
    expect(events[1]!.details).toEqual({ changed: ['enabled'], reason: WHY[1] });
  });

  it('add --enable: a source whose test fails is registered disabled, and the command exits 1 saying so', async () => {
    const wrong = secretOf();
    const reg = { ...simulatedSourceRegistration('bank', live.issuer, wrong), id: 'ngan-hang-bat-sai' };
    const r = await nixa('sources', 'add', '--from-json', jsonFile(reg), '--enable', ...WHY);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL +credentials +the source refused nixa's client credentials/m);
    expect(r.stderr).toContain('ngan-hang-bat-sai stays disabled: its connection test failed');
    expect((await nixa('sources', 'show', 'ngan-hang-bat-sai')).stdout).toContain('status:          disabled');
    expect((await auditEvents('ngan-hang-bat-sai')).map((e) => e.event)).toEqual(['SOURCE_ADDED']);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it('enable: refuses while the test fails, enables once the source is fixed, and says when it already is', async () => {
    const { id } = await added('ngan-hang-sua', live.issuer, 'bank', { client_secret: secretOf() });
    const refused = await nixa('sources', 'enable', id, ...WHY);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^FAIL +credentials /m);
    expect((await nixa('sources', 'show', id)).stdout).toContain('status:          disabled');

    expect((await nixa('sources', 'update', id, '--set', `client_secret=${secret}`, '--reason', 'sửa bí mật dùng chung với ngân hàng')).code).toBe(0);
    const stale = await nixa('sources', 'enable', id, '--if-version', '1', ...WHY);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('was changed by someone else (version 2, you had 1)');
    const enabled = await nixa('sources', 'enable', id, '--if-version', '2', ...WHY);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toContain(`enabled ${id}: citizens are offered it on the chooser`);
    const again = await nixa('sources', 'enable', id, ...WHY);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${id} was already enabled; nothing changed\n`);
    expect((await auditEvents(id)).map((e) => e.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED', 'SOURCE_UPDATED']);
  });

  it('reports a FAIL discovery line and exits 1 when nothing listens at the discovery URL', async () => {
    const port = await freePort();
    const { id } = await added('ngan-hang-tat', `http://127.0.0.1:${port}`);
    const r = await nixa('sources', 'test', id);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL +discovery +\S/m);
    expect(r.stdout).not.toMatch(/^ok /m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('source has problems (see FAIL lines)');
  });
});
