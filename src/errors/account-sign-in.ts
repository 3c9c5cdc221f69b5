// Why a citizen's sign-in to their own account (/account/sign-in → nixa's /auth
// → /account/callback, my-account/sign-in.ts) did not end signed in: one stable
// code each (NIXA-ACC-<reason>), the HTTP status of its page, its meaning for
// support staff (`nixa errors`, README) and the words the citizen reads. No
// imports: errors/index.ts and errors/pages.ts both read this table.

export type AccountSignInFailure =
  | 'expired'
  | 'state-mismatch'
  | 'cancelled'
  | 'login-required'
  | 'refused'
  | 'issuer-unavailable'
  | 'token-exchange'
  | 'account-mismatch'
  | 'insufficient-level';

export const ACCOUNT_SIGN_IN_PREFIX = 'NIXA-ACC-';

export interface AccountSignInWords {
  status: number;
  /** For support staff and operators (`nixa errors`, README's table). */
  meaning: string;
  vi: string;
  en: string;
}

export const ACCOUNT_SIGN_IN_FAILURES: Readonly<Record<AccountSignInFailure, AccountSignInWords>> = Object.freeze({
  expired: {
    status: 400,
    meaning:
      'Account sign-in: no sign-in in progress in this browser (the callback opened a second time, the ten-minute sign-in expired, its cookie was lost or altered, or it was started in another browser).',
    vi: 'Lượt đăng nhập này đã hết hạn, đã được dùng, hoặc không bắt đầu từ trình duyệt này, nên bạn chưa được đăng nhập. Hãy đăng nhập lại.',
    en: 'This sign-in has expired, was already used, or was not started in this browser, so you are not signed in. Please sign in again.',
  },
  'state-mismatch': {
    status: 400,
    meaning: 'Account sign-in: the callback’s state is not the one this browser started (a link from elsewhere, or a sign-in crossed with another tab); refused.',
    vi: 'Kết quả đăng nhập này không khớp với lượt đăng nhập bạn đã bắt đầu trên trình duyệt này (có thể do một liên kết lạ, hoặc bạn đã bắt đầu đăng nhập ở một thẻ khác). Để bảo vệ bạn, nixa đã từ chối nó. Hãy đăng nhập lại.',
    en: 'This sign-in result does not match the sign-in you started in this browser (perhaps a link from elsewhere, or a sign-in started in another tab). To protect you, nixa refused it. Please sign in again.',
  },
  cancelled: {
    status: 400,
    meaning: 'Account sign-in: the citizen cancelled (nixa’s authorization endpoint answered access_denied).',
    vi: 'Bạn đã hủy đăng nhập, nên bạn chưa được đăng nhập vào tài khoản nixa. Bạn có thể đăng nhập lại bất cứ lúc nào.',
    en: 'You cancelled the sign-in, so you are not signed in to your nixa account. You can sign in again at any time.',
  },
  'login-required': {
    status: 400,
    meaning: 'Account sign-in: nixa’s authorization endpoint answered login_required, interaction_required or consent_required (it needed the citizen and could not ask).',
    vi: 'nixa cần bạn đăng nhập nhưng chưa thể hỏi bạn trong lượt này, nên bạn chưa được đăng nhập. Hãy đăng nhập lại.',
    en: 'nixa needed you to sign in but could not ask you this time, so you are not signed in. Please sign in again.',
  },
  refused: {
    status: 502,
    meaning: 'Account sign-in: nixa’s authorization endpoint refused the account’s request with another OAuth error (invalid_request, invalid_scope, unauthorized_client…): nixa’s configuration, not the citizen.',
    vi: 'Dịch vụ đăng nhập của nixa đã từ chối yêu cầu đăng nhập vào tài khoản. Đây là lỗi phía nixa, không phải do bạn. Hãy đăng nhập lại; nếu vẫn không được, hãy thử lại sau.',
    en: 'nixa’s sign-in service refused the request to sign in to your account. This is a problem at nixa, not something you did. Please sign in again; if it still fails, try again later.',
  },
  'issuer-unavailable': {
    status: 503,
    meaning:
      'Account sign-in: nixa could not reach its own sign-in service (discovery failed, or the authorization endpoint answered server_error or temporarily_unavailable); try again in a few minutes.',
    vi: 'Dịch vụ đăng nhập của nixa tạm thời không phản hồi, nên bạn chưa được đăng nhập. Hãy thử lại sau ít phút.',
    en: 'nixa’s sign-in service is not answering at the moment, so you are not signed in. Please try again in a few minutes.',
  },
  'token-exchange': {
    status: 502,
    meaning: 'Account sign-in: exchanging the authorization code failed (token endpoint unreachable, invalid_grant) or the ID token did not verify; nothing was signed in.',
    vi: 'Không xác minh được kết quả đăng nhập với dịch vụ đăng nhập của nixa, nên bạn chưa được đăng nhập. Hãy đăng nhập lại.',
    en: 'The sign-in result could not be verified with nixa’s sign-in service, so you are not signed in. Please sign in again.',
  },
  'account-mismatch': {
    status: 400,
    meaning: 'Account sign-in: the ID token names another account than this browser’s nixa session (or the session is gone); refused.',
    vi: 'Kết quả đăng nhập không khớp với phiên đăng nhập nixa trên trình duyệt này (có thể bạn đã đăng nhập bằng tài khoản khác ở một thẻ khác, hoặc phiên đã kết thúc). Để bảo vệ bạn, nixa đã từ chối nó. Hãy đăng nhập lại.',
    en: 'The sign-in result does not match the nixa session in this browser (perhaps another account signed in in another tab, or the session ended). To protect you, nixa refused it. Please sign in again.',
  },
  'insufficient-level': {
    status: 403,
    meaning: 'Account sign-in: the sign-in reached a lower assurance level than the account action asked for.',
    vi: 'Lần đăng nhập này chưa đạt mức độ đảm bảo cần cho việc bạn muốn làm. Hãy đăng nhập lại bằng một nguồn định danh xác nhận được mức đó.',
    en: 'This sign-in did not reach the assurance level needed for what you wanted to do. Sign in again with an identity source that can confirm that level.',
  },
});

/** The heading every account sign-in failure page has. */
export const ACCOUNT_SIGN_IN_HEADING = { vi: 'Chưa đăng nhập được', en: 'You are not signed in' } as const;

/**
 * The failure for an error nixa's authorization endpoint sent back to the
 * account's callback (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
 */
export function accountAuthorizationFailure(error: string): AccountSignInFailure {
  if (error === 'access_denied') return 'cancelled';
  if (error === 'login_required' || error === 'interaction_required' || error === 'consent_required') return 'login-required';
  if (error === 'server_error' || error === 'temporarily_unavailable') return 'issuer-unavailable';
  return 'refused';
}
