// Organisation registries as data, at the service level: registration and its
// validation (every problem at once, each naming its field), the client secret
// kept only encrypted and bound to the registry id, the table's own constraints,
// changes, enabling only after a passing test, disabling, and the audit trail.
import { randomBytes } from 'node:crypto';

import { ConflictError, InvalidInputError, NotFoundError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import {
  addRegistry,
  changeRegistry,
  disableRegistry,
  enableRegistry,
  getRegistry,
  listRegistries,
  RegistryCatalogue,
  viewRegistry,
} from '../../src/registries/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;
const cipher = new Cipher(randomBytes(32));
const DEV = { allowHttpLoopback: true };
const PROD = { allowHttpLoopback: false };
const WHY = 'Kết nối sổ đăng ký doanh nghiệp quốc gia';

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

let counter = 0;
function registration(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const id = `dkkd-${counter}`;
  const secret = `bi-mat-dkkd-${randomBytes(16).toString('base64url')}`;
  const input: Record<string, unknown> = {
    id,
    kind: 'business',
    name_vi: 'Hệ thống thông tin quốc gia về đăng ký doanh nghiệp',
    name_en: 'National business registration system',
    issuer: 'https://xacthuc.dangkykinhdoanh.gov.vn',
    api_url: 'https://api.dangkykinhdoanh.gov.vn/nixa',
    client_id: 'nixa-prod',
    auth_method: 'client_secret_basic',
    client_secret: secret,
    timeout_ms: 2500,
    ...overrides,
  };
  for (const [k, v] of Object.entries(input)) if (v === undefined) delete input[k];
  return { input, id, secret };
}

async function auditOf(id: string) {
  const { rows } = await tdb.db.query<{ event: string; actor: string; reason: string | null; details: Record<string, unknown> }>(
    'SELECT event, actor, reason, details FROM audit_events WHERE subject = $1 ORDER BY seq',
    [id],
  );
  return rows;
}

async function refusal(fn: () => Promise<unknown>): Promise<InvalidInputError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  return err as InvalidInputError;
}

describe('registering an organisation registry', () => {
  it('stores it disabled, its client secret only encrypted and bound to the registry id, and audits REGISTRY_ADDED with the reason', async () => {
    const { input, id, secret } = registration();
    const added = await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    expect(added).toEqual({
      id,
      kind: 'business',
      name: { vi: 'Hệ thống thông tin quốc gia về đăng ký doanh nghiệp', en: 'National business registration system' },
      issuer: 'https://xacthuc.dangkykinhdoanh.gov.vn',
      apiUrl: 'https://api.dangkykinhdoanh.gov.vn/nixa',
      clientId: 'nixa-prod',
      authMethod: 'client_secret_basic',
      clientSecret: secret,
      timeoutMs: 2500,
      enabled: false,
      health: { status: 'unknown', error: null, checkedAt: null },
      version: 1,
    });
    expect(viewRegistry(added)).not.toHaveProperty('clientSecret');
    expect(viewRegistry(added).hasClientSecret).toBe(true);

    const { rows } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM organisation_registries WHERE id = $1', [id]);
    const row = rows[0]!;
    for (const [column, v] of Object.entries(row)) {
      const text = v instanceof Uint8Array ? Buffer.from(v).toString('utf8') + Buffer.from(v).toString('latin1') : String(v);
      expect({ column, leaks: text.includes(secret) }).toEqual({ column, leaks: false });
    }
    const enc = Buffer.from(row.client_secret_enc as Uint8Array);
    expect(cipher.decrypt(enc, `registry:${id}`)).toBe(secret);
    expect(() => cipher.decrypt(enc, `source:${id}`)).toThrow();
    expect(() => cipher.decrypt(enc, 'registry:dkkd-other')).toThrow();

    const audit = await auditOf(id);
    expect(audit).toEqual([
      {
        event: 'REGISTRY_ADDED',
        actor: 'cli:operator',
        reason: WHY,
        details: { kind: 'business', issuer: input.issuer, apiUrl: input.api_url, authMethod: 'client_secret_basic', enabled: false },
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('keeps no secret for private_key_jwt, and defaults the timeout to 3000 ms', async () => {
    const { input, id } = registration({ auth_method: 'private_key_jwt', client_secret: undefined, timeout_ms: undefined });
    const added = await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    expect(added).toMatchObject({ authMethod: 'private_key_jwt', clientSecret: undefined, timeoutMs: 3000 });
    const { rows } = await tdb.db.query<{ client_secret_enc: unknown }>('SELECT client_secret_enc FROM organisation_registries WHERE id = $1', [id]);
    expect(rows[0]!.client_secret_enc).toBeNull();
  });

  it('reports every problem of a registration at once, each naming its field', async () => {
    const { input } = registration({
      id: 'Sổ Đăng Ký',
      kind: 'guardianship',
      name_en: '',
      issuer: 'http://xacthuc.dangkykinhdoanh.gov.vn/.well-known/oauth-authorization-server',
      api_url: 'not a url',
      auth_method: 'client_secret_jwt',
      client_secret: 'ngan',
      timeout_ms: 90_000,
      scopes: ['representation.read'],
    });
    const err = await refusal(() => addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY }));
    const lines = err.message.split('\n').map((l) => l.trim());
    expect(err.field).toBe('id');
    expect(lines.sort()).toEqual(
      [
        'input: unknown field(s): scopes',
        'id: 2 to 41 lowercase letters, digits or dashes',
        'kind: one of business',
        'name_en: is required',
        'issuer: an https URL',
        'issuer: the issuer identifier itself, not its /.well-known/ metadata URL',
        'api_url: an absolute URL',
        'auth_method: client_secret_basic, client_secret_post or private_key_jwt',
        'client_secret: at least 16 characters',
        'timeout_ms: at most 60000 ms',
      ].sort(),
    );
    expect(await listRegistries(tdb.db, cipher)).not.toContainEqual(expect.objectContaining({ id: 'Sổ Đăng Ký' }));
  });

  it('names a missing field as required, and the secret rules of each method', async () => {
    const missing = registration({ api_url: undefined });
    expect((await refusal(() => addRegistry(tdb.db, cipher, missing.input, 'cli:operator', { ...PROD, reason: WHY }))).message).toBe('api_url: is required');
    const noSecret = registration({ client_secret: undefined, auth_method: 'client_secret_post' });
    expect((await refusal(() => addRegistry(tdb.db, cipher, noSecret.input, 'cli:operator', { ...PROD, reason: WHY }))).message).toBe('client_secret: is required for client_secret_post');
    const jwtWithSecret = registration({ auth_method: 'private_key_jwt' });
    expect((await refusal(() => addRegistry(tdb.db, cipher, jwtWithSecret.input, 'cli:operator', { ...PROD, reason: WHY }))).message).toBe(
      'client_secret: is not used with private_key_jwt (nixa signs with its own key)',
    );
  });

  it('allows plain http to localhost outside production only', async () => {
    const local = registration({ issuer: 'http://127.0.0.1:4010', api_url: 'http://localhost:4011/' });
    expect((await refusal(() => addRegistry(tdb.db, cipher, local.input, 'cli:operator', { ...PROD, reason: WHY }))).field).toBe('issuer');
    expect((await addRegistry(tdb.db, cipher, local.input, 'cli:operator', { ...DEV, reason: WHY })).issuer).toBe('http://127.0.0.1:4010');
    const lan = registration({ issuer: 'http://10.0.0.5:4010' });
    expect((await refusal(() => addRegistry(tdb.db, cipher, lan.input, 'cli:operator', { ...DEV, reason: WHY }))).message).toBe('issuer: an https URL (http only for localhost)');
  });

  it('refuses a second registration under the same id', async () => {
    const { input, id } = registration();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    expect((await refusal(() => addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY }))).message).toBe(`id: "${id}" is already registered`);
  });

  it('the table itself refuses a row without a secret for a secret method, or with one for private_key_jwt', async () => {
    const insert = (id: string, method: string, secret: Buffer | null) =>
      tdb.db.query(
        `INSERT INTO organisation_registries (id, kind, name_vi, name_en, issuer, api_url, client_id, auth_method, client_secret_enc)
         VALUES ($1, 'business', 'Sổ', 'Register', 'https://a.example.vn', 'https://b.example.vn', 'nixa', $2, $3)`,
        [id, method, secret],
      );
    await expect(insert('tay-khong-bi-mat', 'client_secret_basic', null)).rejects.toThrow(/organisation_registries_secret_check/);
    await expect(insert('tay-co-bi-mat', 'private_key_jwt', Buffer.from('x'))).rejects.toThrow(/organisation_registries_secret_check/);
    await expect(insert('tay-kind', 'private_key_jwt', null).then(() => tdb.db.query(`UPDATE organisation_registries SET kind = 'bank' WHERE id = 'tay-kind'`))).rejects.toThrow(/kind_check/);
    await expect(tdb.db.query(`UPDATE organisation_registries SET timeout_ms = 50 WHERE id = 'tay-kind'`)).rejects.toThrow(/timeout_ms_check/);
  });
});

describe('changing a registry', () => {
  it('applies a change, audits REGISTRY_CHANGED with the fields and reason, never the new secret', async () => {
    const { input, id } = registration();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    const fresh = `bi-mat-moi-${randomBytes(16).toString('base64url')}`;
    const { registry, changed } = await changeRegistry(tdb.db, cipher, id, { timeout_ms: 1500, client_secret: fresh }, 'cli:operator', { ...PROD, reason: 'Đổi mật khẩu theo lịch quý IV' });
    expect(changed).toEqual(['timeout_ms', 'client_secret']);
    expect(registry).toMatchObject({ timeoutMs: 1500, clientSecret: fresh, version: 2 });
    const audit = await auditOf(id);
    expect(audit.map((a) => [a.event, a.reason, a.details])).toEqual([
      ['REGISTRY_ADDED', WHY, expect.any(Object)],
      ['REGISTRY_CHANGED', 'Đổi mật khẩu theo lịch quý IV', { changed: ['timeout_ms', 'client_secret (new value not logged)'], enabled: false }],
    ]);
    expect(JSON.stringify(audit)).not.toContain(fresh);
  });

  it('writes nothing for a change that changes nothing', async () => {
    const { input, id } = registration();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    const { changed, registry } = await changeRegistry(tdb.db, cipher, id, { timeout_ms: 2500, name_vi: input.name_vi }, 'cli:operator', { ...PROD, reason: WHY });
    expect(changed).toEqual([]);
    expect(registry.version).toBe(1);
    expect((await auditOf(id)).map((a) => a.event)).toEqual(['REGISTRY_ADDED']);
  });

  it('refuses a malformed change naming the field, a changed id, and a stale version', async () => {
    const { input, id } = registration();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    expect((await refusal(() => changeRegistry(tdb.db, cipher, id, { api_url: 'ftp://x' }, 'cli:operator', { ...PROD, reason: WHY }))).field).toBe('api_url');
    expect((await refusal(() => changeRegistry(tdb.db, cipher, id, { id: 'khac' }, 'cli:operator', { ...PROD, reason: WHY }))).message).toBe('id: cannot be changed');
    await changeRegistry(tdb.db, cipher, id, { timeout_ms: 4000 }, 'cli:a', { ...PROD, reason: WHY, expectedVersion: 1 });
    await expect(changeRegistry(tdb.db, cipher, id, { timeout_ms: 5000 }, 'cli:b', { ...PROD, reason: WHY, expectedVersion: 1 })).rejects.toBeInstanceOf(ConflictError);
    expect((await getRegistry(tdb.db, cipher, id)).timeoutMs).toBe(4000);
  });

  it('drops the stored secret when switching to private_key_jwt', async () => {
    const { input, id } = registration();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    const { registry, changed } = await changeRegistry(tdb.db, cipher, id, { auth_method: 'private_key_jwt' }, 'cli:operator', { ...PROD, reason: WHY });
    expect(changed).toEqual(['auth_method', 'client_secret']);
    expect(registry.clientSecret).toBeUndefined();
  });

  it('a registry that does not exist is not found', async () => {
    await expect(getRegistry(tdb.db, cipher, 'khong-co')).rejects.toBeInstanceOf(NotFoundError);
    await expect(disableRegistry(tdb.db, cipher, 'khong-co', 'cli:operator', { ...PROD, reason: WHY })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('enabling and disabling', () => {
  it('enables only after a passing test, and audits enabling and disabling with their reasons', async () => {
    const { input, id } = registration();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    const failing = await enableRegistry(tdb.db, cipher, id, 'cli:operator', { ...PROD, reason: WHY, test: async () => ({ ok: false }) });
    expect(failing.outcome).toBe('test-failed');
    expect((await getRegistry(tdb.db, cipher, id)).enabled).toBe(false);
    expect((await auditOf(id)).map((a) => a.event)).toEqual(['REGISTRY_ADDED']);

    const tested: number[] = [];
    const enabled = await enableRegistry(tdb.db, cipher, id, 'cli:operator', {
      ...PROD,
      reason: 'Sổ đăng ký đã sẵn sàng',
      test: async (r) => {
        tested.push(r.version);
        return { ok: true };
      },
    });
    expect(enabled.outcome).toBe('enabled');
    expect(tested).toEqual([1]);
    expect((await enableRegistry(tdb.db, cipher, id, 'cli:operator', { ...PROD, reason: WHY, test: async () => ({ ok: true }) })).outcome).toBe('already-enabled');

    const { changed } = await disableRegistry(tdb.db, cipher, id, 'cli:operator', { ...PROD, reason: 'Sổ đăng ký bảo trì ngoài giờ' });
    expect(changed).toEqual(['enabled']);
    expect((await disableRegistry(tdb.db, cipher, id, 'cli:operator', { ...PROD, reason: WHY })).changed).toEqual([]);
    expect((await auditOf(id)).map((a) => [a.event, a.reason, a.details])).toEqual([
      ['REGISTRY_ADDED', WHY, expect.any(Object)],
      ['REGISTRY_CHANGED', 'Sổ đăng ký đã sẵn sàng', { changed: ['enabled'], enabled: true }],
      ['REGISTRY_CHANGED', 'Sổ đăng ký bảo trì ngoài giờ', { changed: ['enabled'], enabled: false }],
    ]);
  });

  it('a catalogue sees a change made elsewhere once it refreshes', async () => {
    const { input, id } = registration();
    const catalogue = new RegistryCatalogue(tdb.db, cipher, silentLogger, 60);
    await catalogue.refresh();
    expect(catalogue.get(id)).toBeUndefined();
    await addRegistry(tdb.db, cipher, input, 'cli:operator', { ...PROD, reason: WHY });
    await catalogue.refresh();
    expect(catalogue.get(id)?.enabled).toBe(false);
    await catalogue.recordHealth(id, 'metadata answered HTTP 503');
    expect(catalogue.get(id)?.health).toMatchObject({ status: 'failing', error: 'metadata answered HTTP 503' });
  });
});
