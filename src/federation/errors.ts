// Why an upstream login failed, in words a citizen understands. Every reason
// ends on a page that says what happened and offers another source.
import { NixaError } from '../errors/index.js';

export type FederationFailure =
  | 'source-unavailable'
  | 'source-maintenance'
  | 'source-timeout'
  | 'source-refused'
  | 'denied'
  | 'state-mismatch'
  | 'replayed'
  | 'expired'
  | 'bad-response'
  | 'missing-claims'
  | 'insufficient-level'
  | 'stale-authentication'
  | 'invalid-national-id'
  | 'link-conflict'
  | 'not-linkable'
  | 'account-suspended'
  | 'source-blocked';

export class FederationError extends NixaError {
  readonly code: string;
  override readonly status: number;
  constructor(
    readonly reason: FederationFailure,
    /** For logs only (never shown to the citizen): what exactly went wrong. */
    readonly detail: string,
    readonly sourceId?: string,
    /** The sign-in this failure belongs to, when known (to offer another source). */
    readonly interactionUid?: string,
    /** link-conflict: the names of the attributes that disagreed (never their values), for the page to say which. */
    readonly attributes: readonly string[] = [],
  ) {
    super(`${reason}: ${detail}`);
    this.code = `NIXA-FED-${reason}`;
    this.status =
      reason === 'source-unavailable' || reason === 'source-timeout' || reason === 'source-refused'
        ? 502
        : reason === 'source-maintenance'
          ? 503
          : reason === 'account-suspended' || reason === 'source-blocked' || reason === 'insufficient-level' || reason === 'stale-authentication'
            ? 403
            : 400;
  }
}

/**
 * A callback state presented in a sign-in other than the one that started the
 * upstream login: someone learnt a citizen's callback URL. Refused without spending
 * the state, so the citizen's own callback still works; the source did nothing wrong.
 */
export class ForeignStateError extends FederationError {
  constructor(
    /** The sign-in that presented the state. */
    presentedIn: string | undefined,
    /** The upstream login the state belongs to. */
    readonly owner: { interactionUid: string; sourceId: string },
  ) {
    super('state-mismatch', 'state of another browser’s sign-in presented; not spent', undefined, presentedIn);
  }
}

export const FAILURE_MESSAGES: Record<FederationFailure, { vi: string; en: string }> = {
  'source-unavailable': {
    vi: 'Nguồn định danh bạn chọn hiện không phản hồi. Bạn có thể chọn nguồn khác hoặc thử lại sau.',
    en: 'The identity source you chose is not responding. Choose another source or try again later.',
  },
  'source-maintenance': {
    vi: 'Nguồn định danh bạn chọn đang bảo trì theo kế hoạch. Bạn có thể chọn nguồn khác hoặc thử lại sau.',
    en: 'The identity source you chose is down for planned maintenance. Choose another source or try again later.',
  },
  'source-timeout': {
    vi: 'Nguồn định danh bạn chọn phản hồi quá chậm. Bạn có thể chọn nguồn khác hoặc thử lại sau.',
    en: 'The identity source you chose took too long to answer. Choose another source or try again later.',
  },
  // The source answered with an OAuth error (invalid_client above all): it does not
  // accept nixa's credentials or request. That is nixa's configuration, not the
  // citizen's doing, and not an untrustworthy answer.
  'source-refused': {
    vi: 'Nguồn định danh bạn chọn đã từ chối kết nối của nixa. Đây là lỗi cấu hình phía nixa, không phải do bạn. Bạn có thể chọn nguồn khác hoặc thử lại sau.',
    en: 'The identity source you chose refused nixa’s connection. This is a configuration problem at nixa, not something you did. Choose another source or try again later.',
  },
  denied: {
    vi: 'Bạn đã hủy đăng nhập tại nguồn định danh. Chưa có thông tin nào được chia sẻ.',
    en: 'You cancelled the sign-in at the identity source. Nothing has been shared.',
  },
  'state-mismatch': {
    vi: 'Phản hồi từ nguồn định danh không khớp với lượt đăng nhập này, nên nixa đã từ chối để bảo vệ bạn.',
    en: 'The answer from the identity source does not belong to this sign-in, so nixa refused it to protect you.',
  },
  replayed: {
    vi: 'Phản hồi này đã được dùng trước đó, nên nixa đã từ chối để bảo vệ bạn. Hãy đăng nhập lại.',
    en: 'This answer was already used, so nixa refused it to protect you. Please sign in again.',
  },
  expired: {
    vi: 'Lượt đăng nhập đã hết hạn. Hãy bắt đầu lại.',
    en: 'The sign-in took too long and expired. Please start again.',
  },
  'bad-response': {
    vi: 'Nguồn định danh trả về thông tin không hợp lệ (chữ ký hoặc nội dung không đúng), nên nixa không thể tin cậy.',
    en: 'The identity source sent an answer nixa cannot trust (its signature or content is invalid).',
  },
  'missing-claims': {
    vi: 'Nguồn định danh không cung cấp đủ thông tin cần thiết để đăng nhập.',
    en: 'The identity source did not provide the information needed to sign you in.',
  },
  'insufficient-level': {
    vi: 'Nguồn định danh này không xác nhận được mức độ đảm bảo mà dịch vụ cần, nên nixa không đăng nhập bạn bằng nguồn này. Chưa có thông tin nào được chia sẻ.',
    en: 'This identity source could not confirm the assurance level the service needs, so nixa did not sign you in with it. Nothing has been shared.',
  },
  'stale-authentication': {
    vi: 'Dịch vụ yêu cầu bạn xác thực lại ngay lúc này, nhưng nguồn định danh chỉ xác nhận một lần đăng nhập trước đó, nên nixa không dùng được. Hãy đăng xuất khỏi nguồn định danh rồi thử lại, hoặc chọn nguồn khác.',
    en: 'The service needs you to authenticate again now, but the identity source only confirmed an earlier sign-in, so nixa cannot use it. Sign out at the identity source and try again, or choose another source.',
  },
  'invalid-national-id': {
    vi: 'Số định danh cá nhân do nguồn định danh cung cấp không khớp với ngày sinh hoặc giới tính, nên nixa không thể dùng.',
    en: 'The personal identification number from the identity source does not match the birth date or gender, so nixa cannot use it.',
  },
  'link-conflict': {
    vi: 'Thông tin từ nguồn định danh này khác với thông tin đã được xác minh của bạn (ví dụ ngày sinh). Để bảo vệ bạn, nixa không liên kết. Hãy dùng nguồn khác hoặc liên hệ bộ phận hỗ trợ.',
    en: 'The details from this identity source differ from your verified details (for example your birth date). To protect you, nixa did not link them. Use another source or contact support.',
  },
  'not-linkable': {
    vi: 'Nguồn định danh này không xác minh số định danh cá nhân, nên không thể dùng để đăng nhập lần đầu. Hãy chọn nguồn khác.',
    en: 'This identity source does not verify the personal identification number, so it cannot be used for a first sign-in. Choose another source.',
  },
  'account-suspended': {
    vi: 'Tài khoản nixa của bạn đang bị tạm khóa, nên bạn không thể đăng nhập vào dịch vụ công bằng nixa. Chưa có thông tin nào được chia sẻ. Nếu bạn cho rằng đây là nhầm lẫn, hãy liên hệ bộ phận hỗ trợ của nixa.',
    en: 'Your nixa account is suspended, so you cannot sign in to public services with nixa. Nothing has been shared. If you think this is a mistake, contact nixa support.',
  },
  // The citizen blocked this source themselves (/account): another source is the way in.
  'source-blocked': {
    vi: 'Bạn đã chặn nguồn định danh này cho tài khoản nixa của mình (ví dụ khi bị mất hoặc bị đổi SIM), nên nixa không đăng nhập bạn bằng nguồn này. Chưa có thông tin nào được chia sẻ. Hãy đăng nhập bằng một nguồn định danh khác. Nếu muốn dùng lại nguồn này, hãy đăng nhập bằng nguồn khác ở mức độ đảm bảo «đáng kể» trở lên rồi bỏ chặn tại trang Tài khoản của bạn (/account).',
    en: 'You blocked this identity source for your nixa account (for example after your SIM card was lost or swapped), so nixa does not sign you in with it. Nothing has been shared. Sign in with another identity source. To use this source again, sign in with another source at assurance level “substantial” or above and unblock it on your account page (/account).',
  },
};

/**
 * The failure for an error the source sent back to nixa's callback (RFC 6749
 * §4.1.2.1): the citizen cancelled, the source is down, or it refused nixa's
 * request (unknown client, scope, redirect URI…), which is nixa's configuration.
 */
export function authorizationFailure(error: string): FederationFailure {
  if (error === 'access_denied') return 'denied';
  if (error === 'server_error' || error === 'temporarily_unavailable') return 'source-unavailable';
  return 'source-refused';
}

/**
 * Failures another source cannot fix: every source leads to the same account, so
 * the page does not offer one.
 */
export const NO_OTHER_SOURCE: ReadonlySet<FederationFailure> = new Set(['account-suspended']);
