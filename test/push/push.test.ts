// Web Push to a bound phone, against a local push service that checks the VAPID
// signature and decrypts what it receives with the subscription's own keys
// (test/support/push-service.ts): what nixa sends is what the phone reads; a gone
// subscription is forgotten; failures and slow push services are reported, never
// thrown; the VAPID private key and the endpoint are encrypted at rest.
import { createECDH, randomBytes, randomUUID } from 'node:crypto';

import { InvalidInputError, NotFoundError } from '../../src/errors/index.js';
import { Cipher } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import {
  notifyPhone,
  purgePushSubscriptions,
  removePushSubscription,
  savePushSubscription,
  vapidPublicKey,
  type PushDeps,
} from '../../src/push/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { capturingLogger, TEST_MASTER_KEY, testConfig } from '../support/nixa.js';
import { startPushService, type PushServiceHandle } from '../support/push-service.js';

let tdb: TestDatabase;
let service: PushServiceHandle;
let deps: PushDeps;
const cipher = new Cipher(Buffer.from(TEST_MASTER_KEY, 'base64'));
const pushConfig = { ...testConfig({ NIXA_PUSH_INSECURE_ENDPOINTS: 'true' }).push, timeoutMs: 400 };

beforeAll(async () => {
  tdb = await createTestDatabase();
  service = await startPushService();
  deps = { db: tdb.db, cipher, config: pushConfig, logger: silentLogger };
});

afterAll(async () => {
  await service?.close();
  await tdb?.drop();
});

// --- fixtures ------------------------------------------------------------------

/** A citizen with a phone bound by its passkey; returns the bound phone's id. */
async function boundPhone(name = 'Điện thoại của Nguyễn Thị Lan'): Promise<string> {
  const account = `acc-${randomUUID()}`;
  const passkey = `pk-${randomUUID()}`;
  const phone = `bp-${randomUUID()}`;
  await tdb.db.query(`INSERT INTO accounts (id) VALUES ($1)`, [account]);
  await tdb.db.query(
    `INSERT INTO passkeys (id, account_id, credential_id, public_key, name, device_type, backed_up, enrolled_level, created_at)
     VALUES ($1, $2, $3, $4, $5, 'multiDevice', true, 'substantial', now())`,
    [passkey, account, randomBytes(16).toString('base64url'), randomBytes(77), name],
  );
  await tdb.db.query(
    `INSERT INTO bound_phones (id, account_id, passkey_id, name, bound_level, created_at) VALUES ($1, $2, $3, $4, 'substantial', now())`,
    [phone, account, passkey, name],
  );
  return phone;
}

/** A bound phone whose browser subscribed with nixa's VAPID key at the local push service. */
async function subscribedPhone() {
  const phone = await boundPhone();
  const sub = service.subscribe(await vapidPublicKey(deps));
  await savePushSubscription(deps, phone, sub.json);
  return { phone, sub };
}

async function subscriptionRow(phone: string) {
  const { rows } = await tdb.db.query<{ failures: number; last_success_at: Date | null; secrets_enc: Uint8Array; p256dh: string; push_service: string }>(
    `SELECT failures, last_success_at, secrets_enc, p256dh, push_service FROM push_subscriptions WHERE bound_phone_id = $1`,
    [phone],
  );
  return rows[0];
}

const CIBA = { type: 'ciba', id: 'Xq3vB9pT2kLmN8wR' } as const;

// --- delivery ---------------------------------------------------------------------

describe('notifying a bound phone', () => {
  it('delivers the message encrypted to the phone, signed with the VAPID key the phone subscribed with, urgent, short-lived, under one topic', async () => {
    const { phone, sub } = await subscribedPhone();
    const before = service.received.length;
    const refusedBefore = service.refused.length;

    const outcome = await notifyPhone(deps, phone, CIBA);
    // The push service's checks (VAPID signature, audience, expiry, decryption) all passed.
    expect(service.refused.slice(refusedBefore)).toEqual([]);
    expect(outcome).toEqual({ status: 'sent' });

    const got = service.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.path).toBe(sub.path);
    // What the phone's service worker reads once it decrypts with its own keys.
    expect(JSON.parse(got[0]!.payload)).toEqual(CIBA);
    expect(got[0]!.urgency).toBe('high');
    expect(got[0]!.ttl).toBe(120);
    expect(got[0]!.topic).toBe('nixa-ciba');
    expect(got[0]!.vapid.key).toBe(await vapidPublicKey(deps));
    expect(got[0]!.vapid.claims.sub).toBe(`mailto:${testConfig().service.contactEmail}`);
    expect(got[0]!.vapid.claims.aud).toBe(service.origin);
    // Short-lived (push services may log it): an hour, well inside RFC 8292's 24 h.
    expect(got[0]!.vapid.claims.exp! - Date.now() / 1000).toBeLessThanOrEqual(3600);
    expect((await subscriptionRow(phone))!.last_success_at).not.toBeNull();
  });

  it('sends a newer message under the same topic (the push service keeps only the latest) and with the TTL asked for', async () => {
    const { phone } = await subscribedPhone();
    const before = service.received.length;
    await notifyPhone(deps, phone, { type: 'ciba', id: 'first' });
    await notifyPhone(deps, phone, { type: 'ciba', id: 'second' }, { ttlSeconds: 45 });
    const got = service.received.slice(before);
    expect(got.map((g) => [JSON.parse(g.payload).id, g.topic, g.ttl])).toEqual([
      ['first', 'nixa-ciba', 120],
      ['second', 'nixa-ciba', 45],
    ]);
  });

  it('sends nothing to a phone without a subscription, and says so', async () => {
    const phone = await boundPhone();
    const before = service.received.length + service.refused.length;
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'no-subscription' });
    await expect(notifyPhone(deps, 'bp-unknown', CIBA)).resolves.toEqual({ status: 'no-subscription' });
    expect(service.received.length + service.refused.length).toBe(before);
  });

  it('refuses to push anything but a known kind and an id (no personal data), without throwing', async () => {
    const { phone } = await subscribedPhone();
    const before = service.received.length;
    const withName = { ...CIBA, name: 'Nguyễn Thị Lan' } as never;
    await expect(notifyPhone(deps, phone, withName)).resolves.toEqual({ status: 'failed', reason: 'error' });
    await expect(notifyPhone(deps, phone, { type: 'marketing', id: 'x' } as never)).resolves.toEqual({ status: 'failed', reason: 'error' });
    expect(service.received.length).toBe(before);
  });

  it.each([404, 410] as const)('forgets the subscription when the push service answers %i', async (status) => {
    const { phone, sub } = await subscribedPhone();
    sub.answer(status);
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'gone', httpStatus: status });
    expect(await subscriptionRow(phone)).toBeUndefined();
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'no-subscription' });
  });

  it('counts a refused push (500) and reports it without throwing; logs the push service, never the endpoint; a success resets the count', async () => {
    const { phone, sub } = await subscribedPhone();
    const { logger, lines } = capturingLogger();
    const logged = { ...deps, logger };
    sub.answer(500);

    await expect(notifyPhone(logged, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'refused', httpStatus: 500, failures: 1 });
    await expect(notifyPhone(logged, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'refused', httpStatus: 500, failures: 2 });
    expect((await subscriptionRow(phone))!.failures).toBe(2);

    const text = JSON.stringify(lines());
    expect(text).toContain(service.origin);
    expect(text).toContain(phone);
    expect(text).not.toContain(sub.path.split('/').pop()!);
    expect(text).not.toContain(sub.json.keys.auth);

    sub.answer(201);
    await expect(notifyPhone(logged, phone, CIBA)).resolves.toEqual({ status: 'sent' });
    expect((await subscriptionRow(phone))!.failures).toBe(0);
  });

  it('does not follow a redirect: the endpoint is the only place a message goes', async () => {
    const { phone, sub } = await subscribedPhone();
    sub.answer(307);
    const refusedBefore = service.refused.length;
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'refused', httpStatus: 307, failures: 1 });
    expect(service.refused.slice(refusedBefore)).toEqual([]);
  });

  it('gives up on a push service that does not answer within the timeout', async () => {
    const { phone, sub } = await subscribedPhone();
    sub.answer('slow');
    const started = Date.now();
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'timeout', failures: 1 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(pushConfig.timeoutMs - 50);
    expect(took).toBeLessThan(pushConfig.timeoutMs + 1500);
  });

  it('reports a push service that cannot be reached', async () => {
    const phone = await boundPhone();
    const gone = await startPushService();
    const sub = gone.subscribe(await vapidPublicKey(deps));
    await gone.close();
    await savePushSubscription(deps, phone, sub.json);
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'unreachable', failures: 1 });
  });

  it('is refused by the push service when signed with another VAPID key than the subscription was made with (the local service checks)', async () => {
    const phone = await boundPhone();
    const other = createECDH('prime256v1');
    const sub = service.subscribe(other.generateKeys().toString('base64url'));
    await savePushSubscription(deps, phone, sub.json);
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'refused', httpStatus: 403, failures: 1 });
    expect(service.refused.at(-1)).toMatchObject({ path: sub.path, status: 403 });
  });

  it('does not throw when the database fails, and a push the service accepted stays sent if noting it fails', async () => {
    const { phone } = await subscribedPhone();
    const lost = () => Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' }));
    const down = { ...deps, db: { query: lost, exec: lost } as unknown as Database };
    await expect(notifyPhone(down, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'error' });

    // The database answers the reads, then fails as the success is written down.
    const flaky = {
      ...deps,
      db: {
        query: (sql: string, params?: unknown[]) => (/SET last_success_at/.test(sql) ? lost() : tdb.db.query(sql, params)),
        exec: lost,
      } as unknown as Database,
    };
    const before = service.received.length;
    await expect(notifyPhone(flaky, phone, CIBA)).resolves.toEqual({ status: 'sent' });
    expect(service.received.length).toBe(before + 1);
  });

  it('reports a subscription it cannot decrypt (another master key) without throwing', async () => {
    const { phone } = await subscribedPhone();
    const stranger = { ...deps, cipher: new Cipher(randomBytes(32)) };
    await expect(notifyPhone(stranger, phone, CIBA)).resolves.toEqual({ status: 'failed', reason: 'error' });
  });
});

// --- subscriptions ----------------------------------------------------------------

describe("keeping a phone's subscription", () => {
  const valid = () => service.subscribe('unused').json;
  const p256 = () => createECDH('prime256v1').generateKeys().toString('base64url');

  it.each<[string, string, (s: ReturnType<typeof valid>) => unknown]>([
    ['no object', 'subscription', () => 'not json'],
    ['an endpoint that is not a URL', 'endpoint', (s) => ({ ...s, endpoint: 'push service' })],
    ['a missing endpoint', 'endpoint', (s) => ({ keys: s.keys })],
    ['an endpoint with a password', 'endpoint', (s) => ({ ...s, endpoint: s.endpoint.replace('http://', 'http://u:p@') })],
    ['a javascript: endpoint', 'endpoint', (s) => ({ ...s, endpoint: 'javascript:alert(1)' })],
    ['an http endpoint elsewhere', 'endpoint', (s) => ({ ...s, endpoint: 'http://push.example.vn/wpush/abc' })],
    ['an https endpoint on an IP address', 'endpoint', (s) => ({ ...s, endpoint: 'https://10.0.0.7/wpush/abc' })],
    ['an https endpoint on another port', 'endpoint', (s) => ({ ...s, endpoint: 'https://push.example.vn:8443/wpush/abc' })],
    ['an endpoint of 3000 characters', 'endpoint', (s) => ({ ...s, endpoint: `https://push.example.vn/${'a'.repeat(3000)}` })],
    ['no keys', 'keys', (s) => ({ endpoint: s.endpoint })],
    ['a missing p256dh', 'keys.p256dh', (s) => ({ ...s, keys: { auth: s.keys.auth } })],
    ['a p256dh of 64 bytes', 'keys.p256dh', (s) => ({ ...s, keys: { ...s.keys, p256dh: randomBytes(64).toString('base64url') } })],
    ['a p256dh off the curve', 'keys.p256dh', (s) => ({ ...s, keys: { ...s.keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url') } })],
    ['a compressed p256dh', 'keys.p256dh', (s) => ({ ...s, keys: { ...s.keys, p256dh: Buffer.from(s.keys.p256dh, 'base64url').subarray(0, 33).toString('base64url') } })],
    ['a p256dh in standard base64', 'keys.p256dh', (s) => ({ ...s, keys: { ...s.keys, p256dh: `+/${s.keys.p256dh.slice(2)}` } })],
    ['an auth of 12 bytes', 'keys.auth', (s) => ({ ...s, keys: { ...s.keys, auth: randomBytes(12).toString('base64url') } })],
    ['an auth of 32 bytes', 'keys.auth', (s) => ({ ...s, keys: { ...s.keys, auth: randomBytes(32).toString('base64url') } })],
    ['an auth that is a number', 'keys.auth', (s) => ({ ...s, keys: { ...s.keys, auth: 16 } })],
    ['an expiration time already past', 'expirationTime', (s) => ({ ...s, expirationTime: Date.now() - 1000 })],
    ['an expiration time that is text', 'expirationTime', (s) => ({ ...s, expirationTime: 'tomorrow' })],
  ])('refuses %s, naming %s', async (_what, field, make) => {
    const phone = await boundPhone();
    const err = await savePushSubscription(deps, phone, make(valid())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).toBe(field);
    expect(await subscriptionRow(phone)).toBeUndefined();
  });

  it('accepts padded base64url and an expiration time to come, as some browsers give them', async () => {
    const phone = await boundPhone();
    const s = valid();
    await expect(
      savePushSubscription(deps, phone, { ...s, expirationTime: Date.now() + 86_400_000, keys: { p256dh: `${p256()}=`, auth: `${s.keys.auth}==` } }),
    ).resolves.toEqual({ pushService: service.origin });
  });

  it('accepts an endpoint on this machine over http only when NIXA_PUSH_INSECURE_ENDPOINTS says so', async () => {
    const phone = await boundPhone();
    const strict = { ...deps, config: testConfig().push };
    expect(strict.config.allowInsecureEndpoints).toBe(false);
    const err = await savePushSubscription(strict, phone, valid()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).toBe('endpoint');
    const secureLocal = await savePushSubscription(strict, phone, { ...valid(), endpoint: 'https://localhost/wpush/abc' }).catch((e: unknown) => e);
    expect((secureLocal as InvalidInputError).field).toBe('endpoint');
    await expect(savePushSubscription(deps, phone, valid())).resolves.toEqual({ pushService: service.origin });
    // A real push service's endpoint is accepted either way.
    await expect(
      savePushSubscription(strict, phone, { ...valid(), endpoint: 'https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH' }),
    ).resolves.toEqual({ pushService: 'https://fcm.googleapis.com' });
  });

  it('refuses a subscription for a bound phone that does not exist', async () => {
    await expect(savePushSubscription(deps, 'bp-nobody', valid())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps one subscription per phone: a new one replaces the old', async () => {
    const { phone } = await subscribedPhone();
    const newer = service.subscribe(await vapidPublicKey(deps));
    await savePushSubscription(deps, phone, newer.json);
    const before = service.received.length;
    await notifyPhone(deps, phone, CIBA);
    expect(service.received.slice(before).map((r) => r.path)).toEqual([newer.path]);
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM push_subscriptions WHERE bound_phone_id = $1`, [phone]);
    expect(rows[0]!.n).toBe(1);
  });

  it("stops using a subscription once the browser's expiration time has passed, and the purge deletes it", async () => {
    const phone = await boundPhone();
    const sub = service.subscribe(await vapidPublicKey(deps));
    await savePushSubscription(deps, phone, { ...sub.json, expirationTime: Date.now() + 60_000 });
    await tdb.db.query(`UPDATE push_subscriptions SET expires_at = now() - interval '1 second' WHERE bound_phone_id = $1`, [phone]);
    const before = service.received.length;
    await expect(notifyPhone(deps, phone, CIBA)).resolves.toEqual({ status: 'no-subscription' });
    expect(service.received.length).toBe(before);
    await expect(purgePushSubscriptions(tdb.db)).resolves.toBeGreaterThanOrEqual(1);
    expect(await subscriptionRow(phone)).toBeUndefined();
  });

  it('keeps the endpoint and the auth secret encrypted at rest, the public key in clear', async () => {
    const { phone, sub } = await subscribedPhone();
    const row = (await subscriptionRow(phone))!;
    const stored = Buffer.from(row.secrets_enc);
    expect(stored.includes(Buffer.from(sub.path.split('/').pop()!))).toBe(false);
    expect(stored.includes(Buffer.from(sub.json.keys.auth))).toBe(false);
    expect(stored.includes(Buffer.from(sub.json.keys.auth, 'base64url'))).toBe(false);
    expect(row.p256dh).toBe(sub.json.keys.p256dh);
    expect(row.push_service).toBe(service.origin);
  });

  it('forgets the subscription when the citizen turns notifications off, or the phone is unbound', async () => {
    const first = await subscribedPhone();
    await expect(removePushSubscription(tdb.db, first.phone)).resolves.toBe(true);
    await expect(notifyPhone(deps, first.phone, CIBA)).resolves.toEqual({ status: 'no-subscription' });

    const second = await subscribedPhone();
    await tdb.db.query(`DELETE FROM bound_phones WHERE id = $1`, [second.phone]);
    expect(await subscriptionRow(second.phone)).toBeUndefined();
  });
});

// --- the VAPID key ------------------------------------------------------------------

describe("nixa's VAPID key", () => {
  async function storedKey() {
    const { rows } = await tdb.db.query<{ public_key: string; private_enc: Uint8Array }>(`SELECT public_key, private_enc FROM push_vapid_key`);
    return rows;
  }

  it('is one P-256 key pair whose private key is stored encrypted under the master key', async () => {
    const publicKey = await vapidPublicKey(deps);
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    const rows = await storedKey();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.public_key).toBe(publicKey);

    // The row holds an envelope that only the master key opens, bound to this public key…
    const envelope = Buffer.from(rows[0]!.private_enc);
    const privateKey = cipher.decrypt(envelope, `push-vapid:${publicKey}`);
    const scalar = Buffer.from(privateKey, 'base64url');
    expect(scalar).toHaveLength(32);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(scalar);
    expect(ecdh.getPublicKey().toString('base64url')).toBe(publicKey);
    // …and not the key itself, in any encoding.
    expect(envelope.includes(scalar)).toBe(false);
    expect(envelope.includes(Buffer.from(privateKey))).toBe(false);
    expect(envelope.includes(Buffer.from(scalar.toString('base64')))).toBe(false);
    expect(envelope.includes(Buffer.from(scalar.toString('hex')))).toBe(false);
  });

  it('is the same for every instance and every call', async () => {
    const first = await vapidPublicKey(deps);
    const elsewhere = { db: tdb.db, cipher };
    await expect(vapidPublicKey(elsewhere)).resolves.toBe(first);
  });

  it('is never written to the logs', async () => {
    const { logger, lines } = capturingLogger();
    const { phone, sub } = await subscribedPhone();
    sub.answer(500);
    const logged = { ...deps, logger };
    await notifyPhone(logged, phone, CIBA);
    const row = (await storedKey())[0]!;
    const privateKey = cipher.decrypt(Buffer.from(row.private_enc), `push-vapid:${row.public_key}`);
    expect(lines().length).toBeGreaterThan(0);
    expect(JSON.stringify(lines())).not.toContain(privateKey);
  });

  it('is made once when instances need it at the same moment', async () => {
    await tdb.db.query(`DELETE FROM push_vapid_key`);
    // Each instance has its own deps (nothing kept in memory); on PostgreSQL a
    // second pool stands for a second instance, on its own connections.
    const second: Database | undefined = TEST_DATABASE_URL ? await openPostgres(tdb.url!, 4) : undefined;
    try {
      const dbs = [tdb.db, second ?? tdb.db];
      const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => vapidPublicKey({ db: dbs[i % 2]!, cipher })));
      expect(new Set(keys).size).toBe(1);
      expect(await storedKey()).toHaveLength(1);
      expect((await storedKey())[0]!.public_key).toBe(keys[0]);
    } finally {
      await second?.close();
    }
  });
});
