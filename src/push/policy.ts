// The rules of Web Push to a bound phone, as pure functions: which browser
// subscriptions nixa accepts, what a message may carry, and what a push service's
// answer means (RFC 8030). I/O is in index.ts and repository.ts.
import { ECDH } from 'node:crypto';

import { z } from 'zod';

/**
 * Kinds of message nixa pushes. A message names its kind and the id of what waits
 * for the phone, nothing else: push services see the message's size, time and
 * headers, so no name, service or binding message travels by push (the phone
 * reads those from nixa over its own session).
 */
export const PUSH_MESSAGE_TYPES = ['ciba'] as const;
export type PushMessageType = (typeof PUSH_MESSAGE_TYPES)[number];

export interface PushMessage {
  type: PushMessageType;
  /** The id of the pending request on nixa (opaque to the push service). */
  id: string;
}

const MESSAGE_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isPushMessage(m: unknown): m is PushMessage {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return false;
  const { type, id, ...rest } = m as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    (PUSH_MESSAGE_TYPES as readonly unknown[]).includes(type) &&
    typeof id === 'string' &&
    MESSAGE_ID.test(id)
  );
}

/**
 * A sign-in request on a phone lives two minutes: a push still queued after that
 * would wake the phone for nothing, so the push service may drop it (RFC 8030 §5.2).
 */
export const PUSH_TTL_SECONDS = 120;
const MAX_TTL_SECONDS = 600;

export function pushTtl(requested: number | undefined): number {
  if (requested === undefined || !Number.isFinite(requested)) return PUSH_TTL_SECONDS;
  return Math.min(Math.max(Math.floor(requested), 0), MAX_TTL_SECONDS);
}

/**
 * One topic per kind (RFC 8030 §5.4): a newer request to the same phone replaces
 * an older one still queued at the push service, so a phone coming back online
 * wakes once, for the latest.
 */
export function pushTopic(type: PushMessageType): string {
  return `nixa-${type}`;
}

/** How long a VAPID token is valid (RFC 8292 §2: at most 24 hours; short, since push services may log it). */
export const VAPID_TOKEN_SECONDS = 3600;

// --- the browser's subscription ------------------------------------------------

/** The parts of a browser's PushSubscription nixa keeps. */
export interface PushSubscriptionInput {
  /** The endpoint as a normalised URL (a capability: never logged). */
  endpoint: string;
  /** The endpoint's origin: the push service. */
  pushService: string;
  /** base64url (unpadded) of the phone's P-256 public key, 65 bytes. */
  p256dh: string;
  /** base64url (unpadded) of the 16-byte authentication secret. */
  auth: string;
  expiresAt: Date | null;
}

export type SubscriptionCheck =
  | { ok: true; subscription: PushSubscriptionInput }
  | { ok: false; field: string; problem: string };

// Real endpoints are about 200 characters (FCM, Mozilla, Apple, WNS); a cap keeps
// a row and a request small.
const MAX_ENDPOINT_LENGTH = 2048;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const isIpLiteral = (host: string) => /^[0-9.]+$/.test(host) || host.startsWith('[');

/**
 * nixa posts to whatever endpoint the phone's browser gave, so the endpoint must
 * not point nixa at itself or its network: https to a named host only. Push
 * services have DNS names and listen on 443; an IP address, localhost or another
 * port is a probe of nixa's surroundings, not a browser's subscription. (A host
 * name may still resolve inward: an allow-list of push services would close that.) With allowInsecure (tests, a
 * developer's machine) a push service on this machine is accepted, over http too.
 */
export function endpointProblem(value: string, allowInsecure: boolean): string | undefined {
  if (value.length > MAX_ENDPOINT_LENGTH) return `at most ${MAX_ENDPOINT_LENGTH} characters`;
  if (!URL.canParse(value)) return 'an absolute https:// URL (the PushSubscription endpoint)';
  const u = new URL(value);
  if (u.username || u.password) return 'a URL without user name or password';
  if (u.hash) return 'a URL without a fragment';
  const loopback = LOOPBACK_HOSTS.has(u.hostname);
  if (u.protocol === 'http:') {
    return allowInsecure && loopback ? undefined : 'an https:// URL (http only on this machine, with NIXA_PUSH_INSECURE_ENDPOINTS)';
  }
  if (u.protocol !== 'https:') return 'an https:// URL';
  if (allowInsecure && loopback) return undefined;
  if (loopback || isIpLiteral(u.hostname) || u.hostname === '') return "a push service's host name, not an IP address or localhost";
  // Push services answer on 443; another port is some other server.
  if (u.port) return 'a URL on the default https port (no :port)';
  return undefined;
}

const base64url = (bytes: number, what: string) =>
  z
    .string({ error: `base64url of ${what} (${bytes} bytes)` })
    // Browsers give it unpadded (RFC 4648 §5 as the Push API says); padding is forgiven.
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `base64url of ${what} (${bytes} bytes)`)
    .transform((v) => v.replace(/=+$/, ''))
    .refine((v) => Buffer.from(v, 'base64url').length === bytes && Buffer.from(v, 'base64url').toString('base64url') === v, {
      message: `base64url of ${what}: exactly ${bytes} bytes decoded`,
    });

// What PushSubscription.toJSON() gives. Unknown members are ignored (a browser may
// add some), every known one is checked.
const subscriptionSchema = z.object(
  {
    endpoint: z.string({ error: 'an absolute https:// URL (the PushSubscription endpoint)' }),
    expirationTime: z
      .number({ error: 'null or a time in milliseconds since 1970' })
      .int('a whole number of milliseconds since 1970')
      .nonnegative('a time in milliseconds since 1970')
      .nullable()
      .optional(),
    keys: z.object(
      {
        // An uncompressed P-256 point (RFC 8291 §3.1).
        p256dh: base64url(65, 'an uncompressed P-256 public key').refine(isP256Point, {
          message: 'an uncompressed P-256 public key (a point on the curve)',
        }),
        auth: base64url(16, 'the authentication secret'),
      },
      { error: 'an object with p256dh and auth' },
    ),
  },
  { error: "the browser's PushSubscription as JSON (endpoint, keys.p256dh, keys.auth)" },
);

function isP256Point(v: string): boolean {
  const buf = Buffer.from(v, 'base64url');
  if (buf.length !== 65 || buf[0] !== 0x04) return false;
  try {
    ECDH.convertKey(buf, 'prime256v1');
    return true;
  } catch {
    return false;
  }
}

/** Checks a browser's PushSubscription JSON; a refusal names the first bad field (e.g. keys.p256dh). */
export function checkPushSubscription(input: unknown, opts: { allowInsecureEndpoints: boolean; now: Date }): SubscriptionCheck {
  const parsed = subscriptionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, field: issue.path.length ? issue.path.join('.') : 'subscription', problem: issue.message };
  }
  const s = parsed.data;
  const problem = endpointProblem(s.endpoint, opts.allowInsecureEndpoints);
  if (problem) return { ok: false, field: 'endpoint', problem };
  const expiresAt = s.expirationTime == null ? null : new Date(s.expirationTime);
  if (expiresAt && expiresAt.getTime() <= opts.now.getTime()) {
    return { ok: false, field: 'expirationTime', problem: 'a time in the future (this subscription has already expired)' };
  }
  const u = new URL(s.endpoint);
  return {
    ok: true,
    subscription: { endpoint: u.href, pushService: u.origin, p256dh: s.keys.p256dh, auth: s.keys.auth, expiresAt },
  };
}

// --- the push service's answer ---------------------------------------------------

/**
 * What an HTTP status from the push service means for the subscription:
 * delivered (2xx, normally 201), gone for good (404/410: the browser dropped the
 * subscription, RFC 8030 §7.3, or the push service never knew it), or a failure
 * to count (5xx, 429, and anything else, e.g. a 403 for a VAPID key the
 * subscription was not made with; a redirect is not followed: the endpoint is
 * the capability, nowhere else).
 */
export function answerMeaning(status: number): 'delivered' | 'gone' | 'failed' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 404 || status === 410) return 'gone';
  return 'failed';
}
