// DPoP at a service's API (RFC 9449 §4.3, §7.1): checks the proof a client sends
// with a DPoP-bound access token. Each check is one function of the proof and the
// request, so that a failure names what was wrong; I/O (the replay store, the nonce
// source) is behind the two small interfaces below, which the service may supply.
// Imports jose only; hashing and HMAC use WebCrypto (globalThis.crypto, Node 20+).
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, jwtVerify, type ProtectedHeaderParameters } from 'jose';

/**
 * Proof algorithms nixa/verify can check: asymmetric only (RFC 9449 §4.2: never
 * none, never a MAC), and none of RSASSA-PKCS1-v1_5, which FAPI 2.0 (§5.4.1) rules out.
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;
export type DPoPAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * Remembers which proofs were used, for every instance of the service. `seen`
 * records the key and answers true when it was already recorded (a replay); the
 * record may be forgotten after `expiresAt` (seconds since the epoch), when a proof
 * with that key is too old to be accepted anyway. With Redis:
 * `(await redis.set(key, '1', 'EXAT', expiresAt, 'NX')) === null`.
 */
export interface DPoPReplayStore {
  seen(key: string, expiresAt: number): Promise<boolean>;
}

/**
 * The server-provided nonce (RFC 9449 §9). `current` is the nonce to hand to the
 * client in `DPoP-Nonce`; `accepts` says whether a proof's nonce is still good.
 * Instances of one service must agree: dpopNonces() does so from a shared secret.
 */
export interface DPoPNonces {
  current(): Promise<string>;
  accepts(nonce: string): Promise<boolean>;
}

/**
 * An in-memory replay store: right for one instance (and for tests); several
 * instances must share one (Redis, PostgreSQL) or a proof replayed to another
 * instance would pass there.
 */
export function memoryReplayStore(): DPoPReplayStore {
  const entries = new Map<string, number>();
  return {
    async seen(key, expiresAt) {
      const now = Math.floor(Date.now() / 1000);
      // Entries go in roughly in expiry order: drop expired ones from the front, so
      // the map holds about one window of proofs whatever the traffic.
      for (const [k, until] of entries) {
        if (until >= now) break;
        entries.delete(k);
      }
      const until = entries.get(key);
      if (until !== undefined && until >= now) return true;
      entries.set(key, expiresAt);
      return false;
    },
  };
}

const encoder = new TextEncoder();

/**
 * Server-provided nonces that need no shared storage: a nonce is the current time
 * slot and an HMAC of it under `secret`, so every instance given the same secret
 * hands out and accepts the same nonces. A nonce is accepted in its slot and the
 * next one (so between lifetimeSeconds and twice that).
 */
export function dpopNonces(options: { secret: string | Uint8Array; lifetimeSeconds?: number }): DPoPNonces {
  const given = typeof options.secret === 'string' ? encoder.encode(options.secret) : options.secret;
  if (!(given instanceof Uint8Array) || given.byteLength < 32) throw new TypeError('dpopNonces secret must be at least 32 bytes');
  // A copy: WebCrypto wants bytes on an ArrayBuffer (not a SharedArrayBuffer), and later changes by the caller must not matter.
  const secret = new Uint8Array(given.byteLength);
  secret.set(given);
  const lifetime = options.lifetimeSeconds ?? 300;
  if (!Number.isInteger(lifetime) || lifetime < 10) throw new TypeError('dpopNonces lifetimeSeconds must be a whole number of seconds, 10 or more');
  const key = globalThis.crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const slotNow = () => Math.floor(Date.now() / 1000 / lifetime);
  const nonceFor = async (slot: number) => {
    const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', await key, encoder.encode(`nixa-dpop-nonce.${slot}`)));
    return `${slot.toString(36)}.${base64url.encode(mac)}`;
  };
  return {
    current: () => nonceFor(slotNow()),
    async accepts(nonce) {
      const slot = parseInt(nonce.split('.')[0] ?? '', 36);
      const now = slotNow();
      if (!Number.isSafeInteger(slot) || (slot !== now && slot !== now - 1)) return false;
      return timingSafeEqual(nonce, await nonceFor(slot));
    },
  };
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** RFC 9449 §4.2 ath, and the hash every check of it compares: base64url(SHA-256(ASCII token)). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  return base64url.encode(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(accessToken))));
}

/**
 * An htu or request URL as compared (RFC 9449 §4.3 item 9, RFC 3986 §6.2.2-3):
 * scheme and host lower case, default port dropped (URL does these), query and
 * fragment left out. Undefined for anything that is not an absolute http(s) URL.
 */
export function normalisedHtu(value: string | URL): string | undefined {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Far above a proof with an RSA-4096 jwk (about 1.5 KB); refuses junk before parsing it. */
const MAX_PROOF_LENGTH = 8_192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JTI_LENGTH = 256;

export interface ProofCheck {
  proof: string;
  accessToken: string;
  method: string;
  url: string | URL;
  algorithms: readonly string[];
  /** Seconds a proof is accepted after its iat. */
  lifetime: number;
  /** Seconds of clock disagreement allowed either way. */
  tolerance: number;
}

export type ProofVerdict =
  | { ok: true; jkt: string; jti: string; iat: number; nonce?: string }
  | { ok: false; description: string };

/**
 * Checks a DPoP proof against the request it came with (RFC 9449 §4.3 items 1-9
 * and 11; the nonce, replay and key binding are the caller's, as they need I/O or
 * the verified token).
 */
export async function checkProof(c: ProofCheck): Promise<ProofVerdict> {
  const refuse = (description: string) => ({ ok: false as const, description });
  // The service's mistake, not the client's: say so whatever the proof.
  const expectedHtu = normalisedHtu(c.url);
  if (!expectedHtu) throw new TypeError('url must be the absolute http(s) URL the client called');
  if (c.proof.length > MAX_PROOF_LENGTH) return refuse('The DPoP proof is too long');
  if (!COMPACT_JWS.test(c.proof)) return refuse('The DPoP proof is not a well-formed signed JWT');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(c.proof);
  } catch {
    return refuse('The DPoP proof is not a well-formed signed JWT');
  }
  if (header.typ !== 'dpop+jwt') return refuse('The DPoP proof must have typ dpop+jwt');
  if (typeof header.alg !== 'string' || !c.algorithms.includes(header.alg)) {
    return refuse(`The DPoP proof must be signed with one of ${c.algorithms.join(', ')}`);
  }
  const jwk = header.jwk as JWK | undefined;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refuse('The DPoP proof must carry its public key in the jwk header');
  // A private key in the header means the client has leaked it: whoever saw the
  // proof can sign as that client, so no proof by it can be trusted.
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) return refuse('The DPoP proof jwk header must be a public key, without private parts');

  let payload: Record<string, unknown>;
  try {
    payload = (await jwtVerify(c.proof, EmbeddedJWK, { algorithms: [...c.algorithms], typ: 'dpop+jwt' })).payload;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return refuse('The DPoP proof signature does not verify with its jwk');
    if (code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return refuse('The DPoP proof has expired or is not valid yet');
    return refuse('The DPoP proof jwk is not a usable public key for its alg, or the proof is malformed');
  }

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || !jti) return refuse('The DPoP proof lacks the jti claim');
  if (jti.length > MAX_JTI_LENGTH) return refuse('The DPoP proof jti claim is too long');
  if (htm !== c.method) return refuse(`The DPoP proof htm claim must be the request's method, ${c.method}`);
  if (typeof htu !== 'string' || normalisedHtu(htu) !== expectedHtu) return refuse(`The DPoP proof htu claim must be the request's URL, ${expectedHtu}`);
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return refuse('The DPoP proof lacks the iat claim');
  const now = Math.floor(Date.now() / 1000);
  if (iat > now + c.tolerance) return refuse('The DPoP proof was issued in the future');
  if (iat < now - c.lifetime - c.tolerance) return refuse(`The DPoP proof is older than ${c.lifetime} seconds`);
  if (typeof ath !== 'string' || !ath) return refuse('The DPoP proof lacks the ath claim');
  if (!timingSafeEqual(ath, await accessTokenHash(c.accessToken))) return refuse('The DPoP proof ath claim is not the hash of this access token');
  if (nonce !== undefined && typeof nonce !== 'string') return refuse('The DPoP proof nonce claim must be a string');

  return { ok: true, jkt: await calculateJwkThumbprint(jwk, 'sha256'), jti, iat, ...(nonce === undefined ? {} : { nonce }) };
}
