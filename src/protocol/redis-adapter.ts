// oidc-provider's adapter for the short-lived models on Redis (NIXA_SHORT_LIVED_STORE=redis).
//
// Keys, under the instance's prefix:
//   <Model>:<id>            the payload (JSON), expiring with it
//   <Model>:<id>:consumed   set once, atomically, when a code is redeemed
//   <Model>:uid:<uid>, <Model>:userCode:<code>   secondary keys → id
//   grant:<grantId>         the set of keys issued under a grant (for revokeByGrantId)
// A write is one script (EVALSHA) round trip; a read is one MGET.
//
// Revocation does not depend on this store: every use of a code or access token
// also loads its Grant, which is durable in PostgreSQL, so revoking the grant
// there (consent withdrawn, account suspended) ends its tokens even if Redis
// still holds them.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';

import type { RedisStore } from '../storage/redis.js';
import { refuseNul } from './adapter.js';

/**
 * Every id nixa or oidc-provider issues is URL-safe text; anything else in a
 * request (a hostile `code`, say) cannot name a stored entry, and must not reach
 * into the key space (":uid:…") by its shape.
 */
const STORABLE_ID = /^[A-Za-z0-9._~-]{1,512}$/;
const unknownId = (id: string): boolean => {
  refuseNul(id);
  return !STORABLE_ID.test(id);
};

/** Marks a key consumed if it still exists: 1 won, 0 already consumed, -1 gone. The mark expires with the key. */
const CONSUME = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return -1 end
local opts = ttl > 0 and {'PX', ttl} or {}
if redis.call('SET', KEYS[2], ARGV[1], 'NX', unpack(opts)) then return 1 end
return 0`;

/**
 * Writes a payload with its secondary keys and grant membership, atomically. One
 * command where a MULTI of up to seven cost the client several times the CPU (a
 * command object and a reply each). KEYS: the payload's key, then those ARGV[3]
 * names ("u" uid, "c" user code, "g" grant set), in that order. ARGV: the
 * payload, the id, the flags, and the lifetime in ms ("" for none). The grant's
 * set lives as long as its longest member: NX sets a first expiry, GT only lengthens it.
 */
const UPSERT = `
local ms = ARGV[4] ~= '' and ARGV[4] or nil
local function put(k, v) if ms then redis.call('SET', k, v, 'PX', ms) else redis.call('SET', k, v) end end
put(KEYS[1], ARGV[1])
local i = 2
if string.find(ARGV[3], 'u', 1, true) then put(KEYS[i], ARGV[2]); i = i + 1 end
if string.find(ARGV[3], 'c', 1, true) then put(KEYS[i], ARGV[2]); i = i + 1 end
if string.find(ARGV[3], 'g', 1, true) then
  redis.call('SADD', KEYS[i], KEYS[1])
  if ms then
    redis.call('PEXPIRE', KEYS[i], ms, 'NX')
    redis.call('PEXPIRE', KEYS[i], ms, 'GT')
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return 1`;

/** Deletes every key recorded under a grant, with their consumed marks. */
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, k in ipairs(members) do redis.call('DEL', k, k .. ':consumed') end
redis.call('DEL', KEYS[1])
return #members`;

/** What a losing redemption does to the whole grant (both stores): see consume(). */
export type RevokeGrant = (grantId: string) => Promise<void>;

export class RedisAdapter implements Adapter {
  private readonly upsertScript: (...args: string[]) => Promise<unknown>;
  private readonly consumeScript: (...args: string[]) => Promise<number>;

  constructor(
    private readonly model: string,
    private readonly redis: RedisStore,
    private readonly revokeGrant: RevokeGrant,
  ) {
    // The number of keys varies with the payload (uid, user code, grant): passed per call.
    this.upsertScript = redis.script('nixaUpsert', UPSERT, null);
    this.consumeScript = redis.script('nixaConsume', CONSUME, 2);
  }

  private keyOf(id: string): string {
    return this.redis.key(this.model, id);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    // As on PostgreSQL (adapter.ts): a request parameter with NUL is malformed, whatever the store.
    refuseNul(id, payload);
    const key = this.keyOf(id);
    // expiresIn may be fractional (a replay record lives until an assertion's exp).
    const ms = Math.max(1, Math.ceil((expiresIn ?? 0) * 1000));
    const keys = [key];
    let flags = '';
    if (payload.uid) {
      keys.push(this.redis.key(this.model, 'uid', payload.uid));
      flags += 'u';
    }
    if (payload.userCode) {
      keys.push(this.redis.key(this.model, 'userCode', payload.userCode));
      flags += 'c';
    }
    if (payload.grantId) {
      keys.push(this.redis.key('grant', payload.grantId));
      flags += 'g';
    }
    await this.upsertScript(String(keys.length), ...keys, JSON.stringify(payload), id, flags, expiresIn ? String(ms) : '');
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (unknownId(id)) return undefined;
    const key = this.keyOf(id);
    const [value, consumed] = await this.redis.run((c) => c.mget(key, `${key}:consumed`));
    if (!value) return undefined;
    const payload = JSON.parse(value) as AdapterPayload;
    return consumed ? { ...payload, consumed: Number(consumed) } : payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (unknownId(uid)) return undefined;
    const id = await this.redis.run((c) => c.get(this.redis.key(this.model, 'uid', uid)));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    if (unknownId(userCode)) return undefined;
    const id = await this.redis.run((c) => c.get(this.redis.key(this.model, 'userCode', userCode)));
    return id ? this.find(id) : undefined;
  }

  /**
   * Marks a code used, atomically across instances: of two parallel redemptions
   * only one SET NX succeeds. The loser is a replay, so the whole grant is
   * revoked (RFC 9700 §4.14, §2.2.2) and the request fails with invalid_grant.
   */
  async consume(id: string): Promise<void> {
    if (unknownId(id)) throw new errors.InvalidGrant('grant not found');
    const key = this.keyOf(id);
    const now = String(Math.floor(Date.now() / 1000));
    const won = await this.consumeScript(key, `${key}:consumed`, now);
    if (won === 1) return;
    if (won === 0) {
      const payload = await this.find(id);
      if (payload?.grantId) await this.revokeGrant(payload.grantId);
    }
    throw new errors.InvalidGrant('grant already used');
  }

  async destroy(id: string): Promise<void> {
    if (unknownId(id)) return;
    const key = this.keyOf(id);
    await this.redis.run((c) => c.del(key, `${key}:consumed`));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    if (unknownId(grantId)) return;
    await revokeRedisGrant(this.redis, grantId);
  }
}

/** Deletes what Redis holds under a grant (every model at once: they share the grant's set). */
export async function revokeRedisGrant(redis: RedisStore, grantId: string): Promise<number> {
  return redis.script<number>('nixaRevokeGrant', REVOKE_GRANT, 1)(redis.key('grant', grantId));
}
