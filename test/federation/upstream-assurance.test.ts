// What the service asks of a sign-in (a level, a fresh authentication) reaches the
// source, and nixa never states what the source did not do: an answer below the
// level, or from an authentication older than asked, ends on a plain page, counted
// as a failure, in one trip to the source — never a loop through the chooser.
import { decodeJwt } from 'jose';
import type * as oidc from 'openid-client';

import { updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { capturingLogger } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;
const log = capturingLogger();

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, {}, { logger: log.logger });
  service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công Hà Nội' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterEach(() => {
  for (const s of Object.values(fed.sources)) s.misbehave({ mode: 'normal' });
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const count = async (sql: string, params: unknown[] = []) => (await tdb.db.query<{ n: number }>(sql, params)).rows[0]!.n;
const written = async () => ({
  accounts: await count('SELECT count(*)::int AS n FROM accounts'),
  links: await count('SELECT count(*)::int AS n FROM linked_identities'),
  signIns: await count(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'SIGN_IN'`),
});
const failures = async (reason: string) => (await fed.nixa.metrics.failures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
const successes = async () => (await fed.nixa.metrics.signIns.get()).values.reduce((n, v) => n + v.value, 0);
const now = () => Math.floor(Date.now() / 1000);

/** The auth_time in the ID token the source gave nixa for the latest upstream login (kept encrypted for sign-out). */
async function sourceAuthTime(): Promise<number> {
  const { rows } = await tdb.db.query<{ id: string; id_token_enc: Uint8Array }>('SELECT id, id_token_enc FROM upstream_sessions ORDER BY created_at DESC LIMIT 1');
  const idToken = fed.nixa.cipher.decrypt(rows[0]!.id_token_enc, `upstream-session:${rows[0]!.id}`);
  return decodeJwt(idToken).auth_time as number;
}

describe('the level asked reaches the source as its own acr values', () => {
  it('sends the acr values of the source that map to the level asked, and none when no level is asked or the level is fixed', async () => {
    const asked = async (source: 'citizen_id' | 'bank' | 'telecom', extra: Record<string, string>) => {
      await federatedSignIn(config, service.redirectUri, { source, extra });
      return fed.sources[source].authorizationRequests().at(-1)!;
    };
    expect((await asked('citizen_id', { acr_values: 'urn:nixa:loa:substantial' })).get('acr_values')).toBe('urn:vn:dancu:loa:high');
    expect((await asked('bank', { acr_values: 'urn:nixa:loa:substantial' })).get('acr_values')).toBe('urn:vn:bank:loa:substantial');
    expect((await asked('citizen_id', {})).has('acr_values')).toBe(false);
    // The telecom's level is fixed (auth_level): it has no acr values to ask for.
    expect((await asked('telecom', {})).has('acr_values')).toBe(false);
  });

  it('lists every acr value that reaches the level, the least demanding first, and none that stays below', async () => {
    await updateSource(
      tdb.db,
      fed.nixa.cipher,
      SIMULATED_SOURCE_IDS.citizen_id,
      { acr_levels: { 'urn:vn:dancu:loa:high': 'high', 'urn:vn:dancu:loa:low': 'low', 'urn:vn:dancu:loa:substantial': 'substantial' } },
      'test',
      { allowHttpLoopback: true },
    );
    await fed.nixa.sources.refresh();
    try {
      await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', extra: { acr_values: 'urn:nixa:loa:substantial' } });
      expect(fed.sources.citizen_id.authorizationRequests().at(-1)!.get('acr_values')).toBe('urn:vn:dancu:loa:substantial urn:vn:dancu:loa:high');
    } finally {
      await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id, { acr_levels: { 'urn:vn:dancu:loa:high': 'high' } }, 'test', { allowHttpLoopback: true });
      await fed.nixa.sources.refresh();
    }
  });
});

describe('a source that answers below the level asked', () => {
  it('ends on a plain page in one trip to the source (even when the service pre-selected it), counted as a failure, with nothing written', async () => {
    fed.sources.citizen_id.misbehave({ mode: 'acr', acr: 'urn:vn:dancu:loa:substantial' });
    const trips = fed.sources.citizen_id.authorizationRequests().length;
    const before = { ...(await written()), failures: await failures('insufficient-level'), successes: await successes() };
    const refusals = `SELECT count(*)::int AS n FROM audit_events WHERE event = 'UPSTREAM_ASSURANCE_REFUSED' AND actor = 'source:sim-citizen-id' AND details->>'reason' = 'insufficient-level'`;
    const refusedBefore = await count(refusals);

    const s = await federatedSignIn(config, service.redirectUri, {
      citizen: 'nguyen-van-an',
      consent: 'accept',
      extra: { acr_values: 'urn:nixa:loa:high', idp_hint: SIMULATED_SOURCE_IDS.citizen_id },
    });
    expect(s.stoppedAt).toBeUndefined();
    expect(s.pages).toEqual(['source-picker']);
    expect(s.page!.status).toBe(403);
    expect(s.page!.html).toContain('NIXA-FED-insufficient-level');
    expect(s.page!.html).toContain('không xác nhận được mức độ đảm bảo');
    expect(s.page!.html).toContain('could not confirm the assurance level');
    expect(fed.sources.citizen_id.authorizationRequests().length).toBe(trips + 1);
    expect(fed.sources.citizen_id.authorizationRequests().at(-1)!.get('acr_values')).toBe('urn:vn:dancu:loa:high');

    expect(await written()).toEqual({ accounts: before.accounts, links: before.links, signIns: before.signIns });
    expect(await failures('insufficient-level')).toBe(before.failures + 1);
    expect(await successes()).toBe(before.successes);
    expect(await count(refusals)).toBe(refusedBefore + 1);
    const [event] = (await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'UPSTREAM_ASSURANCE_REFUSED' ORDER BY seq DESC LIMIT 1`)).rows;
    expect(event!.details).toMatchObject({ reason: 'insufficient-level', asked: 'high', reached: 'low', acr: 'urn:vn:dancu:loa:substantial', client: service.clientId });

    // Choosing another source does not send the citizen to the same one again, even
    // pre-selected: no other source reaches high, so the service is told so.
    const link = /href="(\/interaction\/[^"]+)">Chọn nguồn định danh khác/.exec(s.page!.html)![1]!;
    const back = await s.agent.follow(new URL(link, fed.nixa.config.issuer), {}, service.redirectUri);
    expect(new URL(back.stoppedAt!).searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(fed.sources.citizen_id.authorizationRequests().length).toBe(trips + 1);
  });

  it('still offers the other sources that reach the level, but not the one that fell short', async () => {
    fed.sources.citizen_id.misbehave({ mode: 'acr', acr: 'urn:vn:dancu:loa:low' });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', extra: { acr_values: 'urn:nixa:loa:substantial' } });
    expect(s.page!.html).toContain('NIXA-FED-insufficient-level');
    const link = /href="(\/interaction\/[^"]+)">Chọn nguồn định danh khác/.exec(s.page!.html)![1]!;
    const chooser = await s.agent.follow(new URL(link, fed.nixa.config.issuer));
    const html = await chooser.res.text();
    expect(html).toContain('value="sim-bank"');
    expect(html).not.toContain('value="sim-citizen-id"');
    // Nor can it be posted by hand.
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const posted = await s.agent.submit(new URL(`${link}/source`, fed.nixa.config.issuer), { csrf, source: SIMULATED_SOURCE_IDS.citizen_id });
    expect(posted.res.status).toBe(400);
  });

  it('a source answering at the level asked signs the citizen in as before', async () => {
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept', extra: { acr_values: 'urn:nixa:loa:high' } });
    expect((await redeemFederated(config, s)).claims()!.acr).toBe('urn:nixa:loa:high');
  });
});

describe('a fresh authentication asked (prompt=login, max_age)', () => {
  it('prompt=login reaches the source; an answer from an old session is refused, not relabelled as fresh', async () => {
    fed.sources.citizen_id.misbehave({ mode: 'stale-auth-time', seconds: 3600 });
    const before = { ...(await written()), failures: await failures('stale-authentication') };
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'hoang-minh-duc', consent: 'accept', extra: { prompt: 'login' } });
    expect(fed.sources.citizen_id.authorizationRequests().at(-1)!.get('prompt')).toBe('login');
    expect(s.stoppedAt).toBeUndefined();
    expect(s.page!.html).toContain('NIXA-FED-stale-authentication');
    expect(s.page!.html).toContain('xác thực lại');
    expect(await written()).toEqual({ accounts: before.accounts, links: before.links, signIns: before.signIns });
    expect(await failures('stale-authentication')).toBe(before.failures + 1);
    const [event] = (await tdb.db.query<{ actor: string; details: Record<string, unknown> }>(`SELECT actor, details FROM audit_events WHERE event = 'UPSTREAM_ASSURANCE_REFUSED' ORDER BY seq DESC LIMIT 1`)).rows;
    expect(event).toMatchObject({ actor: 'source:sim-citizen-id', details: { reason: 'stale-authentication', prompt: 'login' } });
  });

  it('prompt=login with a fresh authentication at the source: nixa’s auth_time is the source’s', async () => {
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'dang-thi-ngoc-ha', consent: 'accept', extra: { prompt: 'login' } });
    const claims = (await redeemFederated(config, s)).claims()!;
    expect(claims.auth_time).toBe(await sourceAuthTime());
  });

  it('max_age reaches the source; an authentication older than it is refused', async () => {
    fed.sources.bank.misbehave({ mode: 'stale-auth-time', seconds: 3600 });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'bank', citizen: 'nguyen-van-an', consent: 'accept', extra: { max_age: '300' } });
    const request = fed.sources.bank.authorizationRequests().at(-1)!;
    expect(request.get('max_age')).toBe('300');
    expect(s.page!.html).toContain('NIXA-FED-stale-authentication');
  });

  it('an authentication within max_age is accepted, and nixa states when it happened at the source, not when nixa heard of it', async () => {
    fed.sources.bank.misbehave({ mode: 'stale-auth-time', seconds: 600 });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'bank', citizen: 'le-hoang-cuong', consent: 'accept', extra: { max_age: '3600' } });
    const claims = (await redeemFederated(config, s)).claims()!;
    expect(claims.auth_time).toBe(await sourceAuthTime());
    expect(now() - claims.auth_time!).toBeGreaterThanOrEqual(599);
  });
});
