// The citizen's own page, /account: the second factors the account holds —
// passkeys (passkeys.ts), an authenticator app with its recovery codes — and the
// ways to add, replace and remove them; and the services the citizen shares
// information with, each consent withdrawable (consents.ts). It lives outside oidc-provider's routes
// and finds nixa's sign-in session through the provider's session cookie, signed
// with the same keys as every cookie of the Koa app (see app/provider-host.ts).
//
//   GET  /account                       the factors, and what this session may do with them
//   POST /account/totp                  start an app enrolment: QR code, secret, code field
//   POST /account/totp/confirm          first code → the app is the account's; ten recovery codes, once
//   POST /account/totp/remove           remove the app (and its recovery codes)
//   POST /account/recovery-codes        a new set of ten, shown once; the old set stops working
//   POST /account/passkeys…             see passkeys.ts
//   POST /account/phones…               bind this phone, remove one: see phones.ts
//   POST /account/consents/:id/withdraw see consents.ts
//   GET  /account/activity…             the history, "this wasn't me": see activity.ts
//   POST /account/sessions/end          end all my sessions: see sessions.ts
//   POST /account/sources/:id/block…    block or unblock a source, the source shown first: see control.ts
//   GET  /account/helpers               let someone act for you; whom you let, who asked you: see helpers.ts
//   POST /account/helpers[/:id/revoke]  authorise (at DELEGATION_LEVEL), revoke (either person, any level)
//
// Every POST carries a CSRF token bound to the session; every answer is no-store.
// Adding, removing or replacing a factor needs a session at ENROLMENT_LEVEL;
// withdrawing a consent needs none (it only takes away).
import type { Context, Next } from 'koa';

import { atLeast } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';
import {
  confirmTotpEnrolment,
  groupSecret,
  issueRecoveryCodes,
  listFactors,
  removeTotp,
  startTotpEnrolment,
  TOTP_SETTINGS,
} from '../factors/index.js';
import { checkCsrf } from '../interactions/csrf.js';
import { termsExplained, unreachableLevelAdvice } from '../interactions/level-advice.js';
import { escapeHtml, renderPage } from '../pages/index.js';
import { activityRoute } from './activity.js';
import { consentsSection, withdrawConsent } from './consents.js';
import { controlRoute, controlSection, handleControl, type ControlDeps } from './control.js';
import { showNotices } from './notices.js';
import { addPasskey, changePasskey, displayName, passkeysSection, registrationOptions } from './passkeys.js';
import { helpersRoute, helpersSection } from './helpers.js';
import { organisationsSection } from './organisations.js';
import { bindPhone, phoneBindingOptions, phonesSection, removePhone } from './phones.js';
import { ACCOUNT_CALLBACK_PATH, signInHref, SIGN_IN_PATH } from './sign-in.js';
import {
  ACCOUNT_PATH,
  citizenSession,
  csrfFor,
  dateVi,
  ENROLMENT_LEVEL,
  factorsOf,
  html,
  LEVEL_WORDS,
  mayChangeFactors,
  notice,
  raiseLevel,
  refused,
  type AccountDeps,
  type CitizenSession,
} from './session.js';

export { ACCOUNT_PATH, citizenSession, ENROLMENT_LEVEL, type AccountDeps, type CitizenSession } from './session.js';
export { AccountSignIn, accountClient, registerAccountClient, signInHref, SIGN_IN_PATH, ACCOUNT_CLIENT_ID, type AccountClient } from './sign-in.js';

async function appSection(deps: AccountDeps, s: CitizenSession): Promise<string> {
  const f = await listFactors(factorsOf(deps), s.accountId);
  const csrf = escapeHtml(csrfFor(deps, s));
  const canChange = atLeast(s.level, ENROLMENT_LEVEL);
  if (f.totp) {
    const manage = canChange
      ? `<form method="post" action="${ACCOUNT_PATH}/recovery-codes" class="inline">
          <input type="hidden" name="csrf" value="${csrf}">
          <button type="submit" class="secondary">Tạo bộ mã khôi phục mới <span lang="en">(Issue new recovery codes)</span></button>
        </form>
        <form method="post" action="${ACCOUNT_PATH}/totp/remove" class="inline">
          <input type="hidden" name="csrf" value="${csrf}">
          <button type="submit" class="secondary">Gỡ ứng dụng xác thực <span lang="en">(Remove the authenticator app)</span></button>
        </form>`
      : '';
    return `<p>Ứng dụng xác thực: <strong>${escapeHtml(f.totp.label)}</strong>, thiết lập ngày ${dateVi(f.totp.enrolledAt)}. <span lang="en">(Authenticator app: ${escapeHtml(f.totp.label)}, set up on ${dateVi(f.totp.enrolledAt)}.)</span></p>
      <p>Mã khôi phục còn lại: ${f.recoveryCodesLeft} <span lang="en">(Recovery codes left: ${f.recoveryCodesLeft})</span></p>
      ${manage}`;
  }
  if (canChange) {
    return `<p>Bạn chưa có ứng dụng xác thực. <span lang="en">(You have no authenticator app yet.)</span></p>
      <form method="post" action="${ACCOUNT_PATH}/totp">
        <input type="hidden" name="csrf" value="${csrf}">
        <button type="submit">Thiết lập ứng dụng xác thực <span lang="en">(Set up an authenticator app)</span></button>
      </form>`;
  }
  // An account whose sources all stop below the level can never get there by signing in again: say what can.
  const never = await unreachableLevelAdvice(deps.accounts, s.accountId, ENROLMENT_LEVEL, {
    vi: 'thêm khóa truy cập hoặc ứng dụng xác thực',
    en: 'add a passkey or an authenticator app',
  });
  if (never && deps.passkeys) {
    // Said in full once, in the passkeys section above.
    return `<p>Cũng như khóa truy cập: xem <a href="#passkeys-heading">cách đạt mức «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}»</a> ở trên. <span lang="en">(As for passkeys: see <a href="#passkeys-heading">how to reach level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}”</a> above.)</span></p>`;
  }
  if (never) return never;
  const level = LEVEL_WORDS[s.level];
  return notice(
    'status',
    `Để thiết lập ứng dụng xác thực, hãy đăng nhập với mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên (ví dụ qua ứng dụng định danh điện tử). Lần đăng nhập hiện tại ở mức «${level.vi}».`,
    `To set up an authenticator app, sign in at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above (for example through the citizen ID app). This sign-in is at “${level.en}”.`,
  );
}

/** The account page; `message` is the outcome of what the citizen just did. */
async function showAccount(
  deps: ControlDeps,
  ctx: Context,
  s: CitizenSession,
  message = '',
  passkeyMessage = '',
  consentMessage = '',
  phoneMessage = '',
): Promise<void> {
  const level = LEVEL_WORDS[s.level];
  const [passkeys, phones, app, consents, control, organisations, notices] = await Promise.all([
    passkeysSection(deps, s, passkeyMessage),
    phonesSection(deps, ctx, s, phoneMessage),
    appSection(deps, s),
    consentsSection(deps, s, consentMessage),
    controlSection(deps, ctx, s),
    organisationsSection(deps, s),
    // What changed since the citizen last looked (notices.ts), on a plain visit only.
    ctx.method === 'GET' && !message && !passkeyMessage && !consentMessage && !phoneMessage ? noticesFor(deps, ctx, s) : '',
  ]);
  html(
    ctx,
    ctx.status === 404 ? 200 : ctx.status,
    renderPage('account', {
      title: 'Tài khoản của bạn',
      levelVi: level.vi,
      levelEn: level.en,
      raise: raiseLevel(s),
      message,
      passkeys,
      phones,
      app,
      consents,
      control,
      organisations,
      helpers: helpersSection(),
      notices,
      csrf: csrfFor(deps, s),
      // "mức độ đảm bảo" and "nguồn định danh" appear on this page: say what they mean.
      terms: termsExplained(),
    }),
  );
}

/** The notices this session may see, consumed as far as it may (notice-policy.ts). */
const noticesFor = async (deps: ControlDeps, ctx: Context, s: CitizenSession) =>
  showNotices(deps, ctx, { accountId: s.accountId, session: await deps.provider().Session.find(s.id) }, { consume: true });

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

async function startEnrolment(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  if (!mayChangeFactors(ctx, s)) return;
  // The session's level is stored with the app: it will never vouch above it.
  const e = await startTotpEnrolment(factorsOf(deps), s.accountId, await displayName(deps, s.accountId), new Date(), s.level);
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

function recoveryCodesPage(ctx: Context, codes: string[], first: boolean): void {
  html(
    ctx,
    200,
    renderPage('account-recovery-codes', {
      title: 'Mã khôi phục',
      intro: first
        ? notice('status', 'Ứng dụng xác thực đã được thiết lập.', 'The authenticator app is set up.')
        : notice('status', 'Đã tạo bộ mã khôi phục mới. Các mã cũ không còn dùng được.', 'A new set of recovery codes was issued. The old codes no longer work.'),
      codes: codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('\n'),
    }),
  );
}

async function confirmEnrolment(deps: AccountDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>): Promise<void> {
  if (!mayChangeFactors(ctx, s)) return;
  const factorId = String(body.factorId ?? '');
  if (!/^[0-9a-f-]{36}$/.test(factorId)) throw new InvalidInputError('factorId', 'is not an enrolment of this account');
  const code = String(body.code ?? '').slice(0, 32);
  const r = await confirmTotpEnrolment(factorsOf(deps), s.accountId, factorId, code);
  if (!r.ok) {
    const m = CONFIRM_FAILURES[r.reason];
    if (r.reason === 'expired' || r.reason === 'not-found') return refused(ctx, 400, 'Chưa thiết lập được', notice('alert', m.vi, m.en));
    html(ctx, 400, enrolmentPage(deps, s, factorId, { error: notice('alert', m.vi, m.en) }));
    return;
  }
  const codes = await issueRecoveryCodes(factorsOf(deps), s.accountId);
  deps.logger.info({ account: s.accountId, level: s.level }, 'authenticator app enrolled');
  recoveryCodesPage(ctx, codes, true);
}

async function removeApp(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  if (!mayChangeFactors(ctx, s)) return;
  if (!(await removeTotp(factorsOf(deps), s.accountId))) {
    return refused(ctx, 404, 'Không tìm thấy', notice('alert', 'Tài khoản không có ứng dụng xác thực.', 'This account has no authenticator app.'));
  }
  deps.logger.info({ account: s.accountId }, 'authenticator app removed');
  await showAccount(
    deps,
    ctx,
    s,
    notice('status', 'Đã gỡ ứng dụng xác thực. Mã từ ứng dụng đó không còn dùng được.', 'The authenticator app was removed. Its codes no longer work.'),
  );
}

async function reissueRecoveryCodes(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  if (!mayChangeFactors(ctx, s)) return;
  // Recovery codes stand in for the app: without one they would be a factor on their own.
  if (!(await listFactors(factorsOf(deps), s.accountId)).totp) {
    return refused(ctx, 409, 'Chưa thể tạo mã', notice('alert', 'Hãy thiết lập ứng dụng xác thực trước.', 'Set up an authenticator app first.'));
  }
  recoveryCodesPage(ctx, await issueRecoveryCodes(factorsOf(deps), s.accountId), false);
}

/**
 * No nixa session in this browser: a page (GET) offers the sign-in to the
 * account, coming back to the page asked for; a form (POST) stays a 401 — a
 * form is never redirected, and nothing it asked is done.
 */
function signedOut(ctx: Context): void {
  const get = ctx.method === 'GET' || ctx.method === 'HEAD';
  html(ctx, get ? 200 : 401, renderPage('account-signed-out', { title: 'Tài khoản của bạn', signIn: signInHref(get ? { returnTo: ctx.path } : {}) }));
}

const PASSKEY_ROUTE = /^POST \/passkeys\/([^/]{1,64})\/(rename|remove)$/;
const PHONE_REMOVE_ROUTE = /^POST \/phones\/([^/]{1,64})\/remove$/;
// Any length and character here: consents.ts refuses what is not a client id, with a page.
const WITHDRAW_ROUTE = /^POST \/consents\/([^/]+)\/withdraw$/;
const ROUTES = ['GET ', 'HEAD ', 'POST /totp', 'POST /totp/confirm', 'POST /totp/remove', 'POST /recovery-codes', 'POST /passkeys/options', 'POST /passkeys', 'POST /phones/options', 'POST /phones'];

/** The /account pages. */
export function accountRoutes(deps: ControlDeps) {
  return async function account(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== ACCOUNT_PATH && !ctx.path.startsWith(`${ACCOUNT_PATH}/`)) return next();
    if (ctx.method === 'GET' && (ctx.path === SIGN_IN_PATH || ctx.path === ACCOUNT_CALLBACK_PATH)) {
      ctx.set('Cache-Control', 'no-store');
      if (ctx.path === SIGN_IN_PATH) return deps.signIn.start(ctx);
      return deps.signIn.callback(ctx, async () => (await citizenSession(deps, ctx))?.accountId);
    }
    const route = `${ctx.method} ${ctx.path.slice(ACCOUNT_PATH.length)}`;
    const passkeyChange = PASSKEY_ROUTE.exec(route);
    const phoneRemoval = PHONE_REMOVE_ROUTE.exec(route);
    const withdrawal = WITHDRAW_ROUTE.exec(route);
    const activity = activityRoute(route);
    const control = controlRoute(route);
    const helpers = helpersRoute(route);
    if (!ROUTES.includes(route) && !passkeyChange && !phoneRemoval && !withdrawal && !activity && !control && !helpers) return next();
    ctx.set('Cache-Control', 'no-store');
    const s = await citizenSession(deps, ctx);
    if (!s) return signedOut(ctx);
    if (route === 'GET ' || route === 'HEAD ') return showAccount(deps, ctx, s);
    if (activity && !activity.post) return activity.run(deps, ctx, s);
    if (helpers && !helpers.post) return helpers.run(deps, ctx, s, {});
    const body = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
    checkCsrf(deps.keyring.snapshot.cookieKeys, `account:${s.id}`, body.csrf);
    if (activity) return activity.run(deps, ctx, s);
    if (helpers) return helpers.run(deps, ctx, s, body);
    if (passkeyChange) {
      const message = await changePasskey(deps, ctx, s, passkeyChange[1]!, passkeyChange[2] as 'rename' | 'remove', body);
      return message === undefined ? undefined : showAccount(deps, ctx, s, '', message);
    }
    if (phoneRemoval) {
      const message = await removePhone(deps, ctx, s, phoneRemoval[1]!);
      return message === undefined ? undefined : showAccount(deps, ctx, s, '', '', '', message);
    }
    if (control) {
      const message = await handleControl(deps, ctx, s, control, body);
      return message === undefined ? undefined : showAccount(deps, ctx, s, message);
    }
    if (withdrawal) {
      const message = await withdrawConsent(deps, ctx, s, withdrawal[1]!);
      return message === undefined ? undefined : showAccount(deps, ctx, s, '', '', message);
    }
    switch (route) {
      case 'POST /totp':
        return startEnrolment(deps, ctx, s);
      case 'POST /totp/confirm':
        return confirmEnrolment(deps, ctx, s, body);
      case 'POST /totp/remove':
        return removeApp(deps, ctx, s);
      case 'POST /recovery-codes':
        return reissueRecoveryCodes(deps, ctx, s);
      case 'POST /passkeys/options':
        return registrationOptions(deps, ctx, s);
      case 'POST /phones/options':
        return phoneBindingOptions(deps, ctx, s);
      case 'POST /phones': {
        const message = await bindPhone(deps, ctx, s, body);
        return message === undefined ? undefined : showAccount(deps, ctx, s, '', '', '', message);
      }
      case 'POST /passkeys': {
        const message = await addPasskey(deps, ctx, s, body);
        return message === undefined ? undefined : showAccount(deps, ctx, s, '', message);
      }
    }
  };
}
