// Plain-words descriptions of the OAuth errors a citizen may see on an error page.
// The page never repeats the raw error_description, which can carry request input.
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
  temporarily_unavailable: {
    vi: 'nixa tạm thời không xử lý được yêu cầu này. Hãy thử lại sau ít phút.',
    en: 'nixa is temporarily unable to handle this request. Please try again in a few minutes.',
  },
  session_not_found: {
    vi: 'Phiên đăng nhập đã hết hạn hoặc không tìm thấy. Hãy bắt đầu lại từ trang của dịch vụ.',
    en: 'Your sign-in session expired or was not found. Start again from the service.',
  },
};

const FALLBACK = {
  vi: 'nixa không thể hoàn tất yêu cầu này. Hãy quay lại trang của dịch vụ và thử lại.',
  en: 'nixa could not complete this request. Go back to the service and try again.',
};

export function describeError(error: string): { vi: string; en: string } {
  return MESSAGES[error] ?? FALLBACK;
}
