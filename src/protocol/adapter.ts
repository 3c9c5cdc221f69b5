// oidc-provider's storage adapter on PostgreSQL. One table holds every model the
// provider persists; the secondary keys it looks up by (grant, session uid, user
// code) are columns with indexes. Relying parties (model "Client") come from the
// clients table instead, so that operators manage them as data.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';

import type { ClientStore } from '../clients/index.js';
import { StorageUnavailableError } from '../errors/index.js';
import { ambientTransaction, hasNul, type Database, type Queryable } from '../storage/index.js';
import { currentRotation } from './rotation.js';
import { announceRecord, CACHED_MODELS, PROTOCOL_CHANNEL, recordKey, type CachedRecord, type RecordCache } from './record-cache.js';

/**
 * The database as the provider sees it: a lost connection becomes the OAuth
 * error RFC 6749 §4.1.2.1 names for it, temporarily_unavailable with HTTP 503,
 * which oidc-provider renders (a redirect to the service, a JSON answer, or the
 * error page) like any other protocol error. Left alone it would be an opaque
 * server_error 500. Everything the provider reads or writes (adapter, clients,
 * accounts) goes through this handle.
 */
function translate(err: unknown): never {
  if (!(err instanceof StorageUnavailableError)) throw err;
  const e = new errors.TemporarilyUnavailable('nixa is temporarily unable to handle this request; try again in a moment', { cause: err });
  Object.assign(e, { status: 503, statusCode: 503 });
  throw e;
}

/** The same for an adapter that does not go through the database (Redis, short-lived.ts). */
export function translateStorageErrors(adapter: Adapter): Adapter {
  const wrapped = {} as Record<string, unknown>;
  for (const name of ['upsert', 'find', 'findByUid', 'findByUserCode', 'consume', 'destroy', 'revokeByGrantId'] as const) {
    const method = adapter[name] as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = (...args: unknown[]) => method.apply(adapter, args).catch(translate);
  }
  return wrapped as unknown as Adapter;
}

export function providerStorage(db: Database): Database {
  return {
    ...db,
    query: <R>(sql: string, params?: unknown[]) => db.query<R>(sql, params).catch(translate),
    exec: (sql) => db.exec(sql).catch(translate),
    transaction: (fn) => db.transaction(fn).catch(translate),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    listenState: () => db.listenState(),
    close: () => db.close(),
  };
}

/**
 * Every request parameter the provider looks up or stores passes through here,
 * and PostgreSQL cannot hold NUL (nor does any id nixa issues have one). Such a
 * parameter makes the request malformed: oidc-provider answers invalid_request
 * in each endpoint's standard form (a redirect to a trusted redirect URI, a plain
 * page otherwise, JSON at /token, introspection, revocation and userinfo).
 */
export function refuseNul(...values: unknown[]): void {
  if (values.some(hasNul)) throw new errors.InvalidRequest('request parameters must not contain the NUL character');
}

/**
 * oidc-provider saves a session on every request that reads it, to slide its
 * expiry. A save that changes nothing else, within this long of the stored
 * expiry, is not written: the stored expiry then lags the cookie's by at most
 * this long (Keycloak batches its sessions' last-access time the same way).
 * Returning to a service already used in the session costs no write.
 */
export const SESSION_SLIDE_WRITE_SECONDS = 60;

/** Whether saving `payload` would only move the expiry of what is held by less than SESSION_SLIDE_WRITE_SECONDS. */
function onlySlides(held: CachedRecord | undefined, payload: AdapterPayload, expiresIn: number): boolean {
  if (!held?.expiresAt || !expiresIn) return false;
  if (held.expiresAt < Date.now() + (expiresIn - SESSION_SLIDE_WRITE_SECONDS) * 1000) return false;
  return JSON.stringify({ ...(JSON.parse(held.payload) as AdapterPayload), exp: 0 }) === JSON.stringify({ ...payload, exp: 0 });
}

interface PayloadRow {
  payload: AdapterPayload;
  consumed: number | null;
}

/** Durable models (sessions, grants, refresh tokens), or the UNLOGGED table for short-lived ones (short-lived.ts). */
export type PayloadTable = 'oidc_payloads' | 'short_lived_payloads';

export class PostgresAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly db: Queryable,
    private readonly clients: ClientStore,
    private readonly table: PayloadTable = 'oidc_payloads',
    records?: RecordCache,
  ) {
    this.records = records && table === 'oidc_payloads' && CACHED_MODELS.has(model) ? records : undefined;
  }

  /** Sessions and grants are read from memory (record-cache.ts); undefined for every other model. */
  private readonly records: RecordCache | undefined;

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.model === 'Client') throw new Error('clients are managed with `nixa clients`, not by the provider');
    refuseNul(id, payload);
    // A Grant is its own grant; indexing it by grant_id lets one statement revoke it with its tokens.
    const grantId = this.model === 'Grant' ? id : (payload.grantId ?? null);
    // expiresIn may be fractional (a replay record lives until a client assertion's
    // exp, which may be a non-integer NumericDate): float8, not int.
    const params = [this.model, id, JSON.stringify(payload), grantId, payload.userCode ?? null, payload.uid ?? null, expiresIn ?? null];
    const into = `INSERT INTO ${this.table} (model, id, payload, grant_id, user_code, uid, expires_at)`;
    const values = '$1, $2, $3::jsonb, $4, $5, $6, CASE WHEN $7::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $7::float8) END';
    const onConflict = `ON CONFLICT (model, id) DO UPDATE SET
         payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
         uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`;
    const upsert = `${into} VALUES (${values}) ${onConflict}`;
    const rotation = this.model === 'RefreshToken' ? currentRotation() : undefined;
    if (rotation?.consumed !== undefined && this.table === 'oidc_payloads') {
      // The successor of the refresh token this request consumed: written only if that consume wins.
      const predecessor = rotation.consumed;
      rotation.consumed = undefined;
      const { rowCount } = await this.db.query(
        `WITH spent AS (UPDATE ${this.table} SET consumed_at = now() WHERE model = $1 AND id = $8 AND consumed_at IS NULL RETURNING 1)
         ${into} SELECT ${values} FROM spent ${onConflict}`,
        [...params, predecessor],
      );
      if (rowCount !== 1) await this.lostTo(predecessor);
      return;
    }
    const records = this.records;
    // Made within a transaction (a grant at a sign-in's linking step): written at its commit, with it.
    const tx = this.table === 'oidc_payloads' ? ambientTransaction() : undefined;
    if (!records) {
      if (tx?.later) tx.later(upsert, params);
      else await this.db.query(upsert, params);
      return;
    }
    const key = recordKey(this.model, id);
    if (this.model === 'Session' && typeof payload.uid === 'string') records.sessionIds.set(payload.uid, id);
    if (this.model === 'Session' && onlySlides(records.cache.peek(key), payload, expiresIn)) return;
    const record: CachedRecord = { payload: JSON.stringify(payload), expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined };
    const announcement = `${records.instance}|${key}`;
    if (tx?.later) {
      tx.later(upsert, params);
      await tx.notify!(PROTOCOL_CHANNEL, announcement);
      // Kept now rather than at commit: should the transaction roll back, the entry
      // names a random id that nothing refers to (the sign-in failed with it).
      records.cache.keep(key, record);
      return;
    }
    // The announcement rides in the same statement: one round trip, sent at its commit.
    await records.cache.writeThrough(key, record, async () => {
      await this.db.query(`WITH written AS (${upsert} RETURNING 1) SELECT pg_notify($8, $9) FROM written`, [...params, PROTOCOL_CHANNEL, announcement]);
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    refuseNul(id);
    if (this.model === 'Client') return this.clients.findMetadata(id);
    if (!this.records) return this.one('id = $2', id);
    const record = await this.records.cache.get(recordKey(this.model, id), async () => {
      const { rows } = await this.db.query<{ payload: AdapterPayload; expires_ms: number | null }>(
        `SELECT payload, floor(extract(epoch FROM expires_at) * 1000)::bigint AS expires_ms FROM ${this.table}
         WHERE model = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > now())`,
        [this.model, id],
      );
      const row = rows[0];
      return row ? { payload: JSON.stringify(row.payload), expiresAt: row.expires_ms ?? undefined } : undefined;
    });
    if (!record || (record.expiresAt !== undefined && record.expiresAt <= Date.now())) return undefined;
    // oidc-provider builds its model from what it gets: a fresh object each time (JSON, as clients/index.ts says why).
    const payload = JSON.parse(record.payload) as AdapterPayload;
    if (this.model === 'Session' && typeof payload.uid === 'string') this.records.sessionIds.set(payload.uid, id);
    return payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (!this.records || this.model !== 'Session') return this.one('uid = $2', uid);
    // Through the session's id when this instance knows it: from memory, as find() is.
    refuseNul(uid);
    const ids = this.records.sessionIds;
    const known = ids.get(uid);
    if (known !== undefined) {
      const payload = await this.find(known);
      if (payload?.uid === uid) return payload;
      ids.delete(uid);
    }
    const payload = await this.one('uid = $2', uid);
    if (typeof payload?.jti === 'string') ids.set(uid, payload.jti);
    return payload;
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.one('user_code = $2', userCode);
  }

  private async one(where: string, value: string): Promise<AdapterPayload | undefined> {
    refuseNul(value);
    const { rows } = await this.db.query<PayloadRow>(
      // floor, not a bare ::bigint cast (which rounds): epoch seconds as oidc-provider counts them.
      `SELECT payload, floor(extract(epoch FROM consumed_at))::bigint AS consumed FROM ${this.table}
       WHERE model = $1 AND ${where} AND (expires_at IS NULL OR expires_at > now())`,
      [this.model, value],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.consumed === null ? row.payload : { ...row.payload, consumed: row.consumed };
  }

  /**
   * Marks a code or refresh token used. Atomic: of two parallel redemptions only
   * one UPDATE matches. The loser is a replay, so the whole grant is revoked
   * (RFC 9700 §4.14, §2.2.2) and the request fails with invalid_grant.
   */
  async consume(id: string): Promise<void> {
    refuseNul(id);
    const r = this.model === 'RefreshToken' && this.table === 'oidc_payloads' ? currentRotation() : undefined;
    if (r && r.consumed === undefined) {
      // Written with the successor's insert (rotation.ts), or when the request ends.
      r.consumed = id;
      return;
    }
    await this.spend(id);
  }

  /** consume(), at once: the UPDATE that only one of two parallel uses wins. */
  async spend(id: string): Promise<void> {
    const won = await this.db.query(
      `UPDATE ${this.table} SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL`,
      [this.model, id],
    );
    if (won.rowCount === 1) return;
    await this.lostTo(id);
  }

  /** Another use spent `id` first: a replay, so its whole grant is revoked. */
  private async lostTo(id: string): Promise<never> {
    const { rows } = await this.db.query<{ grant_id: string | null }>(
      `SELECT grant_id FROM ${this.table} WHERE model = $1 AND id = $2`,
      [this.model, id],
    );
    if (rows[0]?.grant_id) await revokeGrant(this.db, rows[0].grant_id);
    throw new errors.InvalidGrant('grant already used');
  }

  async destroy(id: string): Promise<void> {
    refuseNul(id);
    if (!this.records) {
      await this.db.query(`DELETE FROM ${this.table} WHERE model = $1 AND id = $2`, [this.model, id]);
      return;
    }
    const key = recordKey(this.model, id);
    this.records.cache.invalidate(key);
    await this.db.query(
      `WITH gone AS (DELETE FROM ${this.table} WHERE model = $1 AND id = $2 RETURNING 1) SELECT pg_notify($3, $4) FROM gone`,
      [this.model, id, PROTOCOL_CHANNEL, key],
    );
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    refuseNul(grantId);
    await this.db.query(`DELETE FROM ${this.table} WHERE model = $1 AND grant_id = $2`, [this.model, grantId]);
  }
}

/**
 * Deletes a grant and everything the database holds under it, in one statement
 * (with NIXA_SHORT_LIVED_STORE=redis, what Redis holds dies with the grant: see redis-adapter.ts).
 */
export async function revokeGrant(db: Queryable, grantId: string): Promise<number> {
  const res = await db.query(
    `WITH durable AS (DELETE FROM oidc_payloads WHERE grant_id = $1 RETURNING 1),
          short_lived AS (DELETE FROM short_lived_payloads WHERE grant_id = $1 RETURNING 1)
     SELECT (SELECT count(*) FROM durable) + (SELECT count(*) FROM short_lived) AS n`,
    [grantId],
  );
  // After the delete (outside a transaction an announcement goes out at once): every instance drops the grant.
  await announceRecord(db, 'Grant', grantId);
  return Number((res.rows[0] as { n: number | string } | undefined)?.n ?? 0);
}


/**
 * The sid each live sign-in session of the account gave the client (oidc-provider
 * keeps one per session and client under `authorizations`): what a back-channel
 * logout token names so that the service ends the matching session of its own.
 */
export async function sessionSidsFor(db: Queryable, accountId: string, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ sid: string }>(
    `SELECT DISTINCT payload->'authorizations'->$2::text->>'sid' AS sid FROM oidc_payloads
     WHERE model = 'Session' AND payload->>'accountId' = $1 AND (expires_at IS NULL OR expires_at > now())
       AND payload->'authorizations'->$2::text->>'sid' IS NOT NULL`,
    [accountId, clientId],
  );
  return rows.map((r) => r.sid);
}

/** Sign-in sessions that have not expired (for the active-sessions gauge). */
export async function countActiveSessions(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'Session' AND (expires_at IS NULL OR expires_at > now())");
  return rows[0]?.n ?? 0;
}

/**
 * Deletes expired rows in small batches, skipping rows another instance is
 * touching, so that no statement holds many locks or runs for long.
 */
export async function purgeExpired(db: Queryable, batchSize: number): Promise<number> {
  let total = 0;
  for (const table of ['oidc_payloads', 'short_lived_payloads'] satisfies PayloadTable[]) {
    for (;;) {
      const res = await db.query(
        `DELETE FROM ${table} WHERE ctid IN (
           SELECT ctid FROM ${table}
           WHERE expires_at < now()
           LIMIT $1 FOR UPDATE SKIP LOCKED)`,
        [batchSize],
      );
      total += res.rowCount;
      if (res.rowCount < batchSize) break;
    }
  }
  return total;
}
