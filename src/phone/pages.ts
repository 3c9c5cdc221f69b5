// The pages of signing in with a phone: on the phone (what is asked, the
// numbers, the passkey, the outcome) and on the computer (the QR code and the
// outcome). Every refusal says what happened in plain words and the way on.
import { claimLabel, inReadingOrder } from '../consent/index.js';
import { LEVEL_NAMES, termsExplained } from '../interactions/level-advice.js';
import { escapeHtml, formatDateTime, notice, renderFragment, renderPage, termsWhereUsed } from '../pages/index.js';
import type { DenialReason } from './policy.js';

type Words = { vi: string; en: string };

/** What the phone or the computer hears when a request cannot go on. */
export type Problem = 'unknown' | 'expired' | 'used' | 'not-bound' | DenialReason;

const PROBLEMS: Record<Problem, { heading: Words; phone: Words; computer: Words }> = {
  unknown: {
    heading: { vi: 'Không có mã này', en: 'No such code' },
    phone: {
      vi: 'Mã này không đúng hoặc đã bị xóa. Hãy kiểm tra mã trên màn hình máy tính, hoặc quét lại mã QR.',
      en: 'This code is wrong or was removed. Check the code on the computer’s screen, or scan the QR code again.',
    },
    computer: { vi: 'Không tìm thấy yêu cầu đăng nhập bằng điện thoại. Hãy tạo mã mới.', en: 'The sign-in by phone was not found. Make a new code.' },
  },
  expired: {
    heading: { vi: 'Mã đã hết hạn', en: 'The code has expired' },
    phone: {
      vi: 'Mã chỉ dùng được trong 2 phút. Trên máy tính, chọn «Tạo mã mới» rồi quét lại.',
      en: 'A code works for 2 minutes. On the computer, choose “Make a new code” and scan again.',
    },
    computer: { vi: 'Mã đã hết hạn trước khi điện thoại xác nhận. Hãy tạo mã mới.', en: 'The code expired before the phone approved. Make a new code.' },
  },
  used: {
    heading: { vi: 'Mã đã được dùng', en: 'The code was already used' },
    phone: {
      vi: 'Mã này đã được dùng để đăng nhập. Mỗi mã chỉ dùng được một lần.',
      en: 'This code was already used to sign in. Each code works once.',
    },
    computer: { vi: 'Mã này đã được dùng. Hãy tạo mã mới.', en: 'This code was already used. Make a new code.' },
  },
  'not-bound': {
    heading: { vi: 'Điện thoại này chưa được liên kết', en: 'This phone is not bound yet' },
    phone: {
      vi: 'Để đăng nhập bằng điện thoại, hãy liên kết điện thoại này trước: đăng nhập vào tài khoản nixa trên điện thoại qua một nguồn định danh, rồi chọn «Dùng điện thoại này để đăng nhập». Sau đó quét lại mã.',
      en: 'To sign in with your phone, bind this phone first: sign in to your nixa account on this phone through an identity source, then choose “Use this phone to sign in”. Then scan the code again.',
    },
    computer: { vi: 'Điện thoại chưa được liên kết.', en: 'The phone is not bound.' },
  },
  citizen: {
    heading: { vi: 'Đã từ chối đăng nhập', en: 'Sign-in denied' },
    phone: { vi: 'Bạn đã từ chối. Máy tính không được đăng nhập.', en: 'You denied it. The computer is not signed in.' },
    computer: { vi: 'Đăng nhập đã bị từ chối trên điện thoại.', en: 'The sign-in was denied on the phone.' },
  },
  'wrong-number': {
    heading: { vi: 'Số không khớp', en: 'The number does not match' },
    phone: {
      vi: 'Số bạn chọn không phải số trên máy tính, nên nixa đã hủy lần đăng nhập này để bảo vệ bạn. Nếu chính bạn đang đăng nhập, hãy tạo mã mới trên máy tính và chọn đúng số.',
      en: 'The number you picked is not the one on the computer, so nixa cancelled this sign-in to protect you. If it is you signing in, make a new code on the computer and pick the right number.',
    },
    computer: {
      vi: 'Số được chọn trên điện thoại không khớp, nên lần đăng nhập này đã bị hủy. Hãy tạo mã mới.',
      en: 'The number picked on the phone did not match, so this sign-in was cancelled. Make a new code.',
    },
  },
  'second-scan': {
    heading: { vi: 'Mã đã bị quét từ hai điện thoại', en: 'The code was scanned by two phones' },
    phone: {
      vi: 'Mã này đã được mở trên một điện thoại khác, nên nixa đã hủy lần đăng nhập để bảo vệ bạn: mã QR có thể đã bị gửi cho người khác. Nếu chính bạn đang đăng nhập, hãy tạo mã mới trên máy tính.',
      en: 'This code was opened on another phone, so nixa cancelled the sign-in to protect you: the QR code may have been passed to someone else. If it is you signing in, make a new code on the computer.',
    },
    computer: {
      vi: 'Mã đã được mở trên hai điện thoại khác nhau, nên lần đăng nhập này đã bị hủy. Hãy tạo mã mới và chỉ quét bằng điện thoại của bạn.',
      en: 'The code was opened on two different phones, so this sign-in was cancelled. Make a new code and scan it with your own phone only.',
    },
  },
  'other-account': {
    heading: { vi: 'Điện thoại của một tài khoản khác', en: 'A phone of another account' },
    phone: {
      vi: 'Máy tính đang đăng nhập bằng một tài khoản nixa khác với tài khoản của điện thoại này, nên không thể xác nhận từ điện thoại này.',
      en: 'The computer is signed in with a different nixa account from this phone’s, so this phone cannot approve it.',
    },
    computer: {
      vi: 'Điện thoại đã quét mã được liên kết với một tài khoản khác với tài khoản đang đăng nhập trên máy tính này.',
      en: 'The phone that scanned the code is bound to a different account from the one signed in on this computer.',
    },
  },
  level: {
    heading: { vi: 'Điện thoại chưa đủ mức độ đảm bảo', en: 'The phone cannot give the level needed' },
    phone: {
      vi: 'Dịch vụ này cần mức độ đảm bảo cao hơn mức điện thoại này được liên kết. Hãy đăng nhập trên máy tính qua một nguồn định danh xác nhận được mức đó.',
      en: 'This service needs a higher assurance level than this phone was bound at. Sign in on the computer through an identity source that vouches for that level.',
    },
    computer: {
      vi: 'Điện thoại được liên kết ở mức độ đảm bảo thấp hơn mức dịch vụ cần. Hãy chọn một nguồn định danh xác nhận được mức đó.',
      en: 'The phone was bound at a lower assurance level than the service needs. Choose an identity source that vouches for that level.',
    },
  },
};

export const problemWords = (p: Problem) => PROBLEMS[p];

export function phoneMessage(o: { heading: Words; vi: string; en: string; role: 'status' | 'alert'; actions?: string }): string {
  return renderPage('phone-message', {
    title: o.heading.vi,
    heading: o.heading.vi,
    headingEn: o.heading.en,
    notice: notice(o.role, o.vi, o.en),
    actions: o.actions ?? '',
    terms: termsWhereUsed(o.heading.vi, o.vi),
  });
}

/** The phone's page for a request it cannot go on with. */
export function phoneProblemPage(p: Problem, actions = ''): string {
  const w = PROBLEMS[p];
  return phoneMessage({ heading: w.heading, ...w.phone, role: 'alert', actions });
}

export function approvedPage(clientName: string, kind: 'qr' | 'ciba' = 'qr'): string {
  if (kind === 'ciba') {
    return phoneMessage({
      heading: { vi: 'Đã xác nhận', en: 'Approved' },
      vi: `Bạn đã xác nhận yêu cầu của «${clientName}»; dịch vụ đã được báo. Bạn có thể đóng trang này.`,
      en: `You approved the request of “${clientName}”; the service has been told. You can close this page.`,
      role: 'status',
    });
  }
  return phoneMessage({
    heading: { vi: 'Đã xác nhận', en: 'Approved' },
    vi: `Bạn đã xác nhận đăng nhập vào «${clientName}». Hãy quay lại máy tính: trang sẽ tự tiếp tục. Bạn có thể đóng trang này.`,
    en: `You approved the sign-in to “${clientName}”. Go back to the computer: its page goes on by itself. You can close this page.`,
    role: 'status',
  });
}

const levelHtml = (level: keyof typeof LEVEL_NAMES | undefined) =>
  level ? `${escapeHtml(LEVEL_NAMES[level].vi)} <span lang="en">(${escapeHtml(LEVEL_NAMES[level].en)})</span>` : 'Không yêu cầu riêng <span lang="en">(None in particular)</span>';

export interface ApprovePage {
  handle: string;
  csrf: string;
  clientName: string;
  claims: string[];
  level?: keyof typeof LEVEL_NAMES;
  createdAt: Date;
  device: Words;
  choices: number[];
}

function claimsHtml(all: readonly string[]): string {
  const claims = inReadingOrder(all.filter((c) => c !== 'sub'));
  return claims.length
    ? `<ul>${claims.map((c) => `<li>${escapeHtml(claimLabel(c).vi)} <span lang="en">(${escapeHtml(claimLabel(c).en)})</span></li>`).join('')}</ul>`
    : 'Chỉ mã định danh riêng cho dịch vụ <span lang="en">(Only an identifier of its own)</span>';
}

export function approvePage(o: ApprovePage): string {
  return renderPage('phone-approve', {
    title: 'Xác nhận đăng nhập',
    handle: o.handle,
    csrf: o.csrf,
    clientName: o.clientName,
    claims: claimsHtml(o.claims),
    level: levelHtml(o.level),
    createdAt: formatDateTime(o.createdAt),
    createdIso: o.createdAt.toISOString(),
    device: `${o.device.vi} (${o.device.en})`,
    // The page names the "mức độ đảm bảo" asked for.
    terms: termsExplained(),
    choices: o.choices.map((n) => `        <button type="submit" name="number" value="${n}" class="number">${n}</button>`).join('\n'),
  });
}

/** The passkey step and the way to deny, shared by a QR request (after the number) and a CIBA request. */
const passkeyStep = (handle: string, csrf: string, heading: Words, button: Words) =>
  renderFragment('phone-passkey', { handle, csrf, headingVi: heading.vi, headingEn: heading.en, buttonVi: button.vi, buttonEn: button.en });

export function confirmPage(o: { handle: string; csrf: string; clientName: string; problem?: Words }): string {
  return renderPage('phone-confirm', {
    title: 'Xác nhận bằng điện thoại',
    passkey: passkeyStep(o.handle, o.csrf, { vi: 'Dùng khóa truy cập của điện thoại này', en: 'Use this phone’s passkey' }, { vi: 'Xác nhận đăng nhập', en: 'Approve the sign-in' }),
    clientName: o.clientName,
    notice: o.problem ? notice('alert', o.problem.vi, o.problem.en) : '',
  });
}

export interface PendingRequest {
  handle: string;
  clientName: string;
  createdAt: Date;
}

/** The code form; on a bound phone, the service requests (CIBA) waiting for it above it. */
export function enterCodePage(code = '', problem?: Words, pending: readonly PendingRequest[] = []): string {
  const list = pending.length
    ? `<section aria-labelledby="pending-heading">
      <h2 id="pending-heading">Yêu cầu đang chờ bạn xác nhận <span lang="en">(Requests waiting for your approval)</span></h2>
      <ul class="pending">${pending
        .map((p) => `<li><a href="/p/${escapeHtml(p.handle)}">${escapeHtml(p.clientName)}</a> — <time datetime="${p.createdAt.toISOString()}">${formatDateTime(p.createdAt)}</time></li>`)
        .join('')}</ul>
    </section>`
    : '';
  return renderPage('phone-enter', { title: 'Đăng nhập bằng điện thoại', code, pending: list, notice: problem ? notice('alert', problem.vi, problem.en) : '' });
}

export interface CibaPage {
  handle: string;
  csrf: string;
  clientName: string;
  bindingMessage: string;
  claims: string[];
  level?: keyof typeof LEVEL_NAMES;
  createdAt: Date;
  problem?: Words;
}

/** A service's request (CIBA) on the citizen's phone: who asks, its message, what it gets; approved with the passkey. */
export function cibaPage(o: CibaPage): string {
  return renderPage('phone-ciba', {
    title: 'Xác nhận yêu cầu của dịch vụ',
    passkey: passkeyStep(o.handle, o.csrf, { vi: 'Xác nhận bằng khóa truy cập của điện thoại này', en: 'Confirm with this phone’s passkey' }, { vi: 'Xác nhận', en: 'Approve' }),
    clientName: o.clientName,
    bindingMessage: o.bindingMessage || '—',
    claims: claimsHtml(o.claims),
    level: levelHtml(o.level),
    createdAt: formatDateTime(o.createdAt),
    createdIso: o.createdAt.toISOString(),
    notice: o.problem ? notice('alert', o.problem.vi, o.problem.en) : '',
    terms: termsExplained(),
  });
}
