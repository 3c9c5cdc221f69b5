// Authenticator apps (TOTP, RFC 6238) with otplib. Enrolment shows a QR code drawn
// by nixa and becomes real only after a first correct code; a code is accepted
// within ±1 time step and never twice (nor any code of an earlier step); the
// secret is kept only encrypted, bound to its account and factor id.
import { randomUUID } from 'node:crypto';

import { generateSecret, generateURI, verify } from 'otplib';

import type { Level } from '../assurance/index.js';
import { appendAudit } from '../audit/index.js';
import { InvalidInputError, NotFoundError, StateError } from '../errors/index.js';
import type { Cipher } from '../keys/index.js';
import type { Queryable } from '../storage/index.js';
import { citizen, type FactorsContext } from './context.js';
import { qrSvg, svgDataUri } from './qr.js';
import * as repo from './repository.js';

/** What authenticator apps expect (Google Authenticator's defaults), and nixa's own limits. */
export const TOTP_SETTINGS = {
  issuer: 'nixa',
  algorithm: 'sha1',
  digits: 6,
  periodSeconds: 30,
  /** Codes of this many steps before or after now are accepted (clock drift, typing time). */
  windowSteps: 1,
  /** A pending enrolment must be confirmed within this time. */
  enrolmentSeconds: 10 * 60,
} as const;

const sealedFor = (accountId: string, factorId: string) => `totp:${accountId}:${factorId}`;

/**
 * The account name shown in the app next to "nixa". It is personal data on the
 * citizen's phone, so it must not carry a full ID number: refused are runs of 9 or
 * more digits (the old 9-digit CMND, the 12-digit CCCD), ':' (the URI's issuer
 * separator) and control characters.
 */
export function checkTotpLabel(label: string): string {
  const shown = label.normalize('NFC').trim();
  if (!shown) throw new InvalidInputError('label', 'must not be empty');
  if (Array.from(shown).length > 64) throw new InvalidInputError('label', 'must be at most 64 characters');
  if (/[\p{Cc}:]/u.test(shown)) throw new InvalidInputError('label', 'must not contain ":" or control characters');
  if (/\d{9,}/.test(shown.replace(/[\s.-]/g, ''))) {
    throw new InvalidInputError('label', 'must not contain an ID number (use a masked one, e.g. *********217, or the name)');
  }
  return shown;
}

/** A code as typed: spaces (apps show "123 456") and a stray hyphen are ignored; 6 digits. */
export function normalizeTotpCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(code) ? code : undefined;
}

/** The base32 secret in groups of four, for typing into an app by hand. */
export const groupSecret = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

export const timeStepAt = (now: Date) => Math.floor(now.getTime() / 1000 / TOTP_SETTINGS.periodSeconds);

/** The time step a code belongs to, within the window and after `afterTimeStep`; undefined if none. */
async function matchCode(secret: string, code: string, now: Date, afterTimeStep?: number): Promise<{ timeStep: number; drift: number } | undefined> {
  // otplib throws when afterTimeStep is beyond the window; then no code can be newer anyway.
  if (afterTimeStep !== undefined && afterTimeStep >= timeStepAt(now) + TOTP_SETTINGS.windowSteps) return undefined;
  const result = await verify({
    secret,
    token: code,
    algorithm: TOTP_SETTINGS.algorithm,
    digits: TOTP_SETTINGS.digits,
    period: TOTP_SETTINGS.periodSeconds,
    epoch: Math.floor(now.getTime() / 1000),
    // In seconds: one period each way is exactly the previous and next step.
    epochTolerance: TOTP_SETTINGS.periodSeconds * TOTP_SETTINGS.windowSteps,
    ...(afterTimeStep !== undefined ? { afterTimeStep } : {}),
  });
  // delta is the matching step's offset from now's (the functional API's type does not promise timeStep).
  return result.valid ? { timeStep: timeStepAt(now) + result.delta, drift: result.delta } : undefined;
}

export interface TotpEnrolment {
  factorId: string;
  /** Base32. Shown once for typing by hand (groupSecret); never logged, never stored in clear. */
  secret: string;
  otpauthUri: string;
  /** The QR code of otpauthUri as SVG markup, and as a data: URI for <img> under the pages' CSP. */
  qrSvg: string;
  qrDataUri: string;
  /** The first code must come before this. */
  expiresAt: Date;
}

/**
 * Starts adding an authenticator app: a fresh secret, stored encrypted as a
 * pending enrolment (replacing any earlier pending one). Nothing is granted until
 * confirmTotpEnrolment, which is where the audit trail records the new factor.
 */
export async function startTotpEnrolment(
  ctx: FactorsContext,
  accountId: string,
  label: string,
  now = new Date(),
  /** The level of the session enrolling the app; the app never vouches above it. */
  enrolledLevel: Level = 'low',
): Promise<TotpEnrolment> {
  const shown = checkTotpLabel(label);
  const secret = generateSecret({ length: 20 }); // 160 bits, as RFC 4226 recommends
  const factorId = randomUUID();
  const expiresAt = new Date(now.getTime() + TOTP_SETTINGS.enrolmentSeconds * 1000);
  await ctx.db.transaction(async (tx) => {
    if (!(await repo.accountExists(tx, accountId))) throw new NotFoundError('account', accountId);
    if (await repo.selectConfirmedTotp(tx, accountId)) {
      throw new StateError('the account already has an authenticator app; remove it before adding another');
    }
    await repo.upsertPendingTotp(tx, {
      id: factorId,
      accountId,
      label: shown,
      secretEnc: ctx.cipher.encrypt(secret, sealedFor(accountId, factorId)),
      createdAt: now,
      pendingExpiresAt: expiresAt,
      enrolledLevel,
    });
  });
  const otpauthUri = generateURI({
    issuer: TOTP_SETTINGS.issuer,
    label: shown,
    secret,
    algorithm: TOTP_SETTINGS.algorithm,
    digits: TOTP_SETTINGS.digits,
    period: TOTP_SETTINGS.periodSeconds,
  });
  const svg = await qrSvg(otpauthUri);
  return { factorId, secret, otpauthUri, qrSvg: svg, qrDataUri: svgDataUri(svg), expiresAt };
}

export type TotpConfirmation = { ok: true; factorId: string } | { ok: false; reason: 'malformed' | 'not-found' | 'expired' | 'wrong-code' };

/** Makes a pending app the account's factor once it produced a correct code; that code is then spent. */
export async function confirmTotpEnrolment(
  ctx: FactorsContext,
  accountId: string,
  factorId: string,
  code: string,
  now = new Date(),
): Promise<TotpConfirmation> {
  const typed = normalizeTotpCode(code);
  if (!typed) return { ok: false, reason: 'malformed' };
  const row = await repo.selectPendingTotp(ctx.db, accountId, factorId);
  if (!row) return { ok: false, reason: 'not-found' };
  if (row.pendingExpiresAt! <= now) return { ok: false, reason: 'expired' };
  const match = await matchCode(ctx.cipher.decrypt(row.secretEnc, sealedFor(accountId, row.id)), typed, now);
  if (!match) return { ok: false, reason: 'wrong-code' };
  return ctx.db.transaction(async (tx): Promise<TotpConfirmation> => {
    // Replaced by a newer enrolment, or confirmed by a parallel request, in the meantime.
    if (!(await repo.confirmTotp(tx, row.id, match.timeStep, now))) return { ok: false, reason: 'not-found' };
    await appendAudit(tx, { event: 'FACTOR_ENROLLED', actor: citizen(accountId), subject: accountId, details: { method: 'totp', factorId: row.id } });
    return { ok: true, factorId: row.id };
  });
}

export type TotpFailure = 'malformed' | 'not-enrolled' | 'wrong-code' | 'reused';
export type TotpCheck = { ok: true; factorId: string; timeStep: number } | { ok: false; reason: TotpFailure };

/**
 * Checks a code and spends its time step, with its FACTOR_USED event, inside the
 * caller's transaction. Counting failures is the caller's job (see withAttempt).
 */
export async function checkTotpIn(tx: Queryable, cipher: Cipher, accountId: string, code: string, now: Date): Promise<TotpCheck> {
  const typed = normalizeTotpCode(code);
  if (!typed) return { ok: false, reason: 'malformed' };
  const row = await repo.selectConfirmedTotp(tx, accountId);
  if (!row) return { ok: false, reason: 'not-enrolled' };
  const secret = cipher.decrypt(row.secretEnc, sealedFor(accountId, row.id));
  const match = await matchCode(secret, typed, now, row.lastTimeStep ?? undefined);
  if (!match) {
    // A replayed code is worth telling apart from a mistyped one, for the audit trail.
    const replayed = row.lastTimeStep !== null && (await matchCode(secret, typed, now)) !== undefined;
    return { ok: false, reason: replayed ? 'reused' : 'wrong-code' };
  }
  // Lost to a parallel request with the same (or a later) code.
  if (!(await repo.advanceTotpStep(tx, row.id, match.timeStep, now))) return { ok: false, reason: 'reused' };
  await appendAudit(tx, {
    event: 'FACTOR_USED',
    actor: citizen(accountId),
    subject: accountId,
    details: { method: 'totp', factorId: row.id, drift: match.drift },
  });
  return { ok: true, factorId: row.id, timeStep: match.timeStep };
}

/** checkTotpIn in its own transaction, without counting failures. */
export function verifyTotp(ctx: FactorsContext, accountId: string, code: string, now = new Date()): Promise<TotpCheck> {
  return ctx.db.transaction((tx) => checkTotpIn(tx, ctx.cipher, accountId, code, now));
}

/**
 * Removes the account's authenticator app (and any enrolment in progress) with
 * its recovery codes, which only stand in for it; false if it had none.
 */
export async function removeTotp(ctx: FactorsContext, accountId: string, actor = citizen(accountId), reason?: string): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const factorId = await repo.deleteTotp(tx, accountId);
    if (!factorId) return false;
    const recoveryCodesDeleted = await repo.deleteRecoveryCodes(tx, accountId);
    await appendAudit(tx, {
      event: 'FACTOR_REMOVED',
      actor,
      subject: accountId,
      details: { method: 'totp', factorId, recoveryCodesDeleted, ...(reason ? { reason } : {}) },
    });
    return true;
  });
}
