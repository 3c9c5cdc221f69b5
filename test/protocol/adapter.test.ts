// The storage adapter contract oidc-provider relies on, model by model, on the
// engine the test run uses (real PostgreSQL with NIXA_TEST_DATABASE_URL, else
// embedded PGlite). One table of models drives every contract test; the models
// that belong to a grant also prove grant-wide revocation and replay handling.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { errors, type AdapterPayload } from 'oidc-provider';

import { addClient, clientStore, disableClient } from '../../src/clients/index.js';
import { PostgresAdapter, SESSION_SLIDE_WRITE_SECONDS } from '../../src/protocol/adapter.js';
import { announceRecord, PROTOCOL_CHANNEL, recordCache, type RecordCache } from '../../src/protocol/record-cache.js';
import { withinTransaction } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

const ISSUER = 'https://id.nixa.example.vn';
const CLIENT_ID = 'cong-dich-vu-cong-quoc-gia';
const REDIRECT_URI = 'https://dichvucong.example.vn/oidc/callback';
const ACCOUNTS = ['nguyen-van-an', 'tran-thi-binh', 'le-hoang-cuong', 'pham-thu-dung', 'vo-minh-em'];
const TTL = 600;

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

function adapter(model: string): PostgresAdapter {
  return new PostgresAdapter(model, tdb.db, clientStore(tdb.db));
}

// ---------------------------------------------------------------------------
// Fixtures: payloads shaped like the ones oidc-provider 9 stores.

let seq = 0;
const epoch = () => Math.floor(Date.now() / 1000);
const opaque = () => randomBytes(32).toString('base64url');

// oidc-provider's user codes: base-20 consonants, shown as XXXX-XXXX.
const USER_CODE_CHARSET = 'BCDFGHJKLMNPQRSTVWXZ';
function userCode(): string {
  const c = [...randomBytes(8)].map((b) => USER_CODE_CHARSET[b % USER_CODE_CHARSET.length]).join('');
  return `${c.slice(0, 4)}-${c.slice(4)}`;
}

/** The identifiers one stored artifact is built from. */
interface Ids {
  id: string;
  grantId: string;
  accountId: string;
  sessionUid: string;
  sid: string;
  uid: string;
  userCode: string;
}

function newIds(model: string, grantId = `grant-${opaque()}`): Ids {
  seq += 1;
  const isGrant = model === 'Grant';
  return {
    // A Grant's own id is the grant id its tokens carry.
    id: isGrant ? grantId : model === 'ReplayDetection' ? createHash('sha256').update(`${CLIENT_ID}${opaque()}`).digest('base64url') : opaque(),
    grantId,
    accountId: ACCOUNTS[seq % ACCOUNTS.length]!,
    sessionUid: opaque().slice(0, 21),
    sid: opaque().slice(0, 21),
    uid: opaque().slice(0, 21),
    userCode: userCode(),
  };
}

/** How a model's rows belong to a grant. */
type GrantLink = 'self' | 'grantId' | 'none';

interface ModelCase {
  model: string;
  grant: GrantLink;
  payload(ids: Ids): AdapterPayload;
  /** A later save of the same artifact; drops at least one key so a merge would show. */
  revise(p: AdapterPayload): AdapterPayload;
}

const base = (kind: string, ids: Ids, ttl = TTL) => {
  const iat = epoch();
  return { jti: ids.id, kind, iat, exp: iat + ttl };
};

const without = (p: AdapterPayload, key: string): AdapterPayload => {
  const copy = { ...p };
  delete copy[key];
  return copy;
};

const MODELS: ModelCase[] = [
  {
    model: 'Session',
    grant: 'none',
    payload: (ids) => ({
      ...base('Session', ids, 8 * 3600),
      uid: ids.uid,
      accountId: ids.accountId,
      loginTs: epoch(),
      amr: ['test'],
      acr: 'urn:nixa:test',
      transient: true,
      authorizations: { [CLIENT_ID]: { sid: ids.sid, grantId: ids.grantId, persistsLogout: false } },
    }),
    // The citizen signed in again and chose to stay signed in.
    revise: (p) => ({ ...without(p, 'transient'), loginTs: epoch() + 5, amr: ['test', 'otp'] }),
  },
  {
    model: 'Interaction',
    grant: 'grantId',
    payload: (ids) => ({
      ...base('Interaction', ids),
      returnTo: `${ISSUER}/auth/${ids.id}`,
      prompt: { name: 'login', reasons: ['no_session'], details: {} },
      params: {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid offline_access',
        state: opaque(),
        nonce: opaque(),
        code_challenge: opaque(),
        code_challenge_method: 'S256',
      },
      session: { accountId: ids.accountId, uid: ids.sessionUid, cookie: opaque() },
      grantId: ids.grantId,
      cid: opaque().slice(0, 21),
      trusted: [],
    }),
    // The login step finished: the result replaces the pending prompt.
    revise: (p) => ({
      ...without(p, 'prompt'),
      result: { login: { accountId: String(p.session?.accountId), amr: ['test'], acr: 'urn:nixa:test' } },
      lastSubmission: { login: { accountId: String(p.session?.accountId) } },
    }),
  },
  {
    model: 'Grant',
    grant: 'self',
    payload: (ids) => ({
      ...base('Grant', ids, 14 * 86400),
      accountId: ids.accountId,
      clientId: CLIENT_ID,
      openid: { scope: 'openid' },
      rejected: { openid: { scope: 'offline_access' } },
    }),
    // The citizen later consented to offline access.
    revise: (p) => ({ ...without(p, 'rejected'), openid: { scope: 'openid offline_access' } }),
  },
  {
    model: 'AuthorizationCode',
    grant: 'grantId',
    payload: (ids) => ({
      ...base('AuthorizationCode', ids, 60),
      accountId: ids.accountId,
      clientId: CLIENT_ID,
      grantId: ids.grantId,
      authTime: epoch() - 3,
      acr: 'urn:nixa:test',
      amr: ['test'],
      scope: 'openid offline_access',
      redirectUri: REDIRECT_URI,
      codeChallenge: opaque(),
      codeChallengeMethod: 'S256',
      nonce: opaque(),
      sessionUid: ids.sessionUid,
      sid: ids.sid,
      expiresWithSession: true,
    }),
    revise: (p) => ({ ...without(p, 'nonce'), scope: 'openid' }),
  },
  {
    model: 'AccessToken',
    grant: 'grantId',
    payload: (ids) => ({
      ...base('AccessToken', ids),
      accountId: ids.accountId,
      clientId: CLIENT_ID,
      grantId: ids.grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access',
      sessionUid: ids.sessionUid,
      sid: ids.sid,
      expiresWithSession: true,
      claims: { userinfo: { sub: null } },
    }),
    revise: (p) => ({ ...without(p, 'claims'), scope: 'openid' }),
  },
  {
    model: 'RefreshToken',
    grant: 'grantId',
    payload: (ids) => ({
      ...base('RefreshToken', ids, 14 * 86400),
      accountId: ids.accountId,
      clientId: CLIENT_ID,
      grantId: ids.grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access',
      acr: 'urn:nixa:test',
      amr: ['test'],
      authTime: epoch() - 3,
      nonce: opaque(),
      rotations: 0,
      iiat: epoch(),
      sessionUid: ids.sessionUid,
      sid: ids.sid,
      expiresWithSession: false,
    }),
    revise: (p) => ({ ...without(p, 'nonce'), rotations: 1, gty: 'authorization_code refresh_token' }),
  },
  {
    model: 'ClientCredentials',
    grant: 'none',
    payload: (ids) => ({
      ...base('ClientCredentials', ids),
      clientId: 'he-thong-thue-dien-tu',
      scope: 'openid',
      extra: { tenant: 'tong-cuc-thue' },
    }),
    revise: (p) => ({ ...without(p, 'extra'), scope: '' }),
  },
  {
    model: 'PushedAuthorizationRequest',
    grant: 'none',
    payload: (ids) => {
      const claims = {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid',
        code_challenge: opaque(),
        code_challenge_method: 'S256',
        login_hint: ids.accountId,
      };
      // oidc-provider stores `trusted` as a boolean on a PAR; @types/oidc-provider says string[].
      return {
        ...base('PushedAuthorizationRequest', ids, 60),
        // Unsigned request object, as stored for a plain-parameter PAR.
        request: `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
        trusted: true,
        dpopJkt: opaque().slice(0, 43),
      } as unknown as AdapterPayload;
    },
    revise: (p) => ({ ...without(p, 'dpopJkt'), trusted: false }) as unknown as AdapterPayload,
  },
  {
    model: 'ReplayDetection',
    grant: 'none',
    payload: (ids) => ({ ...base('ReplayDetection', ids, 120), iss: CLIENT_ID }),
    revise: (p) => ({ ...without(p, 'iss'), exp: Number(p.exp) + 60 }),
  },
  {
    model: 'BackchannelAuthenticationRequest',
    grant: 'grantId',
    payload: (ids) => ({
      ...base('BackchannelAuthenticationRequest', ids),
      accountId: ids.accountId,
      clientId: CLIENT_ID,
      grantId: ids.grantId,
      scope: 'openid',
      acr: 'urn:nixa:test',
      amr: ['test'],
      authTime: epoch(),
      nonce: opaque(),
      params: { client_id: CLIENT_ID, scope: 'openid', login_hint: ids.accountId, binding_message: 'NIXA-4821' },
      sessionUid: ids.sessionUid,
    }),
    revise: (p) => ({ ...without(p, 'nonce'), error: 'access_denied', errorDescription: 'End-User denied the request' }),
  },
  {
    model: 'DeviceCode',
    grant: 'grantId',
    payload: (ids) => ({
      ...base('DeviceCode', ids),
      clientId: 'ti-vi-thong-minh-vtv',
      userCode: ids.userCode,
      params: { client_id: 'ti-vi-thong-minh-vtv', scope: 'openid' },
      deviceInfo: { ip: '203.113.131.7', ua: 'SmartTV/2.1 (Tizen)' },
      accountId: ids.accountId,
      grantId: ids.grantId,
      authTime: epoch(),
      acr: 'urn:nixa:test',
      amr: ['test'],
      scope: 'openid',
      sessionUid: ids.sessionUid,
      inFlight: true,
    }),
    revise: (p) => ({ ...without(p, 'inFlight'), scope: 'openid offline_access' }),
  },
];

const GRANT_BOUND = MODELS.filter((m) => m.grant !== 'none');
const GRANTLESS = MODELS.filter((m) => m.grant === 'none');
const caseOf = (model: string) => MODELS.find((m) => m.model === model)!;

/** Stores one artifact of a model and returns its ids and payload. */
async function stored(model: string, grantId?: string, expiresIn = TTL) {
  const c = caseOf(model);
  const ids = newIds(model, grantId);
  const payload = c.payload(ids);
  await adapter(model).upsert(ids.id, payload, expiresIn);
  return { ids, payload };
}

/** One artifact of every grant-bound model under a single grant (the Grant row included). */
async function grantFamily(grantId = `grant-${opaque()}`) {
  const members = [];
  for (const c of GRANT_BOUND) members.push({ model: c.model, ...(await stored(c.model, grantId)) });
  return { grantId, members };
}

async function survivors(members: { model: string; ids: Ids }[]): Promise<string[]> {
  const found: string[] = [];
  for (const m of members) if (await adapter(m.model).find(m.ids.id)) found.push(m.model);
  return found;
}

// ---------------------------------------------------------------------------

describe.each(MODELS)('adapter contract for $model', (c) => {
  const a = () => adapter(c.model);

  it('finds the payload it stored, unchanged', async () => {
    const { ids, payload } = await stored(c.model);
    await expect(a().find(ids.id)).resolves.toEqual(payload);
  });

  it('finds nothing for an id it never stored', async () => {
    await expect(a().find(opaque())).resolves.toBeUndefined();
  });

  it('keeps an artifact apart from one of another model with the same id', async () => {
    const { ids, payload } = await stored(c.model);
    const other = MODELS.find((m) => m.model !== c.model)!;
    const otherPayload = other.payload({ ...newIds(other.model), id: ids.id });
    await adapter(other.model).upsert(ids.id, otherPayload, TTL);

    await expect(a().find(ids.id)).resolves.toEqual(payload);
    await adapter(other.model).destroy(ids.id);
    await expect(a().find(ids.id)).resolves.toEqual(payload);
  });

  it('replaces the whole payload when the same id is upserted again', async () => {
    const { ids, payload } = await stored(c.model);
    const revised = c.revise(payload);
    expect(Object.keys(payload).some((k) => !(k in revised))).toBe(true); // fixture sanity: a merge would show
    await a().upsert(ids.id, revised, TTL);

    await expect(a().find(ids.id)).resolves.toEqual(revised);
    const { rows } = await tdb.db.query('SELECT 1 FROM oidc_payloads WHERE model = $1 AND id = $2', [c.model, ids.id]);
    expect(rows).toHaveLength(1);
  });

  it('destroys exactly the artifact it is asked to', async () => {
    const doomed = await stored(c.model);
    const kept = await stored(c.model);
    await a().destroy(doomed.ids.id);

    await expect(a().find(doomed.ids.id)).resolves.toBeUndefined();
    await expect(a().find(kept.ids.id)).resolves.toEqual(kept.payload);
  });

  it('marks an artifact consumed with the epoch second of consumption', async () => {
    const { ids, payload } = await stored(c.model);
    await expect(a().find(ids.id)).resolves.not.toHaveProperty('consumed');

    const before = epoch();
    await a().consume(ids.id);
    const after = epoch();

    const found = await a().find(ids.id);
    expect(found).toEqual({ ...payload, consumed: expect.any(Number) });
    expect(Number.isInteger(found!.consumed)).toBe(true);
    expect(found!.consumed).toBeGreaterThanOrEqual(before);
    expect(found!.consumed).toBeLessThanOrEqual(after);
  });

  it('keeps an artifact consumed when it is saved again', async () => {
    const { ids, payload } = await stored(c.model);
    await a().consume(ids.id);
    await a().upsert(ids.id, c.revise(payload), TTL);
    await expect(a().find(ids.id)).resolves.toHaveProperty('consumed', expect.any(Number));
  });

  it("refuses a second consume with oidc-provider's InvalidGrant", async () => {
    const { ids } = await stored(c.model);
    await a().consume(ids.id);
    await expect(a().consume(ids.id)).rejects.toBeInstanceOf(errors.InvalidGrant);
  });

  it('lets exactly one of two parallel consumes win', async () => {
    const { ids } = await stored(c.model);
    const results = await Promise.allSettled([a().consume(ids.id), a().consume(ids.id)]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(errors.InvalidGrant);
  });
});

describe.each(GRANT_BOUND)('grant revocation through $model', (c) => {
  const a = () => adapter(c.model);

  it('revokes every artifact of the grant, of every model, when consumed a second time', async () => {
    const replayed = await grantFamily();
    const bystander = await grantFamily();
    const target = replayed.members.find((m) => m.model === c.model)!;

    await a().consume(target.ids.id);
    await expect(a().consume(target.ids.id)).rejects.toBeInstanceOf(errors.InvalidGrant);

    await expect(survivors(replayed.members)).resolves.toEqual([]);
    const { rows } = await tdb.db.query('SELECT model FROM oidc_payloads WHERE grant_id = $1', [replayed.grantId]);
    expect(rows).toEqual([]);
    await expect(survivors(bystander.members)).resolves.toEqual(GRANT_BOUND.map((m) => m.model));
  });

  it("revokeByGrantId removes this model's artifacts of that grant only", async () => {
    const revoked = await grantFamily();
    const second = await stored(c.model, revoked.grantId);
    const bystander = await grantFamily();

    await a().revokeByGrantId(revoked.grantId);

    await expect(a().find(second.ids.id)).resolves.toBeUndefined();
    const otherModels = GRANT_BOUND.filter((m) => m.model !== c.model).map((m) => m.model);
    await expect(survivors(revoked.members)).resolves.toEqual(otherModels);
    await expect(survivors(bystander.members)).resolves.toEqual(GRANT_BOUND.map((m) => m.model));
  });
});

describe.each(GRANT_BOUND.filter((m) => m.grant === 'grantId'))('grant membership of $model', (c) => {
  it('follows the grantId of the latest upsert', async () => {
    const { ids, payload } = await stored(c.model);
    const newGrant = `grant-${opaque()}`;
    await adapter(c.model).upsert(ids.id, { ...payload, grantId: newGrant }, TTL);

    await adapter(c.model).revokeByGrantId(ids.grantId);
    await expect(adapter(c.model).find(ids.id)).resolves.toMatchObject({ grantId: newGrant });
    await adapter(c.model).revokeByGrantId(newGrant);
    await expect(adapter(c.model).find(ids.id)).resolves.toBeUndefined();
  });
});

describe.each(GRANTLESS)('$model outside any grant', (c) => {
  it('survives revokeByGrantId of the grants around it', async () => {
    const { ids, payload } = await stored(c.model);
    const family = await grantFamily(ids.grantId);
    await adapter(c.model).revokeByGrantId(ids.grantId);
    await expect(adapter(c.model).find(ids.id)).resolves.toEqual(payload);
    await expect(survivors(family.members)).resolves.toEqual(GRANT_BOUND.map((m) => m.model));
  });

  it('refuses a second consume without deleting anything else', async () => {
    const { ids } = await stored(c.model);
    const family = await grantFamily(ids.grantId);
    await adapter(c.model).consume(ids.id);
    await expect(adapter(c.model).consume(ids.id)).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(adapter(c.model).find(ids.id)).resolves.toHaveProperty('consumed', expect.any(Number));
    await expect(survivors(family.members)).resolves.toEqual(GRANT_BOUND.map((m) => m.model));
  });
});

// ---------------------------------------------------------------------------

describe('Session lookup by uid', () => {
  const sessions = () => adapter('Session');

  it('finds a session by its uid', async () => {
    const { ids, payload } = await stored('Session');
    await expect(sessions().findByUid(ids.uid)).resolves.toEqual(payload);
  });

  it('finds nothing for an unknown uid, nor through another model', async () => {
    const { ids } = await stored('Session');
    await expect(sessions().findByUid(opaque().slice(0, 21))).resolves.toBeUndefined();
    await expect(adapter('Interaction').findByUid(ids.uid)).resolves.toBeUndefined();
  });

  it('follows the uid of the latest upsert', async () => {
    const { ids, payload } = await stored('Session');
    const uid = opaque().slice(0, 21);
    await sessions().upsert(ids.id, { ...payload, uid }, TTL);
    await expect(sessions().findByUid(ids.uid)).resolves.toBeUndefined();
    await expect(sessions().findByUid(uid)).resolves.toMatchObject({ jti: ids.id, uid });
  });

  it('finds nothing by uid once the session is destroyed', async () => {
    const { ids } = await stored('Session');
    await sessions().destroy(ids.id);
    await expect(sessions().findByUid(ids.uid)).resolves.toBeUndefined();
  });
});

describe('Session lookup by uid with sessions in memory', () => {
  // Two instances' caches on one database: `writer` stored the session, `other` never saw it.
  let writer: RecordCache;
  let other: RecordCache;
  beforeAll(async () => {
    writer = recordCache(tdb.db);
    other = recordCache(tdb.db);
    await writer.cache.start();
    await other.cache.start();
  });
  afterAll(async () => {
    await writer?.cache.stop();
    await other?.cache.stop();
  });
  const sessionsOf = (records: RecordCache) => new PostgresAdapter('Session', tdb.db, clientStore(tdb.db), 'oidc_payloads', records);
  /**
   * The writer stores a session, and the test waits until its announcement has
   * been delivered: `other` drops the key when it arrives, so a read by `other`
   * before then would be dropped again (right, but not what these tests count).
   * Handlers of one channel are called in turn, `other`'s (subscribed first) before this one.
   */
  async function written() {
    const ids = newIds('Session');
    const payload = caseOf('Session').payload(ids);
    let heard!: () => void;
    const delivered = new Promise<void>((resolve) => (heard = resolve));
    const unlisten = await tdb.db.listen(PROTOCOL_CHANNEL, (p) => p.endsWith(`Session:${ids.id}`) && heard());
    try {
      await sessionsOf(writer).upsert(ids.id, payload, TTL);
      await delivered;
    } finally {
      await unlisten();
    }
    return { ids, payload };
  }

  it('answers from memory on the instance that wrote the session, and from memory after the first reads on another', async () => {
    const { ids, payload } = await written();
    const w = { ...writer.cache.stats };
    await expect(sessionsOf(writer).findByUid(ids.uid)).resolves.toEqual(payload);
    expect(writer.cache.stats).toEqual({ ...w, hits: w.hits + 1 });

    // The other instance learns the id (by uid), then reads the session by id into memory.
    await expect(sessionsOf(other).findByUid(ids.uid)).resolves.toEqual(payload);
    await expect(sessionsOf(other).findByUid(ids.uid)).resolves.toEqual(payload);
    const o = { ...other.cache.stats };
    await expect(sessionsOf(other).findByUid(ids.uid)).resolves.toEqual(payload);
    expect(other.cache.stats).toEqual({ ...o, hits: o.hits + 1 });
  });

  it('follows the uid of the latest upsert', async () => {
    const { ids, payload } = await written();
    const uid = opaque().slice(0, 21);
    await sessionsOf(writer).upsert(ids.id, { ...payload, uid }, TTL);
    await expect(sessionsOf(writer).findByUid(ids.uid)).resolves.toBeUndefined();
    await expect(sessionsOf(writer).findByUid(uid)).resolves.toMatchObject({ jti: ids.id, uid });
  });

  it('finds the session under its new id when the id changed and the uid stayed (oidc-provider regenerates the id at sign-in)', async () => {
    const { ids, payload } = await written();
    await expect(sessionsOf(other).findByUid(ids.uid)).resolves.toEqual(payload);
    const newId = opaque().slice(0, 21);
    await sessionsOf(writer).destroy(ids.id);
    await sessionsOf(writer).upsert(newId, { ...payload, jti: newId }, TTL);
    await waitFor(async () => (await sessionsOf(other).findByUid(ids.uid))?.jti === newId, 2_000, 'the other instance to find the new id');
    await expect(sessionsOf(writer).findByUid(ids.uid)).resolves.toMatchObject({ jti: newId });
  });

  it('finds nothing once the session is deleted outside the adapter (every session of an account ended)', async () => {
    const { ids, payload } = await written();
    await expect(sessionsOf(other).findByUid(ids.uid)).resolves.toEqual(payload);
    await tdb.db.query("DELETE FROM oidc_payloads WHERE model = 'Session' AND id = $1", [ids.id]);
    await announceRecord(tdb.db, 'Session', ids.id);
    await waitFor(async () => (await sessionsOf(other).findByUid(ids.uid)) === undefined, 2_000, 'the other instance to forget the session');
    await waitFor(async () => (await sessionsOf(writer).findByUid(ids.uid)) === undefined, 2_000, 'the writer to forget the session');
  });

  it('finds nothing for an unknown uid, and refuses NUL', async () => {
    await expect(sessionsOf(writer).findByUid(opaque().slice(0, 21))).resolves.toBeUndefined();
    await expect(sessionsOf(writer).findByUid('a\0b')).rejects.toBeInstanceOf(errors.InvalidRequest);
  });
});

describe('DeviceCode lookup by user code', () => {
  const deviceCodes = () => adapter('DeviceCode');

  it('finds a device code by the user code typed on the phone', async () => {
    const { ids, payload } = await stored('DeviceCode');
    await expect(deviceCodes().findByUserCode(ids.userCode)).resolves.toEqual(payload);
  });

  it('finds nothing for an unknown user code, nor through another model', async () => {
    const { ids } = await stored('DeviceCode');
    await expect(deviceCodes().findByUserCode(userCode())).resolves.toBeUndefined();
    await expect(adapter('BackchannelAuthenticationRequest').findByUserCode(ids.userCode)).resolves.toBeUndefined();
  });

  it('shows consumption when found by user code', async () => {
    const { ids } = await stored('DeviceCode');
    await deviceCodes().consume(ids.id);
    await expect(deviceCodes().findByUserCode(ids.userCode)).resolves.toHaveProperty('consumed', expect.any(Number));
  });

  it('finds nothing by user code once its grant is revoked', async () => {
    const { ids } = await stored('DeviceCode');
    await deviceCodes().revokeByGrantId(ids.grantId);
    await expect(deviceCodes().findByUserCode(ids.userCode)).resolves.toBeUndefined();
  });
});

describe('ReplayDetection lifetime', () => {
  // oidc-provider saves a client assertion's jti for `exp + clockTolerance - now`
  // seconds, and a JWT's exp may be a non-integer NumericDate (RFC 7519 §2).
  it('stores a replay record whose lifetime is a fractional number of seconds', async () => {
    const ids = newIds('ReplayDetection');
    const payload = caseOf('ReplayDetection').payload(ids);
    await adapter('ReplayDetection').upsert(ids.id, payload, 90.5);

    await expect(adapter('ReplayDetection').find(ids.id)).resolves.toEqual(payload);
    const { rows } = await tdb.db.query<{ left: number }>(
      `SELECT extract(epoch FROM expires_at - now())::float8 AS "left" FROM oidc_payloads WHERE model = 'ReplayDetection' AND id = $1`,
      [ids.id],
    );
    expect(rows[0]!.left).toBeGreaterThan(89.5);
    expect(rows[0]!.left).toBeLessThanOrEqual(90.5);
  });
});

// ---------------------------------------------------------------------------
// Expiry: every model's short-lived rows are written first, then one shared sleep.

describe('expiry', () => {
  interface Written {
    shortLived: { ids: Ids; foundBefore: boolean };
    longLived: { ids: Ids; payload: AdapterPayload };
    extended: { ids: Ids; payload: AdapterPayload };
  }
  const written = new Map<string, Written>();

  beforeAll(async () => {
    for (const c of MODELS) {
      const a = adapter(c.model);
      const shortIds = newIds(c.model);
      await a.upsert(shortIds.id, c.payload(shortIds), 1);
      const foundBefore = (await a.find(shortIds.id)) !== undefined;
      // Saved for 1 s, then saved again for 10 min: the second expiry counts.
      const extendedIds = newIds(c.model);
      const extendedPayload = c.payload(extendedIds);
      await a.upsert(extendedIds.id, extendedPayload, 1);
      await a.upsert(extendedIds.id, extendedPayload, TTL);
      const longLived = await stored(c.model);
      written.set(c.model, {
        shortLived: { ids: shortIds, foundBefore },
        longLived,
        extended: { ids: extendedIds, payload: extendedPayload },
      });
    }
    await sleep(1_100);
  });

  it.each(MODELS.map((m) => m.model))('forgets a %s saved with expiresIn 1 after a second', async (model) => {
    const w = written.get(model)!;
    expect(w.shortLived.foundBefore).toBe(true);
    await expect(adapter(model).find(w.shortLived.ids.id)).resolves.toBeUndefined();
  });

  it.each(MODELS.map((m) => m.model))('keeps a %s whose latest upsert gave it a longer life', async (model) => {
    const w = written.get(model)!;
    await expect(adapter(model).find(w.extended.ids.id)).resolves.toEqual(w.extended.payload);
    await expect(adapter(model).find(w.longLived.ids.id)).resolves.toEqual(w.longLived.payload);
  });

  it('does not find an expired Session by uid', async () => {
    const w = written.get('Session')!;
    await expect(adapter('Session').findByUid(w.shortLived.ids.uid)).resolves.toBeUndefined();
    await expect(adapter('Session').findByUid(w.longLived.ids.uid)).resolves.toEqual(w.longLived.payload);
  });

  it('does not find an expired DeviceCode by user code', async () => {
    const w = written.get('DeviceCode')!;
    await expect(adapter('DeviceCode').findByUserCode(w.shortLived.ids.userCode)).resolves.toBeUndefined();
    await expect(adapter('DeviceCode').findByUserCode(w.longLived.ids.userCode)).resolves.toEqual(w.longLived.payload);
  });
});

// ---------------------------------------------------------------------------

describe('Client model (read from the clients table)', () => {
  const clients = () => adapter('Client');
  const registration = (clientId: string) => ({
    client_id: clientId,
    name: 'Cổng dịch vụ công tỉnh Bình Dương',
    redirect_uris: ['https://dichvucong.binhduong.example.vn/callback'],
    post_logout_redirect_uris: ['https://dichvucong.binhduong.example.vn/'],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid offline_access',
  });

  it("finds an enabled client's metadata, with its secret only as an argon2 hash", async () => {
    const { secret } = await addClient(tdb.db, registration('dvc-binh-duong'), 'tran-thi-binh', { allowHttpLoopback: false });
    const metadata = await clients().find('dvc-binh-duong');

    expect(metadata).toMatchObject({
      client_id: 'dvc-binh-duong',
      client_name: 'Cổng dịch vụ công tỉnh Bình Dương',
      redirect_uris: ['https://dichvucong.binhduong.example.vn/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid offline_access',
    });
    expect(secret).toEqual(expect.any(String));
    expect(metadata!.client_secret).toMatch(/^\$argon2/);
    expect(metadata!.client_secret).not.toContain(secret!);
  });

  it('finds nothing for a disabled client', async () => {
    await addClient(tdb.db, registration('dvc-dong-nai'), 'tran-thi-binh', { allowHttpLoopback: false });
    await expect(clients().find('dvc-dong-nai')).resolves.toMatchObject({ client_id: 'dvc-dong-nai' });

    await disableClient(tdb.db, 'dvc-dong-nai', 'tran-thi-binh', 'contract ended');
    await expect(clients().find('dvc-dong-nai')).resolves.toBeUndefined();
  });

  it('finds nothing for a client id that was never registered', async () => {
    await expect(clients().find('dvc-khong-ton-tai')).resolves.toBeUndefined();
  });

  it('refuses upsert: relying parties are managed with `nixa clients`', async () => {
    await expect(
      clients().upsert('dvc-tu-dang-ky', { client_id: 'dvc-tu-dang-ky', redirect_uris: [REDIRECT_URI] }, TTL),
    ).rejects.toThrow(/nixa clients/);
    await expect(clients().find('dvc-tu-dang-ky')).resolves.toBeUndefined();
  });
});

describe('a session saved again only to slide its expiry', () => {
  let records: RecordCache;
  const statements: string[] = [];
  beforeAll(async () => {
    records = recordCache(tdb.db);
    await records.cache.start();
  });
  afterAll(async () => {
    await records?.cache.stop();
  });
  const counted = () =>
    new PostgresAdapter(
      'Session',
      { ...tdb.db, query: (sql: string, params?: unknown[]) => (statements.push(sql), tdb.db.query(sql, params)) } as never,
      clientStore(tdb.db),
      'oidc_payloads',
      records,
    );
  const storedExpiry = async (id: string) =>
    Number((await tdb.db.query<{ ms: number }>(`SELECT floor(extract(epoch FROM expires_at) * 1000)::bigint AS ms FROM oidc_payloads WHERE model = 'Session' AND id = $1`, [id])).rows[0]!.ms);

  /** A session saved once through a counting adapter, whose count starts after it. */
  async function savedOnce() {
    const ids = newIds('Session');
    const payload = caseOf('Session').payload(ids);
    const sessions = counted();
    await sessions.upsert(ids.id, payload, TTL);
    statements.length = 0;
    return { ids, payload, sessions };
  }

  it('is not written again within SESSION_SLIDE_WRITE_SECONDS when nothing but its expiry changed', async () => {
    const { ids, payload, sessions } = await savedOnce();
    const before = await storedExpiry(ids.id);
    await sessions.upsert(ids.id, { ...payload, exp: (payload.exp as number) + 5 }, TTL);
    expect(statements).toEqual([]);
    expect(await storedExpiry(ids.id)).toBe(before);
    expect(await sessions.find(ids.id)).toMatchObject({ jti: payload.jti, accountId: payload.accountId });
  });

  it('is written when anything else changed (a new service authorised in the session)', async () => {
    const { ids, payload, sessions } = await savedOnce();
    const changed = { ...payload, authorizations: { ...(payload.authorizations as object), 'another-service': { sid: 'x', grantId: 'g' } } };
    await sessions.upsert(ids.id, changed, TTL);
    expect(statements).toHaveLength(1);
    const { rows } = await tdb.db.query<{ payload: AdapterPayload }>(`SELECT payload FROM oidc_payloads WHERE model = 'Session' AND id = $1`, [ids.id]);
    expect(rows[0]!.payload.authorizations).toHaveProperty('another-service');
  });

  it('is written when its expiry moves by more than SESSION_SLIDE_WRITE_SECONDS', async () => {
    const { ids, payload, sessions } = await savedOnce();
    const before = await storedExpiry(ids.id);
    await sessions.upsert(ids.id, payload, TTL + SESSION_SLIDE_WRITE_SECONDS + 5);
    expect(statements).toHaveLength(1);
    expect(await storedExpiry(ids.id)).toBeGreaterThan(before + SESSION_SLIDE_WRITE_SECONDS * 1000);
  });
});

describe('a grant made within a transaction (withinTransaction)', () => {
  const grants = () => adapter('Grant');
  const stored = async (id: string) => (await tdb.db.query(`SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = $1`, [id])).rows.length;

  it('is written at that transaction’s commit, not before', async () => {
    const ids = newIds('Grant');
    let seenBeforeCommit = -1;
    await tdb.db.transaction((tx) =>
      withinTransaction(tx, async () => {
        await grants().upsert(ids.id, caseOf('Grant').payload(ids), TTL);
        // Looked at from another connection (PGlite has one, held by the transaction).
        if (tdb.url) seenBeforeCommit = await stored(ids.id);
      }),
    );
    if (tdb.url) expect(seenBeforeCommit).toBe(0);
    expect(await stored(ids.id)).toBe(1);
  });

  it('is not written when that transaction rolls back', async () => {
    const ids = newIds('Grant');
    await expect(
      tdb.db.transaction((tx) =>
        withinTransaction(tx, async () => {
          await grants().upsert(ids.id, caseOf('Grant').payload(ids), TTL);
          throw new Error('the linking step failed');
        }),
      ),
    ).rejects.toThrow('the linking step failed');
    expect(await stored(ids.id)).toBe(0);
  });
});
