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

import { acrFor } from '../assurance/index.js';
import { coarseDevice } from '../audit/index.js';
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
  type CrossDeviceDeps,
  type Problem,
} from '../phone/index.js';
import { requestedLevelOf } from '../protocol/index.js';
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

/** The chooser's way to the phone: offered wherever passkeys are (a bound phone is one). */
export function phoneSignInOffer(deps: JourneyDeps, details: Details): string {
  if (!deps.config.passkeys) return '';
  const csrf = escapeHtml(csrfToken(deps.keyring.snapshot.cookieKeys, details.uid));
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
  const names = { low: ['thấp', 'low'], substantial: ['đáng kể', 'substantial'], high: ['cao', 'high'] } as const;
  ctx.type = 'html';
  ctx.body = renderPage('phone-wait', {
    title: 'Đăng nhập bằng điện thoại',
    uid: details.uid,
    csrf: csrfToken(deps.keyring.snapshot.cookieKeys, details.uid),
    clientName,
    levelVi: level ? ` Mức độ đảm bảo yêu cầu: ${names[level][0]}.` : '',
    levelEn: level ? ` Assurance level asked: ${names[level][1]}.` : '',
    qr: svgDataUri(await qrSvg(link)),
    link,
    shortLink: `${new URL(deps.config.issuer).host}${PHONE_PATH}/${groupHandle(handle)}`,
    number: r.number,
    expiresAt: formatDateTime(r.expiresAt),
    expiresIso: r.expiresAt.toISOString(),
    interval: POLL_MILLISECONDS,
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
    actions: `<form method="post" action="${path(details.uid)}">
        <input type="hidden" name="csrf" value="${csrf}">
        <button type="submit">Tạo mã mới <span lang="en">(Make a new code)</span></button>
      </form>
      <p><a href="/interaction/${encodeURIComponent(details.uid)}">Chọn cách đăng nhập khác <span lang="en">(Choose another way to sign in)</span></a></p>`,
  });
}
