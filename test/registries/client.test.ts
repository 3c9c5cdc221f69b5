// Asking organisation registries over HTTP (src/registries/client.ts) against a
// small registry started here (oidc-provider for client_credentials, a Koa route
// for the contract), registered in the database as an operator would: one token
// for many questions, every question bounded by the registry's timeout, answers
// that break the contract refused, a registry that fails leaving the others'
// answers, and the national ID number never in a log line.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

import type { JWK } from 'jose';

import { Cipher } from '../../src/keys/index.js';
import { createLogger } from '../../src/logging/index.js';
import {
  addRegistry,
  changeRegistry,
  checkRegistriesHealth,
  HttpOrganisationRegistries,
  probeRegistry,
  RegistryCatalogue,
  RegistryUnavailableError,
  type Organisation,
} from '../../src/registries/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CLIENT_SECRET, signingKeyPair, startLocalRegistry, type LocalRegistry } from './local-registry.js';

const NGUYEN_VAN_AN = '001085004217';
const TRAN_THI_BINH = '079190001234';

const ORGANISATIONS: Record<string, Organisation[]> = {
  [NGUYEN_VAN_AN]: [
    { enterprise_code: '0101234567', name_vi: 'Công ty TNHH Thương mại Sông Hồng', name_en: 'Song Hong Trading Co., Ltd', status: 'active', role: 'legal_representative', valid_until: null },
    { enterprise_code: '0109876543', name_vi: 'Công ty Cổ phần Phần mềm Hoàn Kiếm', name_en: 'Hoan Kiem Software JSC', status: 'active', role: 'mandate', tasks: ['tax_filing', 'invoices'], valid_until: '2027-06-30' },
  ],
  [TRAN_THI_BINH]: [{ enterprise_code: '0301112223', name_vi: 'Công ty TNHH Dệt may Sài Gòn', name_en: null, status: 'dissolved', role: 'legal_representative' }],
};

let tdb: TestDatabase;
const cipher = new Cipher(randomBytes(32));
const WHY = 'Kết nối sổ đăng ký doanh nghiệp quốc gia';
let keys: { privateJwk: JWK; publicJwk: JWK };
let registry: LocalRegistry;
let second: LocalRegistry;
const lines: string[] = [];
const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });

beforeAll(async () => {
  tdb = await createTestDatabase();
  keys = await signingKeyPair();
  registry = await startLocalRegistry({ organisations: ORGANISATIONS, nixaPublicJwk: keys.publicJwk });
  second = await startLocalRegistry({ organisations: { [NGUYEN_VAN_AN]: [{ enterprise_code: '4801234560', name_vi: 'Hợp tác xã Nông nghiệp Đồng Tháp', status: 'active', role: 'legal_representative' }] } });
});

afterAll(async () => {
  await registry?.close();
  await second?.close();
  await tdb?.drop();
});

beforeEach(() => {
  for (const r of [registry, second]) {
    r.mode = 'ok';
    r.tokenDelayMs = 0;
  }
});

let n = 0;
/** Registers and enables a registry pointing at `at`; returns a client that asks exactly it (and `also`). */
async function registered(at: LocalRegistry, overrides: Record<string, unknown> = {}, also: string[] = [], now?: () => number) {
  n += 1;
  const id = `dkkd-${n}`;
  await addRegistry(
    tdb.db,
    cipher,
    { id, kind: 'business', name_vi: 'Cổng thông tin quốc gia về đăng ký doanh nghiệp', name_en: 'National business registration portal', issuer: at.issuer, api_url: at.apiUrl, client_id: 'nixa', auth_method: 'client_secret_basic', client_secret: CLIENT_SECRET, timeout_ms: 1000, ...overrides },
    'cli:test',
    { allowHttpLoopback: true, reason: WHY },
  );
  await changeRegistry(tdb.db, cipher, id, { enabled: true }, 'cli:test', { allowHttpLoopback: true, reason: WHY });
  const catalogue = new RegistryCatalogue(tdb.db, cipher, logger, 60);
  await catalogue.refresh();
  const only = new Set([id, ...also]);
  const client = new HttpOrganisationRegistries({
    registries: () => catalogue.list().filter((r) => only.has(r.id)),
    signingKeys: () => [keys.privateJwk],
    logger,
    ...(now ? { now } : {}),
  });
  return { id, client, catalogue };
}

async function unavailable(p: Promise<unknown>): Promise<RegistryUnavailableError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryUnavailableError);
  return err as RegistryUnavailableError;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('looking up whom a person may act for', () => {
  it('returns the registry’s organisations, with its name and the time it answered, asking with one token for two lookups', async () => {
    const { id, client } = await registered(registry);
    const tokensBefore = registry.tokenRequests;
    const callsBefore = registry.calls.length;
    const first = await client.lookup(NGUYEN_VAN_AN);
    expect(first).toEqual([
      { registry: { id, name: { vi: 'Cổng thông tin quốc gia về đăng ký doanh nghiệp', en: 'National business registration portal' } }, checkedAt: expect.any(String), organisations: ORGANISATIONS[NGUYEN_VAN_AN] },
    ]);
    const again = await client.lookup(TRAN_THI_BINH);
    expect(again[0]!.organisations).toEqual([{ ...ORGANISATIONS[TRAN_THI_BINH]![0] }]);
    expect(registry.tokenRequests - tokensBefore).toBe(1);
    // The number went in the body, and only the number.
    expect(registry.calls.slice(callsBefore)).toEqual([{ national_id: NGUYEN_VAN_AN }, { national_id: TRAN_THI_BINH }]);
  });

  it('asks for a new token once the one it holds is near its expiry', async () => {
    let clock = Date.now();
    const { client } = await registered(registry, {}, [], () => clock);
    const before = registry.tokenRequests;
    await client.lookup(NGUYEN_VAN_AN);
    clock += 500_000; // the token lives 600 s; renewed in its last 30 s
    await client.lookup(NGUYEN_VAN_AN);
    expect(registry.tokenRequests - before).toBe(1);
    clock += 80_000;
    await client.lookup(NGUYEN_VAN_AN);
    expect(registry.tokenRequests - before).toBe(2);
  });

  it('shares one token request between lookups made at the same time', async () => {
    const { client } = await registered(registry);
    const before = registry.tokenRequests;
    registry.tokenDelayMs = 100;
    const answers = await Promise.all([client.lookup(NGUYEN_VAN_AN), client.lookup(TRAN_THI_BINH), client.lookup(NGUYEN_VAN_AN)]);
    expect(answers.map((a) => a[0]!.organisations.length)).toEqual([2, 1, 2]);
    expect(registry.tokenRequests - before).toBe(1);
  });

  it('gets a fresh token once when the registry no longer accepts the one nixa held', async () => {
    const { client } = await registered(registry);
    await client.lookup(NGUYEN_VAN_AN);
    const before = registry.tokenRequests;
    registry.forgetTokens();
    expect((await client.lookup(NGUYEN_VAN_AN))[0]!.organisations).toHaveLength(2);
    expect(registry.tokenRequests - before).toBe(1);
  });

  it('an unknown person: no organisations, not a failure', async () => {
    const { client } = await registered(registry);
    expect((await client.lookup('036200009999'))[0]!.organisations).toEqual([]);
  });

  it('authenticates by client_secret_post and by private_key_jwt signed with nixa’s active key', async () => {
    const post = await registered(registry, { client_id: 'nixa-post', auth_method: 'client_secret_post' });
    expect((await post.client.lookup(NGUYEN_VAN_AN))[0]!.organisations).toHaveLength(2);
    const pkj = await registered(registry, { client_id: 'nixa-pkj', auth_method: 'private_key_jwt', client_secret: undefined });
    expect((await pkj.client.lookup(NGUYEN_VAN_AN))[0]!.organisations).toHaveLength(2);
  });
});

describe('a registry that cannot answer usably', () => {
  it('times out within its timeout_ms when the answer is slow', async () => {
    const { id, client } = await registered(registry, { timeout_ms: 300 });
    await client.lookup(NGUYEN_VAN_AN); // token held
    registry.mode = 'slow';
    const started = Date.now();
    const err = await unavailable(client.lookup(NGUYEN_VAN_AN));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.reason).toBe('timeout');
    expect(err.failures).toEqual([{ registry: id, reason: 'timeout', detail: 'no answer within 300 ms (call)' }]);
  });

  it('times out when the token endpoint is slow, the whole question bounded by one timeout', async () => {
    const { client } = await registered(registry, { timeout_ms: 300 });
    registry.tokenDelayMs = 1_500;
    const started = Date.now();
    const err = await unavailable(client.lookup(NGUYEN_VAN_AN));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.failures[0]).toMatchObject({ reason: 'timeout', detail: 'no answer within 300 ms (token)' });
  });

  it('refuses a 503, a redirect, an answer that is not JSON and one that breaks the contract', async () => {
    const { client } = await registered(registry);
    for (const [mode, reason, detail] of [
      ['unavailable', 'status', 'representations answered HTTP 503'],
      ['redirect', 'status', 'representations answered HTTP 302'],
      ['not-json', 'invalid-answer', 'the answer is not JSON'],
      ['wrong-shape', 'invalid-answer', "not the contract's answer at organisations.0.status, organisations.1.status"],
    ] as const) {
      registry.mode = mode;
      const err = await unavailable(client.lookup(NGUYEN_VAN_AN));
      expect({ mode, reason: err.reason, detail: err.failures[0]!.detail }).toEqual({ mode, reason, detail });
    }
  });

  it('refuses a recheck answered with other enterprises than the one asked', async () => {
    const { id, client } = await registered(registry);
    const one = await client.recheck(id, NGUYEN_VAN_AN, '0109876543');
    expect(one.organisations.map((o) => o.enterprise_code)).toEqual(['0109876543']);
    registry.mode = 'all-for-recheck';
    const err = await unavailable(client.recheck(id, NGUYEN_VAN_AN, '0109876543'));
    expect(err.failures).toEqual([{ registry: id, reason: 'invalid-answer', detail: 'answered for another enterprise than the one asked' }]);
  });

  it('a recheck at a disabled registry is refused without asking it', async () => {
    const { id, client, catalogue } = await registered(registry);
    await changeRegistry(tdb.db, cipher, id, { enabled: false }, 'cli:test', { allowHttpLoopback: true, reason: WHY });
    await catalogue.refresh();
    const calls = registry.calls.length;
    const err = await unavailable(client.recheck(id, NGUYEN_VAN_AN, '0101234567'));
    expect(err.reason).toBe('not-enabled');
    expect(registry.calls.length).toBe(calls);
  });

  it('names a refused client secret, a registry that does not listen, and metadata that is not there', async () => {
    const wrongSecret = await registered(registry, { client_secret: 'khong-dung-mat-khau-nay' });
    expect((await unavailable(wrongSecret.client.lookup(NGUYEN_VAN_AN))).failures[0]).toMatchObject({ reason: 'token-refused', detail: 'token endpoint answered invalid_client (HTTP 401)' });
    const port = await closedPort();
    const down = await registered(registry, { issuer: `http://127.0.0.1:${port}`, api_url: `http://127.0.0.1:${port}` });
    expect((await unavailable(down.client.lookup(NGUYEN_VAN_AN))).reason).toBe('unreachable');
    // private_key_jwt without an active signing key at nixa: nixa's own configuration, before anything is sent.
    const pkj = await registered(registry, { client_id: 'nixa-pkj', auth_method: 'private_key_jwt', client_secret: undefined });
    const keyless = new HttpOrganisationRegistries({ registries: () => pkj.catalogue.list().filter((r) => r.id === pkj.id), signingKeys: () => [], logger });
    expect((await unavailable(keyless.lookup(NGUYEN_VAN_AN))).failures[0]).toEqual({
      registry: pkj.id,
      reason: 'misconfigured',
      detail: `no active signing key for private_key_jwt at registry "${pkj.id}" (NIXA-STA-001)`,
    });
    // The API's server has no metadata: both well-known places answer 404.
    const noMetadata = await registered(registry, { issuer: registry.apiUrl });
    expect((await unavailable(noMetadata.client.lookup(NGUYEN_VAN_AN))).reason).toBe('discovery');
  });
});

describe('several registries', () => {
  it('returns those that answered when one fails, and says which failed', async () => {
    const other = await registered(second);
    const { id, client } = await registered(registry, {}, [other.id]);
    registry.mode = 'unavailable';
    const answered = await client.lookup(NGUYEN_VAN_AN);
    expect(answered.map((a) => [a.registry.id, a.organisations.map((o) => o.enterprise_code)])).toEqual([[other.id, ['4801234560']]]);
    const outcome = await client.lookupOutcome(NGUYEN_VAN_AN);
    expect(outcome.answered.map((a) => a.registry.id)).toEqual([other.id]);
    expect(outcome.failed).toEqual([{ registry: id, reason: 'status', detail: 'representations answered HTTP 503' }]);
  });

  it('throws RegistryUnavailableError naming each when all fail', async () => {
    const other = await registered(second, { timeout_ms: 200 });
    const { id, client } = await registered(registry, {}, [other.id]);
    registry.mode = 'unavailable';
    second.mode = 'slow';
    const err = await unavailable(client.lookup(NGUYEN_VAN_AN));
    expect(err.reason).toBe('several');
    expect(err.failures.map((f) => [f.registry, f.reason]).sort()).toEqual([[other.id, 'timeout'], [id, 'status']].sort());
    expect(err.code).toBe('NIXA-REG-001');
  });

  it('throws when no registry is enabled: nobody could be asked', async () => {
    const client = new HttpOrganisationRegistries({ registries: () => [], signingKeys: () => [], logger });
    expect((await unavailable(client.lookup(NGUYEN_VAN_AN))).reason).toBe('none-enabled');
  });
});

describe('logs', () => {
  it('never carry the national ID number, whatever the registry echoes back', async () => {
    const { id, client } = await registered(registry);
    lines.length = 0;
    await client.lookup(NGUYEN_VAN_AN);
    for (const mode of ['unavailable', 'redirect', 'not-json', 'wrong-shape', 'slow'] as const) {
      registry.mode = mode;
      await unavailable(client.lookup(NGUYEN_VAN_AN));
      await unavailable(client.recheck(id, NGUYEN_VAN_AN, '0101234567'));
    }
    const logged = lines.join('');
    // The failures were logged, by registry and reason…
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'organisation registry unavailable');
    expect(warnings).toHaveLength(10);
    expect(new Set(warnings.map((w) => w.reason))).toEqual(new Set(['status', 'invalid-answer', 'timeout']));
    expect(warnings.every((w) => w.registry === id)).toBe(true);
    // …and the answers that did arrive were logged too, without what they held.
    expect(lines.some((l) => l.includes('organisation registry answered'))).toBe(true);
    expect(logged).not.toContain(NGUYEN_VAN_AN);
    expect(logged).not.toMatch(/\d{12}/);
    expect(logged).not.toContain(CLIENT_SECRET);
  });
});

describe('health', () => {
  it('probes the issuer’s metadata and records ok or failing in the table, for every enabled registry', async () => {
    expect(await probeRegistry({ issuer: registry.issuer, timeoutMs: 1000 })).toBeNull();
    expect(await probeRegistry({ issuer: registry.apiUrl, timeoutMs: 1000 })).toBe(
      '/.well-known/oauth-authorization-server answered HTTP 404; /.well-known/openid-configuration answered HTTP 404',
    );
    const good = await registered(registry);
    const lost = await registered(registry, { issuer: registry.apiUrl });
    const port = await closedPort();
    const down = await registered(registry, { issuer: `http://127.0.0.1:${port}` });
    await checkRegistriesHealth(down.catalogue, logger);
    const { rows } = await tdb.db.query<{ id: string; health_status: string; health_error: string | null }>(
      'SELECT id, health_status, health_error FROM organisation_registries WHERE id = ANY($1) ORDER BY id',
      [[good.id, lost.id, down.id]],
    );
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[good.id]).toMatchObject({ health_status: 'ok', health_error: null });
    expect(byId[lost.id]).toMatchObject({ health_status: 'failing', health_error: expect.stringContaining('answered HTTP 404') });
    expect(byId[down.id]).toMatchObject({ health_status: 'failing', health_error: expect.stringContaining('fetch failed') });
    expect(down.catalogue.get(down.id)?.health.status).toBe('failing');
  });
});
