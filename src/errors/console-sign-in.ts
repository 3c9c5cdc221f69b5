// Why an operator's sign-in to the console (/console/login → nixa's /auth →
// /console/callback, console/sign-in.ts) did not end signed in: one stable code
// each (NIXA-CON-<reason>), the HTTP status of its page, its meaning for support
// staff (`nixa errors`, README) and the words the operator reads. No imports:
// errors/index.ts reads this table.

export type ConsoleSignInFailure = 'expired' | 'refused' | 'level' | 'invalid';

export const CONSOLE_SIGN_IN_PREFIX = 'NIXA-CON-';

export interface ConsoleSignInWords {
  status: number;
  /** For support staff and operators (`nixa errors`, README's table). */
  meaning: string;
  vi: string;
  en: string;
}

export const CONSOLE_SIGN_IN_FAILURES: Readonly<Record<ConsoleSignInFailure, ConsoleSignInWords>> = Object.freeze({
  expired: {
    status: 400,
    meaning: 'Console sign-in: no sign-in in progress in this browser (the callback opened a second time, the sign-in expired, its cookie was lost or altered, or it was started in another browser).',
    vi: 'Lượt đăng nhập này đã hết hạn hoặc không bắt đầu từ trình duyệt này. Bạn chưa được đăng nhập.',
    en: 'This sign-in has expired or was not started in this browser. You are not signed in.',
  },
  refused: {
    status: 400,
    meaning: 'Console sign-in: nixa’s authorization endpoint answered an OAuth error (access_denied, login_required, invalid_request…), shown on the page beside the code.',
    vi: 'nixa không hoàn tất đăng nhập. Bạn chưa được đăng nhập.',
    en: 'nixa did not complete the sign-in. You are not signed in.',
  },
  level: {
    status: 403,
    meaning: 'Console sign-in: the ID token’s acr is not level high, which the console needs.',
    vi: 'Bảng điều khiển cần đăng nhập ở mức độ đảm bảo cao (nguồn Căn cước công dân, hoặc khóa truy cập sau khi đăng nhập). Lần đăng nhập này chưa đạt mức đó.',
    en: 'The console needs a sign-in at assurance level high (the citizen-ID source, or a passkey after signing in). This sign-in did not reach it.',
  },
  invalid: {
    status: 400,
    meaning: 'Console sign-in: the callback did not verify (state, iss, code exchange, ID token signature or nonce); nothing was signed in.',
    vi: 'Không xác minh được kết quả đăng nhập từ nixa, nên bạn chưa được đăng nhập.',
    en: 'The sign-in result from nixa could not be verified, so you are not signed in.',
  },
});

/** The heading every console sign-in failure page has. */
export const CONSOLE_SIGN_IN_HEADING = { vi: 'Không đăng nhập được', en: 'Sign-in failed' } as const;
