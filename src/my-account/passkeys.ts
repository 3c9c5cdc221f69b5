// The passkeys section of /account: the citizen's passkeys by name, adding one
// (the page's script runs the browser's WebAuthn ceremony and posts the answer as
// a form), renaming and removing.
//
//   POST /account/passkeys/options        csrf → registration options (JSON)
//   POST /account/passkeys                csrf, name, response → the passkey is the account's
//   POST /account/passkeys/:id/rename     csrf, name
//   POST /account/passkeys/:id/remove     csrf
import type { Context } from 'koa';

import { accountClaims } from '../accounts/index.js';
import { atLeast } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';
import {
  challengeBinding,
  finishPasskeyRegistration,
  listPasskeys,
  PASSKEY_SETTINGS,
  removePasskey,
  renamePasskey,
  startPasskeyRegistration,
  type PasskeyRegistrationFailure,
} from '../factors/index.js';
import { unreachableLevelAdvice } from '../interactions/level-advice.js';
import { listBoundPhones } from '../phone/index.js';
import { escapeHtml } from '../pages/index.js';
import {
  ACCOUNT_PATH,
  csrfFor,
  dateVi,
  ENROLMENT_LEVEL,
  factorsOf,
  LEVEL_WORDS,
  mayChangeFactors,
  notice,
  refused,
  type AccountDeps,
  type CitizenSession,
} from './session.js';

const bindingOf = (s: CitizenSession) => challengeBinding('session', s.id);

/** The name an authenticator shows for the account: the citizen's name, never an ID number. */
export async function displayName(deps: AccountDeps, accountId: string): Promise<string> {
  const name = (await accountClaims(deps.accounts, accountId)).name;
  return typeof name === 'string' && name && !/[\p{Cc}:]/u.test(name) && !/\d{9,}/.test(name) ? name.slice(0, 64) : 'Tài khoản nixa';
}

/** The passkeys section of the account page. */
export async function passkeysSection(deps: AccountDeps, s: CitizenSession, message = ''): Promise<string> {
  if (!deps.passkeys) return '';
  const csrf = escapeHtml(csrfFor(deps, s));
  // A bound phone's passkey is listed with the phones (phones.ts), where removing it unbinds the phone.
  const phones = new Set((await listBoundPhones(factorsOf(deps), s.accountId)).map((p) => p.passkeyId));
  const mine = (await listPasskeys(factorsOf(deps), s.accountId)).filter((p) => !phones.has(p.id));
  const canChange = atLeast(s.level, ENROLMENT_LEVEL);
  const items = mine
    .map((p) => {
      const base = `${ACCOUNT_PATH}/passkeys/${encodeURIComponent(p.id)}`;
      const used = p.lastUsedAt ? `, dùng lần cuối ${dateVi(p.lastUsedAt)} <span lang="en">(last used ${dateVi(p.lastUsedAt)})</span>` : '';
      const remove = canChange
        ? `<form method="post" action="${base}/remove" class="inline">
            <input type="hidden" name="csrf" value="${csrf}">
            <button type="submit" class="secondary" aria-label="Gỡ khóa truy cập ${escapeHtml(p.name)} (Remove passkey ${escapeHtml(p.name)})">Gỡ <span lang="en">(Remove)</span></button>
          </form>`
        : '';
      return `<li><strong>${escapeHtml(p.name)}</strong> — thêm ngày ${dateVi(p.createdAt)} <span lang="en">(added ${dateVi(p.createdAt)})</span>${used}
          <form method="post" action="${base}/rename" class="inline">
            <input type="hidden" name="csrf" value="${csrf}">
            <label for="rename-${escapeHtml(p.id)}">Đổi tên <span lang="en">(Rename)</span></label>
            <input id="rename-${escapeHtml(p.id)}" name="name" value="${escapeHtml(p.name)}" required maxlength="${PASSKEY_SETTINGS.maxNameLength}">
            <button type="submit" class="secondary">Lưu tên <span lang="en">(Save name)</span></button>
          </form>${remove}</li>`;
    })
    .join('\n');
  const list = mine.length
    ? `<ul class="passkeys">${items}</ul>`
    : '<p>Bạn chưa có khóa truy cập nào. <span lang="en">(You have no passkeys yet.)</span></p>';
  const add = canChange
    ? `<div data-passkey="register" data-options="${ACCOUNT_PATH}/passkeys/options" hidden>
        <form method="post" action="${ACCOUNT_PATH}/passkeys">
          <input type="hidden" name="csrf" value="${csrf}">
          <input type="hidden" name="response" value="">
          <label for="passkey-name">Tên khóa truy cập, ví dụ «Điện thoại của tôi» <span lang="en">(Passkey name, e.g. “My phone”)</span></label>
          <input id="passkey-name" name="name" required maxlength="${PASSKEY_SETTINGS.maxNameLength}" autocomplete="off">
          <button type="submit">Thêm khóa truy cập <span lang="en">(Add a passkey)</span></button>
          <div class="notice" role="alert" data-passkey-error hidden></div>
        </form>
      </div>
      <script src="/assets/webauthn.js" defer></script>
      <script src="/assets/passkeys.js" defer></script>`
    : // An account whose sources all stop below the level can never get there by signing in again: say what can.
      ((await unreachableLevelAdvice(deps.accounts, s.accountId, ENROLMENT_LEVEL, { vi: 'thêm khóa truy cập hoặc ứng dụng xác thực', en: 'add a passkey or an authenticator app' })) ??
      notice(
        'status',
        `Để thêm khóa truy cập, hãy đăng nhập với mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên.`,
        `To add a passkey, sign in at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above.`,
      ));
  return `<section aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Khóa truy cập (passkey) <span lang="en">(Passkeys)</span></h2>
      <p>Khóa truy cập nằm trong điện thoại, máy tính hoặc khóa bảo mật của bạn, được mở bằng vân tay, khuôn mặt hoặc mã PIN, và không thể bị đánh cắp qua trang giả mạo. <span lang="en">(A passkey lives in your phone, computer or security key, is unlocked with your fingerprint, face or PIN, and cannot be stolen by a fake site.)</span></p>
      ${message}
      ${list}
      ${add}
    </section>`;
}

/** POST /account/passkeys/options */
export async function registrationOptions(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  if (!deps.passkeys || !atLeast(s.level, ENROLMENT_LEVEL)) {
    ctx.status = 403;
    ctx.body = { error: 'passkeys_not_allowed' };
    return;
  }
  ctx.body = await startPasskeyRegistration(factorsOf(deps), { accountId: s.accountId, binding: bindingOf(s), userName: await displayName(deps, s.accountId) });
}

export const REGISTRATION_FAILURES: Record<PasskeyRegistrationFailure, { vi: string; en: string }> = {
  'bad-name': {
    vi: `Hãy đặt tên cho khóa truy cập (tối đa ${PASSKEY_SETTINGS.maxNameLength} ký tự).`,
    en: `Please name the passkey (at most ${PASSKEY_SETTINGS.maxNameLength} characters).`,
  },
  malformed: { vi: 'Trình duyệt không gửi được khóa truy cập. Hãy thử lại.', en: 'The browser did not send the passkey. Please try again.' },
  'no-challenge': { vi: 'Lần thêm này đã được dùng hoặc không còn hiệu lực. Hãy thử lại.', en: 'This attempt was already used or is no longer valid. Please try again.' },
  expired: { vi: 'Đã quá thời gian. Hãy thử lại.', en: 'It took too long. Please try again.' },
  invalid: { vi: 'Không xác minh được khóa truy cập. Hãy thử lại.', en: 'The passkey could not be verified. Please try again.' },
  'not-verified': {
    vi: 'Khóa truy cập phải được mở bằng vân tay, khuôn mặt hoặc mã PIN của thiết bị. Hãy bật khóa màn hình rồi thử lại.',
    en: 'The passkey must be unlocked with the device’s fingerprint, face or PIN. Turn on the screen lock and try again.',
  },
  'already-registered': { vi: 'Khóa truy cập này đã được đăng ký.', en: 'This passkey is already registered.' },
  'too-many': {
    vi: `Mỗi tài khoản có tối đa ${PASSKEY_SETTINGS.maxPerAccount} khóa truy cập. Hãy gỡ bớt một khóa.`,
    en: `An account holds at most ${PASSKEY_SETTINGS.maxPerAccount} passkeys. Please remove one first.`,
  },
};

/** POST /account/passkeys: the browser's answer → the account's passkey, named. */
export async function addPasskey(deps: AccountDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>): Promise<string | undefined> {
  if (!deps.passkeys) throw new InvalidInputError('passkey', 'passkeys are not offered here');
  if (!mayChangeFactors(ctx, s)) return undefined;
  const r = await finishPasskeyRegistration(factorsOf(deps), {
    accountId: s.accountId,
    binding: bindingOf(s),
    name: body.name,
    response: body.response,
    level: s.level,
  });
  if (!r.ok) {
    ctx.status = 400;
    const m = REGISTRATION_FAILURES[r.reason];
    return notice('alert', m.vi, m.en);
  }
  deps.logger.info({ account: s.accountId, level: s.level }, 'passkey added');
  return notice('status', 'Đã thêm khóa truy cập.', 'The passkey was added.');
}

const PASSKEY_ID = /^[0-9a-f-]{36}$/;

/** POST /account/passkeys/:id/rename|remove; a notice for the account page, or undefined when a page was already sent. */
export async function changePasskey(
  deps: AccountDeps,
  ctx: Context,
  s: CitizenSession,
  id: string,
  action: 'rename' | 'remove',
  body: Record<string, unknown>,
): Promise<string | undefined> {
  if (!PASSKEY_ID.test(id)) throw new InvalidInputError('passkey', 'is not one of this account’s passkeys');
  if (action === 'rename') {
    const r = await renamePasskey(factorsOf(deps), s.accountId, id, body.name);
    if (r === 'not-found') throw new InvalidInputError('passkey', 'is not one of this account’s passkeys');
    if (r === 'bad-name') {
      ctx.status = 400;
      return notice('alert', REGISTRATION_FAILURES['bad-name'].vi, REGISTRATION_FAILURES['bad-name'].en);
    }
    return notice('status', 'Đã đổi tên khóa truy cập.', 'The passkey was renamed.');
  }
  if (!mayChangeFactors(ctx, s)) return undefined;
  if (!(await removePasskey(factorsOf(deps), s.accountId, id))) {
    refused(ctx, 404, 'Không tìm thấy', notice('alert', 'Không tìm thấy khóa truy cập này.', 'This passkey was not found.'));
    return undefined;
  }
  deps.logger.info({ account: s.accountId }, 'passkey removed');
  return notice('status', 'Đã gỡ khóa truy cập. Khóa này không còn dùng được với nixa.', 'The passkey was removed. It no longer works with nixa.');
}
