// Step-up with a one-time code: a citizen signed in below the level a service asks
// types a code from their authenticator app (or a recovery code) on the chooser
// page, instead of signing in again through a stronger source. The assurance
// policy (config.assurance) decides whether a code can reach the level: an app is
// worth no more than the session that enrolled it, and the session can rise no
// higher than the level at which the account's identity was proven.
//
//   POST /interaction/:uid/code   method=totp|recovery-code, code → same account, acr/amr raised
import type { Context } from 'koa';

import type { Factor, SessionAssurance } from '../assurance/index.js';
import { appendAudit, coarseDevice } from '../audit/index.js';
import { InvalidInputError } from '../errors/index.js';
import { checkAllowed, citizen, verifyCode, waitInWords, type CodeMethod } from '../factors/index.js';
import { recordFailure, recordStepUp } from '../metrics/index.js';
import { notice, renderFragment } from '../pages/index.js';
import { requestedLevelOf } from '../protocol/index.js';
import { showChooser } from './chooser.js';
import { rememberedGrant } from './consent.js';
import { checkCsrf, csrfToken } from './csrf.js';
import type { JourneyDeps } from './journey.js';
import { factorsContext, raisedWith, stepUpOffer, type StepUpOffer } from './step-up.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

const FACTOR_OF: Record<CodeMethod, Factor> = { totp: 'totp', 'recovery-code': 'recovery_code' };

export function waitNotice(seconds: number): string {
  const w = waitInWords(seconds);
  return notice(
    'alert',
    `Đã nhập sai mã quá nhiều lần. Hãy đợi ${w.vi} rồi thử lại, hoặc xác thực với một nguồn định danh dưới đây.`,
    `Too many wrong codes. Please wait ${w.en} and try again, or confirm who you are with a source below.`,
  );
}

/** The code form shown above the sources (the error of the last attempt, or a wait still due, inside it). */
export async function codeForm(deps: JourneyDeps, ctx: Context, details: Details, offer: StepUpOffer, error?: string): Promise<string> {
  let codeNotice = error ?? '';
  if (!error) {
    const allowed = await checkAllowed(factorsContext(deps), offer.session.accountId, ctx.ip);
    if (!allowed.allowed) codeNotice = waitNotice(allowed.retryAfterSeconds);
  }
  const csrf = csrfToken(deps.keyring.snapshot.cookieKeys, details.uid);
  const recovery = offer.codes.includes('recovery-code') ? renderFragment('code-recovery', { uid: details.uid, csrf }) : '';
  return renderFragment('code', { uid: details.uid, csrf, codeNotice, recovery });
}

const FAILURES: Record<string, { vi: string; en: string }> = {
  malformed: { vi: 'Mã không đúng định dạng. Hãy kiểm tra và nhập lại.', en: 'That does not look like a code. Please check it and type it again.' },
  'not-enrolled': { vi: 'Tài khoản chưa có ứng dụng xác thực.', en: 'This account has no authenticator app.' },
  'wrong-code': { vi: 'Mã không đúng. Hãy nhập mã mới nhất mà ứng dụng đang hiển thị.', en: 'That code is not right. Enter the latest code the app shows.' },
  reused: { vi: 'Mã này đã được dùng. Hãy đợi ứng dụng hiển thị mã mới.', en: 'That code was already used. Wait for the app to show a new one.' },
};

/** POST /interaction/:uid/code: check the code under the lockout; right → the same account at the level reached. */
export async function submitCode(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const method = body.method === 'totp' || body.method === 'recovery-code' ? body.method : undefined;
  if (!method) throw new InvalidInputError('method', 'must be totp or recovery-code');
  const offer = await stepUpOffer(deps, ctx, details, requestedLevelOf(details.params));
  // Nothing is checked or counted for a method this sign-in does not offer.
  if (!offer?.codes.includes(method) || !offer.totpEnrolledLevel) throw new InvalidInputError('method', 'a code is not offered for this sign-in');
  const code = typeof body.code === 'string' ? body.code.slice(0, 64) : '';

  const r = await verifyCode(factorsContext(deps), { accountId: offer.session.accountId, ip: ctx.ip, method, code, now: new Date() });
  if (!r.ok) {
    recordFailure(deps.metrics, `factor:${r.reason}`);
    let error: string;
    if (r.reason === 'must-wait') {
      error = waitNotice(r.retryAfterSeconds);
      ctx.set('Retry-After', String(Math.ceil(r.retryAfterSeconds)));
    } else {
      const m = FAILURES[r.reason] ?? FAILURES['wrong-code']!;
      error = notice('alert', m.vi, m.en) + (r.retryAfterSeconds > 0 ? waitNotice(r.retryAfterSeconds) : '');
    }
    await showChooser(deps, ctx, details, { code: error });
    ctx.status = r.reason === 'must-wait' ? 429 : 400;
    return;
  }

  await finishStepUp(deps, ctx, details, offer, raisedWith(deps, offer.session, FACTOR_OF[method], offer.totpEnrolledLevel), method);
}

/** The same account, at the level the factor raised it to; consent as remembered. */
export async function finishStepUp(deps: JourneyDeps, ctx: Context, details: Details, offer: StepUpOffer, a: SessionAssurance, method: string): Promise<void> {
  deps.logger.info({ method, level: a.level, client: details.params.client_id }, 'step-up');
  recordStepUp(deps.metrics, method, a.level);
  await deps.db.transaction((tx) =>
    appendAudit(tx, {
      event: 'STEP_UP',
      actor: citizen(offer.session.accountId),
      subject: offer.session.accountId,
      details: { method, from: offer.session.level, level: a.level, client: String(details.params.client_id), device: coarseDevice(ctx.get('user-agent')) },
    }),
  );
  const grantId = await rememberedGrant(deps, details, offer.session.accountId);
  await deps.provider().interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: offer.session.accountId, acr: a.acr, amr: a.amr, remember: true }, ...(grantId ? { consent: { grantId } } : {}) },
    { mergeWithLastSubmission: false },
  );
}
