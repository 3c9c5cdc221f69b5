// The citizen's own page, /account: the second factors the account holds, and
// adding an authenticator app (QR code, first code, then ten recovery codes shown
// once). It lives outside oidc-provider's routes and finds nixa's sign-in session
// through the provider's session cookie, signed with the same keys as every
// cookie of the Koa app (see app/provider-host.ts).
//
//   GET  /account                 the factors, and "set up an authenticator app" when the session allows
//   POST /account/totp            start an enrolment: QR code, secret, code field
//   POST /account/totp/confirm    first code → the app is the account's; ten recovery codes, once
//
// Every POST carries a CSRF token bound to the session; every answer is no-store.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

import { accountClaims, type AccountsContext } from '../accounts/index.js';
import { atLeast, levelOfAcr, type Level } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';
import {
  confirmTotpEnrolment,
  groupSecret,
  issueRecoveryCodes,
  listFactors,
  startTotpEnrolment,
  TOTP_SETTINGS,
  type FactorsContext,
} from '../factors/index.js';
import { checkCsrf, csrfToken } from '../interactions/csrf.js';
import type { KeyRing } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { escapeHtml, renderPage } from '../pages/index.js';
import type { Queryable } from '../storage/index.js';

export const ACCOUNT_PATH = '/account';

/** oidc-provider's session cookie (its default name, which nixa does not change). */
const SESSION_COOKIE = '_session';

/** A session must stand at least here to add a factor (a factor is worth no more than the session that enrolled it). */
export const ENROLMENT_LEVEL: Level = 'substantial';

export interface AccountDeps {
  accounts: AccountsContext;
  keyring: KeyRing;
  logger: Logger;
  provider: () => Provider;
}

export interface CitizenSession {
  /** The session cookie's value: CSRF tokens of /account are bound to it. */
  id: string;
  accountId: string;
  /** The session's level (from its acr); low when the acr is not one of nixa's levels. */
  level: Level;
  amr: string[];
}

/** The nixa sign-in session of this browser, if any. */
export async function citizenSession(deps: AccountDeps, ctx: Context): Promise<CitizenSession | undefined> {
  const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (!id) return undefined;
  const session = await deps.provider().Session.find(id);
  if (!session?.accountId) return undefined;
  return { id, accountId: session.accountId, level: levelOfAcr(session.acr ?? '') ?? 'low', amr: session.amr ?? [] };
}

const factorsOf = (deps: AccountDeps): FactorsContext => ({ db: deps.accounts.db, cipher: deps.accounts.cipher });
const csrfFor = (deps: AccountDeps, s: CitizenSession) => csrfToken(deps.keyring.snapshot.cookieKeys, `account:${s.id}`);

const LEVEL_WORDS: Record<Level, { vi: string; en: string }> = {
  low: { vi: 'thấp', en: 'low' },
  substantial: { vi: 'đáng kể', en: 'substantial' },
  high: { vi: 'cao', en: 'high' },
};

const notice = (role: 'status' | 'alert', vi: string, en: string) =>
  `<div class="notice" role="${role}"><p>${escapeHtml(vi)}</p><p lang="en">${escapeHtml(en)}</p></div>`;

const dateVi = (d: Date) => d.toISOString().slice(0, 10);

/** What the authenticator app is called in the citizen's app: their name, never an ID number. */
async function appLabel(deps: AccountDeps, accountId: string): Promise<string> {
  const name = (await accountClaims(deps.accounts, accountId)).name;
  return typeof name === 'string' && name && !/[\p{Cc}:]/u.test(name) && !/\d{9,}/.test(name) ? name.slice(0, 64) : 'Tài khoản nixa';
}

function html(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

async function showAccount(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  const f = await listFactors(factorsOf(deps), s.accountId);
  const level = LEVEL_WORDS[s.level];
  let app: string;
  if (f.totp) {
    app = `<p>Ứng dụng xác thực: <strong>${escapeHtml(f.totp.label)}</strong>, thiết lập ngày ${dateVi(f.totp.enrolledAt)}. <span lang="en">(Authenticator app: ${escapeHtml(f.totp.label)}, set up on ${dateVi(f.totp.enrolledAt)}.)</span></p>
      <p>Mã khôi phục còn lại: ${f.recoveryCodesLeft} <span lang="en">(Recovery codes left: ${f.recoveryCodesLeft})</span></p>`;
  } else if (atLeast(s.level, ENROLMENT_LEVEL)) {
    app = `<p>Bạn chưa có ứng dụng xác thực. <span lang="en">(You have no authenticator app yet.)</span></p>
      <form method="post" action="${ACCOUNT_PATH}/totp">
        <input type="hidden" name="csrf" value="${escapeHtml(csrfFor(deps, s))}">
        <button type="submit">Thiết lập ứng dụng xác thực <span lang="en">(Set up an authenticator app)</span></button>
      </form>`;
  } else {
    app = notice(
      'status',
      `Để thiết lập ứng dụng xác thực, hãy đăng nhập với mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên (ví dụ qua ứng dụng định danh điện tử). Lần đăng nhập hiện tại ở mức «${level.vi}».`,
      `To set up an authenticator app, sign in at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above (for example through the citizen ID app). This sign-in is at “${level.en}”.`,
    );
  }
  html(ctx, 200, renderPage('account', { title: 'Tài khoản của bạn', levelVi: level.vi, levelEn: level.en, app }));
}

/** The page asking for the app's first code; the QR code and secret only right after starting. */
function enrolmentPage(
  deps: AccountDeps,
  s: CitizenSession,
  factorId: string,
  o: { qrDataUri?: string; secret?: string; error?: string },
): string {
  const setup =
    o.qrDataUri && o.secret
      ? `<ol>
        <li>Mở ứng dụng xác thực trên điện thoại và quét mã QR này. <span lang="en">(Open the authenticator app on your phone and scan this QR code.)</span>
          <p><img class="qr" src="${escapeHtml(o.qrDataUri)}" alt="Mã QR để thêm nixa vào ứng dụng xác thực (Authenticator QR code for nixa)" width="220" height="220"></p></li>
        <li>Không quét được? Nhập khóa này vào ứng dụng: <span lang="en">(Cannot scan? Type this key into the app:)</span>
          <p><code class="secret">${escapeHtml(groupSecret(o.secret))}</code></p></li>
        <li>Nhập mã gồm ${TOTP_SETTINGS.digits} chữ số mà ứng dụng hiển thị. <span lang="en">(Enter the ${TOTP_SETTINGS.digits}-digit code the app shows.)</span></li>
      </ol>`
      : '';
  return renderPage('account-totp', {
    title: 'Thiết lập ứng dụng xác thực',
    setup,
    error: o.error ?? '',
    csrf: csrfFor(deps, s),
    factorId,
    minutes: Math.round(TOTP_SETTINGS.enrolmentSeconds / 60),
  });
}

/** Whether the session may add a factor; if not, answers with a page saying why. */
function mayEnrol(ctx: Context, s: CitizenSession): boolean {
  if (atLeast(s.level, ENROLMENT_LEVEL)) return true;
  html(
    ctx,
    403,
    renderPage('account-refused', {
      title: 'Chưa thể thiết lập',
      notice: notice(
        'alert',
        `Chỉ có thể thiết lập ứng dụng xác thực sau khi đăng nhập ở mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên.`,
        `An authenticator app can be set up only after signing in at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above.`,
      ),
    }),
  );
  return false;
}

async function startEnrolment(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  if (!mayEnrol(ctx, s)) return;
  // The session's level is stored with the app: it will never vouch above it.
  const e = await startTotpEnrolment(factorsOf(deps), s.accountId, await appLabel(deps, s.accountId), new Date(), s.level);
  html(ctx, 200, enrolmentPage(deps, s, e.factorId, { qrDataUri: e.qrDataUri, secret: e.secret }));
}

const CONFIRM_FAILURES = {
  malformed: { vi: 'Mã gồm 6 chữ số. Hãy nhập lại.', en: 'The code has 6 digits. Please type it again.' },
  'wrong-code': {
    vi: 'Mã không đúng. Hãy nhập mã mới nhất mà ứng dụng đang hiển thị, và kiểm tra đồng hồ của điện thoại.',
    en: 'That code is not right. Enter the latest code the app shows, and check your phone’s clock.',
  },
  expired: { vi: 'Đã quá thời gian thiết lập. Hãy bắt đầu lại.', en: 'The set-up took too long. Please start again.' },
  'not-found': { vi: 'Không tìm thấy lần thiết lập này. Hãy bắt đầu lại.', en: 'This set-up was not found. Please start again.' },
} as const;

async function confirmEnrolment(deps: AccountDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>): Promise<void> {
  if (!mayEnrol(ctx, s)) return;
  const factorId = String(body.factorId ?? '');
  if (!/^[0-9a-f-]{36}$/.test(factorId)) throw new InvalidInputError('factorId', 'is not an enrolment of this account');
  const code = String(body.code ?? '').slice(0, 32);
  const r = await confirmTotpEnrolment(factorsOf(deps), s.accountId, factorId, code);
  if (!r.ok) {
    const m = CONFIRM_FAILURES[r.reason];
    if (r.reason === 'expired' || r.reason === 'not-found') {
      html(ctx, 400, renderPage('account-refused', { title: 'Chưa thiết lập được', notice: `${notice('alert', m.vi, m.en)}<p><a href="${ACCOUNT_PATH}">Quay lại tài khoản <span lang="en">(Back to your account)</span></a></p>` }));
      return;
    }
    html(ctx, 400, enrolmentPage(deps, s, factorId, { error: notice('alert', m.vi, m.en) }));
    return;
  }
  const codes = await issueRecoveryCodes(factorsOf(deps), s.accountId);
  deps.logger.info({ account: s.accountId, level: s.level }, 'authenticator app enrolled');
  html(
    ctx,
    200,
    renderPage('account-recovery-codes', {
      title: 'Mã khôi phục',
      codes: codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('\n'),
    }),
  );
}

function signedOut(ctx: Context): void {
  html(ctx, 401, renderPage('account-signed-out', { title: 'Tài khoản của bạn' }));
}

/** The /account pages. */
export function accountRoutes(deps: AccountDeps) {
  return async function account(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== ACCOUNT_PATH && !ctx.path.startsWith(`${ACCOUNT_PATH}/`)) return next();
    const route = `${ctx.method} ${ctx.path.slice(ACCOUNT_PATH.length)}`;
    if (!['GET ', 'HEAD ', 'POST /totp', 'POST /totp/confirm'].includes(route)) return next();
    ctx.set('Cache-Control', 'no-store');
    const s = await citizenSession(deps, ctx);
    if (!s) return signedOut(ctx);
    if (route === 'GET ' || route === 'HEAD ') return showAccount(deps, ctx, s);
    const body = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
    checkCsrf(deps.keyring.snapshot.cookieKeys, `account:${s.id}`, body.csrf);
    if (route === 'POST /totp') return startEnrolment(deps, ctx, s);
    return confirmEnrolment(deps, ctx, s, body);
  };
}
