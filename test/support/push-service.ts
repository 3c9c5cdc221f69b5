// A push service on 127.0.0.1 that speaks the real protocol, so that nixa's
// pushes are checked end to end: it accepts the RFC 8030 POST of a message to a
// subscription, checks its VAPID Authorization (RFC 8292: vapid t=JWT, k=key; the
// JWT verified against k, aud the service's origin, exp at most 24 h away, k the
// key the subscription was made with) and decrypts the body (aes128gcm, RFC 8188
// and RFC 8291) with the subscription's private key and auth secret, written here
// with node:crypto, independently of the web-push library nixa sends with.
// subscribe() plays the browser's pushManager.subscribe().
import { createECDH, createDecipheriv, hkdfSync, randomBytes, type ECDH } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { importJWK, jwtVerify, type JWTPayload } from 'jose';

/** How the push service answers the next messages to a subscription: a status, or never (until closed). */
export type PushAnswer = 201 | 307 | 404 | 410 | 429 | 500 | 'slow';

/** What PushSubscription.toJSON() gives a page. */
export interface PushSubscriptionJson {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface TestSubscription {
  json: PushSubscriptionJson;
  /** The endpoint's path: the capability a log must never show. */
  path: string;
  answer(a: PushAnswer): void;
}

export interface ReceivedPush {
  path: string;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  /** The VAPID public key (k) and the verified JWT's claims. */
  vapid: { key: string; claims: JWTPayload };
  /** The decrypted message. */
  payload: string;
}

export interface PushServiceHandle {
  /** The push service's origin (the VAPID audience). */
  origin: string;
  /** Makes a subscription bound to `applicationServerKey`, as a browser does. */
  subscribe(applicationServerKey: string): TestSubscription;
  /** Messages that passed every check, in order of arrival. */
  received: ReceivedPush[];
  /** Requests refused by a check (status and why). */
  refused: { path: string; status: number; reason: string }[];
  close(): Promise<void>;
}

interface Subscription {
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  applicationServerKey: string;
  answer: PushAnswer;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

const DAY = 86_400;

export async function startPushService(): Promise<PushServiceHandle> {
  const subscriptions = new Map<string, Subscription>();
  const received: ReceivedPush[] = [];
  const refused: PushServiceHandle['refused'] = [];
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', origin).pathname;
    const body = await readBody(req);
    const sub = subscriptions.get(path);
    try {
      if (req.method !== 'POST') throw new Refusal(405, `method ${req.method}`);
      if (!sub) throw new Refusal(404, 'no such subscription');
      const vapid = await checkVapid(req.headers.authorization, origin, sub.applicationServerKey);
      const ttl = Number(req.headers.ttl);
      if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) throw new Refusal(400, 'TTL header missing or malformed');
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Refusal(415, `content-encoding ${req.headers['content-encoding']}`);
      const payload = decrypt(body, sub).toString('utf8');
      received.push({
        path,
        ttl,
        urgency: header(req, 'urgency'),
        topic: header(req, 'topic'),
        vapid,
        payload,
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refused.push({ path, status: err.status, reason: err.message });
      res.writeHead(err.status).end();
      return;
    }
    if (sub.answer === 'slow') return; // never answers; close() ends the connection
    if (sub.answer === 201) res.writeHead(201, { Location: `${origin}/message/${randomBytes(8).toString('hex')}` }).end();
    // Elsewhere on this service: a sender that follows it shows up in `refused` (no such subscription).
    else if (sub.answer === 307) res.writeHead(307, { Location: `${origin}/elsewhere` }).end();
    else res.writeHead(sub.answer).end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      refused.push({ path: req.url ?? '', status: 500, reason: String(err) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    refused,
    subscribe(applicationServerKey) {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/wpush/v2/${randomBytes(24).toString('base64url')}`;
      const sub: Subscription = { ecdh, publicKey, auth, applicationServerKey, answer: 201 };
      subscriptions.set(path, sub);
      return {
        path,
        json: {
          endpoint: `${origin}${path}`,
          expirationTime: null,
          keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') },
        },
        answer: (a) => void (sub.answer = a),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** RFC 8292 §3 and §4.2: 401 for a missing or bad token, 403 for a key the subscription was not made with. */
async function checkVapid(authorization: string | undefined, audience: string, applicationServerKey: string): Promise<ReceivedPush['vapid']> {
  const m = /^vapid\s+(.*)$/i.exec(authorization ?? '');
  if (!m) throw new Refusal(401, 'no vapid Authorization');
  const params = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const [k, ...v] = part.trim().split('=');
    if (k) params.set(k.trim(), v.join('=').trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) throw new Refusal(401, 'vapid without t or k');
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Refusal(401, 'k is not an uncompressed P-256 key');
  const key = await importJWK(
    { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    'ES256',
  );
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(t, key, { algorithms: ['ES256'], audience, requiredClaims: ['exp'] }));
  } catch (err) {
    throw new Refusal(401, `vapid token: ${(err as Error).message}`);
  }
  if (claims.exp! > Math.floor(Date.now() / 1000) + DAY) throw new Refusal(401, 'vapid token expires more than 24 h ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Refusal(401, 'vapid sub is not mailto: or https:');
  if (k !== applicationServerKey) throw new Refusal(403, 'vapid key is not the one the subscription was made with');
  return { key: k, claims };
}

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer, length: number) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));

/** RFC 8291 §3.4 key derivation, then RFC 8188 records: salt(16) rs(4) idlen(1) keyid, then rs-sized records. */
function decrypt(body: Buffer, sub: Subscription): Buffer {
  if (body.length < 21) throw new Refusal(400, 'body shorter than an aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  if (idlen !== 65 || rs < 18) throw new Refusal(400, 'aes128gcm header: keyid must be the 65-byte sender key, rs at least 18');
  let ecdhSecret: Buffer;
  try {
    ecdhSecret = sub.ecdh.computeSecret(asPublic);
  } catch {
    throw new Refusal(400, 'the sender key is not a P-256 point');
  }
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, asPublic]);
  const ikm = hkdf(ecdhSecret, sub.auth, keyInfo, 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);

  const records = body.subarray(21 + idlen);
  const out: Buffer[] = [];
  for (let seq = 0, at = 0; at < records.length; seq++, at += rs) {
    const record = records.subarray(at, at + rs);
    const iv = Buffer.from(nonce);
    // The nonce XOR the record's sequence number, a 96-bit big-endian integer (here below 2^32).
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, iv);
    decipher.setAuthTag(record.subarray(record.length - 16));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    } catch {
      throw new Refusal(400, `record ${seq} does not decrypt with the subscription's keys`);
    }
    // Data, then a delimiter (2 on the last record, 1 before), then zero padding.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = at + rs >= records.length;
    if (plain[end] !== (last ? 2 : 1)) throw new Refusal(400, `record ${seq}: bad padding delimiter`);
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}
