// Key rotation and revocation as a relying party sees them, against a running
// instance over HTTP. The instance polls for key changes only once an hour here,
// so every "within a bounded wait" below is the NOTIFY path doing its job.
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import type * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { signedArtifactMaxLifetime } from '../../src/config/index.js';
import { InvalidInputError, NotFoundError, StateError } from '../../src/errors/index.js';
import { KeyRing, listKeyViews, revokeKey, rotateKeys, type KeyView } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import type { Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa, testConfig } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait.js';

// Distinct lifetimes so that "the longest one, plus clock tolerance" is observable.
const LIFETIMES = {
  NIXA_TTL_ID_TOKEN: '30',
  NIXA_TTL_ACCESS_TOKEN: '90',
  NIXA_TTL_CLIENT_CREDENTIALS: '60',
  NIXA_CLOCK_TOLERANCE_SECONDS: '5',
};
const RETAIN_SECONDS = 95;
const NO_POLLING = { NIXA_KEYS_REFRESH_SECONDS: '3600' };

let tdb: TestDatabase;
let nixa: Nixa;
let client: TestClient;
let rp: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db, { ...LIFETIMES, ...NO_POLLING });
  client = await registerTestClient(tdb.db);
  rp = await discover(nixa.config.issuer, client);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

// --- helpers ---------------------------------------------------------------

async function jwks(): Promise<{ keys: JWK[] }> {
  const res = await fetch(`${nixa.url}/jwks`);
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: JWK[] };
}

async function publishedKids(): Promise<string[]> {
  return (await jwks()).keys.map((k) => k.kid!).sort();
}

async function keyViews(): Promise<KeyView[]> {
  return listKeyViews(tdb.db, true);
}

async function kidOf(alg: string, state: KeyView['state'], use: KeyView['use'] = 'sig'): Promise<string> {
  const k = (await keyViews()).find((v) => v.use === use && v.alg === alg && v.state === state);
  if (!k) throw new Error(`no ${state} ${use} key for ${alg}`);
  return k.kid;
}

/** The kids the database says must be published now. */
async function expectedPublishedKids(): Promise<string[]> {
  const now = Date.now();
  return (await keyViews())
    .filter((k) => k.use === 'sig')
    .filter((k) => k.state === 'next' || k.state === 'active' || (k.state === 'retired' && !!k.deleteAfter && Date.parse(k.deleteAfter) > now))
    .map((k) => k.kid)
    .sort();
}

/** Waits until the instance's JWKS matches the database, i.e. its key ring has reloaded. */
async function waitForRing(what: string): Promise<void> {
  await waitFor(
    async () => {
      expect(await publishedKids()).toEqual(await expectedPublishedKids());
      return true;
    },
    5_000,
    what,
  );
}

async function idToken(config = rp, c = client): Promise<string> {
  const tokens = await redeem(config, await signIn(config, c));
  return tokens.id_token!;
}

async function verifyAgainstPublishedJwks(token: string, audience = client.clientId) {
  return jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: nixa.config.issuer, audience });
}

// --- tests -----------------------------------------------------------------

describe('rotation', () => {
  it('keeps an ID token signed before a rotation verifiable against the published JWKS, through a second rotation', async () => {
    const token = await idToken();
    const { kid } = decodeProtectedHeader(token);
    expect(kid).toBe(await kidOf('RS256', 'active'));

    await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { reason: 'xoay khóa định kỳ (kiểm thử)' });
    await waitForRing('the first rotation to reach the instance');
    expect(await publishedKids()).toContain(kid);
    const first = await verifyAgainstPublishedJwks(token);
    expect(first.protectedHeader.kid).toBe(kid);

    await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { reason: 'xoay khóa định kỳ (kiểm thử)' });
    await waitForRing('the second rotation to reach the instance');
    expect((await keyViews()).find((k) => k.kid === kid)?.state).toBe('retired');
    const second = await verifyAgainstPublishedJwks(token);
    expect(second.payload.aud).toBe(client.clientId);
  });

  it('signs new ID tokens with the promoted key, under a different kid, once the instance has reloaded', async () => {
    const before = decodeProtectedHeader(await idToken()).kid;
    const waiting = await kidOf('RS256', 'next');
    const esClient = await registerTestClient(tdb.db);
    await tdb.db.query(
      `UPDATE clients SET metadata = metadata || '{"id_token_signed_response_alg":"ES256"}'::jsonb WHERE client_id = $1`,
      [esClient.clientId],
    );
    const esRp = await discover(nixa.config.issuer, esClient);
    const esBefore = decodeProtectedHeader(await idToken(esRp, esClient)).kid;
    const esWaiting = await kidOf('ES256', 'next');

    await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { reason: 'xoay khóa định kỳ (kiểm thử)' });
    await waitForRing('the rotation to reach the instance');

    const after = await idToken();
    expect(decodeProtectedHeader(after).kid).toBe(waiting);
    expect(decodeProtectedHeader(after).kid).not.toBe(before);
    expect(decodeProtectedHeader(after).alg).toBe('RS256');
    await verifyAgainstPublishedJwks(after);

    const esAfter = await idToken(esRp, esClient);
    expect(decodeProtectedHeader(esAfter)).toMatchObject({ alg: 'ES256', kid: esWaiting });
    expect(decodeProtectedHeader(esAfter).kid).not.toBe(esBefore);
    await verifyAgainstPublishedJwks(esAfter, esClient.clientId);
  });

  it('keeps a retired key published for the longest token lifetime plus clock tolerance, and drops it once maintenance runs past that', async () => {
    expect(signedArtifactMaxLifetime(nixa.config)).toBe(RETAIN_SECONDS);
    const kid = await kidOf('RS256', 'active');
    const token = await idToken();

    await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { reason: 'xoay khóa định kỳ (kiểm thử)' });
    await waitForRing('the rotation to reach the instance');
    const retired = (await keyViews()).find((k) => k.kid === kid)!;
    expect(retired.state).toBe('retired');
    const deleteAfter = Date.parse(retired.deleteAfter!);
    const retainedFor = (deleteAfter - Date.parse(retired.retiredAt!)) / 1000;
    expect(retainedFor).toBeGreaterThan(RETAIN_SECONDS - 2);
    expect(retainedFor).toBeLessThan(RETAIN_SECONDS + 2);

    // Right after retirement it is still published and still verifies.
    expect(await publishedKids()).toContain(kid);
    await verifyAgainstPublishedJwks(token);

    // Past the ID token lifetime, past the client credentials lifetime, even past the
    // longest lifetime without the clock tolerance: still kept.
    for (const seconds of [31, 61, 91]) {
      await nixa.keyring.maintain(new Date(Date.parse(retired.retiredAt!) + seconds * 1000));
      expect(await publishedKids()).toContain(kid);
      expect((await keyViews()).find((k) => k.kid === kid)?.state).toBe('retired');
    }
    await nixa.keyring.maintain(new Date(deleteAfter - 1_000));
    expect(await publishedKids()).toContain(kid);

    // Once maintenance runs at deleteAfter, the key is gone from the database and from JWKS.
    await nixa.keyring.maintain(new Date(deleteAfter + 1_000));
    expect(await publishedKids()).not.toContain(kid);
    expect((await keyViews()).find((k) => k.kid === kid)).toBeUndefined();
    expect(nixa.keyring.snapshot.providerJwks.map((k) => k.kid)).not.toContain(kid);
    const audit = await tdb.db.query<{ event: string }>(`SELECT event FROM audit_events WHERE subject = $1 ORDER BY seq`, [kid]);
    expect(audit.rows.map((r) => r.event)).toEqual(expect.arrayContaining(['KEY_RETIRED', 'KEY_DELETED']));
  });
});

describe('key material at rest and in JWKS', () => {
  it('stores no private key or cookie secret in plaintext in any column of any row of the keys table', async () => {
    const ring = nixa.keyring.snapshot;
    const secrets = [
      ...ring.providerJwks.flatMap((jwk) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => (jwk as Record<string, unknown>)[m]).filter((v): v is string => typeof v === 'string')),
      ...ring.cookieKeys,
    ];
    // Guard against a vacuous pass: there are private members and cookie secrets to look for.
    expect(ring.providerJwks.some((k) => typeof (k as JWK).d === 'string')).toBe(true);
    expect(ring.cookieKeys.length).toBeGreaterThan(0);

    const { rows } = await tdb.db.query<Record<string, unknown>>('SELECT * FROM keys');
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const renderings = (value: unknown): string[] => {
      if (value === null || value === undefined) return [];
      if (value instanceof Uint8Array) {
        const b = Buffer.from(value);
        return [b.toString('utf8'), b.toString('latin1'), b.toString('base64'), b.toString('base64url'), b.toString('hex')];
      }
      if (value instanceof Date) return [value.toISOString()];
      if (typeof value === 'object') return [JSON.stringify(value)];
      return [String(value)];
    };
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        for (const text of renderings(value)) {
          expect(text).not.toMatch(/"d"\s*:/);
          for (const s of secrets) expect({ column, leaks: text.includes(s) }).toEqual({ column, leaks: false });
        }
        if (value && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
          for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(value).not.toHaveProperty(m);
        }
      }
      const enc = row.private_enc;
      if (row.state === 'revoked') {
        expect(enc).toBeNull();
      } else {
        expect(enc).toBeInstanceOf(Uint8Array);
        let parsed: unknown = undefined;
        try {
          parsed = JSON.parse(Buffer.from(enc as Uint8Array).toString('utf8'));
        } catch {
          // expected: an envelope is not JSON
        }
        expect(parsed).toBeUndefined();
      }
    }

    // The same, as PostgreSQL renders whole rows to text.
    const { rows: texts } = await tdb.db.query<{ t: string }>('SELECT row_to_json(k)::text AS t FROM keys k');
    for (const { t } of texts) {
      expect(t).not.toMatch(/"d"\s*:/);
      for (const s of secrets) expect(t.includes(s)).toBe(false);
    }
  });

  it('publishes only the public parts of signing keys: no cookie key, no private member', async () => {
    const published = (await jwks()).keys;
    const views = await keyViews();
    const cookieKids = views.filter((k) => k.use === 'cookie').map((k) => k.kid);
    expect(cookieKids.length).toBeGreaterThan(0);
    expect(published.length).toBeGreaterThan(0);
    for (const jwk of published) {
      expect(cookieKids).not.toContain(jwk.kid);
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(jwk).not.toHaveProperty(m);
      expect(jwk.use).toBe('sig');
      expect(['RS256', 'ES256']).toContain(jwk.alg);
    }
    for (const alg of ['RS256', 'ES256']) {
      expect(published.map((k) => k.kid)).toEqual(expect.arrayContaining([await kidOf(alg, 'active'), await kidOf(alg, 'next')]));
    }
  });
});

describe('revocation', () => {
  it('removes a revoked key from JWKS at once, destroys its private part, audits the reason, and signs on with the promoted key', async () => {
    const token = await idToken();
    const kid = decodeProtectedHeader(token).kid!;
    expect(kid).toBe(await kidOf('RS256', 'active'));
    const promoted = await kidOf('RS256', 'next');
    const reason = 'private key found in a public repository (incident 2024-17)';

    const steps = await revokeKey(tdb.db, nixa.cipher, kid, 'test:operator', reason);
    expect(steps.map((s) => s.type)).toEqual(['revoke', 'activate', 'create']);

    await waitFor(async () => !(await publishedKids()).includes(kid), 5_000, 'the revoked key to leave /jwks');
    await waitForRing('the revocation to reach the instance');
    expect(nixa.keyring.snapshot.providerJwks.map((k) => k.kid)).not.toContain(kid);

    const { rows } = await tdb.db.query<{ state: string; private_enc: unknown; revoked_reason: string; revoked_at: unknown }>(
      'SELECT state, private_enc, revoked_reason, revoked_at FROM keys WHERE kid = $1',
      [kid],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'revoked', private_enc: null, revoked_reason: reason });
    expect(rows[0]!.revoked_at).not.toBeNull();

    const audit = await tdb.db.query<{ actor: string; details: Record<string, unknown> }>(
      `SELECT actor, details FROM audit_events WHERE event = 'KEY_REVOKED' AND subject = $1`,
      [kid],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actor: 'test:operator', details: { reason, previousState: 'active' } });

    // Tokens it signed no longer verify; new ones come from the promoted key.
    await expect(verifyAgainstPublishedJwks(token)).rejects.toThrow();
    const after = await idToken();
    expect(decodeProtectedHeader(after).kid).toBe(promoted);
    await verifyAgainstPublishedJwks(after);
  });

  it('refuses to revoke without a reason of 10 characters (the admin API\'s rule), and refuses an unknown or already revoked kid', async () => {
    const active = await kidOf('RS256', 'active');
    await expect(revokeKey(tdb.db, nixa.cipher, active, 'test:operator', '   ')).rejects.toThrow(InvalidInputError);
    await expect(revokeKey(tdb.db, nixa.cipher, active, 'test:operator', '')).rejects.toThrow(InvalidInputError);
    await expect(revokeKey(tdb.db, nixa.cipher, active, 'test:operator', 'bị lộ')).rejects.toThrow(InvalidInputError);
    expect((await keyViews()).find((k) => k.kid === active)?.state).toBe('active');

    await expect(revokeKey(tdb.db, nixa.cipher, 'no-such-kid', 'test:operator', 'testing a revocation')).rejects.toThrow(NotFoundError);

    const waiting = await kidOf('ES256', 'next');
    await revokeKey(tdb.db, nixa.cipher, waiting, 'test:operator', 'testing a double revocation');
    await expect(revokeKey(tdb.db, nixa.cipher, waiting, 'test:operator', 'again, to see it refused')).rejects.toThrow(StateError);
    const audit = await tdb.db.query(`SELECT 1 FROM audit_events WHERE event = 'KEY_REVOKED' AND subject = $1`, [waiting]);
    expect(audit.rows).toHaveLength(1);
    await waitForRing('the revocation to reach the instance');
  });
});

describe('cookie keys', () => {
  it('keeps a session made before a cookie key rotation working after it (SSO without a new login)', async () => {
    const agent = new UserAgent();
    await redeem(rp, await signIn(rp, client, { agent, account: 'tran-thi-binh' }));
    const sigBefore = await Promise.all(['RS256', 'ES256'].map((alg) => kidOf(alg, 'active')));
    const cookieKeyBefore = nixa.keyring.snapshot.cookieKeys[0];
    const cookieKidBefore = await kidOf('HS256', 'active', 'cookie');

    const steps = await rotateKeys(tdb.db, nixa.cipher, nixa.config, 'test:operator', { use: 'cookie', reason: 'xoay khóa định kỳ (kiểm thử)' });
    expect(steps.map((s) => s.type)).toEqual(['retire', 'activate', 'create']);
    expect(await kidOf('HS256', 'active', 'cookie')).not.toBe(cookieKidBefore);
    expect(await Promise.all(['RS256', 'ES256'].map((alg) => kidOf(alg, 'active')))).toEqual(sigBefore);
    await waitFor(() => nixa.keyring.snapshot.cookieKeys[0] !== cookieKeyBefore, 5_000, 'the new cookie key to reach the instance');

    // A browser without the session is told to log in: prompt=none really needs the session.
    const stranger = await signIn(rp, client, { agent: new UserAgent(), extra: { prompt: 'none' } });
    expect(stranger.callbackUrl.searchParams.get('error')).toBe('login_required');

    // The browser holding the cookie from before the rotation gets a code without logging in.
    const again = await signIn(rp, client, { agent, extra: { prompt: 'none' } });
    expect(again.callbackUrl.searchParams.get('error')).toBeNull();
    const tokens = await redeem(rp, again);
    expect(tokens.claims()?.sub).toBe('tran-thi-binh');
    // It worked because the retired cookie key still verifies, behind the new one that signs.
    expect(nixa.keyring.snapshot.cookieKeys.slice(1)).toContain(cookieKeyBefore);
  });
});

// --- the key ring on its own -------------------------------------------------

/** Wraps a database so that a test can hold the key ring's change-detection query, and see NOTIFYs arrive. */
function instrumented(db: Database) {
  const state = { hold: undefined as Promise<void> | undefined, held: false, notifications: 0 };
  const wrapped: Database = {
    engine: db.engine,
    async query<R>(sql: string, params?: unknown[]) {
      const res = await db.query<R>(sql, params);
      if (state.hold && sql.includes('string_agg')) {
        const hold = state.hold;
        state.hold = undefined;
        state.held = true;
        await hold;
      }
      return res;
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    listen: (channel, onNotify) =>
      db.listen(channel, (payload, local) => {
        state.notifications += 1;
        onNotify(payload, local);
      }),
    listenState: () => db.listenState(),
    close: () => db.close(),
  };
  return { db: wrapped, state };
}

describe('key ring', () => {
  let ringDb: TestDatabase;
  beforeAll(async () => {
    ringDb = await createTestDatabase();
  });
  afterAll(async () => {
    await ringDb?.drop();
  });

  it('does not lose a change committed while a reload is already in flight', async () => {
    const config = testConfig(NO_POLLING);
    const { db, state } = instrumented(ringDb.db);
    const ring = new KeyRing(db, nixa.cipher, config, silentLogger);
    await ring.start();
    try {
      const before = ring.snapshot.signingStamp;
      let release!: () => void;
      state.hold = new Promise<void>((resolve) => (release = resolve));
      const inFlight = ring.refresh();
      await waitFor(() => state.held, 5_000, 'the reload to read the old state');

      const seen = state.notifications;
      await rotateKeys(ringDb.db, nixa.cipher, config, 'test:operator', { use: 'sig', reason: 'xoay khóa định kỳ (kiểm thử)' });
      await waitFor(() => state.notifications > seen, 5_000, 'the NOTIFY to arrive');
      release();
      await inFlight;

      await waitFor(() => ring.snapshot.signingStamp !== before, 5_000, 'the ring to load the rotated keys');
      const active = (await listKeyViews(ringDb.db)).filter((k) => k.use === 'sig' && k.state === 'active').map((k) => k.kid);
      expect(ring.snapshot.providerJwks.filter((k) => !k.key_ops).map((k) => k.kid).sort()).toEqual(active.sort());
    } finally {
      await ring.stop();
    }
  });

  it('drops a retired key from JWKS when its time is up, before maintenance deletes it, and then stops rebuilding', async () => {
    // Everything it signs lives 1 s, plus 1 s tolerance: retired keys stay 2 s.
    const config = testConfig({
      ...NO_POLLING,
      NIXA_TTL_ID_TOKEN: '1',
      NIXA_TTL_ACCESS_TOKEN: '1',
      NIXA_TTL_CLIENT_CREDENTIALS: '1',
      NIXA_CLOCK_TOLERANCE_SECONDS: '1',
    });
    const ring = new KeyRing(ringDb.db, nixa.cipher, config, silentLogger);
    await ring.start();
    let rebuilds = 0;
    ring.onChange(() => (rebuilds += 1));
    try {
      const retiring = (await listKeyViews(ringDb.db)).filter((k) => k.use === 'sig' && k.state === 'active').map((k) => k.kid);
      await rotateKeys(ringDb.db, nixa.cipher, config, 'test:operator', { use: 'sig', reason: 'xoay khóa định kỳ (kiểm thử)' });
      await ring.refresh();
      const published = () => ring.snapshot.publicJwks.keys.map((k) => k.kid!);
      expect(published()).toEqual(expect.arrayContaining(retiring));

      await waitFor(
        async () => {
          await ring.refresh();
          return retiring.every((kid) => !published().includes(kid));
        },
        8_000,
        'the retired keys to expire',
      );
      // Still in the database (no maintenance ran), but neither published nor usable by the provider.
      const views = await listKeyViews(ringDb.db);
      expect(views.filter((k) => retiring.includes(k.kid)).map((k) => k.state)).toEqual(['retired', 'retired']);
      for (const kid of retiring) expect(ring.snapshot.providerJwks.map((k) => k.kid)).not.toContain(kid);

      // Nothing changes any more until something does: further reloads do not rebuild.
      const settled = rebuilds;
      for (let i = 0; i < 3; i++) await ring.refresh();
      expect(rebuilds).toBe(settled);
    } finally {
      await ring.stop();
    }
  });
});
