// Step 1–2: the identity-source chooser, and sending the citizen to the chosen source.
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';

import { linkedSourceIds } from '../accounts/index.js';
import { atLeast, type Level } from '../assurance/index.js';
import { InvalidInputError } from '../errors/index.js';
import { FAILURE_MESSAGES, FederationError } from '../federation/index.js';
import { recordFailure } from '../metrics/index.js';
import { preferredFirst, preferredSourceOf } from '../my-account/source-preference.js';
import { escapeHtml, notice, renderFragment, renderPage } from '../pages/index.js';
import { requestedAuthentication, requestedLevelOf, SOURCE_HINT_PARAM } from '../protocol/index.js';
import { availability, levelAdvice, maxReachableLevel, type Source } from '../sources/index.js';
import { codeForm } from './code.js';
import { checkCsrf, csrfToken } from './csrf.js';
import { inFlightCookie, rememberInFlight } from './in-flight.js';
import type { JourneyDeps } from './journey.js';
import { chooserLevelAdvice, LEVEL_NAMES, termsExplained } from './level-advice.js';
import { passkeySection } from './passkey.js';
import { phoneSignInOffer } from './phone.js';
import { stepUpNotices, stepUpOffer } from './step-up.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

/**
 * The chooser's query parameter naming the source that did not answer when the
 * citizen picked it: the choice is answered with a redirect to the chooser (not a
 * page at the POST's address), so reloading it or switching language replays nothing.
 */
export const UNANSWERED_PARAM = 'unanswered';

/**
 * The order sources are listed in: as registered, with the one the citizen prefers
 * (when they said so) first. Pure, so a preference kept elsewhere only passes its id.
 */
export function orderSources(sources: readonly Source[], preferred?: string): Source[] {
  const first = sources.filter((s) => s.id === preferred);
  return [...first, ...sources.filter((s) => s.id !== preferred)];
}

function sourceButton(s: Source): string {
  // Decorative: the name beside it says which source it is.
  const logo = s.logo ? `<img src="${escapeHtml(s.logo)}" alt="" width="40" height="40">` : '';
  const state = availability(s);
  if (state === 'available') {
    const level = LEVEL_NAMES[maxReachableLevel(s)];
    return `        <li><button type="submit" name="source" value="${escapeHtml(s.id)}">${logo}<span>${escapeHtml(s.name.vi)} <span lang="en">(${escapeHtml(s.name.en)})</span><small>Xác nhận đến mức «${level.vi}» <span lang="en">(Vouches up to “${level.en}”)</span></small></span></button></li>`;
  }
  // Shown, not offered: the citizen learns now, not after choosing it.
  const why =
    state === 'maintenance'
      ? `${escapeHtml(s.maintenance.message.vi ?? 'Đang bảo trì')} <span lang="en">(${escapeHtml(s.maintenance.message.en ?? 'Under maintenance')})</span>`
      : 'Tạm thời không truy cập được <span lang="en">(Temporarily unavailable)</span>';
  return `        <li class="unavailable" aria-disabled="true">${logo}<span>${escapeHtml(s.name.vi)} <span lang="en">(${escapeHtml(s.name.en)})</span> — ${why}</span></li>`;
}

/**
 * Sources a service may be offered for this sign-in: enabled, able to reach the
 * level asked, and not one whose answer nixa already refused in this sign-in
 * (below the level, or not fresh): sending the citizen there again would only
 * repeat it. A step-up-only source links no one, so it is offered only to a
 * signed-in citizen whose account it is already linked to.
 */
export async function offeredSources(deps: JourneyDeps, details: Pick<Details, 'uid' | 'params' | 'session'>): Promise<{ sources: Source[]; refused: Set<string> }> {
  const min = requestedLevelOf(details.params);
  const [refused, linked] = await Promise.all([deps.upstream.logins.refusedSources(details.uid), linkedToSession(deps, details)]);
  const sources = deps.sources
    .list()
    .filter((s) => s.enabled && !refused.has(s.id) && (!min || atLeast(maxReachableLevel(s), min)) && (s.role !== 'step-up-only' || linked.has(s.id)));
  return { sources, refused };
}

/** The sources the session's account is linked to; none before a first sign-in. */
async function linkedToSession(deps: JourneyDeps, details: Pick<Details, 'session'>): Promise<ReadonlySet<string>> {
  return details.session?.accountId ? linkedSourceIds(deps.accounts, details.session.accountId) : new Set();
}

/** Why the citizen sees the chooser, when it is not the plain first sign-in. */
function chooserNotice(c: { stepUp: boolean; min: Level | undefined; none: boolean; noneAvailable: boolean; factor: boolean }): string {
  if (c.stepUp && c.min) {
    const name = LEVEL_NAMES[c.min];
    if (c.factor) {
      return notice(
        'status',
        `Dịch vụ này cần mức độ đảm bảo «${name.vi}», cao hơn lần đăng nhập hiện tại của bạn. Hãy xác thực thêm theo một cách dưới đây: không cần đăng nhập lại từ đầu.`,
        `This service needs assurance level “${name.en}”, above your current sign-in. Confirm who you are in one of the ways below: you do not need to sign in again from the start.`,
      );
    }
    return notice(
      'status',
      `Dịch vụ này cần mức độ đảm bảo «${name.vi}», cao hơn lần đăng nhập hiện tại của bạn. Hãy xác thực thêm với một nguồn định danh dưới đây.`,
      `This service needs assurance level “${name.en}”, above your current sign-in. Confirm who you are with one of the sources below.`,
    );
  }
  if (c.none) return notice('alert', 'Chưa có nguồn định danh nào được cấu hình.', 'No identity source is configured yet.');
  if (c.noneAvailable) {
    return notice('alert', 'Hiện không có nguồn định danh nào sử dụng được. Hãy thử lại sau ít phút.', 'No identity source can be used right now. Please try again in a few minutes.');
  }
  return '';
}

/** What went wrong with the last step-up attempt (the chooser is shown again with it). */
export interface StepUpErrors {
  code?: string;
  passkey?: string;
  /** Signing in with this bound phone failed (phone.ts). */
  phone?: string;
}

export async function showChooser(deps: JourneyDeps, ctx: Context, details: Details, errors: StepUpErrors = {}): Promise<void> {
  const p = deps.provider();
  let { sources: offered, refused } = await offeredSources(deps, details);
  const hinted = typeof details.params[SOURCE_HINT_PARAM] === 'string' ? offered.find((s) => s.id === details.params[SOURCE_HINT_PARAM]) : undefined;
  // Named after a pick that found it silent; said only while it is still not offered,
  // so that once it recovers a reload lists it without the alarm.
  let unanswered = typeof ctx.query[UNANSWERED_PARAM] === 'string' ? offered.find((s) => s.id === ctx.query[UNANSWERED_PARAM] && availability(s) !== 'available') : undefined;
  if (hinted && availability(hinted) === 'available') {
    // The service pre-selected a source: go straight there, if it answers.
    if (await answers(deps, hinted)) {
      await sendToSource(deps, ctx, details, hinted);
      return;
    }
    unanswered = hinted;
    // Its failure is recorded now: list the sources as they stand.
    ({ sources: offered, refused } = await offeredSources(deps, details));
  }
  const min = requestedLevelOf(details.params);
  // Signed in already, but below what this service asks: a step up with a passkey
  // or a code, or through a stronger source.
  const stepUp = Boolean(details.session?.accountId) && min !== undefined;
  const offer = stepUp ? await stepUpOffer(deps, ctx, details, min) : undefined;
  if (offered.length === 0 && (min || refused.size) && !offer) {
    // Nothing nixa has can reach the level, or every source that could was tried
    // and fell short: say so to the service (OIDC Core §3.1.2.6).
    await p.interactionFinished(
      ctx.req,
      ctx.res,
      {
        error: 'unmet_authentication_requirements',
        error_description: min ? `no identity source can reach assurance level ${min}` : 'no identity source could authenticate the citizen as asked',
      },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const client = await p.Client.find(String(details.params.client_id));
  const csrf = csrfToken(deps.keyring.snapshot.cookieKeys, details.uid);
  const none = offered.length === 0;
  const noneAvailable = !none && offered.every((s) => availability(s) !== 'available');
  const advice = min ? chooserLevelAdvice(levelAdvice(deps.sources.list(), min, await linkedToSession(deps, details))) : '';
  ctx.type = 'html';
  ctx.body = renderPage('chooser', {
    title: unanswered ? 'Nguồn định danh không phản hồi' : 'Đăng nhập',
    uid: details.uid,
    csrf,
    clientName: client?.clientName ?? client?.clientId ?? '',
    levelVi: min ? ` Mức độ đảm bảo yêu cầu: ${LEVEL_NAMES[min].vi}.` : '',
    levelEn: min ? ` Assurance level asked: ${LEVEL_NAMES[min].en}.` : '',
    // The passkey and the code go above the sources: they are the quicker way up.
    notice:
      (unanswered ? unansweredNotice(unanswered) : '') +
      chooserNotice({ stepUp, min, none: none && !offer, noneAvailable: noneAvailable && !offer, factor: Boolean(offer) }) +
      (stepUp ? await stepUpNotices(deps, ctx, details) : '') +
      (offer?.passkeys ? passkeySection(deps, details, offer, errors.passkey) : '') +
      (offer?.codes.length ? await codeForm(deps, ctx, details, offer, errors.code) : ''),
    // The source this browser asked to see first (set at /account), then the others in order.
    sources: preferredFirst(orderSources(offered), preferredSourceOf(ctx)).map(sourceButton).join('\n'),
    advice,
    phone: await phoneSignInOffer(deps, ctx, details, errors.phone),
    terms: termsExplained(),
    testLogin: deps.config.testLogin ? renderFragment('test-login', { uid: details.uid, csrf }) : '',
  });
}

export async function chooseSource(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const id = String(body.source ?? '');
  const source = (await offeredSources(deps, details)).sources.find((s) => s.id === id);
  if (!source) throw new InvalidInputError('source', 'is not one of the sources offered for this sign-in');
  const state = availability(source);
  if (state === 'maintenance') throw new FederationError('source-maintenance', `source ${state}`, source.id, details.uid);
  if (state !== 'available' || !(await answers(deps, source))) {
    // Back to the chooser, which says so and lists the others: the sign-in goes on.
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(details.uid)}?${UNANSWERED_PARAM}=${encodeURIComponent(source.id)}`);
    return;
  }
  await sendToSource(deps, ctx, details, source);
  ctx.status = 303;
}

/**
 * Whether the source answers now (a probe shared by every pick for a few seconds,
 * sources/reachability.ts); when not, it is recorded as failing and counted as a
 * sign-in that could not go to the source.
 */
async function answers(deps: JourneyDeps, source: Source): Promise<boolean> {
  const problem = await deps.sources.reachable(source);
  if (problem === null) return true;
  // Logged and counted as every failed sign-in at a source is (interactions/index.ts).
  const reason = /^no answer within/.test(problem) ? 'source-timeout' : 'source-unavailable';
  deps.logger.warn({ reason, source: source.id, detail: `when picked: ${problem}` }, 'upstream sign-in failed');
  recordFailure(deps.metrics, reason);
  return false;
}

/** The chooser's first words after the picked source did not answer. */
function unansweredNotice(s: Source): string {
  return `<div class="notice unavailable" role="alert">
      <h2>«${escapeHtml(s.name.vi)}» không phản hồi <span lang="en">(“${escapeHtml(s.name.en)}” is not answering)</span></h2>
      <p>Nguồn định danh bạn chọn hiện không trả lời, nên nixa chưa chuyển bạn sang đó. Hãy chọn một nguồn khác bên dưới, hoặc thử lại sau ít phút: lần đăng nhập này vẫn còn hiệu lực.</p>
      <p lang="en">The identity source you chose is not answering right now, so nixa did not send you there. Choose another source below, or try again in a few minutes: this sign-in is still open.</p>
      <p class="code">Mã lỗi<span lang="en"> (error code)</span>: <code>NIXA-FED-source-unavailable</code></p>
    </div>`;
}

/**
 * Starts the upstream login and sends the browser to the source, remembering in
 * the browser that this sign-in awaits the source's callback (in-flight.ts): the
 * callback then completes it without a hop through the sign-in's own path.
 */
async function sendToSource(deps: JourneyDeps, ctx: Context, details: Details, source: Source): Promise<void> {
  const url = await deps.upstream.begin(source, details.uid, deps.config.ttl.Interaction, requestedAuthentication(details.params));
  rememberInFlight(ctx, inFlightCookie(deps), details.uid);
  ctx.redirect(url.href);
}

export async function abort(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const result: InteractionResults = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  await deps.provider().interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
}

export { FAILURE_MESSAGES };
