// Every way an upstream login can fail ends on a clear page offering another
// source, is logged, and leaves no account, link or consent behind.
import type * as oidc from 'openid-client';

import { updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { capturingLogger } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;
const log = capturingLogger();

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, {}, { logger: log.logger });
  service = await registerTestClient(tdb.db, { scope: 'openid profile', subject_type: 'pairwise' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterEach(() => {
  for (const s of Object.values(fed.sources)) s.misbehave({ mode: 'normal' });
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

async function state() {
  const n = async (t: string) => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
  return { accounts: await n('accounts'), links: await n('linked_identities'), attributes: await n('account_attributes'), consents: await n('consents') };
}

function expectFailurePage(s: Awaited<ReturnType<typeof federatedSignIn>>, reason: string, vi: RegExp) {
  expect(s.stoppedAt).toBeUndefined();
  expect(s.page!.html).toContain(`NIXA-FED-${reason}`);
  expect(s.page!.html).toMatch(vi);
  expect(s.page!.html).toContain('lang="en"');
  expect(s.page!.html).toMatch(/href="\/interaction\/[^"]+">Chọn nguồn định danh khác/);
  // English comes back to a page showing this failure again, never to the callback (which would replay it).
  const back = new URL(/<a class="language" href="([^"]+)"/.exec(s.page!.html)![1]!.replaceAll('&amp;', '&'), 'http://nixa.invalid').searchParams.get('back');
  expect(back).toMatch(new RegExp(`^/error/NIXA-FED-${reason}(\\?|$)`));
  const logged = log.lines().filter((l) => l.msg === 'upstream sign-in failed' && l.reason === reason);
  expect(logged.length).toBeGreaterThan(0);
}

describe('upstream failures', () => {
  it('the citizen refuses at the source (access_denied)', async () => {
    const before = await state();
    fed.sources.citizen_id.misbehave({ mode: 'deny' });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
    expectFailurePage(s, 'denied', /Bạn đã hủy đăng nhập/);
    expect(await state()).toEqual(before);
  });

  it('the source is too slow', async () => {
    await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.bank, { timeout_ms: 300 }, 'test', { allowHttpLoopback: true });
    await fed.nixa.sources.refresh();
    try {
      const before = await state();
      // Slow once the citizen is there (a source slow when picked is never sent to: source-reachability.test.ts).
      const atSource = await federatedSignIn(config, service.redirectUri, { source: 'bank' });
      expect(atSource.page!.html).toContain('name="citizen"');
      fed.sources.bank.misbehave({ mode: 'delay', ms: 1500 });
      const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(atSource.page!.html)![1]!;
      const step = await atSource.agent.submit(new URL(pick, atSource.page!.url), { citizen: 'nguyen-van-an' }, service.redirectUri);
      const s = { ...atSource, stoppedAt: step.stoppedAt, page: { status: step.res.status, url: step.url, html: await step.res.text() } };
      expectFailurePage(s, 'source-timeout', /phản hồi quá chậm/);
      expect(s.page.status).toBe(502);
      expect(await state()).toEqual(before);
    } finally {
      fed.sources.bank.misbehave({ mode: 'normal' });
      await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.bank, { timeout_ms: 3000 }, 'test', { allowHttpLoopback: true });
      await fed.nixa.sources.refresh();
    }
  });

  it('the source signs its ID token with a key it does not publish', async () => {
    const before = await state();
    fed.sources.citizen_id.misbehave({ mode: 'wrong-key' });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', consent: 'accept' });
    expectFailurePage(s, 'bad-response', /không thể tin cậy/);
    expect(await state()).toEqual(before);
  });

  it('the source leaves out the ID number', async () => {
    const before = await state();
    fed.sources.telecom.misbehave({ mode: 'drop-claim', claim: 'subscriber_id_number' });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'telecom', citizen: 'bui-thi-lan', consent: 'accept' });
    expectFailurePage(s, 'missing-claims', /không cung cấp đủ thông tin/);
    expect(await state()).toEqual(before);
  });

  it('a forged callback with an unknown state', async () => {
    const before = await state();
    const res = await fetch(`${fed.nixa.config.issuer}/federation/callback?code=forged&state=bia-dat`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('NIXA-FED-state-mismatch');
    expect(html).toContain('không khớp');
    expect(await state()).toEqual(before);
  });

  it("a callback carrying another browser's state", async () => {
    // Victim starts a sign-in and is sent to the source; the attacker's browser replays the callback.
    const victim = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id' });
    expect(victim.page!.url).toContain(new URL(fed.sources.citizen_id.issuer).port);
    const { rows } = await tdb.db.query<{ state: string }>('SELECT state FROM upstream_logins ORDER BY created_at DESC LIMIT 1');
    const attacker = new UserAgent();
    const first = await federatedSignIn(config, service.redirectUri, { agent: attacker }); // attacker has a sign-in of their own
    expect(first.page!.html).toContain('name="source"');
    const before = await state();
    const res = await attacker.follow(`${fed.nixa.config.issuer}/federation/callback?code=stolen&state=${rows[0]!.state}`);
    expect(res.res.status).toBe(400);
    expect(await res.res.text()).toContain('NIXA-FED-state-mismatch');
    expect(await state()).toEqual(before);
    // The victim's state was not spent by the attacker's attempt.
    const { rows: still } = await tdb.db.query('SELECT 1 FROM upstream_logins WHERE state = $1 AND consumed_at IS NULL', [rows[0]!.state]);
    expect(still).toHaveLength(1);
  });

  it("another browser presenting a citizen's callback in its own sign-in is refused without spending it; the citizen's own callback then succeeds", async () => {
    const issuer = fed.nixa.config.issuer;
    // The citizen (browser A) signs in at the source; the source sends A back to nixa's callback.
    const a = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id' });
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(a.page!.html)![1]!;
    const back = await a.agent.submit(new URL(pick, a.page!.url), { citizen: 'dang-thi-ngoc-ha' }, `${issuer}/federation/callback`);
    const callback = new URL(back.stoppedAt!);
    expect(callback.searchParams.get('state')).toBeTruthy();

    // Someone who learnt that URL (browser B, its own cookies) presents it in a sign-in of their own.
    const b = await federatedSignIn(config, service.redirectUri, {});
    const uidB = new URL(b.page!.url).pathname.split('/')[2]!;
    const before = await state();
    const audit = async (event: string) =>
      (await tdb.db.query<{ actor: string; subject: string | null; details: Record<string, unknown> }>('SELECT actor, subject, details FROM audit_events WHERE event = $1 ORDER BY seq', [event])).rows;
    const replaysBefore = (await audit('UPSTREAM_REPLAY')).length;
    const foreignBefore = (await audit('UPSTREAM_STATE_FOREIGN')).length;
    const attempt = await b.agent.follow(`${issuer}/interaction/${uidB}/upstream${callback.search}`);
    expect(attempt.res.status).toBe(400);
    expect(await attempt.res.text()).toContain('NIXA-FED-state-mismatch');
    expect(await state()).toEqual(before);
    const { rows: unspent } = await tdb.db.query('SELECT 1 FROM upstream_logins WHERE state = $1 AND consumed_at IS NULL', [callback.searchParams.get('state')]);
    expect(unspent).toHaveLength(1);

    // The citizen's own callback still works, and nothing blames the source.
    const done = await a.agent.follow(callback, {}, service.redirectUri);
    const html = await done.res.text();
    expect(html).not.toContain('NIXA-FED-');
    expect(html).toContain('name="decision"');
    expect((await audit('UPSTREAM_REPLAY')).length).toBe(replaysBefore);
    const foreign = (await audit('UPSTREAM_STATE_FOREIGN')).slice(foreignBefore);
    expect(foreign).toHaveLength(1);
    expect(foreign[0]!.actor).toBe(`interaction:${uidB}`);
    expect(foreign[0]!.actor).not.toMatch(/^source:/);
    expect(foreign[0]!.details).toMatchObject({ source: SIMULATED_SOURCE_IDS.citizen_id });
    const failed = log.lines().filter((l) => l.msg === 'upstream sign-in failed' && l.reason === 'state-mismatch').at(-1)!;
    expect(failed.source).toBeUndefined();
    expect(String(failed.detail)).toMatch(/another browser/);
  });

  it('a replayed callback is refused and recorded as a security event', async () => {
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept' });
    expect(s.stoppedAt).toBeDefined();
    // The callback URL the source sent the browser to, taken from the upstream login record.
    const { rows } = await tdb.db.query<{ state: string }>('SELECT state FROM upstream_logins WHERE consumed_at IS NOT NULL ORDER BY created_at DESC LIMIT 1');
    const before = await state();
    const events = async () => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'UPSTREAM_REPLAY'`)).rows[0]!.n;
    const replaysBefore = await events();
    const replay = await s.agent.follow(`${fed.nixa.config.issuer}/federation/callback?code=replayed-code&state=${rows[0]!.state}`);
    expect(replay.res.status).toBe(400);
    const html = await replay.res.text();
    expect(html).toContain('NIXA-FED-replayed');
    expect(html).toContain('đã được dùng trước đó');
    expect(await state()).toEqual(before);
    expect(await events()).toBe(replaysBefore + 1);
  });
});
