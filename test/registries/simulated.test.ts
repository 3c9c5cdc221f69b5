// nixa's registry client (src/registries/client.ts) against the simulated business
// registry that `npm start` runs (src/simulated-registry), registered as an operator
// would: its seeded enterprises looked up and re-checked, and each way it can be told
// to misbehave (wrong-answer, down, bad-token) met with a failure that names its
// reason, counted in the metrics by registry and reason. A 403 insufficient_scope is
// its API's own answer to a token without representation.read, which its token
// endpoint never issues: a small token endpoint here mints one with its key.
// What it cannot do (a slow token endpoint, a redirect, a registry ignoring the
// enterprise asked) stays with the stand-in of client.test.ts.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

import { simulatedRegistryRegistration } from '../../src/app/dev-sources.js';
import { Cipher } from '../../src/keys/index.js';
import { createLogger } from '../../src/logging/index.js';
import { createMetrics, registryMetrics, type Metrics } from '../../src/metrics/index.js';
import { addRegistry, HttpOrganisationRegistries, RegistryCatalogue, RegistryUnavailableError } from '../../src/registries/index.js';
import { startSimulatedRegistry, type SimulatedRegistry } from '../../src/simulated-registry/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

// The registry's seed (src/simulated-registry/seed.ts).
const AN = '001085004217'; // legal representative of Sông Hồng Software and Hoàn Kiếm Foods
const BINH = '079192038561'; // Sông Hồng's tax_filing + social_insurance mandate; Bến Thành Trading, dissolved
const SONG_HONG = '0108523417';
const HOAN_KIEM = '0106791235';
const BEN_THANH = '0312456780';

const WHY = 'Kết nối sổ đăng ký doanh nghiệp mô phỏng';
const SECRET = randomBytes(24).toString('base64url');

let tdb: TestDatabase;
const cipher = new Cipher(randomBytes(32));
let signingKey: JWK;
let registry: SimulatedRegistry;
let catalogue: RegistryCatalogue;
const lines: string[] = [];
const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
const closing: { close(): Promise<void> }[] = [];

/** A token endpoint of its own, whose tokens the simulated registry's API accepts as its own but without the scope. */
let scopeless: { issuer: string; tokenRequests: number };

beforeAll(async () => {
  tdb = await createTestDatabase();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  signingKey = { ...(await exportJWK(privateKey)), kid: 'sim-registry-key', alg: 'RS256', use: 'sig' };
  registry = await startSimulatedRegistry({ clients: [{ client_id: 'nixa', client_secret: SECRET }], signingKey });
  closing.push(registry);
  scopeless = await startScopelessTokenEndpoint();
  // The registry as npm start registers it, and the same registration pointing elsewhere.
  const registrations = [
    simulatedRegistryRegistration(registry, SECRET),
    { ...simulatedRegistryRegistration(registry, SECRET), id: 'sim-no-scope', issuer: scopeless.issuer },
    { ...simulatedRegistryRegistration(registry, SECRET), id: 'sim-stopped', ...(await stoppedRegistry()) },
  ];
  for (const r of registrations) await addRegistry(tdb.db, cipher, r, 'cli:test', { allowHttpLoopback: true, reason: WHY });
  catalogue = new RegistryCatalogue(tdb.db, cipher, logger, 60);
  await catalogue.refresh();
}, 60_000);

afterAll(async () => {
  await Promise.all(closing.map((c) => c.close()));
  await tdb?.drop();
});

beforeEach(() => registry.reset());

/** A client asking only the registry `id`, with its own token cache and metrics. */
function clientFor(id = 'sim-business-registry', now?: () => number): { client: HttpOrganisationRegistries; metrics: Metrics } {
  const metrics = createMetrics({ activeSessions: async () => 0, auditChainLength: async () => 0 });
  const client = new HttpOrganisationRegistries({
    registries: () => catalogue.list().filter((r) => r.id === id),
    signingKeys: () => [],
    logger,
    metrics: registryMetrics(metrics),
    ...(now ? { now } : {}),
  });
  return { client, metrics };
}

async function unavailable(p: Promise<unknown>): Promise<RegistryUnavailableError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryUnavailableError);
  return err as RegistryUnavailableError;
}

/** A counter's values, or a histogram's counts, as {"label=value,…" (service left out): value}. */
async function series(m: Metrics, name: string): Promise<Record<string, number>> {
  const metric = await m.registry.getSingleMetric(name)!.get();
  return Object.fromEntries(
    metric.values
      .filter((v) => !name.endsWith('_seconds') || (v as { metricName?: string }).metricName === `${name}_count`)
      .map((v) => {
        const { service: _s, ...labels } = v.labels as Record<string, string>;
        return [Object.entries(labels).map(([k, x]) => `${k}=${x}`).join(','), v.value];
      }),
  );
}

describe('the seeded registry answering', () => {
  it('looks up the organisations a person may act for, as the seed records them', async () => {
    const { client } = clientFor();
    const [an] = await client.lookup(AN);
    expect(an!.registry).toEqual({ id: 'sim-business-registry', name: { vi: 'Cơ quan đăng ký kinh doanh (mô phỏng)', en: 'Business registry (simulated)' } });
    expect(an!.checkedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(an!.organisations.map((o) => [o.enterprise_code, o.name_vi, o.status, o.role])).toEqual([
      [SONG_HONG, 'Công ty TNHH Phần mềm Sông Hồng', 'active', 'legal_representative'],
      [HOAN_KIEM, 'Công ty Cổ phần Thực phẩm Hoàn Kiếm', 'active', 'legal_representative'],
    ]);
    const [binh] = await client.lookup(BINH);
    expect(binh!.organisations).toEqual([
      expect.objectContaining({ enterprise_code: SONG_HONG, role: 'mandate', tasks: ['tax_filing', 'social_insurance'], valid_until: '2027-06-30' }),
      expect.objectContaining({ enterprise_code: BEN_THANH, role: 'legal_representative', status: 'dissolved' }),
    ]);
    // Someone the registry does not know: an empty list, not a failure.
    expect((await client.lookup('036200009999'))[0]!.organisations).toEqual([]);
    expect(registry.requests()).toBe(3);
  });

  it('re-checks one organisation, and sees the registry’s changes: a company dissolved, a mandate withdrawn', async () => {
    const { client } = clientFor();
    const again = await client.recheck('sim-business-registry', AN, HOAN_KIEM);
    expect(again.organisations.map((o) => [o.enterprise_code, o.status])).toEqual([[HOAN_KIEM, 'active']]);
    registry.setStatus(HOAN_KIEM, 'dissolved');
    expect((await client.recheck('sim-business-registry', AN, HOAN_KIEM)).organisations.map((o) => [o.enterprise_code, o.status])).toEqual([[HOAN_KIEM, 'dissolved']]);
    expect((await client.recheck('sim-business-registry', BINH, SONG_HONG)).organisations).toHaveLength(1);
    registry.withdrawMandate(BINH, SONG_HONG);
    expect((await client.recheck('sim-business-registry', BINH, SONG_HONG)).organisations).toEqual([]);
  });
});

describe('the registry misbehaving', () => {
  it('wrong-answer: an answer in another shape is invalid-answer, counted by registry and reason', async () => {
    const { client, metrics } = clientFor();
    await client.lookup(AN);
    registry.misbehave({ mode: 'wrong-answer' });
    const err = await unavailable(client.lookup(AN));
    expect(err.reason).toBe('invalid-answer');
    expect(err.failures[0]!.detail).toMatch(/^not the contract's answer at checked_at, organisations\.0\./);
    expect((await unavailable(client.recheck('sim-business-registry', AN, SONG_HONG))).reason).toBe('invalid-answer');
    expect(await series(metrics, 'nixa_registry_failures_total')).toEqual({ 'registry=sim-business-registry,reason=invalid-answer': 2 });
    expect(await series(metrics, 'nixa_registry_seconds')).toEqual({
      'registry=sim-business-registry,outcome=ok': 1,
      'registry=sim-business-registry,outcome=invalid-answer': 2,
    });
  });

  it('down: status at whichever step meets the 503 (answer, token, metadata), not a refusal or bad metadata; a registry not listening is unreachable', async () => {
    let clock = Date.now();
    const warm = clientFor('sim-business-registry', () => clock);
    await warm.client.lookup(AN);
    registry.misbehave({ mode: 'down' });
    const failures = async (c: HttpOrganisationRegistries) => (await unavailable(c.lookup(AN))).failures;
    expect(await failures(warm.client)).toEqual([{ registry: 'sim-business-registry', reason: 'status', detail: 'representations answered HTTP 503' }]);
    clock += 300_000; // the token has expired: a new one is asked of a token endpoint that is down
    expect(await failures(warm.client)).toEqual([{ registry: 'sim-business-registry', reason: 'status', detail: 'token endpoint answered HTTP 503' }]);
    const cold = clientFor(); // nothing known yet: the metadata first
    expect(await failures(cold.client)).toEqual([{ registry: 'sim-business-registry', reason: 'status', detail: 'metadata answered HTTP 503' }]);
    expect(await series(cold.metrics, 'nixa_registry_failures_total')).toEqual({ 'registry=sim-business-registry,reason=status': 1 });
    registry.misbehave({ mode: 'normal' });
    expect((await cold.client.lookup(AN))[0]!.organisations).toHaveLength(2);
    const stopped = clientFor('sim-stopped');
    expect((await unavailable(stopped.client.lookup(AN))).failures[0]).toMatchObject({ registry: 'sim-stopped', reason: 'unreachable', detail: expect.stringContaining('ECONNREFUSED') });
    expect(await series(stopped.metrics, 'nixa_registry_failures_total')).toEqual({ 'registry=sim-stopped,reason=unreachable': 1 });
  });

  it('bad-token: the API refusing nixa’s token is status 401 invalid_token, after one fresh token and no more', async () => {
    const { client } = clientFor();
    await client.lookup(AN);
    registry.misbehave({ mode: 'bad-token' });
    const before = registry.requests();
    expect((await unavailable(client.lookup(AN))).failures).toEqual([{ registry: 'sim-business-registry', reason: 'status', detail: 'representations answered HTTP 401 (invalid_token)' }]);
    // The held token, then a fresh one: two calls, not a loop.
    expect(registry.requests() - before).toBe(2);
    registry.misbehave({ mode: 'normal' });
    expect((await client.lookup(AN))[0]!.organisations).toHaveLength(2);
  });

  it('403 insufficient_scope: nixa’s client is not granted representation.read — misconfigured, and the token is not kept', async () => {
    const { client, metrics } = clientFor('sim-no-scope');
    const before = scopeless.tokenRequests;
    const err = await unavailable(client.lookup(AN));
    expect(err.failures).toEqual([
      { registry: 'sim-no-scope', reason: 'misconfigured', detail: 'representations answered HTTP 403 insufficient_scope: the registry does not grant client "nixa" representation.read' },
    ]);
    // Once the registry grants the scope, the next question must not reuse the token without it.
    await unavailable(client.lookup(AN));
    expect(scopeless.tokenRequests - before).toBe(2);
    expect(await series(metrics, 'nixa_registry_failures_total')).toEqual({ 'registry=sim-no-scope,reason=misconfigured': 2 });
  });

  it('no registry to ask (none enabled, or a recheck at one not registered) is counted too, with nobody timed', async () => {
    const { client, metrics } = clientFor('nothing-registered');
    expect((await unavailable(client.lookup(AN))).reason).toBe('none-enabled');
    expect((await unavailable(client.recheck('dkkd-old', AN, SONG_HONG))).reason).toBe('not-enabled');
    expect(await series(metrics, 'nixa_registry_failures_total')).toEqual({ 'registry=none,reason=none-enabled': 1, 'registry=dkkd-old,reason=not-enabled': 1 });
    expect(await series(metrics, 'nixa_registry_seconds')).toEqual({});
  });

  it('logs every failure by registry and reason, never the national ID number', async () => {
    lines.length = 0;
    const { client } = clientFor();
    await client.lookup(AN);
    for (const mode of ['wrong-answer', 'down', 'bad-token'] as const) {
      registry.misbehave({ mode });
      await unavailable(client.lookup(AN));
    }
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'organisation registry unavailable');
    expect(warnings.map((w) => [w.registry, w.reason])).toEqual([
      ['sim-business-registry', 'invalid-answer'],
      ['sim-business-registry', 'status'],
      ['sim-business-registry', 'status'],
    ]);
    expect(lines.join('')).not.toContain(AN);
    expect(lines.join('')).not.toContain(SECRET);
  });
});

/** Where a registry was: its address, with nothing listening there any more. */
async function stoppedRegistry(): Promise<{ issuer: string; api_url: string }> {
  const gone = await startSimulatedRegistry({ clients: [{ client_id: 'nixa', client_secret: SECRET }] });
  await gone.close();
  return { issuer: gone.issuer, api_url: gone.apiUrl };
}

async function startScopelessTokenEndpoint(): Promise<{ issuer: string; tokenRequests: number }> {
  const key = await importJWK(signingKey, 'RS256');
  const state = { issuer: '', tokenRequests: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      if (req.method === 'GET' && req.url === '/.well-known/oauth-authorization-server') {
        res.end(JSON.stringify({ issuer: state.issuer, token_endpoint: `${state.issuer}/token`, grant_types_supported: ['client_credentials'] }));
        return;
      }
      if (req.method === 'POST' && req.url === '/token') {
        for await (const _ of req);
        state.tokenRequests += 1;
        const now = Math.floor(Date.now() / 1000);
        // The registry's own issuer, audience and key: a token its API takes as its own, granted no scope.
        const token = await new SignJWT({ client_id: 'nixa', jti: randomBytes(8).toString('hex') })
          .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid!, typ: 'at+jwt' })
          .setIssuer(registry.issuer)
          .setAudience(registry.apiUrl)
          .setSubject('nixa')
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .sign(key);
        res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 300 }));
        return;
      }
      res.statusCode = 404;
      res.end('{"error":"not_found"}');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closing.push({ close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) });
  return state;
}
