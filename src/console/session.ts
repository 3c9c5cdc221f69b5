// The console keeps no state in process memory (several instances share one
// database): the operator's session — the access token for the admin API, its
// expiry, who they are — lives in a cookie encrypted with nixa's cipher (AES-GCM,
// AAD 'console-session'), and so does a sign-in in progress. The browser can
// neither read nor alter them; another instance decrypts them with the same key.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Context } from 'koa';

import type { Cipher } from '../keys/index.js';
import { CONSOLE_PATH } from './registration.js';

export const SESSION_COOKIE = 'nixa_console';
export const SIGN_IN_COOKIE = 'nixa_console_tx';
const SIGN_IN_SECONDS = 10 * 60;

export interface ConsoleSession {
  /** Random: what the forms' CSRF tokens are bound to. */
  sid: string;
  /** The JWT access token for the admin API. */
  accessToken: string;
  /** When it expires (seconds since the epoch): then the operator signs in again. */
  exp: number;
  accountId: string;
  name: string;
}

/** A sign-in in progress: what the callback checks nixa's answer against. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** The console page to return to. */
  returnTo: string;
  exp: number;
}

const now = () => Math.floor(Date.now() / 1000);

export class SessionCookies {
  readonly #csrfKey: Buffer;

  constructor(
    private readonly cipher: Cipher,
    /** Secure cookies when the issuer is https. */
    private readonly secure: boolean,
  ) {
    this.#csrfKey = cipher.derive('console-csrf');
  }

  read(ctx: Context): ConsoleSession | undefined {
    const s = this.#open<ConsoleSession>(ctx, SESSION_COOKIE, 'console-session');
    return s && typeof s.accessToken === 'string' && typeof s.sid === 'string' ? s : undefined;
  }

  write(ctx: Context, s: Omit<ConsoleSession, 'sid'>): void {
    this.#seal(ctx, SESSION_COOKIE, 'console-session', { ...s, sid: randomBytes(16).toString('base64url') }, s.exp - now(), CONSOLE_PATH);
  }

  clear(ctx: Context): void {
    this.#set(ctx, SESSION_COOKIE, '', 0, CONSOLE_PATH);
  }

  readSignIn(ctx: Context): PendingSignIn | undefined {
    return this.#open<PendingSignIn>(ctx, SIGN_IN_COOKIE, 'console-sign-in');
  }

  writeSignIn(ctx: Context, p: Omit<PendingSignIn, 'exp'>): void {
    this.#seal(ctx, SIGN_IN_COOKIE, 'console-sign-in', { ...p, exp: now() + SIGN_IN_SECONDS }, SIGN_IN_SECONDS, `${CONSOLE_PATH}/callback`);
  }

  clearSignIn(ctx: Context): void {
    this.#set(ctx, SIGN_IN_COOKIE, '', 0, `${CONSOLE_PATH}/callback`);
  }

  /** The CSRF token of the console's forms: bound to this session, useless in another. */
  csrfToken(s: ConsoleSession): string {
    return createHmac('sha256', this.#csrfKey).update(`console-csrf:${s.sid}`).digest('base64url');
  }

  csrfOk(s: ConsoleSession, presented: unknown): boolean {
    if (typeof presented !== 'string') return false;
    const want = Buffer.from(this.csrfToken(s));
    const got = Buffer.from(presented);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  #open<T extends { exp: number }>(ctx: Context, name: string, aad: string): T | undefined {
    const raw = ctx.cookies.get(name);
    if (!raw || raw.length > 8192) return undefined;
    try {
      const value = JSON.parse(this.cipher.decrypt(Buffer.from(raw, 'base64url'), aad)) as T;
      return typeof value?.exp === 'number' && value.exp > now() ? value : undefined;
    } catch {
      return undefined; // altered, from another master key, or malformed: no session
    }
  }

  #seal(ctx: Context, name: string, aad: string, value: object, maxAgeSeconds: number, path: string): void {
    this.#set(ctx, name, this.cipher.encrypt(JSON.stringify(value), aad).toString('base64url'), Math.max(0, maxAgeSeconds), path);
  }

  // Written by hand: Koa refuses a Secure cookie when it cannot tell the request
  // came over TLS (a proxy without NIXA_TRUST_PROXY); the issuer says what browsers see.
  #set(ctx: Context, name: string, value: string, maxAgeSeconds: number, path: string): void {
    const attrs = [`${name}=${value}`, `Path=${path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
    if (!value) attrs.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
    if (this.secure) attrs.push('Secure');
    ctx.append('Set-Cookie', attrs.join('; '));
  }
}
