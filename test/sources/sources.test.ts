// Identity sources as data, at the service level: registration and its
// validation (every refusal names the field), the client secret kept only
// encrypted, optimistic updates, the audit trail, and every registry picking up
// a change through NOTIFY without a restart.
import { randomBytes } from 'node:crypto';

import { simulatedSourceRegistration } from '../../src/app/dev-sources.js';
import { ConflictError, InvalidInputError, StateError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { addSource, changeSource, enableSource, getSource, SourceRegistry, updateSource, type Source, type SourceCheck } from '../../src/sources/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

let tdb: TestDatabase;
const cipher = new Cipher(randomBytes(32));
const DEV = { allowHttpLoopback: true };
const PROD = { allowHttpLoopback: false };

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

let counter = 0;
/** A realistic registration (the simulated bank's, as an operator would write it) under a fresh id and https URL. */
function bankRegistration(overrides: Record<string, unknown> = {}): { input: Record<string, unknown>; id: string; secret: string } {
  counter += 1;
  const id = `bank-${counter}-${randomBytes(3).toString('hex')}`;
  const secret = `bi-mat-ngan-hang-${randomBytes(16).toString('base64url')}`;
  const input = { ...simulatedSourceRegistration('bank', `https://id.nganhang-${counter}.example.vn`, secret), id, ...overrides };
  return { input, id, secret };
}

async function count(table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return rows[0]!.n;
}

async function auditOf(id: string) {
  const { rows } = await tdb.db.query<{ event: string; actor: string; details: Record<string, unknown> }>(
    'SELECT event, actor, details FROM audit_events WHERE subject = $1 ORDER BY seq',
    [id],
  );
  return rows;
}

/** Every column of the stored row, as text a leak could be found in. */
function columnTexts(row: Record<string, unknown>): [string, string][] {
  return Object.entries(row).map(([k, v]) => [
    k,
    v instanceof Uint8Array ? Buffer.from(v).toString('utf8') + Buffer.from(v).toString('latin1') : typeof v === 'string' ? v : JSON.stringify(v),
  ]);
}

function refusal(fn: () => Promise<unknown>): Promise<InvalidInputError> {
  return fn().then(
    () => {
      throw new Error('expected the registration to be refused');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(InvalidInputError);
      return err as InvalidInputError;
    },
  );
}

describe('registering an identity source', () => {
  it('stores a realistic registration and keeps its client secret only encrypted, bound to the source id', async () => {
    const { input, id, secret } = bankRegistration();
    const added = await addSource(tdb.db, cipher, input, 'cli:operator', PROD);
    expect(added).toMatchObject({
      id,
      kind: 'bank',
      name: { vi: 'Ngân hàng (mô phỏng)', en: 'Bank, simulated' },
      discoveryUrl: input.discovery_url,
      clientId: 'nixa',
      authMethod: 'client_secret_basic',
      clientSecret: secret,
      scopes: ['openid', 'kyc'],
      authoritativeFor: ['national_id', 'full_name', 'birthdate'],
      proofingLevel: 'substantial',
      authLevel: null,
      acrLevels: { 'urn:vn:bank:loa:substantial': 'substantial' },
      maxAuthLevel: 'substantial',
      timeoutMs: 5000,
      enabled: true,
      maintenance: { on: false, message: { vi: null, en: null } },
      health: { status: 'unknown', error: null, checkedAt: null },
      version: 1,
    });

    const { rows } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM identity_sources WHERE id = $1', [id]);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    for (const [column, text] of columnTexts(row)) {
      expect({ column, leaks: text.includes(secret) }).toEqual({ column, leaks: false });
    }
    const enc = Buffer.from(row.client_secret_enc as Uint8Array);
    expect(enc.length).toBeGreaterThan(secret.length);
    expect(enc.includes(Buffer.from(secret, 'utf8'))).toBe(false);
    expect(enc.toString('utf8')).not.toBe(secret);
    // Decrypts under its own id only: a row copied to another source id is useless.
    expect(cipher.decrypt(enc, `source:${id}`)).toBe(secret);
    expect(() => cipher.decrypt(enc, 'source:sim-bank')).toThrow();
    // Another master key cannot read it either.
    expect(() => new Cipher(randomBytes(32)).decrypt(enc, `source:${id}`)).toThrow();

    const audit = await auditOf(id);
    expect(audit.map((a) => a.event)).toEqual(['SOURCE_ADDED']);
    expect(audit[0]!.actor).toBe('cli:operator');
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('allows a plain-http discovery URL on localhost only outside production', async () => {
    const local = bankRegistration({ discovery_url: 'http://localhost:4003/.well-known/openid-configuration' });
    expect((await addSource(tdb.db, cipher, local.input, 'test', DEV)).discoveryUrl).toBe('http://localhost:4003/.well-known/openid-configuration');
    const prod = bankRegistration({ discovery_url: 'http://localhost:4003/.well-known/openid-configuration' });
    const err = await refusal(() => addSource(tdb.db, cipher, prod.input, 'test', PROD));
    expect(err.field).toBe('discovery_url');
    expect(err.problem).toMatch(/https/);
  });

  const drop = (field: string) => (input: Record<string, unknown>) => {
    const copy = { ...input };
    delete copy[field];
    return copy;
  };
  const set = (patch: Record<string, unknown>) => (input: Record<string, unknown>) => ({ ...input, ...patch });

  it.each<[string, string, (i: Record<string, unknown>) => Record<string, unknown>, RegExp]>([
    ['an id with capitals and spaces', 'id', set({ id: 'Ngân Hàng A' }), /lowercase letters, digits or dashes/],
    ['an unknown kind', 'kind', set({ kind: 'post_office' }), /citizen_id, telecom, bank, other/],
    ['a plain-http discovery URL outside loopback', 'discovery_url', set({ discovery_url: 'http://id.nganhang.example.vn/.well-known/openid-configuration' }), /https URL \(http only for localhost\)/],
    ['a loopback look-alike host over http', 'discovery_url', set({ discovery_url: 'http://localhost.nganhang.example.vn/.well-known/openid-configuration' }), /https/],
    ['client_secret_basic without a secret', 'client_secret', drop('client_secret'), /required for client_secret_basic/],
    ['private_key_jwt with a secret', 'client_secret', set({ auth_method: 'private_key_jwt' }), /not used with private_key_jwt/],
    ['authority over an attribute it does not map', 'authoritative_for', set({ authoritative_for: ['national_id', 'gender'] }), /"gender" has no entry in claim_mapping/],
    ['scopes without openid', 'scopes', set({ scopes: ['kyc'] }), /must include openid/],
    ['a registration with neither auth_level nor acr_levels', 'auth_level', drop('acr_levels'), /set auth_level, or acr_levels/],
    ['an auth_level of null and no acr_levels', 'auth_level', set({ auth_level: null, acr_levels: undefined }), /set auth_level, or acr_levels/],
    ['an empty acr_levels and no auth_level', 'acr_levels', set({ acr_levels: {} }), /map at least one acr/],
    ['an unknown proofing level', 'proofing_level', set({ proofing_level: 'very-high' }), /one of low, substantial, high/],
    ['an unknown level inside acr_levels', 'acr_levels.urn:vn:bank:loa:substantial', set({ acr_levels: { 'urn:vn:bank:loa:substantial': 'medium' } }), /one of low, substantial, high/],
    ['an unknown field "colour" (named in the message)', 'input', set({ colour: 'blue' }), /unknown field\(s\): colour/],
    ['client_secret_post without a secret', 'client_secret', (i) => ({ ...drop('client_secret')(i), auth_method: 'client_secret_post' }), /required for client_secret_post/],
    [
      'an identity source with no claim carrying the national ID number',
      'claim_mapping.national_id',
      set({ claim_mapping: { full_name: 'name', birthdate: 'birthdate' }, authoritative_for: ['full_name', 'birthdate'] }),
      /nixa links accounts by the national ID number.*role "step-up-only"/,
    ],
    [
      'an identity source that maps the national ID number without vouching for it',
      'authoritative_for',
      set({ authoritative_for: ['full_name', 'birthdate'] }),
      /must include national_id.*role "step-up-only"/,
    ],
    ['an unknown role', 'role', set({ role: 'login-only' }), /identity or step-up-only/],
  ])('refuses %s, naming the field %s, and writes nothing', async (_what, field, change, problem) => {
    const { input, id } = bankRegistration();
    const patched = change(input);
    for (const k of Object.keys(patched)) if (patched[k] === undefined) delete patched[k];
    const [sources, events] = [await count('identity_sources'), await count('audit_events')];
    const err = await refusal(() => addSource(tdb.db, cipher, patched, 'test', DEV));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(problem);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
    expect(await count('identity_sources')).toBe(sources);
    expect(await count('audit_events')).toBe(events);
    expect(await count('identity_sources', 'id = $1', [id])).toBe(0);
  });

  it('registers a source that sends the client secret in the request body (client_secret_post), with a client id containing dashes', async () => {
    const { input, id, secret } = bankRegistration({ auth_method: 'client_secret_post', client_id: 'nixa-prod' });
    const added = await addSource(tdb.db, cipher, input, 'test', PROD);
    expect(added).toMatchObject({ id, authMethod: 'client_secret_post', clientId: 'nixa-prod', clientSecret: secret, role: 'identity' });
    expect((await getSource(tdb.db, cipher, id)).authMethod).toBe('client_secret_post');
  });

  it('registers a source that asserts no national ID number when it is marked step-up-only, and keeps the mark', async () => {
    const { input, id } = bankRegistration({
      role: 'step-up-only',
      claim_mapping: { full_name: 'name', birthdate: 'birthdate' },
      authoritative_for: [],
    });
    const added = await addSource(tdb.db, cipher, input, 'test', PROD);
    expect(added).toMatchObject({ id, role: 'step-up-only', authoritativeFor: [] });
    // Turning it into an identity source needs the number's claim: refused, naming it, and nothing changes.
    const err = await refusal(() => updateSource(tdb.db, cipher, id, { role: 'identity' }, 'test', PROD));
    expect(err.field).toBe('claim_mapping.national_id');
    expect(await getSource(tdb.db, cipher, id)).toEqual(added);
  });

  it('refuses to register the same id twice and keeps the first registration untouched', async () => {
    const first = bankRegistration();
    await addSource(tdb.db, cipher, first.input, 'test', PROD);
    const events = await count('audit_events');
    const second = { ...first.input, name_vi: 'Ngân hàng khác', client_secret: 'mot-bi-mat-khac-hoan-toan' };
    const err = await refusal(() => addSource(tdb.db, cipher, second, 'test', PROD));
    expect(err.field).toBe('id');
    expect(err.problem).toBe(`"${first.id}" is already registered`);
    const kept = await getSource(tdb.db, cipher, first.id);
    expect(kept.name.vi).toBe('Ngân hàng (mô phỏng)');
    expect(kept.clientSecret).toBe(first.secret);
    expect(kept.version).toBe(1);
    expect(await count('audit_events')).toBe(events);
  });
});

describe('a source vouching for minor children (wards_claim)', () => {
  /** The simulated citizen-ID source's registration (high, maps number, name, birthdate, gender), under a fresh id. */
  function citizenIdRegistration(overrides: Record<string, unknown> = {}): { input: Record<string, unknown>; id: string } {
    counter += 1;
    const id = `dancu-${counter}-${randomBytes(3).toString('hex')}`;
    return { id, input: { ...simulatedSourceRegistration('citizen_id', `https://dancu-${counter}.example.vn`, `bi-mat-dan-cu-${randomBytes(16).toString('base64url')}`), id, ...overrides } };
  }

  it('stores the claim for an identity source at proofing level high, and removes it when set to null', async () => {
    const { input, id } = citizenIdRegistration();
    expect(input.wards_claim).toBe('con_chua_thanh_nien');
    expect((await addSource(tdb.db, cipher, input, 'test', PROD)).wardsClaim).toBe('con_chua_thanh_nien');
    expect((await getSource(tdb.db, cipher, id)).wardsClaim).toBe('con_chua_thanh_nien');
    const { changed, source } = await changeSource(tdb.db, cipher, id, { wards_claim: null }, 'test', PROD);
    expect(changed).toEqual(['wards_claim']);
    expect(source).not.toHaveProperty('wardsClaim');
    // A source without the field says nothing about children.
    expect((await addSource(tdb.db, cipher, bankRegistration().input, 'test', PROD)).wardsClaim).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a source proofing at level substantial', { proofing_level: 'substantial', acr_levels: { 'urn:vn:dancu:loa:high': 'substantial' }, max_auth_level: 'substantial' }, /needs proofing_level high \(this source is substantial\): only a source that proved identity at level high may say who is whose child/],
    ['a source proofing at level low', { proofing_level: 'low', acr_levels: undefined, auth_level: 'low', max_auth_level: 'low' }, /needs proofing_level high \(this source is low\)/],
    ['a step-up-only source', { role: 'step-up-only' }, /only for an identity source.*step-up-only source does not vouch for who the person is/],
    [
      'a source whose claim_mapping does not map birthdate',
      { claim_mapping: { national_id: 'so_dinh_danh', full_name: 'ho_va_ten' }, authoritative_for: ['national_id', 'full_name'] },
      /must map national_id, full_name and birthdate \(missing: birthdate\)/,
    ],
    ['a claim name with a space', { wards_claim: 'con chua thanh nien' }, /a claim name/],
  ])('refuses it on %s, naming wards_claim, and writes nothing', async (_what, overrides, problem) => {
    const { input, id } = citizenIdRegistration(overrides);
    for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
    const err = await refusal(() => addSource(tdb.db, cipher, input, 'test', PROD));
    expect(err.field).toBe('wards_claim');
    expect(err.message).toMatch(problem);
    expect(await count('identity_sources', 'id = $1', [id])).toBe(0);
  });

  it('refuses to lower the proofing level of a source that vouches for children, and the database refuses it too', async () => {
    const { input, id } = citizenIdRegistration();
    await addSource(tdb.db, cipher, input, 'test', PROD);
    const err = await refusal(() => updateSource(tdb.db, cipher, id, { proofing_level: 'substantial' }, 'test', PROD));
    expect(err.field).toBe('wards_claim');
    await expect(tdb.db.query("UPDATE identity_sources SET proofing_level = 'substantial' WHERE id = $1", [id])).rejects.toThrow(/identity_sources_wards_check/);
    expect((await getSource(tdb.db, cipher, id)).proofingLevel).toBe('high');
  });
});

describe('changing an identity source', () => {
  let current: Source;
  let secret: string;

  beforeEach(async () => {
    const reg = bankRegistration();
    secret = reg.secret;
    current = await addSource(tdb.db, cipher, reg.input, 'test', PROD);
  });

  it('refuses an update made on a stale version, naming both versions, and changes nothing', async () => {
    const moved = await updateSource(tdb.db, cipher, current.id, { name_en: 'Bank (renamed)' }, 'cli:alice', { ...PROD, expectedVersion: 1 });
    expect(moved.version).toBe(2);
    const events = await count('audit_events');
    const stale = updateSource(tdb.db, cipher, current.id, { maintenance: true }, 'cli:bob', { ...PROD, expectedVersion: 1 });
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    await expect(stale).rejects.toThrow(`identity source "${current.id}" was changed by someone else (version 2, you had 1); reload and try again`);
    const after = await getSource(tdb.db, cipher, current.id);
    expect(after).toEqual(moved);
    expect(after.maintenance.on).toBe(false);
    expect(await count('audit_events')).toBe(events);
  });

  it('changes only the field given, keeping every other field and the secret', async () => {
    const updated = await updateSource(tdb.db, cipher, current.id, { timeout_ms: 8000 }, 'test', PROD);
    expect(updated.timeoutMs).toBe(8000);
    expect(updated.version).toBe(current.version + 1);
    expect(updated.clientSecret).toBe(secret);
    const strip = ({ timeoutMs: _t, version: _v, ...rest }: Source) => rest;
    expect(strip(updated)).toEqual(strip(current));
    expect(strip(await getSource(tdb.db, cipher, current.id))).toEqual(strip(current));
  });

  it('refuses a patch that would break the registration, naming the field, and changes nothing', async () => {
    const err = await refusal(() => updateSource(tdb.db, cipher, current.id, { scopes: ['kyc'] }, 'test', PROD));
    expect(err.field).toBe('scopes');
    const renamed = await refusal(() => updateSource(tdb.db, cipher, current.id, { id: 'bank-other' }, 'test', PROD));
    expect(renamed.field).toBe('id');
    expect(await getSource(tdb.db, cipher, current.id)).toEqual(current);
  });

  it('refuses a switch to private_key_jwt that also sends a secret, rather than dropping it silently', async () => {
    const err = await refusal(() => updateSource(tdb.db, cipher, current.id, { auth_method: 'private_key_jwt', client_secret: 'x'.repeat(32) }, 'test', PROD));
    expect(err.field).toBe('client_secret');
    expect(await getSource(tdb.db, cipher, current.id)).toEqual(current);
    const switched = await updateSource(tdb.db, cipher, current.id, { auth_method: 'private_key_jwt' }, 'test', PROD);
    expect(switched.clientSecret).toBeUndefined();
  });

  it('writes each update with a SOURCE_UPDATED event naming the changed fields but never the new secret', async () => {
    const newSecret = `bi-mat-moi-${randomBytes(16).toString('base64url')}`;
    await updateSource(tdb.db, cipher, current.id, { maintenance: true, maintenance_message_vi: 'Bảo trì đến 22:00' }, 'cli:alice', { ...PROD, reason: 'bảo trì định kỳ' });
    const rotated = await updateSource(tdb.db, cipher, current.id, { client_secret: newSecret }, 'cli:alice', PROD);
    expect(rotated.clientSecret).toBe(newSecret);

    const audit = await auditOf(current.id);
    expect(audit.map((a) => a.event)).toEqual(['SOURCE_ADDED', 'SOURCE_UPDATED', 'SOURCE_UPDATED']);
    expect(audit[1]).toMatchObject({ actor: 'cli:alice', details: { changed: ['maintenance', 'maintenance_message_vi'], reason: 'bảo trì định kỳ' } });
    expect(audit[2]!.details.changed).toEqual(['client_secret (new value not logged)']);
    const { rows } = await tdb.db.query<{ row: string }>('SELECT row_to_json(a)::text AS row FROM audit_events a WHERE subject = $1', [current.id]);
    for (const r of rows) {
      expect(r.row).not.toContain(newSecret);
      expect(r.row).not.toContain(secret);
    }
    const { rows: stored } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM identity_sources WHERE id = $1', [current.id]);
    for (const [, text] of columnTexts(stored[0]!)) expect(text).not.toContain(newSecret);
  });

  it('writes disabling as SOURCE_DISABLED, and re-enabling as an update', async () => {
    const disabled = await updateSource(tdb.db, cipher, current.id, { enabled: false }, 'cli:alice', { ...PROD, reason: 'hợp đồng kết thúc' });
    expect(disabled.enabled).toBe(false);
    await updateSource(tdb.db, cipher, current.id, { enabled: true }, 'cli:alice', PROD);
    const audit = await auditOf(current.id);
    expect(audit.map((a) => a.event)).toEqual(['SOURCE_ADDED', 'SOURCE_DISABLED', 'SOURCE_UPDATED']);
    expect(audit[1]!.details).toEqual({ changed: ['enabled'], reason: 'hợp đồng kết thúc' });
  });
});

describe('changes that change nothing, and enabling', () => {
  const passing: SourceCheck = { ok: true, steps: [{ name: 'discovery', status: 'ok', detail: 'issuer https://id.example.vn' }] };
  const failing: SourceCheck = { ok: false, steps: [{ name: 'credentials', status: 'fail', detail: 'invalid_client' }] };

  it('writes no event and no new version for disabling a disabled source or setting a field to its value', async () => {
    const { input, id } = bankRegistration({ enabled: false });
    await addSource(tdb.db, cipher, input, 'cli:alice', PROD);
    const again = await changeSource(tdb.db, cipher, id, { enabled: false }, 'cli:alice', { ...PROD, reason: 'hợp đồng kết thúc' });
    expect(again.changed).toEqual([]);
    // The same mapping with its keys in another order, the same secret, the same list.
    const mapping = Object.fromEntries(Object.entries(input.claim_mapping as object).reverse());
    const same = await changeSource(tdb.db, cipher, id, { claim_mapping: mapping, client_secret: input.client_secret, scopes: ['openid', 'kyc'] }, 'cli:alice', PROD);
    expect(same.changed).toEqual([]);
    expect(same.source.version).toBe(1);
    expect(await auditOf(id)).toHaveLength(1);
    const one = await changeSource(tdb.db, cipher, id, { timeout_ms: 5000, use_userinfo: true }, 'cli:alice', PROD);
    expect(one.changed).toEqual(['use_userinfo']);
    expect((await auditOf(id)).map((a) => [a.event, a.details.changed])).toEqual([['SOURCE_ADDED', undefined], ['SOURCE_UPDATED', ['use_userinfo']]]);
  });

  it('enables a source only after its test passes; a failing test leaves it disabled and writes nothing', async () => {
    const { input, id } = bankRegistration({ enabled: false });
    await addSource(tdb.db, cipher, input, 'cli:alice', PROD);
    const tested: number[] = [];
    const refused = await enableSource(tdb.db, cipher, id, 'cli:alice', { ...PROD, reason: 'đã thử kết nối', test: async (s) => (tested.push(s.version), failing) });
    expect(refused).toMatchObject({ outcome: 'test-failed', check: failing });
    expect((await getSource(tdb.db, cipher, id)).enabled).toBe(false);
    expect(await auditOf(id)).toHaveLength(1);

    const enabled = await enableSource(tdb.db, cipher, id, 'cli:alice', { ...PROD, reason: 'đã thử kết nối', test: async (s) => (tested.push(s.version), passing) });
    expect(enabled.outcome).toBe('enabled');
    expect(enabled.source.enabled).toBe(true);
    expect(tested).toEqual([1, 1]);
    expect((await auditOf(id)).at(-1)).toMatchObject({ event: 'SOURCE_UPDATED', details: { changed: ['enabled'], reason: 'đã thử kết nối' } });

    const already = await enableSource(tdb.db, cipher, id, 'cli:alice', { ...PROD, reason: 'đã thử kết nối', test: async () => failing });
    expect(already.outcome).toBe('already-enabled');
    expect(await auditOf(id)).toHaveLength(2);
  });

  it('does not enable a source changed while it was being tested: what was tested is what is enabled', async () => {
    const { input, id } = bankRegistration({ enabled: false });
    await addSource(tdb.db, cipher, input, 'cli:alice', PROD);
    const moved = enableSource(tdb.db, cipher, id, 'cli:alice', {
      ...PROD,
      reason: 'đã thử kết nối',
      test: async () => {
        await updateSource(tdb.db, cipher, id, { discovery_url: 'https://id.khac.example.vn/.well-known/openid-configuration' }, 'cli:bob', PROD);
        return passing;
      },
    });
    await expect(moved).rejects.toBeInstanceOf(ConflictError);
    expect((await getSource(tdb.db, cipher, id)).enabled).toBe(false);
  });

  it('reports every problem of a registration at once, each naming its field, the rules between fields included', async () => {
    const { input } = bankRegistration({ id: 'Ngân hàng', discovery_url: 'http://id.example.vn/', client_secret: 'ngắn', claim_mapping: { full_name: 'ten' }, authoritative_for: ['full_name'] });
    const err = await refusal(() => addSource(tdb.db, cipher, input, 'cli:alice', PROD));
    expect(err.field).toBe('id');
    const lines = err.message.split('\n').map((l) => l.trim());
    expect(lines).toEqual([
      'id: 2 to 41 lowercase letters, digits or dashes',
      'discovery_url: an https URL',
      'client_secret: at least 16 characters',
      expect.stringMatching(/^claim_mapping\.national_id: name the claim carrying the national ID number/),
    ]);
    const { name_en: _, ...missing } = bankRegistration().input;
    expect((await refusal(() => addSource(tdb.db, cipher, missing, 'cli:alice', PROD))).message).toBe('name_en: is required');
  });
});

describe('the source registry on several instances', () => {
  let second: Database;
  let a: SourceRegistry;
  let b: SourceRegistry;

  beforeAll(async () => {
    // On real PostgreSQL the second instance has its own pool and LISTEN connection.
    second = tdb.url ? await openPostgres(tdb.url, 2) : tdb.db;
    // Polling once an hour: within the test, only NOTIFY can bring a change.
    a = new SourceRegistry(tdb.db, cipher, silentLogger, 3600);
    b = new SourceRegistry(second, cipher, silentLogger, 3600);
    await a.start();
    await b.start();
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    if (second && second !== tdb.db) await second.close();
  });

  it('shows a source added and then put in maintenance on another instance without a restart', async () => {
    const { input, id } = bankRegistration();
    await addSource(tdb.db, cipher, input, 'test', PROD);
    await waitFor(() => b.get(id), 5_000, 'the second registry to see the new source');
    await updateSource(tdb.db, cipher, id, { maintenance: true, maintenance_message_vi: 'Bảo trì đến 22:00' }, 'test', PROD);
    const seen = await waitFor(() => (b.get(id)?.maintenance.on ? b.get(id) : undefined), 5_000, 'the second registry to see the maintenance');
    expect(seen.maintenance.message.vi).toBe('Bảo trì đến 22:00');
    expect(seen.version).toBe(2);
  });

  it('shares a health result recorded through one registry with the other', async () => {
    const { input, id } = bankRegistration();
    await addSource(tdb.db, cipher, input, 'test', PROD);
    await waitFor(() => a.get(id) && b.get(id), 5_000, 'both registries to see the new source');
    await a.recordHealth(id, false, 'discovery: ECONNREFUSED');
    expect(a.get(id)!.health).toMatchObject({ status: 'failing', error: 'discovery: ECONNREFUSED' });
    await waitFor(() => b.get(id)?.health.status === 'failing', 5_000, 'the second registry to see the failing health');
    await a.recordHealth(id, true, null);
    await waitFor(() => b.get(id)?.health.status === 'ok', 5_000, 'the second registry to see the recovery');
    expect(b.get(id)!.health.error).toBeNull();
  });

  it('shows a changed health error on both registries even when the status stays failing', async () => {
    const { input, id } = bankRegistration();
    await addSource(tdb.db, cipher, input, 'test', PROD);
    await waitFor(() => a.get(id) && b.get(id), 5_000, 'both registries to see the new source');
    await a.recordHealth(id, false, 'discovery: ECONNREFUSED');
    await waitFor(() => b.get(id)?.health.error === 'discovery: ECONNREFUSED', 5_000, 'the second registry to see the first error');
    await a.recordHealth(id, false, 'jwks: HTTP 500');
    expect(a.get(id)!.health.error).toBe('jwks: HTTP 500');
    await waitFor(() => b.get(id)?.health.error === 'jwks: HTTP 500', 5_000, 'the second registry to see the new error');
  });
});
