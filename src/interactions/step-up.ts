// What nixa can offer a signed-in citizen whose session is below the level a
// service asks: the account's passkeys, its authenticator app (and recovery
// codes), each only when the assurance policy says it would reach the level from
// this session. Sources that vouch higher are offered by the chooser beside them.
import type { Context } from 'koa';

import { proofingLevelOf } from '../accounts/index.js';
import { atLeast, levelOfAcr, raiseSession, type Factor, type Level, type SessionAssurance, type SessionSoFar } from '../assurance/index.js';
import { sourceLoginLevel } from '../federation/index.js';
import { challengeBinding, listFactors, listPasskeys, totpEnrolledLevel, type CodeMethod, type FactorsContext, type UserVerification } from '../factors/index.js';
import { noticesDuringSignIn } from '../my-account/notices.js';
import type { JourneyDeps } from './journey.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

export const factorsContext = (deps: JourneyDeps): FactorsContext => ({
  db: deps.db,
  cipher: deps.accounts.cipher,
  passkeys: deps.config.passkeys,
});

export interface SignedInSession extends SessionSoFar {
  accountId: string;
}

export interface StepUpOffer {
  session: SignedInSession;
  /** The level the service asks for. */
  min: Level;
  /** Code methods that reach it, the app first. */
  codes: CodeMethod[];
  /** The level of the session that enrolled the app (recovery codes were issued with it). */
  totpEnrolledLevel?: Level;
  /** The passkeys that reach it, and whether only with user verification (PIN or biometric). */
  passkeys?: { ids: string[]; userVerification: UserVerification };
}

/** The session of this sign-in as step-up sees it; undefined when nobody is signed in. */
export async function signedInSession(deps: JourneyDeps, ctx: Context, details: Details): Promise<SignedInSession | undefined> {
  const accountId = details.session?.accountId;
  if (!accountId) return undefined;
  const amr = details.session?.amr;
  const [proofingLevel, sourceAuthLevel] = await Promise.all([proofingLevelOf(deps.accounts, accountId), sourceLoginLevel(deps.sourceLogout, ctx, accountId)]);
  return {
    accountId,
    proofingLevel,
    level: levelOfAcr(String(details.session?.acr ?? '')) ?? 'low',
    sourceAuthLevel: sourceAuthLevel ?? 'low',
    amr: Array.isArray(amr) ? amr.map(String) : [],
  };
}

/** The session after using `factor` (enrolled at `enrolledAt`), under the configured policy. */
export const raisedWith = (deps: JourneyDeps, s: SignedInSession, factor: Factor, enrolledAt: Level): SessionAssurance =>
  raiseSession(s, { factor, enrolledAt }, deps.config.assurance);

const reaches = (deps: JourneyDeps, s: SignedInSession, min: Level, factor: Factor, enrolledAt: Level) =>
  atLeast(raisedWith(deps, s, factor, enrolledAt).level, min);

/** What the citizen signed in to this sign-in could use to reach `min`; undefined when nothing. */
export async function stepUpOffer(deps: JourneyDeps, ctx: Context, details: Details, min: Level | undefined): Promise<StepUpOffer | undefined> {
  if (!min) return undefined;
  const session = await signedInSession(deps, ctx, details);
  if (!session) return undefined;
  const fctx = factorsContext(deps);
  const [enrolledLevel, passkeys] = await Promise.all([
    totpEnrolledLevel(fctx, session.accountId),
    deps.config.passkeys ? listPasskeys(fctx, session.accountId) : Promise.resolve([]),
  ]);

  const codes: CodeMethod[] = [];
  if (enrolledLevel && reaches(deps, session, min, 'totp', enrolledLevel)) {
    codes.push('totp');
    if (reaches(deps, session, min, 'recovery_code', enrolledLevel) && (await listFactors(fctx, session.accountId)).recoveryCodesLeft > 0) {
      codes.push('recovery-code');
    }
  }

  // A passkey that reaches the level only when the authenticator verifies the
  // person is offered with verification required, and its answer without it refused.
  const withUv = passkeys.filter((p) => reaches(deps, session, min, 'passkey_uv', p.enrolledLevel));
  const withoutUv = withUv.filter((p) => reaches(deps, session, min, 'passkey', p.enrolledLevel));
  const offer: StepUpOffer = { session, min, codes, ...(enrolledLevel ? { totpEnrolledLevel: enrolledLevel } : {}) };
  if (withUv.length) {
    offer.passkeys = { ids: withUv.map((p) => p.id), userVerification: withoutUv.length === withUv.length ? 'preferred' : 'required' };
  }
  return codes.length || offer.passkeys ? offer : undefined;
}

export const interactionBinding = (details: Details) => challengeBinding('interaction', details.uid);

/**
 * The account's notices on the step-up chooser (my-account/notices.ts), for the
 * signed-in citizen asked to prove more: "a passkey was added on …" is worth
 * reading before using one. Shown, not consumed: a notice is consumed only where
 * the citizen can act on it, and here they are in the middle of a service's
 * sign-in, with nothing to block or remove on the page; /account, where they can,
 * still shows it. Held back, as everywhere, are those this session may have caused.
 */
export async function stepUpNotices(deps: JourneyDeps, ctx: Context, details: Details): Promise<string> {
  if (!details.session?.accountId) return '';
  return noticesDuringSignIn(deps, ctx, details.session, String(details.params.client_id));
}
