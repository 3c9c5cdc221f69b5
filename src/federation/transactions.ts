// Upstream logins in flight, kept where any instance can receive the callback:
// the short-lived store (an UNLOGGED table of the database, or Redis). Each state
// is single-use and bound to the sign-in (the browser) that started it: taking it
// is one atomic step that checks both, so another browser presenting a citizen's
// state cannot spend it.
import type { Queryable } from '../storage/index.js';
import type { RedisStore } from '../storage/redis.js';
import type { FederationFailure } from './errors.js';

export interface UpstreamLogin {
  state: string;
  interactionUid: string;
  sourceId: string;
  nonce: string;
  codeVerifier: string;
}

export interface TakenLogin extends UpstreamLogin {
  /** When nixa sent the browser to the source (seconds since the epoch, database clock). */
  startedAt: number;
}

/** What the hop from the source's callback to its sign-in needs to know of a state. */
export interface LoginOwner {
  interactionUid: string;
  sourceId: string;
  consumed: boolean;
}

export interface UpstreamLogins {
  save(l: UpstreamLogin, ttlSeconds: number): Promise<void>;
  /**
   * Takes a state once, for the sign-in `interactionUid` (the one this browser's
   * interaction cookie belongs to). A second take reports 'replayed'; a take from
   * another sign-in reports 'foreign' and leaves the state for its owner.
   */
  take(state: string, interactionUid: string): Promise<TakeResult>;
  /** Whose the state is, without spending it (undefined: never issued, or long gone). */
  owner(state: string): Promise<LoginOwner | undefined>;
  /** Records that nixa refused the source's answer to this login (see refusedSources). */
  markRefused(state: string, reason: FederationFailure): Promise<void>;
  /** The sources whose answer nixa refused in this sign-in: sending the citizen there again would fail the same way. */
  refusedSources(interactionUid: string): Promise<Set<string>>;
  /** Deletes what has long expired (Redis expires entries by itself). */
  purge(): Promise<number>;
}

/** A state is remembered this long after it expires, so that a late replay is still recognised as one. */
const REMEMBER_AFTER_EXPIRY_SECONDS = 24 * 3600;

export function postgresUpstreamLogins(db: Queryable): UpstreamLogins {
  return {
    save: (l, ttl) => saveUpstreamLogin(db, l, ttl),
    take: (state, uid) => takeUpstreamLogin(db, state, uid),
    async owner(state) {
      const { rows } = await db.query<{ interaction_uid: string; source_id: string; consumed: boolean }>(
        'SELECT interaction_uid, source_id, consumed_at IS NOT NULL AS consumed FROM upstream_logins WHERE state = $1',
        [state],
      );
      const r = rows[0];
      return r ? { interactionUid: r.interaction_uid, sourceId: r.source_id, consumed: r.consumed } : undefined;
    },
    markRefused: (state, reason) => markRefused(db, state, reason),
    refusedSources: (uid) => sourcesRefused(db, uid),
    purge: () => purgeUpstreamLogins(db),
  };
}

async function saveUpstreamLogin(db: Queryable, l: UpstreamLogin, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO upstream_logins (state, interaction_uid, source_id, nonce, code_verifier, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int))`,
    [l.state, l.interactionUid, l.sourceId, l.nonce, l.codeVerifier, ttlSeconds],
  );
}

export type TakeResult =
  | { status: 'ok'; login: TakenLogin }
  | { status: 'unknown' }
  /** The state belongs to another browser's sign-in: it was not spent, and its status is not told. */
  | { status: 'foreign'; login: TakenLogin }
  | { status: 'replayed' | 'expired'; login: TakenLogin };

const COLUMNS = `state, interaction_uid, source_id, nonce, code_verifier, extract(epoch from created_at)::float8 AS started_at`;

async function takeUpstreamLogin(db: Queryable, state: string, interactionUid: string): Promise<TakeResult> {
  const taken = await db.query<Row>(
    `UPDATE upstream_logins SET consumed_at = now()
     WHERE state = $1 AND interaction_uid = $2 AND consumed_at IS NULL AND expires_at > now()
     RETURNING ${COLUMNS}`,
    [state, interactionUid],
  );
  if (taken.rows[0]) return { status: 'ok', login: fromRow(taken.rows[0]) };
  const { rows } = await db.query<Row & { consumed: boolean }>(
    `SELECT ${COLUMNS}, consumed_at IS NOT NULL AS consumed FROM upstream_logins WHERE state = $1`,
    [state],
  );
  const row = rows[0];
  if (!row) return { status: 'unknown' };
  const login = fromRow(row);
  if (login.interactionUid !== interactionUid) return { status: 'foreign', login };
  return { status: row.consumed ? 'replayed' : 'expired', login };
}

async function markRefused(db: Queryable, state: string, reason: FederationFailure): Promise<void> {
  await db.query('UPDATE upstream_logins SET refused_for = $2 WHERE state = $1', [state, reason]);
}

async function sourcesRefused(db: Queryable, interactionUid: string): Promise<Set<string>> {
  const { rows } = await db.query<{ source_id: string }>(
    'SELECT DISTINCT source_id FROM upstream_logins WHERE interaction_uid = $1 AND refused_for IS NOT NULL',
    [interactionUid],
  );
  return new Set(rows.map((r) => r.source_id));
}

async function purgeUpstreamLogins(db: Queryable): Promise<number> {
  return (await db.query(`DELETE FROM upstream_logins WHERE expires_at < now() - make_interval(secs => $1)`, [REMEMBER_AFTER_EXPIRY_SECONDS])).rowCount;
}

interface Row {
  state: string;
  interaction_uid: string;
  source_id: string;
  nonce: string;
  code_verifier: string;
  started_at: number;
}

const fromRow = (r: Row): TakenLogin => ({
  state: r.state,
  interactionUid: r.interaction_uid,
  sourceId: r.source_id,
  nonce: r.nonce,
  codeVerifier: r.code_verifier,
  startedAt: Number(r.started_at),
});

// On Redis: one hash per state (upstream:<state>) living a day past its expiry,
// and per sign-in the set of sources whose answer was refused. Times are the
// Redis server's clock (TIME), as the database's now() is for the table: one
// clock for every instance.

/** Saves a login; its expiry is stored in the hash, the key lives a day longer. */
const SAVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('HSET', KEYS[1], 'interactionUid', ARGV[1], 'sourceId', ARGV[2], 'nonce', ARGV[3], 'codeVerifier', ARGV[4],
  'startedAt', tostring(now), 'expiresAt', tostring(now + tonumber(ARGV[5])), 'consumed', '0')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]) + tonumber(ARGV[6]))
return 1`;

/** {status, fields…}: 'ok' (now spent), 'foreign', 'replayed', 'expired', or nil when unknown. */
const TAKE = `
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return nil end
local f = {}
for i = 1, #h, 2 do f[h[i]] = h[i + 1] end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local status
if f.interactionUid ~= ARGV[1] then status = 'foreign'
elseif f.consumed == '1' then status = 'replayed'
elseif tonumber(f.expiresAt) <= now then status = 'expired'
else status = 'ok'; redis.call('HSET', KEYS[1], 'consumed', '1') end
return {status, f.interactionUid, f.sourceId, f.nonce, f.codeVerifier, f.startedAt}`;

/** Marks the login refused and adds its source to its sign-in's refused set (which expires with the login). */
const MARK_REFUSED = `
local owner = redis.call('HMGET', KEYS[1], 'interactionUid', 'sourceId')
if not owner[1] then return 0 end
redis.call('HSET', KEYS[1], 'refusedFor', ARGV[1])
local set = ARGV[2] .. owner[1]
redis.call('SADD', set, owner[2])
redis.call('PEXPIRE', set, redis.call('PTTL', KEYS[1]))
return 1`;

export function redisUpstreamLogins(redis: RedisStore): UpstreamLogins {
  const key = (state: string) => redis.key('upstream', state);
  const refusedPrefix = redis.key('upstream-refused', '');
  const saveScript = redis.script('nixaUpstreamSave', SAVE, 1);
  const takeScript = redis.script<string[] | null>('nixaUpstreamTake', TAKE, 1);
  const markRefusedScript = redis.script('nixaUpstreamRefused', MARK_REFUSED, 1);
  return {
    async save(l, ttlSeconds) {
      await saveScript(key(l.state), l.interactionUid, l.sourceId, l.nonce, l.codeVerifier, String(ttlSeconds), String(REMEMBER_AFTER_EXPIRY_SECONDS));
    },
    async take(state, interactionUid) {
      const r = await takeScript(key(state), interactionUid);
      if (!r) return { status: 'unknown' };
      const [status, uid, sourceId, nonce, codeVerifier, startedAt] = r as [TakeResult['status'], string, string, string, string, string];
      const login: TakenLogin = { state, interactionUid: uid, sourceId, nonce, codeVerifier, startedAt: Number(startedAt) };
      return { status, login } as TakeResult;
    },
    async owner(state) {
      const [uid, sourceId, consumed] = await redis.run((c) => c.hmget(key(state), 'interactionUid', 'sourceId', 'consumed'));
      return uid && sourceId ? { interactionUid: uid, sourceId, consumed: consumed === '1' } : undefined;
    },
    async markRefused(state, reason) {
      await markRefusedScript(key(state), reason, refusedPrefix);
    },
    async refusedSources(interactionUid) {
      return new Set(await redis.run((c) => c.smembers(refusedPrefix + interactionUid)));
    },
    purge: async () => 0,
  };
}
