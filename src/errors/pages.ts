// What a citizen reads when one of nixa's own errors reaches a browser: a heading
// and a message in plain words, chosen by the error's code alone (never from its
// message, which is written for operators and may repeat request input), so that
// the page can be shown again from its code (GET /error/<code>).
import { ACCOUNT_SIGN_IN_FAILURES, ACCOUNT_SIGN_IN_HEADING, ACCOUNT_SIGN_IN_PREFIX } from './account-sign-in.js';

export interface PageWords {
  status: number;
  heading: { vi: string; en: string };
  message: { vi: string; en: string };
}

const SOMETHING_WRONG = { vi: 'Đã có lỗi xảy ra', en: 'Something went wrong' };

const NOT_VALID = {
  vi: 'Yêu cầu không hợp lệ hoặc phiên đăng nhập đã hết hạn. Hãy quay lại trang của dịch vụ và thử lại.',
  en: 'The request is not valid, or the session has expired. Go back to the service and try again.',
};

const UNAVAILABLE = {
  vi: 'nixa tạm thời không xử lý được yêu cầu này. Hãy thử lại sau ít phút.',
  en: 'nixa could not complete this request. Please try again in a few minutes.',
};

/** By code: each NixaError a browser can meet (src/errors/index.ts), with its HTTP status. */
export const NIXA_PAGE_WORDS: Readonly<Record<string, PageWords>> = Object.freeze({
  'NIXA-NTF-001': {
    status: 404,
    heading: { vi: 'Không tìm thấy trang', en: 'Page not found' },
    message: {
      vi: 'Không có trang nào của nixa ở địa chỉ này. Có thể đường dẫn bị gõ sai hoặc đã cũ.',
      en: 'There is no nixa page at this address. The link may be mistyped or out of date.',
    },
  },
  'NIXA-CSRF-001': {
    status: 403,
    heading: SOMETHING_WRONG,
    message: {
      vi: 'Biểu mẫu này được gửi từ một trang web khác, nên nixa không làm gì với nó.',
      en: 'This form was sent from another site, so nixa did nothing with it.',
    },
  },
  'NIXA-INP-001': { status: 400, heading: SOMETHING_WRONG, message: NOT_VALID },
  'NIXA-STA-001': { status: 409, heading: SOMETHING_WRONG, message: NOT_VALID },
  'NIXA-CNF-001': { status: 412, heading: SOMETHING_WRONG, message: NOT_VALID },
  'NIXA-CNF-002': { status: 428, heading: SOMETHING_WRONG, message: NOT_VALID },
  'NIXA-AUTH-001': { status: 401, heading: SOMETHING_WRONG, message: NOT_VALID },
  'NIXA-AUTH-002': { status: 403, heading: SOMETHING_WRONG, message: NOT_VALID },
  'NIXA-DB-001': { status: 503, heading: SOMETHING_WRONG, message: UNAVAILABLE },
  'NIXA-DB-002': { status: 503, heading: SOMETHING_WRONG, message: UNAVAILABLE },
  'NIXA-KEY-001': { status: 500, heading: SOMETHING_WRONG, message: UNAVAILABLE },
  'NIXA-CFG-001': { status: 500, heading: SOMETHING_WRONG, message: UNAVAILABLE },
  // The account sign-in's failures: the page the callback shows, and the same again
  // at /error/NIXA-ACC-<reason> for the language switch.
  ...Object.fromEntries(
    Object.entries(ACCOUNT_SIGN_IN_FAILURES).map(([reason, f]) => [
      `${ACCOUNT_SIGN_IN_PREFIX}${reason}`,
      { status: f.status, heading: ACCOUNT_SIGN_IN_HEADING, message: { vi: f.vi, en: f.en } },
    ]),
  ),
});

/** The words for a status when the code has none of its own (an unexpected error, a library's). */
export function wordsForStatus(status: number): PageWords {
  return { status, heading: SOMETHING_WRONG, message: status < 500 ? NOT_VALID : UNAVAILABLE };
}

/**
 * The journey's own form problems (InvalidInputError), by field: plain words for
 * the citizen, and the problem exactly as the error states it (shown as the
 * page's technical detail). Keyed by field so that the page can be shown again
 * from the field alone; an error whose message is not the one here gets the
 * general words, without detail.
 */
export const INPUT_PROBLEMS: Readonly<Record<string, { problem: string; vi: string; en: string }>> = Object.freeze({
  csrf: {
    problem: 'the form expired or did not come from nixa; reload the page and try again',
    vi: 'Biểu mẫu đã hết hạn hoặc không phải do nixa gửi, nên nixa không làm gì với nó. Hãy tải lại trang và thử lại.',
    en: 'The form expired or did not come from nixa, so nixa did nothing with it. Reload the page and try again.',
  },
  source: {
    problem: 'is not one of the sources offered for this sign-in',
    vi: 'Nguồn định danh đã chọn không có trong danh sách của lượt đăng nhập này. Hãy chọn lại từ danh sách.',
    en: 'The identity source chosen is not one offered for this sign-in. Choose again from the list.',
  },
  uid: {
    problem: 'does not match this browser’s sign-in',
    vi: 'Trang này thuộc về một lượt đăng nhập khác trong trình duyệt này. Hãy quay lại trang của dịch vụ và bắt đầu lại.',
    en: 'This page belongs to another sign-in in this browser. Go back to the service and start again.',
  },
});

/** The field of an input error whose words INPUT_PROBLEMS has, or undefined. */
export function knownInputProblem(field: string, message: string): string | undefined {
  return Object.hasOwn(INPUT_PROBLEMS, field) && message === `${field}: ${INPUT_PROBLEMS[field]!.problem}` ? field : undefined;
}
