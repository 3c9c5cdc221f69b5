// Step 1d: signing in with the bound phone, on the computer's side (the phone's
// side is src/phone/routes.ts). The chooser's "Đăng nhập bằng điện thoại" makes a
// request and shows its QR code, short link and number; the page polls the status
// and, once the phone settled it, posts the finish form: an approval completes
// the login at the level the policy gives a bound phone, anything else is said
// in plain words with the ways on.
//
//   POST /interaction/:uid/phone          csrf → a new request; its handle in a cookie for this sign-in → 303 to the page
//   GET  /interaction/:uid/phone          the QR code, short link, number, and the finish form
//   GET  /interaction/:uid/phone/status   { state, settled } for the page's script
//   POST /interaction/:uid/phone/finish   csrf → the login, or why not
import type { Context } from 'koa';

import { proofingLevelOf } from '../accounts/index.js';
import { acrFor, atLeast, boundPhoneAssurance } from '../assurance/index.js';
import { appendAudit, coarseDevice } from '../audit/index.js';
import { InvalidInputError } from '../errors/index.js';
import { challengeBinding, startPasskeyAuthentication, verifyPasskeyAssertion } from '../factors/index.js';
import { qrSvg, svgDataUri } from '../factors/qr.js';
import { escapeHtml, formatDateTime, notice, renderPage } from '../pages/index.js';
import {
  CROSS_DEVICE_TTL_SECONDS,
  groupHandle,
  isSettled,
  PHONE_PATH,
  POLL_MILLISECONDS,
  problemWords,
  requestStatus,
  startRequest,
  takeApproval,
  thisPhone,
  type BoundPhone,
  type CrossDeviceDeps,
  type Problem,
} from '../phone/index.js';
import { requestedLevelOf } from '../protocol/index.js';
import { showChooser } from './chooser.js';
import { LEVEL_NAMES, termsExplained } from './level-advice.js';
import { termsWhereUsed } from '../pages/error-page.js';
import { rememberedGrant, sharingAsked } from './consent.js';
import { checkCsrf, csrfToken } from './csrf.js';
import type { JourneyDeps } from './journey.js';
import { factorsContext } from './step-up.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

/** The handle of this sign-in's request, kept in the computer's browser (it is on its screen anyway) for the page. */
const HANDLE_COOKIE = 'nixa_cross_device';

export const crossDeviceDeps = (deps: JourneyDeps): CrossDeviceDeps => ({
  db: deps.db,
  factors: factorsContext(deps),
  accounts: deps.accounts,
  policy: deps.config.assurance,
});

const path = (uid: string) => `/interaction/${encodeURIComponent(uid)}/phone`;

/**
 * The chooser's ways to a bound phone: on the phone itself, its passkey signs in
 * right here (a kiosk's device grant opened on the phone, or any service); on
 * any other screen, the QR code. Offered wherever passkeys are.
 */
export async function phoneSignInOffer(deps: JourneyDeps, ctx: Context, details: Details, error?: string): Promise<string> {
  if (!deps.config.passkeys) return '';
  const csrf = escapeHtml(csrfToken(deps.keyring.snapshot.cookieKeys, details.uid));
  const here = await thisPhone(ctx, deps.db);
  if (here) {
    return `<section class="phone-sign-in" aria-labelledby="phone-heading">
      <h2 id="phone-heading">Đăng nhập bằng điện thoại này <span lang="en">(Sign in with this phone)</span></h2>
      <p>Điện thoại này đã được liên kết với tài khoản nixa của bạn («${escapeHtml(here.name)}»): xác nhận bằng vân tay, khuôn mặt hoặc mã PIN. <span lang="en">(This phone is bound to your nixa account (“${escapeHtml(here.name)}”): confirm with fingerprint, face or PIN.)</span></p>
      ${error ?? ''}
      <div data-passkey="authenticate" data-options="${path(details.uid)}-here/options" hidden>
        <form method="post" action="${path(details.uid)}-here">
          <input type="hidden" name="csrf" value="${csrf}">
          <input type="hidden" name="response" value="">
          <button type="submit">Đăng nhập bằng điện thoại này <span lang="en">(Sign in with this phone)</span></button>
          <div class="notice" role="alert" data-passkey-error hidden></div>
        </form>
      </div>
      <script src="/assets/webauthn.js" defer></script>
      <script src="/assets/passkeys.js" defer></script>
    </section>`;
  }
  return `<section class="phone-sign-in" aria-labelledby="phone-heading">
      <h2 id="phone-heading">Đăng nhập bằng điện thoại <span lang="en">(Sign in with your phone)</span></h2>
      <p>Quét mã QR bằng điện thoại bạn đã liên kết với nixa, rồi xác nhận bằng vân tay, khuôn mặt hoặc mã PIN. <span lang="en">(Scan a QR code with the phone you bound to nixa, then confirm with fingerprint, face or PIN.)</span></p>
      <form method="post" action="${path(details.uid)}">
        <input type="hidden" name="csrf" value="${csrf}">
        <button type="submit" class="secondary">Đăng nhập bằng điện thoại <span lang="en">(Sign in with your phone)</span></button>
      </form>
    </section>`;
}

export async function startPhoneSignIn(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const { claims } = await sharingAsked(deps, details);
  const level = requestedLevelOf(details.params);
  const { handle } = await startRequest(crossDeviceDeps(deps), {
    interaction: details.uid,
    clientId: String(details.params.client_id),
    details: {
      device: coarseDevice(ctx.get('user-agent')),
      claims,
      ...(level ? { level } : {}),
      ...(details.session?.accountId ? { sessionAccount: details.session.accountId } : {}),
    },
  });
  ctx.cookies.set(HANDLE_COOKIE, handle, { signed: true, httpOnly: true, sameSite: 'strict', path: path(details.uid), maxAge: CROSS_DEVICE_TTL_SECONDS * 1000 });
  ctx.status = 303;
  ctx.redirect(path(details.uid));
}

export async function showPhoneSignIn(deps: JourneyDeps, ctx: Context, details: Details): Promise<void> {
  const handle = ctx.cookies.get(HANDLE_COOKIE, { signed: true });
  const r = await requestStatus(crossDeviceDeps(deps), details.uid);
  // No request, or not the one this browser made, or already settled: the outcome page offers a new code.
  if (!handle || !r || isSettled(r.state)) return finishPhoneSignIn(deps, ctx, details, undefined);
  const link = new URL(`${PHONE_PATH}/${handle}`, deps.config.issuer).href;
  const { clientName } = await sharingAsked(deps, details);
  const level = requestedLevelOf(details.params);
  ctx.type = 'html';
  ctx.body = renderPage('phone-wait', {
    title: 'Đăng nhập bằng điện thoại',
    uid: details.uid,
    csrf: csrfToken(deps.keyring.snapshot.cookieKeys, details.uid),
    clientName,
    levelVi: level ? ` Mức độ đảm bảo yêu cầu: ${LEVEL_NAMES[level].vi}.` : '',
    levelEn: level ? ` Assurance level asked: ${LEVEL_NAMES[level].en}.` : '',
    qr: svgDataUri(await qrSvg(link)),
    link,
    shortLink: `${new URL(deps.config.issuer).host}${PHONE_PATH}/${groupHandle(handle)}`,
    number: r.number,
    expiresAt: formatDateTime(r.expiresAt),
    expiresIso: r.expiresAt.toISOString(),
    interval: POLL_MILLISECONDS,
    // The page speaks of "nguồn định danh" (binding a phone) and may name a level: say what they mean.
    terms: termsExplained(),
  });
}

export async function phoneSignInStatus(deps: JourneyDeps, ctx: Context, details: Details): Promise<void> {
  const r = await requestStatus(crossDeviceDeps(deps), details.uid);
  ctx.type = 'json';
  ctx.body = r ? { state: r.state, settled: isSettled(r.state) } : { state: 'none', settled: true };
}

/**
 * The finish form (posted by the page's script, or by the citizen): the login if
 * the phone approved; otherwise back to the waiting page while it is still open,
 * or a page saying why it ended, with a new code and the other ways.
 */
export async function finishPhoneSignIn(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown> | undefined): Promise<void> {
  if (body) checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const taken = body ? await takeApproval(crossDeviceDeps(deps), details.uid) : { ok: false as const, request: await requestStatus(crossDeviceDeps(deps), details.uid) };
  if (taken.ok) {
    ctx.cookies.set(HANDLE_COOKIE, null, { path: path(details.uid) });
    const grantId = await rememberedGrant(deps, details, taken.accountId);
    deps.logger.info({ level: taken.level, client: details.params.client_id }, 'sign-in approved on a bound phone');
    await deps.provider().interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: taken.accountId, acr: acrFor(taken.level), amr: taken.amr, remember: true }, ...(grantId ? { consent: { grantId } } : {}) },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const r = taken.request;
  if (body && r && !isSettled(r.state)) {
    // Still waiting for the phone (the citizen pressed the button too soon).
    ctx.status = 303;
    return ctx.redirect(path(details.uid));
  }
  const problem: Problem | undefined = !r ? undefined : r.state === 'denied' ? (r.reason ?? 'citizen') : r.state === 'expired' ? 'expired' : r.state === 'finished' ? 'used' : undefined;
  const words = problem ? problemWords(problem) : { heading: { vi: 'Đăng nhập bằng điện thoại', en: 'Sign in with your phone' }, computer: { vi: 'Chưa có mã đăng nhập bằng điện thoại cho lần đăng nhập này.', en: 'There is no phone sign-in code for this sign-in yet.' } };
  const csrf = escapeHtml(csrfToken(deps.keyring.snapshot.cookieKeys, details.uid));
  ctx.status = problem && problem !== 'citizen' && problem !== 'expired' ? 403 : 200;
  ctx.type = 'html';
  ctx.body = renderPage('phone-message', {
    title: words.heading.vi,
    heading: words.heading.vi,
    headingEn: words.heading.en,
    notice: notice(problem ? 'alert' : 'status', words.computer.vi, words.computer.en),
    // "nguồn định danh" / "mức độ đảm bảo" explained where the words use them.
    terms: termsWhereUsed(words.heading.vi, words.computer.vi),
    actions: `<form method="post" action="${path(details.uid)}">
        <input type="hidden" name="csrf" value="${csrf}">
        <button type="submit">Tạo mã mới <span lang="en">(Make a new code)</span></button>
      </form>
      <p><a href="/interaction/${encodeURIComponent(details.uid)}">Chọn cách đăng nhập khác <span lang="en">(Choose another way to sign in)</span></a></p>`,
  });
}

// ── On the bound phone itself ────────────────────────────────────────────────
//
//   POST /interaction/:uid/phone-here/options   csrf → a challenge for this phone's passkey (user verification required)
//   POST /interaction/:uid/phone-here           csrf, response → the login at the bound-phone level

const hereBinding = (details: Details) => challengeBinding('interaction', `${details.uid}:phone-here`);

/** The bound phone this browser is, and whether it may sign this sign-in in; a refusal in words otherwise. */
async function phoneHere(deps: JourneyDeps, ctx: Context, details: Details): Promise<{ phone: BoundPhone } | { refusal: { vi: string; en: string } }> {
  const phone = await thisPhone(ctx, deps.db);
  if (!phone) throw new InvalidInputError('phone', 'this browser is not a bound phone');
  const sessionAccount = details.session?.accountId;
  if (sessionAccount && sessionAccount !== phone.accountId) {
    return { refusal: { vi: 'Điện thoại này được liên kết với một tài khoản khác với tài khoản đang đăng nhập.', en: 'This phone is bound to another account than the one signed in.' } };
  }
  const min = requestedLevelOf(details.params);
  const level = boundPhoneAssurance({ boundLevel: phone.boundLevel, proofingLevel: await proofingLevelOf(deps.accounts, phone.accountId) }, deps.config.assurance).level;
  if (min && !atLeast(level, min)) {
    return { refusal: { vi: 'Điện thoại này được liên kết ở mức độ đảm bảo thấp hơn mức dịch vụ cần. Hãy chọn một nguồn định danh bên dưới.', en: 'This phone was bound at a lower assurance level than the service needs. Choose an identity source below.' } };
  }
  return { phone };
}

export async function phoneHereOptions(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const here = await phoneHere(deps, ctx, details);
  if ('refusal' in here) {
    ctx.status = 403;
    ctx.body = { error: 'phone_not_allowed' };
    return;
  }
  ctx.body = await startPasskeyAuthentication(factorsContext(deps), {
    accountId: here.phone.accountId,
    binding: hereBinding(details),
    passkeyIds: [here.phone.passkeyId],
    userVerification: 'required',
  });
}

export async function submitPhoneHere(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const here = await phoneHere(deps, ctx, details);
  const refused = (words: { vi: string; en: string }, status: number) =>
    showChooser(deps, ctx, details, { phone: notice('alert', words.vi, words.en) }).then(() => void (ctx.status = status));
  if ('refusal' in here) return refused(here.refusal, 403);
  const { phone } = here;
  const r = await verifyPasskeyAssertion(factorsContext(deps), {
    accountId: phone.accountId,
    binding: hereBinding(details),
    ip: ctx.ip,
    response: body.response,
    passkeyIds: [phone.passkeyId],
  });
  if (!r.ok || !r.use?.userVerified) {
    return refused(
      {
        vi: 'Không xác nhận được bằng khóa truy cập của điện thoại này (cần vân tay, khuôn mặt hoặc mã PIN). Hãy thử lại.',
        en: 'The phone’s passkey could not confirm it (fingerprint, face or PIN is needed). Please try again.',
      },
      !r.ok && r.reason === 'must-wait' ? 429 : 400,
    );
  }
  const a = boundPhoneAssurance({ boundLevel: phone.boundLevel, proofingLevel: await proofingLevelOf(deps.accounts, phone.accountId) }, deps.config.assurance);
  // On the phone itself there is one device and one channel: no mca.
  const amr = a.amr.filter((m) => m !== 'mca');
  await deps.db.transaction((tx) =>
    appendAudit(tx, {
      event: 'BOUND_PHONE_SIGN_IN',
      actor: `phone:${phone.id}`,
      subject: phone.accountId,
      details: { client: String(details.params.client_id), level: a.level, amr, phoneId: phone.id, device: coarseDevice(ctx.get('user-agent')) },
    }),
  );
  const grantId = await rememberedGrant(deps, details, phone.accountId);
  await deps.provider().interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: phone.accountId, acr: acrFor(a.level), amr, remember: true }, ...(grantId ? { consent: { grantId } } : {}) },
    { mergeWithLastSubmission: false },
  );
}
