// Passkeys over real HTTP, with a software authenticator producing genuine
// WebAuthn responses (ES256): a citizen proven at high through Citizen ID adds a
// passkey at /account; another day, signed in through Telecom (low), a service
// asks for high and the passkey, with the person verified, raises the same
// session to high. Every way of answering wrongly — a replayed, forged or
// phished answer, a tampered challenge, a counter going backwards, no user
// verification, a malformed or oversized body — is refused, and writes nothing
// but the failure count.
import type * as oidc from 'openid-client';

import { SoftwareAuthenticator } from '../support/authenticator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type FederatedSignIn, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import type { UserAgent } from '../support/user-agent.js';

const HIGH = { acr_values: 'urn:nixa:loa:high' };
const SUBSTANTIAL = { acr_values: 'urn:nixa:loa:substantial' };
// The pages are served on 127.0.0.1 in these tests, but what the server checks is
// the origin the browser reports inside the signed answer.
const ORIGIN = 'http://localhost:3000';

interface Setup {
  tdb: TestDatabase;
  fed: Federation;
  portal: TestClient;
  config: oidc.Configuration;
}

const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const count = async (s: Setup, sql: string, params: unknown[] = []) => (await s.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;
const events = (s: Setup, event: string) => count(s, 'audit_events WHERE event = $1', [event]);

/** Signs in through `source` and returns the browser with its /account page. */
async function signedIn(s: Setup, source: 'citizen_id' | 'telecom' | 'bank', citizen: string) {
  const signIn = await federatedSignIn(s.config, s.portal.redirectUri, { source, citizen, consent: 'accept' });
  const sub = (await redeemFederated(s.config, signIn)).claims()!.sub;
  const account = await (await signIn.agent.request(new URL('/account', s.fed.nixa.config.issuer))).text();
  return { agent: signIn.agent, sub, account, csrf: field(account, 'csrf')! };
}

async function registrationOptions(s: Setup, agent: UserAgent, csrf: string) {
  const res = await agent.request(new URL('/account/passkeys/options', s.fed.nixa.config.issuer), form({ csrf }));
  return { status: res.status, options: (await res.json()) as Parameters<SoftwareAuthenticator['register']>[0] & Record<string, unknown> };
}

async function addPasskey(s: Setup, agent: UserAgent, fields: Record<string, string>) {
  const res = await agent.request(new URL('/account/passkeys', s.fed.nixa.config.issuer), form(fields));
  return { status: res.status, html: await res.text() };
}

/** A citizen proven at high through Citizen ID, with one passkey added in that session. */
async function enrolled(s: Setup, citizen: string, name = 'Điện thoại của tôi') {
  const session = await signedIn(s, 'citizen_id', citizen);
  const authenticator = new SoftwareAuthenticator(ORIGIN, 'localhost');
  const { options } = await registrationOptions(s, session.agent, session.csrf);
  const added = await addPasskey(s, session.agent, { csrf: session.csrf, name, response: JSON.stringify(authenticator.register(options)) });
  expect(added.status).toBe(200);
  expect(added.html).toContain('Đã thêm khóa truy cập');
  return { ...session, authenticator };
}

/** A new browser signed in through Telecom (low), then sent back by the service asking for `extra`: the chooser. */
async function askedForMore(s: Setup, citizen: string, extra = HIGH): Promise<FederatedSignIn & { html: string; uid: string; csrf: string }> {
  const low = await federatedSignIn(s.config, s.portal.redirectUri, { source: 'telecom', citizen, consent: 'accept' });
  expect((await redeemFederated(s.config, low)).claims()!.acr).toBe('urn:nixa:loa:low');
  const stepUp = await federatedSignIn(s.config, s.portal.redirectUri, { agent: low.agent, extra });
  expect(stepUp.page?.status).toBe(200);
  const html = stepUp.page!.html;
  return { ...stepUp, html, uid: new URL(stepUp.page!.url).pathname.split('/')[2]!, csrf: field(html, 'csrf')! };
}

async function assertionOptions(s: Setup, at: { agent: UserAgent; uid: string; csrf: string }) {
  const res = await at.agent.request(new URL(`/interaction/${at.uid}/passkey/options`, s.fed.nixa.config.issuer), form({ csrf: at.csrf }));
  const body = res.status === 200 ? ((await res.json()) as Parameters<SoftwareAuthenticator['authenticate']>[0] & { userVerification?: string }) : undefined;
  return { status: res.status, options: body };
}

async function submitAssertion(s: Setup, at: FederatedSignIn & { uid: string; csrf: string }, fields: Record<string, string>) {
  const step = await at.agent.submit(new URL(`/interaction/${at.uid}/passkey`, s.fed.nixa.config.issuer), fields, s.portal.redirectUri);
  return { status: step.res.status, html: step.stoppedAt ? '' : await step.res.text(), issued: step.stoppedAt ? { ...at, stoppedAt: step.stoppedAt } : undefined };
}

describe('passkeys: adding one at /account and stepping up with it', () => {
  let s: Setup;
  beforeAll(async () => {
    const tdb = await createTestDatabase();
    const fed = await startFederation(tdb, { NIXA_PASSKEY_RP_ID: 'localhost', NIXA_PASSKEY_ORIGINS: ORIGIN });
    const portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    s = { tdb, fed, portal, config: await discover(fed.nixa.config.issuer, portal) };
  });
  afterAll(async () => {
    await s?.fed.close();
    await s?.tdb.drop();
  });

  it('adds a named passkey after a Citizen ID sign-in, at the level of that session, and refuses the same answer twice', async () => {
    const session = await signedIn(s, 'citizen_id', 'pham-thi-dung');
    expect(session.account).toContain('data-passkey="register"');
    const authenticator = new SoftwareAuthenticator(ORIGIN, 'localhost');
    const { status, options } = await registrationOptions(s, session.agent, session.csrf);
    expect(status).toBe(200);
    expect(options).toMatchObject({ rp: { id: 'localhost', name: 'nixa' }, attestation: 'none' });
    // The authenticator is told the citizen's name, never an ID number.
    expect(JSON.stringify(options)).not.toMatch(/\d{9,}/);
    const answer = JSON.stringify(authenticator.register(options));

    const added = await addPasskey(s, session.agent, { csrf: session.csrf, name: '  Điện thoại   của Dung ', response: answer });
    expect(added.status).toBe(200);
    expect(added.html).toContain('<strong>Điện thoại của Dung</strong>');
    const { rows } = await s.tdb.db.query<{ enrolled_level: string; sign_count: string; name: string }>('SELECT enrolled_level, sign_count, name FROM passkeys');
    expect(rows).toEqual([{ enrolled_level: 'high', sign_count: expect.anything(), name: 'Điện thoại của Dung' }]);
    expect(await events(s, 'FACTOR_ENROLLED')).toBe(1);

    const replay = await addPasskey(s, session.agent, { csrf: session.csrf, name: 'Lần hai', response: answer });
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('đã được dùng hoặc không còn hiệu lực');
    expect(await count(s, 'passkeys')).toBe(1);
  });

  it('refuses a registration that is forged, phished, tampered with, malformed, oversized or unnamed, writing nothing', async () => {
    const session = await signedIn(s, 'citizen_id', 'le-hoang-cuong');
    const before = { passkeys: await count(s, 'passkeys'), audit: await count(s, 'audit_events') };
    const attempt = async (make: (options: Parameters<SoftwareAuthenticator['register']>[0]) => Record<string, string>) => {
      const { options } = await registrationOptions(s, session.agent, session.csrf);
      return addPasskey(s, session.agent, { csrf: session.csrf, ...make(options) });
    };
    const a = new SoftwareAuthenticator(ORIGIN, 'localhost');
    const phished = await attempt((o) => ({ name: 'x', response: JSON.stringify(a.register(o, { origin: 'http://localhost.evil.example' })) }));
    expect(phished.status).toBe(400);
    expect(phished.html).toContain('Không xác minh được khóa truy cập');
    const otherRp = await attempt((o) => ({ name: 'x', response: JSON.stringify(a.register(o, { rpId: 'evil.example' })) }));
    expect(otherRp.status).toBe(400);
    const tampered = await attempt((o) => ({ name: 'x', response: JSON.stringify(a.register(o, { challenge: Buffer.from('not the challenge').toString('base64url') })) }));
    expect(tampered.status).toBe(400);
    const malformed = await attempt(() => ({ name: 'x', response: '{"id": 1, "type": "public-key"' }));
    expect(malformed.html).toContain('Trình duyệt không gửi được khóa truy cập');
    const wrongShape = await attempt(() => ({ name: 'x', response: JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key', response: { clientDataJSON: '<script>' } }) }));
    expect(wrongShape.status).toBe(400);
    const unnamed = await attempt((o) => ({ name: '  ', response: JSON.stringify(a.register(o)) }));
    expect(unnamed.html).toContain('Hãy đặt tên cho khóa truy cập');
    const controlChars = await attempt((o) => ({ name: 'tên\u0000', response: JSON.stringify(a.register(o)) }));
    expect(controlChars.status).toBe(400);
    const oversized = await addPasskey(s, session.agent, { csrf: session.csrf, name: 'x', response: 'A'.repeat(40_000) });
    expect(oversized.status).toBe(413);
    const noCsrf = await addPasskey(s, session.agent, { name: 'x', response: '{}' });
    expect(noCsrf.status).toBe(400);

    expect(await count(s, 'passkeys')).toBe(before.passkeys);
    expect(await count(s, 'audit_events')).toBe(before.audit);
  });

  it('lets a low session see its passkeys but neither add nor remove one', async () => {
    const low = await signedIn(s, 'telecom', 'pham-thi-dung');
    expect(low.account).toContain('Điện thoại của Dung');
    expect(low.account).not.toContain('data-passkey="register"');
    expect(low.account).not.toContain('/remove"');
    expect((await registrationOptions(s, low.agent, low.csrf)).status).toBe(403);
    const id = (await s.tdb.db.query<{ id: string }>("SELECT id FROM passkeys WHERE name = 'Điện thoại của Dung'")).rows[0]!.id;
    const res = await low.agent.request(new URL(`/account/passkeys/${id}/remove`, s.fed.nixa.config.issuer), form({ csrf: low.csrf }));
    expect(res.status).toBe(403);
    expect(await count(s, 'passkeys WHERE id = $1', [id])).toBe(1);
  });

  it('raises a Telecom session to high with the passkey, verifying the person: acr high, amr hwk and user, same account', async () => {
    const { authenticator, sub } = await enrolled(s, 'hoang-minh-duc');
    const at = await askedForMore(s, 'hoang-minh-duc');
    expect(at.html).toContain('data-passkey="authenticate"');
    expect(at.html).toContain('mã PIN, vân tay hoặc khuôn mặt');
    // Above the sources, which are still offered.
    expect(at.html.indexOf('data-passkey')).toBeLessThan(at.html.indexOf('name="source"'));
    expect(at.html).toContain('value="sim-citizen-id"');

    const { status, options } = await assertionOptions(s, at);
    expect(status).toBe(200);
    // Without verification a passkey after Telecom gives substantial only: high needs it.
    expect(options!.userVerification).toBe('required');
    expect(options!.allowCredentials).toHaveLength(1);
    const ok = await submitAssertion(s, at, { csrf: at.csrf, response: JSON.stringify(authenticator.authenticate(options!)) });
    expect(ok.issued).toBeDefined();
    const claims = (await redeemFederated(s.config, ok.issued!)).claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:high');
    expect(claims.amr).toEqual(expect.arrayContaining(['hwk', 'user', 'mfa', 'fed']));
    expect(claims.sub).toBe(sub);
    expect(await events(s, 'FACTOR_USED')).toBeGreaterThanOrEqual(1);
    const { rows: stepUps } = await s.tdb.db.query<{ details: Record<string, string> }>("SELECT details FROM audit_events WHERE event = 'STEP_UP'");
    expect(stepUps.map((r) => r.details)).toEqual([{ method: 'passkey', from: 'low', level: 'high', client: s.portal.clientId, device: { browser: 'other', os: 'other' } }]);
    expect((await s.fed.nixa.metrics.stepUps.get()).values).toEqual([expect.objectContaining({ labels: { method: 'passkey', level: 'high' }, value: 1 })]);

    // The session is at high now: asked again, nothing more is asked.
    const again = await federatedSignIn(s.config, s.portal.redirectUri, { agent: at.agent, extra: HIGH });
    expect(again.pages).toEqual([]);
    expect((await redeemFederated(s.config, again)).claims()!.acr).toBe('urn:nixa:loa:high');
  });

  it('refuses replayed, forged, phished, unverified and counter-regressing answers, and answers without the CSRF token', async () => {
    const { authenticator } = await enrolled(s, 'dang-thi-ngoc-ha');
    const at = await askedForMore(s, 'dang-thi-ngoc-ha');
    const storedCounter = async () =>
      Number((await s.tdb.db.query<{ c: string }>('SELECT sign_count AS c FROM passkeys ORDER BY created_at DESC LIMIT 1')).rows[0]!.c);
    const failedBefore = await events(s, 'FACTOR_FAILED');
    const usedBefore = await events(s, 'FACTOR_USED');

    // A good answer to the first challenge, kept and not sent: it is replayed later.
    const first = (await assertionOptions(s, at)).options!;
    const kept = JSON.stringify(authenticator.authenticate(first));

    // Each attempt asks for a fresh challenge first, as the page does. The lockout
    // (tested with codes) would stop the fifth: each refusal here starts afresh.
    const tryWith = async (make: (o: NonNullable<Awaited<ReturnType<typeof assertionOptions>>['options']>) => string) => {
      await s.tdb.db.query('DELETE FROM factor_attempts');
      const { options } = await assertionOptions(s, at);
      return submitAssertion(s, at, { csrf: at.csrf, response: make(options!) });
    };
    const replayed = await tryWith(() => kept); // answers a challenge that was replaced
    expect(replayed.issued).toBeUndefined();
    expect(replayed.status).toBe(400);
    expect(replayed.html).toContain('Không xác minh được khóa truy cập');

    const forger = new SoftwareAuthenticator(ORIGIN, 'localhost');
    forger.register({ challenge: 'x', rp: {}, user: { id: 'x' } });
    const forged = await tryWith((o) => JSON.stringify(forger.authenticate(o, { credential: { ...forger.credentials[0]!, id: authenticator.credentials[0]!.id } })));
    expect(forged.issued).toBeUndefined();

    const phished = await tryWith((o) => JSON.stringify(authenticator.authenticate(o, { origin: 'http://localhost.evil.example' })));
    expect(phished.issued).toBeUndefined();
    const tampered = await tryWith((o) => JSON.stringify(authenticator.authenticate(o, { challenge: Buffer.from('chosen by attacker').toString('base64url') })));
    expect(tampered.issued).toBeUndefined();

    const unverified = await tryWith((o) => JSON.stringify(authenticator.authenticate(o, { userVerified: false })));
    expect(unverified.issued).toBeUndefined();
    expect(unverified.html).toContain('mã PIN, vân tay hoặc khuôn mặt');

    // As if the passkey had been used ten times: an answer counting 5 comes from a clone.
    await s.tdb.db.query('UPDATE passkeys SET sign_count = 10 WHERE credential_id = $1', [authenticator.credentials[0]!.id.toString('base64url')]);
    const counterNow = await storedCounter();
    expect(counterNow).toBe(10);
    const backwards = await tryWith((o) => JSON.stringify(authenticator.authenticate(o, { counter: 5 })));
    expect(backwards.issued).toBeUndefined();
    expect(backwards.html).toContain('có dấu hiệu bị sao chép');
    expect(await events(s, 'PASSKEY_COUNTER_REGRESSION')).toBe(1);
    expect(await storedCounter()).toBe(counterNow);

    const malformed = await tryWith(() => 'not json');
    expect(malformed.html).toContain('Trình duyệt không gửi được');
    expect(malformed.status).toBe(400);

    // Nothing was used, every failure counted (the account is now made to wait).
    expect(await events(s, 'FACTOR_USED')).toBe(usedBefore);
    expect(await events(s, 'FACTOR_FAILED')).toBe(failedBefore + 7);

    // Without the CSRF token: refused before anything is looked at or counted.
    const noCsrf = await at.agent.submit(new URL(`/interaction/${at.uid}/passkey`, s.fed.nixa.config.issuer), { response: kept });
    expect(noCsrf.res.status).toBe(400);
    const noCsrfOptions = await at.agent.request(new URL(`/interaction/${at.uid}/passkey/options`, s.fed.nixa.config.issuer), form({}));
    expect(noCsrfOptions.status).toBe(400);
    expect(await events(s, 'FACTOR_FAILED')).toBe(failedBefore + 7);
  });

  it('offers a passkey added in a substantial (bank) session for substantial, without demanding verification, but not for high', async () => {
    const bank = await signedIn(s, 'bank', 'nguyen-van-an');
    const authenticator = new SoftwareAuthenticator(ORIGIN, 'localhost', false);
    const { options } = await registrationOptions(s, bank.agent, bank.csrf);
    expect((await addPasskey(s, bank.agent, { csrf: bank.csrf, name: 'Khóa bảo mật', response: JSON.stringify(authenticator.register(options)) })).status).toBe(200);

    const high = await askedForMore(s, 'nguyen-van-an');
    expect(high.html).not.toContain('data-passkey');
    expect((await assertionOptions(s, high)).status).toBe(400);

    const substantial = await askedForMore(s, 'nguyen-van-an', SUBSTANTIAL);
    expect(substantial.html).toContain('data-passkey="authenticate"');
    const { options: request } = await assertionOptions(s, substantial);
    expect(request!.userVerification).toBe('preferred');
    const ok = await submitAssertion(s, substantial, { csrf: substantial.csrf, response: JSON.stringify(authenticator.authenticate(request!)) });
    const claims = (await redeemFederated(s.config, ok.issued!)).claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:substantial');
    expect(claims.amr).toEqual(expect.arrayContaining(['hwk', 'mfa']));
    expect(claims.amr).not.toContain('user');
  });

  it('offers a Telecom-only citizen no passkey for high, only the sources that can vouch higher', async () => {
    const at = await askedForMore(s, 'bui-thi-lan');
    expect(at.html).not.toContain('data-passkey');
    expect(at.html).toContain('value="sim-citizen-id"');
    expect(at.html).not.toContain('value="sim-telecom"');
  });

  it('renames and removes a passkey from a high session; a removed passkey is no longer offered', async () => {
    const { agent, csrf } = await enrolled(s, 'tran-thi-binh', 'Máy tính bảng');
    const id = (await s.tdb.db.query<{ id: string }>("SELECT id FROM passkeys WHERE name = 'Máy tính bảng'")).rows[0]!.id;
    const base = s.fed.nixa.config.issuer;
    const renamed = await agent.request(new URL(`/account/passkeys/${id}/rename`, base), form({ csrf, name: 'iPad của Bình' }));
    expect(renamed.status).toBe(200);
    expect(await renamed.text()).toContain('<strong>iPad của Bình</strong>');
    const badName = await agent.request(new URL(`/account/passkeys/${id}/rename`, base), form({ csrf, name: 'x'.repeat(65) }));
    expect(badName.status).toBe(400);
    const notMine = await agent.request(new URL('/account/passkeys/00000000-0000-4000-8000-000000000000/remove', base), form({ csrf }));
    expect(notMine.status).toBe(404);

    const removed = await agent.request(new URL(`/account/passkeys/${id}/remove`, base), form({ csrf }));
    expect(removed.status).toBe(200);
    expect(await removed.text()).toContain('Đã gỡ khóa truy cập');
    expect(await count(s, 'passkeys WHERE id = $1', [id])).toBe(0);
    expect(await count(s, "audit_events WHERE event = 'FACTOR_REMOVED' AND details->>'passkeyId' = $1", [id])).toBe(1);
    const at = await askedForMore(s, 'tran-thi-binh');
    expect(at.html).not.toContain('data-passkey');
  });
});
