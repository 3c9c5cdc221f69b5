// Second factors for step-up: authenticator apps (TOTP), recovery codes, and the
// brute-force protection every code check goes through. Services only: the
// sign-in journey asks for codes and shows enrolment pages; this folder decides.
//
//   enrol an app      startTotpEnrolment → (citizen scans the QR) → confirmTotpEnrolment
//   recovery codes    issueRecoveryCodes (shown once)
//   step-up with code checkAllowed (to show a wait) → verifyCode (counts, locks, audits)
//   other factors     withAttempt(ctx, attempt, verify) puts any check under the same lockout
import type { Level } from '../assurance/index.js';
import type { FactorsContext } from './context.js';
import { withAttempt, type Attempt, type AttemptResult } from './lockout.js';
import { normalizeRecoveryCode, useRecoveryCodeIn } from './recovery-codes.js';
import * as repo from './repository.js';
import { checkTotpIn, type TotpFailure } from './totp.js';

export { citizen, type FactorsContext } from './context.js';
export {
  addressTag,
  clientAddress,
  LOCKOUT_POLICY,
  lockSeconds,
  waitInWords,
  type AttemptScope,
  type LockoutPolicy,
  type ScopePolicy,
} from './attempts.js';
export {
  checkAllowed,
  purgeFactorState,
  recordFailure,
  recordSuccess,
  unlockAccount,
  withAttempt,
  type Allowed,
  type Attempt,
  type AttemptResult,
  type FailureWait,
  type VerifyOutcome,
} from './lockout.js';
export {
  confirmTotpEnrolment,
  groupSecret,
  removeTotp,
  startTotpEnrolment,
  TOTP_SETTINGS,
  verifyTotp,
  type TotpCheck,
  type TotpConfirmation,
  type TotpEnrolment,
  type TotpFailure,
} from './totp.js';
export {
  challengeBinding,
  checkPasskeyName,
  finishPasskeyRegistration,
  listPasskeys,
  PASSKEY_SETTINGS,
  removePasskey,
  renamePasskey,
  startPasskeyAuthentication,
  startPasskeyRegistration,
  verifyPasskeyAssertion,
  type PasskeyFailure,
  type PasskeyRegistration,
  type PasskeyRegistrationFailure,
  type PasskeySettings,
  type PasskeySummary,
  type PasskeyUse,
  type UserVerification,
} from './passkeys.js';
export { issueRecoveryCodes, RECOVERY_CODE_COUNT, remainingRecoveryCodes, useRecoveryCode } from './recovery-codes.js';

export type CodeMethod = 'totp' | 'recovery-code';
export type CodeFailure = TotpFailure;

/**
 * A code typed at step-up, checked under the lockout: refused with the wait when
 * the account or address must wait; otherwise checked, spent if right, counted if
 * wrong, with every audit event in the same transaction.
 */
export function verifyCode(
  ctx: FactorsContext,
  a: Attempt & { method: CodeMethod; code: string },
): Promise<AttemptResult<CodeFailure>> {
  const now = a.now ?? new Date();
  return withAttempt<CodeFailure>(ctx, { ...a, now }, async (tx) => {
    if (a.method === 'totp') {
      const r = await checkTotpIn(tx, ctx.cipher, a.accountId, a.code, now);
      return r.ok ? { ok: true } : { ok: false, reason: r.reason };
    }
    if (!normalizeRecoveryCode(a.code)) return { ok: false, reason: 'malformed' };
    return (await useRecoveryCodeIn(tx, a.accountId, a.code, now)) ? { ok: true } : { ok: false, reason: 'wrong-code' };
  });
}

export interface FactorSummary {
  totp: { factorId: string; label: string; enrolledAt: Date; lastUsedAt: Date | null } | null;
  recoveryCodesLeft: number;
}

/** What the account holds, for the step-up chooser and the citizen's factor page (no secrets). */
export async function listFactors(ctx: FactorsContext, accountId: string): Promise<FactorSummary> {
  const [totp, left] = await Promise.all([repo.selectConfirmedTotp(ctx.db, accountId), repo.countUnusedRecoveryCodes(ctx.db, accountId)]);
  return {
    totp: totp ? { factorId: totp.id, label: totp.label, enrolledAt: totp.confirmedAt!, lastUsedAt: totp.lastUsedAt } : null,
    recoveryCodesLeft: left,
  };
}

/**
 * The level of the session that enrolled the account's confirmed app (the policy's
 * FactorUse.enrolledAt: the app never vouches above it); undefined without an app.
 */
export async function totpEnrolledLevel(ctx: FactorsContext, accountId: string): Promise<Level | undefined> {
  return (await repo.selectConfirmedTotp(ctx.db, accountId))?.enrolledLevel;
}
