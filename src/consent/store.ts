// SQL for consents: what a citizen agreed to share with each service, and which
// claims they accepted while the page showed no value for them. Every write
// announces `accountId clientId` on CONSENTS_CHANNEL in its transaction, so that
// no instance keeps serving a consent from memory once it is withdrawn.
import { announce, NotifiedCache, readThrough, type Database, type NotifiedCacheOptions, type Queryable } from '../storage/index.js';
import { NO_CONSENT, type Consent } from './policy.js';

export const CONSENTS_CHANNEL = 'nixa_consents';

/** Consents held in memory, keyed by consentKey. */
export type ConsentCache = NotifiedCache<Consent>;

/** One per instance; start() it before use. */
export function consentCache(db: Database, opts?: NotifiedCacheOptions): ConsentCache {
  return new NotifiedCache(db, CONSENTS_CHANNEL, opts);
}

/** The cache key and announcement of one consent (an account id never holds a space). */
export const consentKey = (accountId: string, clientId: string): string => `${accountId} ${clientId}`;

/** What the account agreed to share with the service; nothing when it never agreed (or withdrew). */
export async function consentOf(db: Queryable, accountId: string, clientId: string, cache?: ConsentCache): Promise<Consent> {
  const consent = await readThrough(cache, consentKey(accountId, clientId), async () => {
    const { rows } = await db.query<{ claims: string[]; claims_without_value: string[] }>(
      'SELECT claims, claims_without_value FROM consents WHERE account_id = $1 AND client_id = $2',
      [accountId, clientId],
    );
    return rows[0] ? { claims: rows[0].claims, withoutValue: rows[0].claims_without_value } : NO_CONSENT;
  });
  // A copy: what a caller does with it must not change what is held.
  return { claims: [...consent.claims], withoutValue: [...consent.withoutValue] };
}

/**
 * Records an acceptance on top of what was agreed before. For each claim the page
 * showed, the latest acceptance says whether it was seen with a value: a claim
 * shown as "Chưa có" leaves `claims` (its future value was never agreed to), one
 * shown with a value leaves `claims_without_value`.
 */
export async function recordConsent(db: Queryable, accountId: string, clientId: string, given: Consent): Promise<void> {
  await db.query(
    `INSERT INTO consents (account_id, client_id, claims, claims_without_value) VALUES ($1, $2, $3, $4)
     ON CONFLICT (account_id, client_id) DO UPDATE SET
       claims = ARRAY(SELECT DISTINCT c FROM unnest(consents.claims || EXCLUDED.claims) AS c
                      WHERE c = ANY(EXCLUDED.claims) OR NOT c = ANY(EXCLUDED.claims_without_value) ORDER BY 1),
       claims_without_value = ARRAY(SELECT DISTINCT c FROM unnest(consents.claims_without_value || EXCLUDED.claims_without_value) AS c
                                    WHERE NOT c = ANY(EXCLUDED.claims) ORDER BY 1),
       granted_at = now()`,
    [accountId, clientId, [...new Set(given.claims)].sort(), [...new Set(given.withoutValue)].sort()],
  );
  await announce(db, CONSENTS_CHANNEL, consentKey(accountId, clientId));
}

export interface StoredConsent extends Consent {
  clientId: string;
  /** When the citizen last agreed (an agreement to more claims renews it). */
  grantedAt: Date;
}

/** Every service the account agreed to share with, most recent first. */
export async function consentsOf(db: Queryable, accountId: string): Promise<StoredConsent[]> {
  const { rows } = await db.query<{ client_id: string; claims: string[]; claims_without_value: string[]; granted_at: Date | string }>(
    'SELECT client_id, claims, claims_without_value, granted_at FROM consents WHERE account_id = $1 ORDER BY granted_at DESC, client_id',
    [accountId],
  );
  return rows.map((r) => ({ clientId: r.client_id, claims: r.claims, withoutValue: r.claims_without_value, grantedAt: new Date(r.granted_at) }));
}

/** Removes the consent; returns what it covered, or undefined when there was none. */
export async function deleteConsent(db: Queryable, accountId: string, clientId: string): Promise<Consent | undefined> {
  const { rows } = await db.query<{ claims: string[]; claims_without_value: string[] }>(
    'DELETE FROM consents WHERE account_id = $1 AND client_id = $2 RETURNING claims, claims_without_value',
    [accountId, clientId],
  );
  if (!rows[0]) return undefined;
  await announce(db, CONSENTS_CHANNEL, consentKey(accountId, clientId));
  return { claims: rows[0].claims, withoutValue: rows[0].claims_without_value };
}

/** The accounts that agreed to share with a service (to find whom a pairwise sub names: src/protocol/provider.ts). */
export async function accountsConsentingTo(db: Queryable, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ account_id: string }>('SELECT account_id FROM consents WHERE client_id = $1', [clientId]);
  return rows.map((r) => r.account_id);
}
