// Pairwise subjects are per service (client), not per redirect host: two services
// on one ministry portal, or a service registered on another's host, cannot
// correlate a citizen by `sub`. Services that are one sector say so with a
// sector_identifier_uri (OIDC Core §8.1), checked at registration.
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { addClient, showClient, updateClient, type ClientsOptions } from '../../src/clients/index.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, startTestNixa } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';

const CITIZEN = 'nguyen-van-an';

let tdb: TestDatabase;
let nixa: Nixa;

/**
 * The ministry's web server publishing sector documents: a local HTTP server each
 * of whose paths answers what the test set. nixa reaches it under an https name
 * (sector documents are https only): the test's fetch sends that origin to it.
 */
const documents = new Map<string, { status?: number; body: string; headers?: Record<string, string>; hang?: boolean }>();
let sectorServer: Server;
let localOrigin: string;
const sectorOrigin = 'https://bo-tu-phap.example.gov.vn';
const TEST_OPTIONS: ClientsOptions = {
  allowHttpLoopback: true,
  signingAlgs: ['ES256', 'RS256'],
  fetch: (input, init) => fetch(String(input).replace(sectorOrigin, localOrigin), init),
};

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  sectorServer = createServer((req, res) => {
    const d = documents.get(req.url ?? '');
    if (!d) return void res.writeHead(404).end('not found');
    if (d.hang) return; // never answers: the registration's timeout must end the wait
    res.writeHead(d.status ?? 200, { 'content-type': 'application/json', ...d.headers }).end(d.body);
  });
  await new Promise<void>((resolve) => sectorServer.listen(0, '127.0.0.1', resolve));
  localOrigin = `http://127.0.0.1:${(sectorServer.address() as { port: number }).port}`;
});

afterAll(async () => {
  sectorServer?.closeAllConnections();
  await new Promise((resolve) => sectorServer?.close(resolve));
  await nixa?.close();
  await tdb?.drop();
});

/** Signs the citizen in to the service and returns the `sub` of its ID token (checked equal at userinfo). */
async function subAt(c: TestClient, account = CITIZEN, at: Nixa = nixa): Promise<string> {
  const config = await discover(at.config.issuer, c);
  const tokens = await redeem(config, await signIn(config, c, { account }));
  const sub = tokens.claims()!.sub;
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, sub);
  expect(userinfo.sub).toBe(sub);
  return sub;
}

const pairwise = (redirectUri: string, more: Record<string, unknown> = {}) =>
  registerTestClient(tdb.db, { subject_type: 'pairwise', redirect_uris: [redirectUri], post_logout_redirect_uris: [], ...more }, TEST_OPTIONS);

async function nothingWritten(clientId: string): Promise<void> {
  const clients = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM clients WHERE client_id = $1', [clientId]);
  const events = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE subject = $1', [clientId]);
  expect([clients.rows[0]!.n, events.rows[0]!.n]).toEqual([0, 0]);
}

describe('pairwise subjects without a sector_identifier_uri: one sector per service', () => {
  it('gives two services on one portal host different subs for the same citizen, each stable', async () => {
    const tax = await pairwise('http://localhost:9700/thue/callback', { name: 'Thuế điện tử' });
    const insurance = await pairwise('http://localhost:9700/bhxh/callback', { name: 'Bảo hiểm xã hội' });

    const atTax = await subAt(tax);
    const atInsurance = await subAt(insurance);
    expect(atTax).not.toBe(atInsurance);
    expect([atTax, atInsurance]).not.toContain(CITIZEN);
    expect(await subAt(tax)).toBe(atTax);
    // Another instance of this deployment (same master key, same database) gives the same.
    const second = await startTestNixa(tdb.db);
    try {
      expect(await subAt(tax, CITIZEN, second)).toBe(atTax);
    } finally {
      await second.close();
    }
  });

  it('gives a service registered later on another service’s host none of that service’s subjects', async () => {
    const portal = await pairwise('http://localhost:9701/dich-vu-cong/callback', { name: 'Cổng dịch vụ công' });
    const known = await Promise.all(['nguyen-van-an', 'tran-thi-binh'].map((a) => subAt(portal, a)));

    const intruder = await pairwise('http://localhost:9701/gia-mao/callback', { name: 'Dịch vụ giả mạo' });
    const seen = await Promise.all(['nguyen-van-an', 'tran-thi-binh'].map((a) => subAt(intruder, a)));
    expect(seen.filter((s) => known.includes(s))).toEqual([]);
    // The portal's own subjects did not move when the intruder arrived.
    expect(await subAt(portal, 'nguyen-van-an')).toBe(known[0]);
  });

  it('keeps a service’s subjects when its redirect URIs move to another host', async () => {
    const service = await pairwise('http://localhost:9702/callback', { name: 'Đăng ký kinh doanh' });
    const before = await subAt(service);
    const moved = 'http://localhost:9703/callback';
    await updateClient(tdb.db, service.clientId, { redirect_uris: [moved] }, 'test', TEST_OPTIONS);
    expect(await subAt({ ...service, redirectUri: moved })).toBe(before);
  });

  it('leaves public subjects alone: sub is the account id', async () => {
    const service = await registerTestClient(tdb.db, { subject_type: 'public', redirect_uris: ['http://localhost:9700/cong-khai/callback'] });
    expect(await subAt(service)).toBe(CITIZEN);
  });
});

describe('services that are one sector: sector_identifier_uri', () => {
  it('gives two services listed in one sector document the same sub, and a document of its own elsewhere on that host a different one', async () => {
    const a = 'http://localhost:9710/ho-tich/callback';
    const b = 'http://localhost:9711/cu-tru/callback';
    const c = 'http://localhost:9712/khac/callback';
    documents.set('/bo-tu-phap.json', { body: JSON.stringify([a, b]) });
    documents.set('/khac.json', { body: JSON.stringify([c]) });
    const civilStatus = await pairwise(a, { sector_identifier_uri: `${sectorOrigin}/bo-tu-phap.json` });
    const residence = await pairwise(b, { sector_identifier_uri: `${sectorOrigin}/bo-tu-phap.json` });
    const other = await pairwise(c, { sector_identifier_uri: `${sectorOrigin}/khac.json` });
    const alone = await pairwise('http://localhost:9710/mot-minh/callback');

    const shown = await cliRunner(() => tdb.db)('clients', 'show', residence.clientId);
    expect(shown.stdout).toContain(`subjects:         pairwise, sector: ${sectorOrigin}/bo-tu-phap.json`);

    const sub = await subAt(civilStatus);
    expect(await subAt(residence)).toBe(sub);
    expect(await subAt(other)).not.toBe(sub);
    expect(await subAt(alone)).not.toBe(sub);
  });

  it('signs in to a registered service without fetching its sector document again', async () => {
    const a = 'http://localhost:9713/callback';
    documents.set('/tam-thoi.json', { body: JSON.stringify([a]) });
    const service = await pairwise(a, { sector_identifier_uri: `${sectorOrigin}/tam-thoi.json` });
    documents.set('/tam-thoi.json', { status: 503, body: 'down' });
    expect(await subAt(service)).toEqual(expect.any(String));
  });

  const refusals: [string, () => string, RegExp][] = [
    ['unreachable', () => `https://127.0.0.1:${unusedPort}/sector.json`, /could not be fetched/],
    ['not found', () => `${sectorOrigin}/khong-co.json`, /answered 404/],
    ['a redirect', () => `${sectorOrigin}/chuyen-huong.json`, /redirect/],
    ['not JSON', () => `${sectorOrigin}/html.json`, /not JSON/],
    ['not an array', () => `${sectorOrigin}/doi-tuong.json`, /a JSON array of URLs/],
    ['an array of other things', () => `${sectorOrigin}/so.json`, /a JSON array of URLs/],
    ['missing a redirect URI', () => `${sectorOrigin}/thieu.json`, /does not list the redirect URI "http:\/\/localhost:9720\/b\/callback"/],
    ['too large', () => `${sectorOrigin}/lon.json`, /larger than/],
    ['too slow', () => `${sectorOrigin}/cham.json`, /did not answer within/],
  ];
  let unusedPort: number;
  beforeAll(async () => {
    unusedPort = await freePort();
    const both = ['http://localhost:9720/a/callback', 'http://localhost:9720/b/callback'];
    documents.set('/chuyen-huong.json', { status: 302, body: '', headers: { location: '/day-du.json' } });
    documents.set('/day-du.json', { body: JSON.stringify(both) });
    documents.set('/html.json', { body: '<html>Trang chủ</html>' });
    documents.set('/doi-tuong.json', { body: JSON.stringify({ redirect_uris: both }) });
    documents.set('/so.json', { body: JSON.stringify([1, 2]) });
    documents.set('/thieu.json', { body: JSON.stringify([both[0]]) });
    documents.set('/lon.json', { body: JSON.stringify([...both, ...Array.from({ length: 3000 }, (_, i) => `https://dich-vu-${i}.example.gov.vn/callback`)]) });
    documents.set('/cham.json', { body: '', hang: true });
  });

  it.each(refusals)('refuses a registration whose sector document is %s, naming the field and writing nothing', async (_what, uri, problem) => {
    const clientId = `sector-${_what.replace(/\W+/g, '-')}`;
    const registration = {
      client_id: clientId,
      name: 'Dịch vụ hộ tịch',
      redirect_uris: ['http://localhost:9720/a/callback', 'http://localhost:9720/b/callback'],
      sector_identifier_uri: uri(),
    };
    const refused = await addClient(tdb.db, registration, 'test', { ...TEST_OPTIONS, sectorFetchTimeoutMs: 500 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidInputError);
    expect(refused).toMatchObject({ field: 'sector_identifier_uri', problem: expect.stringMatching(problem) });
    await nothingWritten(clientId);
  });

  it.each([
    ['in production', false],
    ['outside production, even on localhost', true],
  ])('refuses a plain http sector document %s, naming the field and writing nothing', async (_where, allowHttpLoopback) => {
    documents.set('/san-xuat.json', { body: JSON.stringify(['http://localhost:9724/callback']) });
    const clientId = `sector-http-${String(allowHttpLoopback)}`;
    const registration = {
      client_id: clientId,
      name: 'Dịch vụ hộ tịch',
      redirect_uris: [allowHttpLoopback ? 'http://localhost:9724/callback' : 'https://ho-tich.example.gov.vn/callback'],
      sector_identifier_uri: `${localOrigin}/san-xuat.json`,
    };
    const refused = await addClient(tdb.db, registration, 'test', { ...TEST_OPTIONS, allowHttpLoopback }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ field: 'sector_identifier_uri', problem: expect.stringMatching(/must use https/) });
    await nothingWritten(clientId);
  });

  it('refuses a sector_identifier_uri on a service with public subjects', async () => {
    documents.set('/cong-khai.json', { body: JSON.stringify(['http://localhost:9721/callback']) });
    const refused = await addClient(
      tdb.db,
      { client_id: 'sector-public', name: 'Công khai', redirect_uris: ['http://localhost:9721/callback'], subject_type: 'public', sector_identifier_uri: `${sectorOrigin}/cong-khai.json` },
      'test',
      TEST_OPTIONS,
    ).catch((e: unknown) => e);
    expect(refused).toMatchObject({ field: 'sector_identifier_uri', problem: expect.stringMatching(/pairwise/) });
    await nothingWritten('sector-public');
  });

  it('checks the document again when the redirect URIs change: a URI it does not list is refused, nothing written', async () => {
    const a = 'http://localhost:9722/callback';
    documents.set('/cap-nhat.json', { body: JSON.stringify([a]) });
    const service = await pairwise(a, { sector_identifier_uri: `${sectorOrigin}/cap-nhat.json` });
    const before = await showClient(tdb.db, service.clientId);

    const refused = await updateClient(tdb.db, service.clientId, { redirect_uris: [a, 'http://localhost:9723/callback'] }, 'test', TEST_OPTIONS).catch((e: unknown) => e);
    expect(refused).toMatchObject({ field: 'sector_identifier_uri', problem: expect.stringMatching(/does not list the redirect URI "http:\/\/localhost:9723\/callback"/) });
    expect(await showClient(tdb.db, service.clientId)).toEqual(before);

    // Once the sector's owner lists it, the same change goes through.
    documents.set('/cap-nhat.json', { body: JSON.stringify([a, 'http://localhost:9723/callback']) });
    const updated = await updateClient(tdb.db, service.clientId, { redirect_uris: [a, 'http://localhost:9723/callback'] }, 'test', TEST_OPTIONS);
    expect(updated.redirectUris).toHaveLength(2);
  });

  it('tells the operator at the command line which field is wrong (nixa clients add --from-json)', async () => {
    const file = join(tmpdir(), `nixa-sector-${process.pid}.json`);
    const uri = `https://127.0.0.1:${unusedPort}/sector.json`;
    writeFileSync(file, JSON.stringify({ client_id: 'sector-cli', name: 'Dịch vụ hộ tịch', redirect_uris: ['http://localhost:9720/a/callback'], sector_identifier_uri: uri }));
    const nixaCli = cliRunner(() => tdb.db);
    const fromJson = await nixaCli('clients', 'add', '--from-json', file, '--reason', 'Đăng ký dịch vụ hộ tịch');
    expect(fromJson.code).toBe(2);
    expect(fromJson.stderr).toContain(`sector_identifier_uri: "${uri}" could not be fetched`);
    await nothingWritten('sector-cli');

    const fromFlags = await nixaCli('clients', 'add', '--client-id', 'sector-cli', '--name', 'Dịch vụ hộ tịch', '--redirect-uri', 'http://localhost:9720/a/callback', '--sector-identifier-uri', uri, '--reason', 'Đăng ký dịch vụ hộ tịch');
    expect([fromFlags.code, fromFlags.stderr]).toEqual([2, expect.stringContaining(`sector_identifier_uri: "${uri}" could not be fetched`)]);
    await nothingWritten('sector-cli');
  });
});
