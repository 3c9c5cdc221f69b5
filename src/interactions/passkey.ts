// Step-up with a passkey: on the chooser page the citizen presses "confirm with a
// passkey"; the page's script asks for a challenge, lets the browser talk to the
// authenticator, and posts its answer as an ordinary form. The answer is checked
// under the same lockout as codes; a right one raises the same session.
//
//   POST /interaction/:uid/passkey/options   csrf → WebAuthn request options (JSON)
//   POST /interaction/:uid/passkey           csrf, response → same account, acr/amr raised
import type { Context } from 'koa';

import { atLeast } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';
import { startPasskeyAuthentication, verifyPasskeyAssertion, waitInWords, type PasskeyFailure } from '../factors/index.js';
import { recordFailure } from '../metrics/index.js';
import { notice, renderFragment } from '../pages/index.js';
import { requestedLevelOf } from '../protocol/index.js';
import { showChooser } from './chooser.js';
import { finishStepUp } from './code.js';
import { checkCsrf, csrfToken } from './csrf.js';
import type { JourneyDeps } from './journey.js';
import { factorsContext, interactionBinding, raisedWith, stepUpOffer, type StepUpOffer } from './step-up.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

const alert = (vi: string, en: string) => notice('alert', vi, en);

/** The passkey button of the step-up chooser. */
export function passkeySection(deps: JourneyDeps, details: Details, offer: StepUpOffer, error?: string): string {
  const uv = offer.passkeys?.userVerification === 'required';
  return renderFragment('passkey', {
    uid: details.uid,
    csrf: csrfToken(deps.keyring.snapshot.cookieKeys, details.uid),
    passkeyNotice: error ?? '',
    hintVi: uv
      ? 'Thiết bị sẽ hỏi mã PIN, vân tay hoặc khuôn mặt của bạn.'
      : 'Dùng khóa truy cập bạn đã thêm vào tài khoản nixa.',
    hintEn: uv ? 'Your device will ask for your PIN, fingerprint or face' : 'Use a passkey you added to your nixa account',
  });
}

/** The offer for this sign-in, if it includes passkeys; nothing is issued or counted otherwise. */
async function passkeyOffer(deps: JourneyDeps, ctx: Context, details: Details): Promise<StepUpOffer & Required<Pick<StepUpOffer, 'passkeys'>>> {
  const offer = await stepUpOffer(deps, ctx, details, requestedLevelOf(details.params));
  if (!offer?.passkeys) throw new InvalidInputError('passkey', 'a passkey is not offered for this sign-in');
  return offer as StepUpOffer & Required<Pick<StepUpOffer, 'passkeys'>>;
}

/** POST /interaction/:uid/passkey/options: a fresh challenge, bound to this sign-in, for the account's passkeys that reach the level. */
export async function passkeyOptions(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const offer = await passkeyOffer(deps, ctx, details);
  ctx.body = await startPasskeyAuthentication(factorsContext(deps), {
    accountId: offer.session.accountId,
    binding: interactionBinding(details),
    passkeyIds: offer.passkeys.ids,
    userVerification: offer.passkeys.userVerification,
  });
}

const FAILURES: Record<Exclude<PasskeyFailure, 'not-verified'>, { vi: string; en: string }> = {
  malformed: { vi: 'Trình duyệt không gửi được câu trả lời của khóa truy cập. Hãy thử lại.', en: 'The browser did not send the passkey’s answer. Please try again.' },
  'no-challenge': { vi: 'Lần xác thực này đã được dùng hoặc không còn hiệu lực. Hãy thử lại.', en: 'This confirmation was already used or is no longer valid. Please try again.' },
  expired: { vi: 'Đã quá thời gian xác thực. Hãy thử lại.', en: 'The confirmation took too long. Please try again.' },
  'unknown-passkey': { vi: 'Khóa truy cập này không thuộc tài khoản của bạn.', en: 'This passkey does not belong to your account.' },
  'not-allowed': {
    vi: 'Khóa truy cập này không đủ để đạt mức độ đảm bảo dịch vụ yêu cầu. Hãy dùng một khóa truy cập khác.',
    en: 'This passkey cannot reach the assurance level the service asks for. Please use another one.',
  },
  invalid: { vi: 'Không xác minh được khóa truy cập. Hãy thử lại.', en: 'The passkey could not be verified. Please try again.' },
  counter: {
    vi: 'Khóa truy cập này có dấu hiệu bị sao chép nên đã bị từ chối. Hãy dùng cách khác và kiểm tra các khóa truy cập trong tài khoản của bạn.',
    en: 'This passkey looks copied, so it was refused. Please use another way, and check the passkeys in your account.',
  },
};
const NOT_VERIFIED = {
  vi: 'Mức độ này cần thiết bị xác minh chính bạn (mã PIN, vân tay hoặc khuôn mặt). Hãy dùng khóa truy cập có hỗ trợ việc đó.',
  en: 'This level needs your device to verify it is you (PIN, fingerprint or face). Please use a passkey that can.',
};

/** POST /interaction/:uid/passkey: check the answer; right → the same account at the level reached. */
export async function submitPasskey(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const offer = await passkeyOffer(deps, ctx, details);
  const r = await verifyPasskeyAssertion(factorsContext(deps), {
    accountId: offer.session.accountId,
    binding: interactionBinding(details),
    ip: ctx.ip,
    response: body.response,
    passkeyIds: offer.passkeys.ids,
  });
  let error: string | undefined;
  if (!r.ok) {
    recordFailure(deps.metrics, `factor:${r.reason}`);
    if (r.reason === 'must-wait') {
      const w = waitInWords(r.retryAfterSeconds);
      error = alert(`Đã có quá nhiều lần xác thực không thành công. Hãy đợi ${w.vi} rồi thử lại.`, `Too many failed attempts. Please wait ${w.en} and try again.`);
      ctx.set('Retry-After', String(Math.ceil(r.retryAfterSeconds)));
    } else {
      const m = r.reason === 'not-verified' ? NOT_VERIFIED : FAILURES[r.reason];
      error = alert(m.vi, m.en);
    }
  } else {
    const a = raisedWith(deps, offer.session, r.use!.userVerified ? 'passkey_uv' : 'passkey', r.use!.enrolledLevel);
    // Defensive: the offer asked for verification wherever the level needs it.
    if (atLeast(a.level, offer.min)) return finishStepUp(deps, ctx, details, offer, a, 'passkey');
    error = alert(NOT_VERIFIED.vi, NOT_VERIFIED.en);
  }
  await showChooser(deps, ctx, details, { passkey: error });
  ctx.status = !r.ok && r.reason === 'must-wait' ? 429 : 400;
}
