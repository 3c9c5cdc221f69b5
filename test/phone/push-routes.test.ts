// A bound phone's Web Push subscription, over real HTTP: a citizen binds their
// phone at /account (software authenticator, genuine WebAuthn answers), the phone
// asks nixa's VAPID key and hands nixa the subscription its browser made — here
// made by a local push service that speaks the real protocol — and a push nixa
// then sends reaches that service, which decrypts it with the subscription's own
// keys. Only the bound phone is answered; a change from another origin, a
// malformed subscription and a body that is not one are refused, writing nothing.
import type * as oidc from 'openid-client';

import { notifyPhone, vapidPublicKey } from '../../src/push/index.js';
import { SoftwareAuthenticator } from '../support/authenticator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { field } from '../support/pages.js';
import { startPushService, type PushServiceHandle } from '../support/push-service.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

/** The passkeys' origin, one of nixa's own (the phone's browser would be on it). */
const PASSKEY_ORIGIN = 'http://localhost:3000';

interface Setup {
  tdb: TestDatabase;
  fed: Federation;
  portal: TestClient;
  config: oidc.Configuration;
  pushService: PushServiceHandle;
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

interface Phone {
  agent: UserAgent;
  id: string;
}

describe('a bound phone’s Web Push subscription', () => {
  let s: Setup;
  let own: string;
  const url = (path: string) => new URL(path, s.fed.nixa.config.issuer);
  const count = async (sql: string, params: unknown[] = []) => (await s.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;
  const subscriptionsOf = (phone: Phone) => count('push_subscriptions WHERE bound_phone_id = $1', [phone.id]);

  beforeAll(async () => {
    const tdb = await createTestDatabase();
    const fed = await startFederation(tdb, { NIXA_PASSKEY_RP_ID: 'localhost', NIXA_PASSKEY_ORIGINS: PASSKEY_ORIGIN, NIXA_PUSH_INSECURE_ENDPOINTS: 'true' });
    const portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    s = { tdb, fed, portal, config: await discover(fed.nixa.config.issuer, portal), pushService: await startPushService() };
    own = new URL(fed.nixa.config.issuer).origin;
  });
  afterAll(async () => {
    await s?.pushService.close();
    await s?.fed.close();
    await s?.tdb.drop();
  });

  /** A browser signed in to the portal (and so to nixa) through a source, its /account page loaded. */
  async function signedIn(citizen: string) {
    const signIn = await federatedSignIn(s.config, s.portal.redirectUri, { source: 'citizen_id', citizen, consent: 'accept' });
    await redeemFederated(s.config, signIn);
    const res = await signIn.agent.request(url('/account'));
    return { agent: signIn.agent, account: await res.text() };
  }

  /** A phone bound at /account (a passkey with user verification) from a session on it. */
  async function boundPhone(citizen: string): Promise<Phone> {
    const { agent, account } = await signedIn(citizen);
    const csrf = field(account, 'csrf')!;
    const authenticator = new SoftwareAuthenticator(PASSKEY_ORIGIN, 'localhost');
    const options = (await (await agent.request(url('/account/phones/options'), form({ csrf }))).json()) as Parameters<SoftwareAuthenticator['register']>[0];
    const bound = await agent.request(url('/account/phones'), form({ csrf, name: 'Điện thoại của tôi', response: JSON.stringify(authenticator.register(options)) }));
    expect(bound.status).toBe(200);
    const { rows } = await s.tdb.db.query<{ id: string }>('SELECT id FROM bound_phones ORDER BY created_at DESC LIMIT 1');
    return { agent, id: rows[0]!.id };
  }

  const getKey = (agent: UserAgent) => agent.request(url('/p/push/key'), { headers: { accept: 'application/json' } });

  /** What views/phone-push.js sends: the subscription's JSON, from nixa's origin. */
  const postSubscription = (agent: UserAgent, body: unknown, headers: Record<string, string> = {}) =>
    agent.request(url('/p/push/subscription'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin: own, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const deleteSubscription = (agent: UserAgent, headers: Record<string, string> = {}) =>
    agent.request(url('/p/push/subscription'), { method: 'DELETE', headers: { accept: 'application/json', origin: own, ...headers } });

  let dung: Phone;
  let publicKey: string;

  it('shows the bound phone, and only it, the button to get notifications (asked on the button, never on load)', async () => {
    const plain = await signedIn('tran-thi-binh');
    expect(plain.account).toContain('Điện thoại của bạn');
    expect(plain.account).not.toContain('data-push');
    expect(plain.account).not.toContain('/assets/phone-push.js');

    dung = await boundPhone('pham-thi-dung');
    const account = await (await dung.agent.request(url('/account'))).text();
    expect(account).toMatch(/<div data-push hidden>[^]*<button type="button" data-push-enable>Nhận thông báo trên điện thoại này <span lang="en">\(Get notifications on this phone\)<\/span><\/button>[^]*role="status"/);
    expect(account).toContain('<script src="/assets/phone-push.js" defer></script>');

    const script = await dung.agent.request(url('/assets/phone-push.js'));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const js = await script.text();
    // The only permission request is inside the button's click handler.
    expect(js.match(/requestPermission/g)).toHaveLength(1);
    expect(js.indexOf("button.addEventListener('click'")).toBeLessThan(js.indexOf('requestPermission'));
    expect(js).toContain("referrerPolicy: 'same-origin'");
  });

  it('gives the bound phone nixa’s VAPID public key as JSON, never stored', async () => {
    const res = await getKey(dung.agent);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    ({ publicKey } = (await res.json()) as { publicKey: string });
    // An uncompressed P-256 point, the key pushes are signed with.
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(publicKey, 'base64url')[0]).toBe(4);
    expect(publicKey).toBe(await vapidPublicKey(s.fed.nixa.push));
  });

  it('refuses the key and any change to a browser that is not a bound phone (403, JSON), writing nothing', async () => {
    const strangers = [new UserAgent(), (await signedIn('le-hoang-cuong')).agent];
    for (const agent of strangers) {
      const key = await getKey(agent);
      expect(key.status).toBe(403);
      expect(key.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(key.headers.get('cache-control')).toBe('no-store');
      expect(await key.json()).toMatchObject({ error: 'NIXA-AUTH-002' });
      // Even a browser that asks for a page gets JSON: this is an API for nixa's scripts.
      const asPage = await agent.request(url('/p/push/key'), { headers: { accept: 'text/html' } });
      expect([asPage.status, asPage.headers.get('content-type')]).toEqual([403, 'application/json; charset=utf-8']);

      const sub = s.pushService.subscribe(publicKey);
      expect((await postSubscription(agent, sub.json)).status).toBe(403);
      expect((await deleteSubscription(agent)).status).toBe(403);
    }
    // A forged cookie names no binding.
    const forged = new UserAgent();
    forged.setCookie(url('/'), 'nixa_phone', dung.id);
    expect((await getKey(forged)).status).toBe(403);
    expect(await count('push_subscriptions')).toBe(0);
  });

  it('keeps the subscription the phone hands it; a push nixa then sends reaches the push service and decrypts with the subscription’s keys', async () => {
    const sub = s.pushService.subscribe(publicKey);
    const res = await postSubscription(dung.agent, sub.json);
    expect(res.status).toBe(204);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await subscriptionsOf(dung)).toBe(1);
    // The endpoint (a capability) and the auth secret are kept encrypted, not as given.
    const { rows } = await s.tdb.db.query<{ row: string }>('SELECT row_to_json(p)::text AS row FROM push_subscriptions p');
    expect(rows[0]!.row).not.toContain(sub.path);
    expect(rows[0]!.row).not.toContain(sub.json.keys.auth);

    const outcome = await notifyPhone(s.fed.nixa.push, dung.id, { type: 'ciba', id: 'auth-req-7Hq2xLw9' });
    expect(outcome).toEqual({ status: 'sent' });
    const got = s.pushService.received.filter((r) => r.path === sub.path);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.payload)).toEqual({ type: 'ciba', id: 'auth-req-7Hq2xLw9' });
    expect(got[0]!.vapid.key).toBe(publicKey);
  });

  it('replaces the phone’s subscription with the one it hands next (a renewed one), also from a passkey origin of nixa', async () => {
    const renewed = s.pushService.subscribe(publicKey);
    expect((await postSubscription(dung.agent, renewed.json, { origin: PASSKEY_ORIGIN })).status).toBe(204);
    expect(await subscriptionsOf(dung)).toBe(1);
    expect(await notifyPhone(s.fed.nixa.push, dung.id, { type: 'ciba', id: 'auth-req-2' })).toEqual({ status: 'sent' });
    expect(s.pushService.received.at(-1)!.path).toBe(renewed.path);
  });

  it('refuses a change that does not come from nixa’s own page: another Origin, "null", none, or a cross-site fetch (403), changing nothing', async () => {
    const attacker = s.pushService.subscribe(publicKey);
    const before = s.pushService.received.length;
    const refusedHeaders: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: '' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'http://localhost:3001' }];
    for (const headers of refusedHeaders) {
      const res = await postSubscription(dung.agent, attacker.json, headers);
      expect([headers, res.status]).toEqual([headers, 403]);
      const del = await deleteSubscription(dung.agent, headers);
      expect([headers, del.status]).toEqual([headers, 403]);
    }
    // A plain HTML form cannot send JSON: one posted from anywhere is refused too.
    const asForm = await dung.agent.request(url('/p/push/subscription'), { ...form({ endpoint: attacker.json.endpoint }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: own } });
    expect(asForm.status).toBe(415);
    // The phone's own subscription is still the one pushes go to.
    expect(await subscriptionsOf(dung)).toBe(1);
    await notifyPhone(s.fed.nixa.push, dung.id, { type: 'ciba', id: 'auth-req-3' });
    expect(s.pushService.received.slice(before).map((r) => r.path)).not.toContain(attacker.path);
    expect(s.pushService.received).toHaveLength(before + 1);
  });

  it('refuses a malformed subscription with 400 JSON naming the field, keeping the one it had', async () => {
    const good = s.pushService.subscribe(publicKey).json;
    const cases: [unknown, string][] = [
      [{ ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 4).toString('base64url') } }, 'keys.p256dh'],
      [{ ...good, keys: { p256dh: good.keys.p256dh } }, 'keys.auth'],
      [{ ...good, endpoint: 'https://10.0.0.7/wpush/abc' }, 'endpoint'],
      [{ ...good, endpoint: 'file:///etc/passwd' }, 'endpoint'],
      [{ ...good, expirationTime: Date.now() - 60_000 }, 'expirationTime'],
      [{ ...good, endpoint: `${good.endpoint}\u0000` }, 'endpoint'],
      [[good], 'subscription'],
      ['{"endpoint": ', '(body)'],
      [JSON.stringify({ ...good, padding: 'x'.repeat(9 * 1024) }), '(body)'],
    ];
    for (const [body, name] of cases) {
      const res = await postSubscription(dung.agent, body);
      expect([name, res.status, res.headers.get('content-type')]).toEqual([name, 400, 'application/json; charset=utf-8']);
      const answer = (await res.json()) as { error: string; field: string; message: string };
      expect([name, answer.error, answer.field]).toEqual([name, 'NIXA-INP-001', name]);
    }
    expect(await subscriptionsOf(dung)).toBe(1);
    expect(await notifyPhone(s.fed.nixa.push, dung.id, { type: 'ciba', id: 'auth-req-4' })).toEqual({ status: 'sent' });
  });

  it('answers other methods with 405 and what it allows', async () => {
    const put = await dung.agent.request(url('/p/push/subscription'), { method: 'PUT', headers: { origin: own, 'content-type': 'application/json' }, body: '{}' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'POST, DELETE']);
    const post = await dung.agent.request(url('/p/push/key'), { method: 'POST', headers: { origin: own } });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('forgets the subscription when the phone turns notifications off: nothing more is pushed to it', async () => {
    const res = await deleteSubscription(dung.agent);
    expect(res.status).toBe(204);
    expect(await subscriptionsOf(dung)).toBe(0);
    const before = s.pushService.received.length;
    expect(await notifyPhone(s.fed.nixa.push, dung.id, { type: 'ciba', id: 'auth-req-5' })).toEqual({ status: 'no-subscription' });
    expect(s.pushService.received).toHaveLength(before);
    // Again: nothing to forget is not an error.
    expect((await deleteSubscription(dung.agent)).status).toBe(204);
  });

  it('touches only its own phone: another citizen’s bound phone keeps its subscription', async () => {
    const an = await boundPhone('nguyen-van-an');
    const { publicKey: key } = (await (await getKey(an.agent)).json()) as { publicKey: string };
    expect((await postSubscription(an.agent, s.pushService.subscribe(key).json)).status).toBe(204);
    expect((await postSubscription(dung.agent, s.pushService.subscribe(key).json)).status).toBe(204);
    expect((await deleteSubscription(dung.agent)).status).toBe(204);
    expect(await subscriptionsOf(an)).toBe(1);
    expect(await subscriptionsOf(dung)).toBe(0);
  });
});
