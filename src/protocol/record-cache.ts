// Sessions and grants read from memory. Every sign-in, SSO round trip, userinfo
// and introspection reads the session and the grant of the service again: they
// are durable (oidc_payloads) and change rarely, so each instance keeps them,
// kept true by NOTIFY like clients and accounts (storage/notified-cache.ts).
//
// The instance that writes one keeps what it wrote (write-through) and ignores
// its own echo; every other instance drops the key when the NOTIFY arrives.
// Bulk revocations (consent withdrawn, account suspended) announce each key.
import { randomBytes } from 'node:crypto';

import { announce, NotifiedCache, type Database, type Queryable } from '../storage/index.js';

export const PROTOCOL_CHANNEL = 'nixa_protocol';

/** The models kept in memory: read on every request of a signed-in browser or a token's use. */
export const CACHED_MODELS: ReadonlySet<string> = new Set(['Session', 'Grant']);

export interface CachedRecord {
  /** The payload as JSON: parsed afresh for every reader, so no one shares (or mutates) what is held. */
  payload: string;
  /** Epoch ms; undefined: does not expire. */
  expiresAt: number | undefined;
}

export interface RecordCache {
  readonly cache: NotifiedCache<CachedRecord | undefined>;
  /**
   * Session uid → session id, as last seen on this instance. Only a hint: a token
   * names its session by uid (findByUid on every userinfo, introspection and
   * refresh), and the session itself is read by id through the cache above, which
   * NOTIFY keeps true; a hint whose session is gone or has another uid is dropped.
   */
  readonly sessionIds: SessionIds;
  /** This instance's mark on its own announcements (payload "<instance>|<Model>:<id>"). */
  readonly instance: string;
}

/** A bounded map: emptied when full (a miss only costs the SELECT it saves). */
export class SessionIds {
  readonly #ids = new Map<string, string>();
  constructor(private readonly max = 50_000) {}
  get(uid: string): string | undefined {
    return this.#ids.get(uid);
  }
  set(uid: string, id: string): void {
    if (this.#ids.size >= this.max && !this.#ids.has(uid)) this.#ids.clear();
    this.#ids.set(uid, id);
  }
  delete(uid: string): void {
    this.#ids.delete(uid);
  }
}

export const recordKey = (model: string, id: string): string => `${model}:${id}`;

export function recordCache(db: Pick<Database, 'listen' | 'listenState'>): RecordCache {
  const instance = randomBytes(6).toString('base64url');
  const cache = new NotifiedCache<CachedRecord | undefined>(db, PROTOCOL_CHANNEL, {
    keyOf: (payload) => {
      const bar = payload.indexOf('|');
      if (bar < 0) return payload;
      return payload.slice(0, bar) === instance ? undefined : payload.slice(bar + 1);
    },
  });
  return { cache, instance, sessionIds: new SessionIds() };
}

/** Tells every instance (this one too) that a session or grant changed outside the adapter. */
export function announceRecord(db: Queryable, model: 'Session' | 'Grant', id: string): Promise<void> {
  return announce(db, PROTOCOL_CHANNEL, recordKey(model, id));
}
