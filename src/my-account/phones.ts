// The "your phone" section of /account: binding this browser's phone as the
// citizen's approver, and the phones bound, each removable.
//
//   POST /account/phones/options       csrf → registration options (JSON): a passkey with user verification
//   POST /account/phones               csrf, name, response → the phone is bound; this browser remembers it
//   POST /account/phones/:id/remove    csrf → unbound (needs ENROLMENT_LEVEL)
//
// Binding and removing need ENROLMENT_LEVEL, as for any factor: a phone is
// worth no more than the session that bound it (the assurance policy's
// bound_phone row caps it there), and a weaker session — a SIM swapped away —
// must neither bind the attacker's phone (which would outlive blocking that
// source) nor strip the citizen's.
import type { Context } from 'koa';

import { atLeast } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';
import { challengeBinding, PASSKEY_SETTINGS } from '../factors/index.js';
import { escapeHtml, notice } from '../pages/index.js';
import { finishBinding, listBoundPhones, MAX_PHONES, rememberPhone, startBinding, thisPhone, unbindPhone, type Binding } from '../phone/index.js';
import { displayName, REGISTRATION_FAILURES } from './passkeys.js';
import { ACCOUNT_PATH, csrfFor, dateVi, ENROLMENT_LEVEL, factorsOf, LEVEL_WORDS, mayChangeFactors, refused, type AccountDeps, type CitizenSession } from './session.js';

const bindingOf = (s: CitizenSession) => challengeBinding('session', `phone:${s.id}`);

export async function phonesSection(deps: AccountDeps, ctx: Context, s: CitizenSession, message = ''): Promise<string> {
  if (!deps.passkeys) return '';
  const csrf = escapeHtml(csrfFor(deps, s));
  const [phones, here] = await Promise.all([listBoundPhones(factorsOf(deps), s.accountId), thisPhone(ctx, deps.accounts.db)]);
  const mine = here?.accountId === s.accountId ? here : undefined;
  const canChange = atLeast(s.level, ENROLMENT_LEVEL);
  const canRemove = canChange;
  const items = phones
    .map((p) => {
      const level = LEVEL_WORDS[p.boundLevel];
      const used = p.lastUsedAt ? `, dùng lần cuối ${dateVi(p.lastUsedAt)} <span lang="en">(last used ${dateVi(p.lastUsedAt)})</span>` : '';
      const thisOne = p.id === mine?.id ? ' <strong>— điện thoại này <span lang="en">(this phone)</span></strong>' : '';
      const remove = canRemove
        ? `<form method="post" action="${ACCOUNT_PATH}/phones/${encodeURIComponent(p.id)}/remove" class="inline">
            <input type="hidden" name="csrf" value="${csrf}">
            <button type="submit" class="secondary" aria-label="Gỡ điện thoại ${escapeHtml(p.name)} (Remove phone ${escapeHtml(p.name)})">Gỡ <span lang="en">(Remove)</span></button>
          </form>`
        : '';
      return `<li><strong>${escapeHtml(p.name)}</strong>${thisOne} — liên kết ngày ${dateVi(p.createdAt)} ở mức «${level.vi}» <span lang="en">(bound on ${dateVi(p.createdAt)} at level “${level.en}”)</span>${used}${remove}</li>`;
    })
    .join('\n');
  const list = phones.length
    ? `<ul class="phones">${items}</ul>`
    : '<p>Bạn chưa liên kết điện thoại nào. <span lang="en">(You have not bound a phone yet.)</span></p>';
  const removeNote = phones.length && !canRemove
    ? `<p>Để gỡ một điện thoại, hãy đăng nhập ở mức «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên. <span lang="en">(To remove a phone, sign in at level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above.)</span></p>`
    : '';
  // Both notes say the same when there are phones and the session is low: one is enough.
  const levelNote = removeNote && !canChange ? '' : removeNote;
  const bind = !canChange
    ? `<p>Để liên kết điện thoại này, hãy đăng nhập ở mức «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên, ví dụ qua ứng dụng định danh điện tử hoặc ngân hàng. <span lang="en">(To bind this phone, sign in at level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above, for example through the citizen ID app or your bank.)</span></p>`
    : mine || phones.length >= MAX_PHONES
      ? ''
      : `<div data-passkey="register" data-options="${ACCOUNT_PATH}/phones/options" hidden>
        <form method="post" action="${ACCOUNT_PATH}/phones">
          <input type="hidden" name="csrf" value="${csrf}">
          <input type="hidden" name="response" value="">
          <label for="phone-name">Tên điện thoại này, ví dụ «Điện thoại của tôi» <span lang="en">(This phone’s name, e.g. “My phone”)</span></label>
          <input id="phone-name" name="name" required maxlength="${PASSKEY_SETTINGS.maxNameLength}" autocomplete="off">
          <button type="submit">Dùng điện thoại này để đăng nhập <span lang="en">(Use this phone to sign in)</span></button>
          <div class="notice" role="alert" data-passkey-error hidden></div>
        </form>
      </div>
      <script src="/assets/webauthn.js" defer></script>
      <script src="/assets/passkeys.js" defer></script>`;
  // On the phone itself: its notifications (views/phone-push.js asks permission only on the button).
  const push = mine
    ? `<div data-push hidden>
        <p>Nhận thông báo khi một dịch vụ cần bạn xác nhận đăng nhập trên điện thoại này. <span lang="en">(Get a notification when a service needs you to approve a sign-in on this phone.)</span></p>
        <button type="button" data-push-enable>Nhận thông báo trên điện thoại này <span lang="en">(Get notifications on this phone)</span></button>
        <p role="status" data-push-status></p>
      </div>
      <script src="/assets/phone-push.js" defer></script>`
    : '';
  const level = LEVEL_WORDS[s.level];
  return `<section aria-labelledby="phones-heading">
      <h2 id="phones-heading">Điện thoại của bạn <span lang="en">(Your phone)</span></h2>
      <p>Liên kết điện thoại để đăng nhập trên máy tính bằng cách quét mã QR và xác nhận bằng vân tay, khuôn mặt hoặc mã PIN. Điện thoại xác nhận tối đa ở mức của lần đăng nhập dùng để liên kết (lần này: «${level.vi}»). <span lang="en">(Bind your phone to sign in on a computer by scanning a QR code and confirming with fingerprint, face or PIN. The phone vouches at most at the level of the sign-in that bound it (this one: “${level.en}”).)</span></p>
      ${message}
      ${list}
      ${levelNote}
      ${bind}
      ${push}
    </section>`;
}

/** POST /account/phones/options */
export async function phoneBindingOptions(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  if (!deps.passkeys || !atLeast(s.level, ENROLMENT_LEVEL)) {
    ctx.status = 403;
    ctx.body = { error: 'passkeys_not_allowed' };
    return;
  }
  const options = await startBinding(factorsOf(deps), { accountId: s.accountId, binding: bindingOf(s), userName: await displayName(deps, s.accountId) });
  if (options === 'too-many') {
    ctx.status = 409;
    ctx.body = { error: 'too_many_phones' };
    return;
  }
  ctx.body = options;
}

// A passkey's failures are said as on the passkey section; the phone's own words where they differ.
const BINDING_FAILURES: Record<Exclude<Binding, { ok: true }>['reason'], { vi: string; en: string }> = {
  ...REGISTRATION_FAILURES,
  'bad-name': { vi: `Hãy đặt tên cho điện thoại (tối đa ${PASSKEY_SETTINGS.maxNameLength} ký tự).`, en: `Please name the phone (at most ${PASSKEY_SETTINGS.maxNameLength} characters).` },
  'no-challenge': { vi: 'Lần liên kết này đã được dùng hoặc không còn hiệu lực. Hãy thử lại.', en: 'This attempt was already used or is no longer valid. Please try again.' },
  'not-verified': {
    vi: 'Điện thoại phải mở khóa truy cập bằng vân tay, khuôn mặt hoặc mã PIN. Hãy bật khóa màn hình của điện thoại rồi thử lại.',
    en: 'The phone must unlock the passkey with fingerprint, face or PIN. Turn on the phone’s screen lock and try again.',
  },
  'too-many-phones': { vi: `Mỗi tài khoản liên kết tối đa ${MAX_PHONES} điện thoại. Hãy gỡ bớt một điện thoại.`, en: `An account binds at most ${MAX_PHONES} phones. Please remove one first.` },
};

/** POST /account/phones: the browser's answer → this phone is bound; a notice for the account page. */
export async function bindPhone(deps: AccountDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>): Promise<string | undefined> {
  if (!deps.passkeys) throw new InvalidInputError('phone', 'passkeys are not offered here');
  if (!mayChangeFactors(ctx, s)) return undefined;
  const r = await finishBinding(factorsOf(deps), {
    accountId: s.accountId,
    binding: bindingOf(s),
    name: body.name,
    response: body.response,
    level: s.level,
    userAgent: ctx.get('user-agent'),
  });
  if (!r.ok) {
    ctx.status = 400;
    const m = BINDING_FAILURES[r.reason];
    return notice('alert', m.vi, m.en);
  }
  rememberPhone(ctx, r.phoneId);
  deps.logger.info({ account: s.accountId, level: s.level }, 'phone bound');
  return notice(
    'status',
    'Đã liên kết điện thoại này. Trên máy tính, chọn «Đăng nhập bằng điện thoại» rồi quét mã QR bằng điện thoại này.',
    'This phone is bound. On a computer, choose “Sign in with your phone” and scan the QR code with this phone.',
  );
}

const PHONE_ID = /^[0-9a-f-]{36}$/;

/** POST /account/phones/:id/remove; a notice, or undefined when a page was already sent. */
export async function removePhone(deps: AccountDeps, ctx: Context, s: CitizenSession, id: string): Promise<string | undefined> {
  if (!PHONE_ID.test(id)) throw new InvalidInputError('phone', 'is not one of this account’s phones');
  if (!mayChangeFactors(ctx, s)) return undefined;
  if (!(await unbindPhone(factorsOf(deps), s.accountId, id, s.level))) {
    refused(ctx, 404, 'Không tìm thấy', notice('alert', 'Không tìm thấy điện thoại này.', 'This phone was not found.'));
    return undefined;
  }
  deps.logger.info({ account: s.accountId }, 'phone unbound');
  return notice('status', 'Đã gỡ điện thoại. Điện thoại đó không còn dùng để đăng nhập được.', 'The phone was removed. It can no longer be used to sign in.');
}
