// Passkeys (WebAuthn) with @simplewebauthn/server: registering one from the
// citizen's account page, and answering a step-up with one. The library checks
// signatures, origins, RP ID, flags and counters; nixa keeps what it does not:
// each challenge is issued to one browser (a hash of the sign-in or session it
// belongs to), answered at most once, and expires; a counter that does not rise
// is refused and recorded as a possible clone.
import { createHash, randomUUID } from 'node:crypto';

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';

import type { Level } from '../assurance/index.js';
import { appendAudit } from '../audit/index.js';
import { NotFoundError, StateError } from '../errors/index.js';
import type { Queryable } from '../storage/index.js';
import { citizen, type FactorsContext } from './context.js';
import { withAttempt, type AttemptResult } from './lockout.js';
import * as repo from './passkey-repository.js';

export type { UserVerification } from './passkey-repository.js';

/** Where passkeys are valid: nixa's RP ID and the origins its pages are served from (from configuration). */
export interface PasskeySettings {
  rpId: string;
  rpName: string;
  origins: readonly string[];
}

export const PASSKEY_SETTINGS = {
  /** How long a citizen has to answer the browser's passkey prompt. */
  challengeSeconds: 300,
  /** An account may hold this many; more is a sign of something wrong, not of care. */
  maxPerAccount: 10,
  maxNameLength: 64,
} as const;

/** Hash of what a challenge is bound to: never store a session id as is. */
export const challengeBinding = (kind: 'session' | 'interaction' | 'cross-device', id: string) =>
  createHash('sha256').update(`webauthn:${kind}:${id}`).digest('base64url');

function settingsOf(ctx: FactorsContext): PasskeySettings {
  if (!ctx.passkeys) throw new StateError('passkeys are not configured (NIXA_PASSKEY_RP_ID)');
  return ctx.passkeys;
}

export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  enrolledLevel: Level;
  /** A synced passkey (in a password manager or a platform account) rather than one bound to a single device. */
  synced: boolean;
}

export async function listPasskeys(ctx: FactorsContext, accountId: string): Promise<PasskeySummary[]> {
  return (await repo.selectPasskeys(ctx.db, accountId)).map((p) => ({
    id: p.id,
    name: p.name,
    createdAt: p.createdAt,
    lastUsedAt: p.lastUsedAt,
    enrolledLevel: p.enrolledLevel,
    synced: p.deviceType === 'multiDevice',
  }));
}

/** A citizen's name for a passkey: trimmed, printable, 1–64 characters; undefined otherwise. */
export function checkPasskeyName(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const name = input.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (!name || [...name].length > PASSKEY_SETTINGS.maxNameLength || /\p{C}/u.test(name)) return undefined;
  return name;
}

// ── Registration ─────────────────────────────────────────────────────────────

export interface RegistrationStart {
  accountId: string;
  /** challengeBinding('session', …) of the citizen's session. */
  binding: string;
  /** Shown by the authenticator to tell accounts apart: the citizen's name, never an ID number. */
  userName: string;
  /**
   * 'required' for a passkey that must verify its owner every time (a bound
   * phone): the authenticator is asked to, and an answer without it is refused.
   */
  userVerification?: repo.UserVerification;
  now?: Date;
}

export async function startPasskeyRegistration(ctx: FactorsContext, r: RegistrationStart): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const s = settingsOf(ctx);
  const now = r.now ?? new Date();
  const existing = await repo.selectPasskeys(ctx.db, r.accountId);
  if (existing.length >= PASSKEY_SETTINGS.maxPerAccount) {
    throw new StateError(`an account holds at most ${PASSKEY_SETTINGS.maxPerAccount} passkeys; remove one first`);
  }
  const options = await generateRegistrationOptions({
    rpName: s.rpName,
    rpID: s.rpId,
    userName: r.userName,
    userDisplayName: r.userName,
    // The account id is a random UUID: an opaque user handle, as WebAuthn asks.
    userID: new TextEncoder().encode(r.accountId),
    timeout: PASSKEY_SETTINGS.challengeSeconds * 1000,
    attestationType: 'none',
    // The same authenticator twice would add nothing but confusion.
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    // Verification is asked for but not demanded here: a security key without a
    // PIN is still a useful passkey (the policy's "passkey" row); step-up demands
    // verification when the level asked needs it.
    authenticatorSelection: { residentKey: 'preferred', userVerification: r.userVerification ?? 'preferred' },
  });
  await repo.putChallenge(ctx.db, {
    binding: r.binding,
    ceremony: 'registration',
    accountId: r.accountId,
    challenge: options.challenge,
    userVerification: r.userVerification ?? 'preferred',
    expiresAt: new Date(now.getTime() + PASSKEY_SETTINGS.challengeSeconds * 1000),
  });
  return options;
}

export type PasskeyRegistrationFailure = 'malformed' | 'no-challenge' | 'expired' | 'invalid' | 'not-verified' | 'already-registered' | 'bad-name' | 'too-many';
export type PasskeyRegistration = { ok: true; passkeyId: string } | { ok: false; reason: PasskeyRegistrationFailure };

export interface RegistrationFinish {
  accountId: string;
  binding: string;
  name: unknown;
  /** The browser's answer, as posted (JSON text or already parsed). */
  response: unknown;
  /** The level of the session registering it: the passkey never vouches above it. */
  level: Level;
  /** Written in the same transaction as the passkey (a bound phone's record), after it. */
  within?: (tx: Queryable, passkeyId: string) => Promise<void>;
  now?: Date;
}

/**
 * Checks the browser's answer to the registration challenge and stores the
 * passkey. The challenge is spent whatever the outcome: a second answer to it is
 * refused. Nothing else is written unless the answer verifies.
 */
export async function finishPasskeyRegistration(ctx: FactorsContext, f: RegistrationFinish): Promise<PasskeyRegistration> {
  const s = settingsOf(ctx);
  const now = f.now ?? new Date();
  const name = checkPasskeyName(f.name);
  if (!name) return { ok: false, reason: 'bad-name' };
  const response = parseResponse(registrationResponse, f.response);
  if (!response) return { ok: false, reason: 'malformed' };
  const challenge = await repo.takeChallenge(ctx.db, f.binding, 'registration');
  if (!challenge || challenge.accountId !== f.accountId) return { ok: false, reason: 'no-challenge' };
  if (challenge.expiresAt <= now) return { ok: false, reason: 'expired' };

  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge.challenge,
      expectedOrigin: [...s.origins],
      expectedRPID: s.rpId,
      requireUserVerification: challenge.userVerification === 'required',
    });
  } catch (err) {
    return { ok: false, reason: /user verification/i.test((err as Error).message) ? 'not-verified' : 'invalid' };
  }
  if (!verified.verified) return { ok: false, reason: 'invalid' };
  const info = verified.registrationInfo;
  const passkeyId = randomUUID();
  return ctx.db.transaction(async (tx): Promise<PasskeyRegistration> => {
    if ((await repo.selectPasskeys(tx, f.accountId)).length >= PASSKEY_SETTINGS.maxPerAccount) return { ok: false, reason: 'too-many' };
    if (await repo.credentialIdTaken(tx, info.credential.id)) return { ok: false, reason: 'already-registered' };
    await repo.insertPasskey(tx, {
      id: passkeyId,
      accountId: f.accountId,
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      signCount: info.credential.counter,
      transports: info.credential.transports ?? [],
      name,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      enrolledLevel: f.level,
      createdAt: now,
    });
    await appendAudit(tx, {
      event: 'FACTOR_ENROLLED',
      actor: citizen(f.accountId),
      subject: f.accountId,
      details: { method: 'passkey', passkeyId, level: f.level, userVerified: info.userVerified, synced: info.credentialDeviceType === 'multiDevice' },
    });
    await f.within?.(tx, passkeyId);
    return { ok: true, passkeyId };
  });
}

// ── Authentication (step-up) ────────────────────────────────────────────────

export interface AuthenticationStart {
  accountId: string;
  /** challengeBinding('interaction', uid) of the sign-in being raised. */
  binding: string;
  /** The passkeys that may answer (those able to reach the level asked). */
  passkeyIds: readonly string[];
  userVerification: repo.UserVerification;
  now?: Date;
}

export async function startPasskeyAuthentication(ctx: FactorsContext, a: AuthenticationStart): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const s = settingsOf(ctx);
  const now = a.now ?? new Date();
  const allowed = (await repo.selectPasskeys(ctx.db, a.accountId)).filter((p) => a.passkeyIds.includes(p.id));
  if (!allowed.length) throw new NotFoundError('passkey', 'for this sign-in');
  const options = await generateAuthenticationOptions({
    rpID: s.rpId,
    allowCredentials: allowed.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
    userVerification: a.userVerification,
    timeout: PASSKEY_SETTINGS.challengeSeconds * 1000,
  });
  await repo.putChallenge(ctx.db, {
    binding: a.binding,
    ceremony: 'authentication',
    accountId: a.accountId,
    challenge: options.challenge,
    userVerification: a.userVerification,
    expiresAt: new Date(now.getTime() + PASSKEY_SETTINGS.challengeSeconds * 1000),
  });
  return options;
}

export type PasskeyFailure = 'malformed' | 'no-challenge' | 'expired' | 'unknown-passkey' | 'not-allowed' | 'invalid' | 'not-verified' | 'counter';

export interface PasskeyUse {
  passkeyId: string;
  /** The authenticator verified the person (PIN or biometric): the policy's passkey_uv row. */
  userVerified: boolean;
  enrolledLevel: Level;
}

export interface AssertionCheck {
  accountId: string;
  binding: string;
  ip: string;
  response: unknown;
  /** The passkeys the sign-in offered: an answer from another one of the account's passkeys is refused. */
  passkeyIds: readonly string[];
  now?: Date;
}

/**
 * Checks a step-up answer under the lockout (a failure counts like a wrong code);
 * spends the challenge whatever the outcome, moves the counter forwards, and
 * records the use, all in one transaction.
 */
export async function verifyPasskeyAssertion(ctx: FactorsContext, a: AssertionCheck): Promise<AttemptResult<PasskeyFailure> & { use?: PasskeyUse }> {
  const s = settingsOf(ctx);
  const now = a.now ?? new Date();
  let use: PasskeyUse | undefined;
  const r = await withAttempt<PasskeyFailure>(ctx, { accountId: a.accountId, ip: a.ip, method: 'passkey', now }, async (tx) => {
    const response = parseResponse(authenticationResponse, a.response);
    // Taken before anything else can fail: one answer per challenge, right or wrong.
    const challenge = await repo.takeChallenge(tx, a.binding, 'authentication');
    if (!response) return { ok: false, reason: 'malformed' };
    if (!challenge || challenge.accountId !== a.accountId) return { ok: false, reason: 'no-challenge' };
    if (challenge.expiresAt <= now) return { ok: false, reason: 'expired' };
    const passkey = await repo.selectPasskeyByCredential(tx, a.accountId, response.id);
    if (!passkey) return { ok: false, reason: 'unknown-passkey' };
    if (!a.passkeyIds.includes(passkey.id)) return { ok: false, reason: 'not-allowed' };

    let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>['authenticationInfo'];
    try {
      const v = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge.challenge,
        expectedOrigin: [...s.origins],
        expectedRPID: s.rpId,
        credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: passkey.signCount, transports: passkey.transports as never },
        requireUserVerification: challenge.userVerification === 'required',
      });
      if (!v.verified) return { ok: false, reason: 'invalid' };
      info = v.authenticationInfo;
    } catch (err) {
      const message = (err as Error).message;
      if (/counter value/i.test(message)) return counterFailure(tx, a.accountId, passkey);
      if (/user verification/i.test(message)) return { ok: false, reason: 'not-verified' };
      return { ok: false, reason: 'invalid' };
    }
    if (!(await repo.recordPasskeyUse(tx, passkey.id, info.newCounter, info.credentialBackedUp, now))) return counterFailure(tx, a.accountId, passkey);
    await appendAudit(tx, {
      event: 'FACTOR_USED',
      actor: citizen(a.accountId),
      subject: a.accountId,
      details: { method: 'passkey', passkeyId: passkey.id, userVerified: info.userVerified },
    });
    use = { passkeyId: passkey.id, userVerified: info.userVerified, enrolledLevel: passkey.enrolledLevel };
    return { ok: true };
  });
  return r.ok ? { ...r, use } : r;
}

/**
 * A counter that did not rise means two authenticators hold the same key (a
 * clone) or an old answer was replayed: refused, and recorded as a security event
 * beside the failure the lockout records.
 */
async function counterFailure(tx: Queryable, accountId: string, passkey: repo.PasskeyRow): Promise<{ ok: false; reason: 'counter' }> {
  await appendAudit(tx, {
    event: 'PASSKEY_COUNTER_REGRESSION',
    actor: citizen(accountId),
    subject: accountId,
    details: { passkeyId: passkey.id, storedCounter: passkey.signCount },
  });
  return { ok: false, reason: 'counter' };
}

// ── Managing them ───────────────────────────────────────────────────────────

export async function renamePasskey(ctx: FactorsContext, accountId: string, passkeyId: string, input: unknown): Promise<'renamed' | 'bad-name' | 'not-found'> {
  const name = checkPasskeyName(input);
  if (!name) return 'bad-name';
  return (await ctx.db.transaction((tx) => repo.renamePasskey(tx, accountId, passkeyId, name))) ? 'renamed' : 'not-found';
}

/** Removes one of the account's passkeys; false if it has no such passkey. */
export function removePasskey(ctx: FactorsContext, accountId: string, passkeyId: string, actor = citizen(accountId)): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    if ((await repo.deletePasskey(tx, accountId, passkeyId)) === undefined) return false;
    await appendAudit(tx, { event: 'FACTOR_REMOVED', actor, subject: accountId, details: { method: 'passkey', passkeyId } });
    return true;
  });
}


// ── What a browser may post ─────────────────────────────────────────────────

// Shapes checked before the library sees them, so that hostile input is refused
// as "malformed" rather than reaching code that expects the browser's types.
const b64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/);
const registrationResponse = z.object({
  id: b64url(1364),
  rawId: b64url(1364),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(4096),
    attestationObject: b64url(16_384),
    transports: z.array(z.string().max(32)).max(8).optional(),
  }).loose(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().max(32).optional(),
});
const authenticationResponse = z.object({
  id: b64url(1364),
  rawId: b64url(1364),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url(4096),
    authenticatorData: b64url(4096),
    signature: b64url(2048),
    userHandle: b64url(1024).optional(),
  }).loose(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().max(32).optional(),
});

function parseResponse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> | undefined {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      return undefined;
    }
  }
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}
