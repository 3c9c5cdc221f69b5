// Web Push to a citizen's bound phone (issue 13, CIBA): the phone's browser
// subscribes with nixa's VAPID public key, nixa keeps the subscription, and when
// something waits for the phone nixa sends it a small encrypted message (RFC 8030
// delivery, RFC 8291 aes128gcm encryption, RFC 8292 VAPID; the `web-push`
// library builds the request, nixa sends it with its own timeout).
//
// Push is a convenience: the phone also finds what waits for it when it opens
// nixa. So notifyPhone never throws and never waits long; it says what happened.
import { randomUUID } from 'node:crypto';

import webpush from 'web-push';

import type { PushConfig } from '../config/index.js';
import { InvalidInputError, NotFoundError, StateError } from '../errors/index.js';
import type { Cipher } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import type { Queryable } from '../storage/index.js';
import {
  answerMeaning,
  checkPushSubscription,
  isPushMessage,
  pushTopic,
  pushTtl,
  VAPID_TOKEN_SECONDS,
  type PushMessage,
} from './policy.js';
import {
  deleteSubscription,
  deleteSubscriptionOf,
  findSubscription,
  insertVapidKeyOnce,
  purgeExpiredSubscriptions,
  readVapidKey,
  recordFailure,
  recordSuccess,
  upsertSubscription,
  type StoredVapidKey,
} from './repository.js';

export { PUSH_MESSAGE_TYPES, PUSH_TTL_SECONDS, type PushMessage, type PushMessageType } from './policy.js';

/** What Web Push needs; build it once per instance (the VAPID key is kept with it after its first use). */
export interface PushDeps {
  db: Queryable;
  cipher: Cipher;
  config: PushConfig;
  logger: Logger;
}

export type PushOutcome =
  /** The push service accepted the message (it may still reach the phone late, or never). */
  | { status: 'sent' }
  /** The phone has no (unexpired) subscription: nothing was sent. */
  | { status: 'no-subscription' }
  /** The push service no longer knows the subscription (404/410): it was deleted. */
  | { status: 'gone'; httpStatus: number }
  /**
   * Nothing was delivered: the push service refused (httpStatus), did not answer
   * within the timeout, could not be reached, or nixa itself failed (error).
   * failures: the subscription's count of failures since its last success.
   */
  | { status: 'failed'; reason: 'refused' | 'timeout' | 'unreachable' | 'error'; httpStatus?: number; failures?: number };

// --- subscriptions ------------------------------------------------------------

const secretsAad = (boundPhoneId: string) => `push-subscription:${boundPhoneId}`;

interface SubscriptionSecrets {
  endpoint: string;
  auth: string;
}

/**
 * Keeps the phone's PushSubscription (its JSON as the browser gives it),
 * replacing the one it had. Refuses a malformed one with an InvalidInputError
 * naming the field (endpoint, keys.p256dh, keys.auth, expirationTime), and an
 * unknown bound phone with a NotFoundError. The caller has already checked that
 * the request comes from that bound phone's session.
 */
export async function savePushSubscription(
  deps: Pick<PushDeps, 'db' | 'cipher' | 'config'>,
  boundPhoneId: string,
  input: unknown,
  now = new Date(),
): Promise<{ pushService: string }> {
  const check = checkPushSubscription(input, { allowInsecureEndpoints: deps.config.allowInsecureEndpoints, now });
  if (!check.ok) throw new InvalidInputError(check.field, check.problem);
  const s = check.subscription;
  const secrets: SubscriptionSecrets = { endpoint: s.endpoint, auth: s.auth };
  const saved = await upsertSubscription(deps.db, {
    id: randomUUID(),
    boundPhoneId,
    pushService: s.pushService,
    secretsEnc: deps.cipher.encrypt(JSON.stringify(secrets), secretsAad(boundPhoneId)),
    p256dh: s.p256dh,
    expiresAt: s.expiresAt,
  });
  if (!saved) throw new NotFoundError('bound phone', boundPhoneId);
  return { pushService: s.pushService };
}

/** Forgets the phone's subscription (the citizen turned notifications off, or the browser replaced it). */
export function removePushSubscription(db: Queryable, boundPhoneId: string): Promise<boolean> {
  return deleteSubscriptionOf(db, boundPhoneId);
}

/** Deletes subscriptions past the expiration time their browser gave (at most batchSize); for the periodic purge. */
export function purgePushSubscriptions(db: Queryable, batchSize = 500): Promise<number> {
  return purgeExpiredSubscriptions(db, batchSize);
}

// --- the VAPID key --------------------------------------------------------------

interface VapidKeyPair {
  /** base64url of the uncompressed P-256 point: the page's applicationServerKey. */
  publicKey: string;
  /** base64url of the private scalar. Never logged, never leaves this module. */
  privateKey: string;
}

const vapidAad = (publicKey: string) => `push-vapid:${publicKey}`;
const vapidKeys = new WeakMap<object, Promise<VapidKeyPair>>();

/** nixa's VAPID key pair, made and stored (encrypted) on first need, then kept with deps. */
function vapidKeyPair(deps: Pick<PushDeps, 'db' | 'cipher'>): Promise<VapidKeyPair> {
  let pending = vapidKeys.get(deps);
  if (!pending) {
    pending = loadOrCreateVapidKey(deps);
    vapidKeys.set(deps, pending);
    // A failure (database down) is not remembered: the next push tries again.
    pending.catch(() => vapidKeys.delete(deps));
  }
  return pending;
}

async function loadOrCreateVapidKey({ db, cipher }: Pick<PushDeps, 'db' | 'cipher'>): Promise<VapidKeyPair> {
  let stored: StoredVapidKey | undefined = await readVapidKey(db);
  if (!stored) {
    const fresh = webpush.generateVAPIDKeys();
    stored = await insertVapidKeyOnce(db, {
      publicKey: fresh.publicKey,
      privateEnc: cipher.encrypt(fresh.privateKey, vapidAad(fresh.publicKey)),
    });
    if (!stored) throw new StateError('the VAPID key was not stored; try again');
  }
  return { publicKey: stored.publicKey, privateKey: cipher.decrypt(stored.privateEnc, vapidAad(stored.publicKey)) };
}

/** The VAPID public key (base64url), for the phone page's pushManager.subscribe({ applicationServerKey }). */
export async function vapidPublicKey(deps: Pick<PushDeps, 'db' | 'cipher'>): Promise<string> {
  return (await vapidKeyPair(deps)).publicKey;
}

// --- sending ----------------------------------------------------------------------

/**
 * Sends `message` to the bound phone, encrypted to its subscription and signed
 * with nixa's VAPID key: urgency high, a short TTL (the request it announces
 * lives two minutes; opts.ttlSeconds for another), one topic per kind so a newer
 * message replaces a queued older one. Never throws; gives up after
 * config.timeoutMs. A 404/410 deletes the subscription; other failures are
 * counted on it and logged with the push service's origin only (the endpoint's
 * path is a capability).
 */
export async function notifyPhone(
  deps: PushDeps,
  boundPhoneId: string,
  message: PushMessage,
  opts: { ttlSeconds?: number } = {},
): Promise<PushOutcome> {
  const { db, logger } = deps;
  const log: Record<string, unknown> = { boundPhoneId, messageType: message?.type };
  try {
    if (!isPushMessage(message)) {
      logger.error(log, 'push refused: a message carries only a known type and an id');
      return { status: 'failed', reason: 'error' };
    }
    const sub = await findSubscription(db, boundPhoneId);
    if (!sub) return { status: 'no-subscription' };
    const secrets = JSON.parse(deps.cipher.decrypt(sub.secretsEnc, secretsAad(boundPhoneId))) as SubscriptionSecrets;
    const vapid = await vapidKeyPair(deps);

    const request = webpush.generateRequestDetails({ endpoint: secrets.endpoint, keys: { p256dh: sub.p256dh, auth: secrets.auth } }, JSON.stringify(message), {
      contentEncoding: 'aes128gcm',
      TTL: pushTtl(opts.ttlSeconds),
      urgency: 'high',
      topic: pushTopic(message.type),
    });
    const audience = new URL(secrets.endpoint).origin;
    const expiration = Math.floor(Date.now() / 1000) + VAPID_TOKEN_SECONDS;
    const { Authorization } = webpush.getVapidHeaders(audience, deps.config.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm', expiration);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch sets Content-Length itself from the body.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    headers.Authorization = Authorization;

    const answer = await post(secrets.endpoint, headers, request.body, deps.config.timeoutMs);
    return await settle(deps, sub.id, { ...log, pushService: sub.pushService }, answer);
  } catch (err) {
    logger.error({ ...log, err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'push failed');
    return { status: 'failed', reason: 'error' };
  }
}

/**
 * What the answer means for the subscription, written down. The bookkeeping
 * does not change the outcome: a push the service accepted was sent even if the
 * database then fails to note it.
 */
async function settle(deps: PushDeps, id: string, where: Record<string, unknown>, answer: Answer): Promise<PushOutcome> {
  const { db, logger } = deps;
  const books = <T>(write: () => Promise<T>): Promise<T | undefined> =>
    write().catch((err: unknown) => {
      logger.error({ ...where, err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'push outcome not recorded');
      return undefined;
    });
  if ('failure' in answer) {
    const failures = await books(() => recordFailure(db, id));
    logger.warn({ ...where, reason: answer.failure, errorCode: answer.errorCode, failures }, 'push not delivered');
    return { status: 'failed', reason: answer.failure, ...(failures === undefined ? {} : { failures }) };
  }
  const httpStatus = answer.httpStatus;
  switch (answerMeaning(httpStatus)) {
    case 'delivered':
      await books(() => recordSuccess(db, id));
      logger.debug({ ...where, httpStatus }, 'push sent');
      return { status: 'sent' };
    case 'gone':
      await books(() => deleteSubscription(db, id));
      logger.info({ ...where, httpStatus }, 'push subscription gone: deleted');
      return { status: 'gone', httpStatus };
    case 'failed': {
      const failures = await books(() => recordFailure(db, id));
      logger.warn({ ...where, httpStatus, failures }, 'push refused by the push service');
      return { status: 'failed', reason: 'refused', httpStatus, ...(failures === undefined ? {} : { failures }) };
    }
  }
}

type Answer = { httpStatus: number } | { failure: 'timeout' | 'unreachable'; errorCode?: string };

/**
 * One POST to the push service, bounded by `timeoutMs` from start to the status
 * line. The answer's body is not read (only its status matters), and a redirect
 * is not followed.
 */
async function post(endpoint: string, headers: Record<string, string>, body: Buffer | null, timeoutMs: number): Promise<Answer> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    return { httpStatus: res.status };
  } catch (err) {
    const e = err as Error & { cause?: { code?: unknown } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { failure: 'timeout' };
    // The cause's code (ECONNREFUSED, ENOTFOUND…), never the message: it may quote the URL.
    return { failure: 'unreachable', ...(typeof e?.cause?.code === 'string' ? { errorCode: e.cause.code } : {}) };
  }
}
