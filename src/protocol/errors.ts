// Plain-words descriptions of the OAuth errors a citizen may see on an error page.
// The page never repeats the raw error_description, which can carry request input.
import { errorPageUrl, renderErrorPage, serviceLink, type ClientLike } from '../pages/index.js';

const MESSAGES: Record<string, { vi: string; en: string }> = {
  invalid_client: {
    vi: 'Dịch vụ yêu cầu đăng nhập không được nhận diện. Hãy quay lại trang của dịch vụ và thử lại.',
    en: 'The service that sent you here is not recognised. Go back to the service and try again.',
  },
  invalid_redirect_uri: {
    vi: 'Địa chỉ quay lại của dịch vụ không khớp với địa chỉ đã đăng ký, nên nixa không chuyển bạn về đó.',
    en: "The service's return address does not match the one it registered, so nixa will not send you there.",
  },
  invalid_request: {
    vi: 'Yêu cầu đăng nhập không hợp lệ. Hãy quay lại trang của dịch vụ và thử lại.',
    en: 'The sign-in request is not valid. Go back to the service and try again.',
  },
  // A pushed request (RFC 9126) is used once and lives a minute: Back, a reload or a slow tab meet this.
  invalid_request_uri: {
    vi: 'Liên kết đăng nhập này đã được dùng hoặc đã hết hạn. Hãy quay lại trang của dịch vụ và bắt đầu đăng nhập lại.',
    en: 'This sign-in link has already been used or has expired. Go back to the service and start signing in again.',
  },
  temporarily_unavailable: {
    vi: 'nixa tạm thời không xử lý được yêu cầu này. Hãy thử lại sau ít phút.',
    en: 'nixa is temporarily unable to handle this request. Please try again in a few minutes.',
  },
  // Also what going Back to a finished sign-in meets: its steps are gone.
  session_not_found: {
    vi: 'Lượt đăng nhập này đã kết thúc hoặc đã hết hạn. Nếu bạn vừa đăng nhập xong, hãy quay lại trang của dịch vụ; nếu chưa, hãy bắt đầu lại từ trang của dịch vụ.',
    en: 'This sign-in is over or has expired. If you have just signed in, go back to the service; if not, start again from the service.',
  },
};

const FALLBACK = {
  vi: 'nixa không thể hoàn tất yêu cầu này. Hãy quay lại trang của dịch vụ và thử lại.',
  en: 'nixa could not complete this request. Go back to the service and try again.',
};

export function describeError(error: string): { vi: string; en: string } {
  return MESSAGES[error] ?? FALLBACK;
}

/**
 * The OAuth errors oidc-provider may render as a page (RFC 6749, OIDC Core and the
 * extensions it implements): the codes GET /error/<code> shows again. Any other
 * code there is not found, so that no one can put words of their own on a nixa page.
 */
export const PAGE_ERRORS: ReadonlySet<string> = new Set([
  'access_denied', 'consent_required', 'interaction_required', 'invalid_authorization_details', 'invalid_client',
  'invalid_client_metadata', 'invalid_dpop_proof', 'invalid_grant', 'invalid_redirect_uri', 'invalid_request',
  'invalid_request_object', 'invalid_request_uri', 'invalid_scope', 'invalid_target', 'invalid_token', 'login_required',
  'registration_not_supported', 'request_not_supported', 'request_uri_not_supported', 'server_error', 'session_not_found',
  'temporarily_unavailable', 'unauthorized_client', 'unmet_authentication_requirements', 'unsupported_response_mode',
  'unsupported_response_type', 'use_dpop_nonce',
]);

/** Errors that say the service or its return address cannot be trusted: the page offers nixa's home, never the service. */
const UNTRUSTED_SERVICE: ReadonlySet<string> = new Set(['invalid_client', 'invalid_redirect_uri']);

/** The HTTP status of an error's page shown again (oidc-provider's own for the same code). */
export function pageErrorStatus(error: string): number {
  return error === 'server_error' ? 500 : error === 'temporarily_unavailable' ? 503 : error === 'invalid_token' ? 401 : 400;
}

/**
 * The page for an OAuth error shown in the browser (at /auth, /session/end), and
 * the URL that shows it again: back to the service when it is registered and
 * trusted, else to nixa's home.
 */
export function oauthErrorPage(error: string, client: ClientLike | undefined): { html: string; again: string } {
  const trusted = UNTRUSTED_SERVICE.has(error) ? undefined : client;
  const service = serviceLink(trusted);
  const html = renderErrorPage({
    view: 'error',
    code: error,
    heading: { vi: 'Đã có lỗi xảy ra', en: 'Something went wrong' },
    message: describeError(error),
    ways: service ? [{ to: 'service', service }, { to: 'home' }] : [{ to: 'home' }],
  });
  return { html, again: errorPageUrl(error, { client: service ? trusted!.clientId : undefined }) };
}
