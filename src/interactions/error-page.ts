// The error pages of nixa's journey, and GET /error/<code>, which shows any of them
// again from its code and public, checked facts only (the service's client id, the
// sign-in's uid, the source's id, the names of disagreeing attributes). The
// language switch comes back there (pages/language.ts): re-running a source's
// callback or /auth to change language would answer a different error (a spent
// state, a lost query) and raise the alarms operators watch. Showing a page again
// reads registrations only: no audit event, no metric, nothing consumed.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

import { ATTRIBUTE_LABELS, ATTRIBUTE_NAMES, type AttributeName } from '../accounts/index.js';
import { ACCOUNT_SIGN_IN_PREFIX, INPUT_PROBLEMS, InvalidInputError, NIXA_PAGE_WORDS, NotFoundError, wordsForStatus } from '../errors/index.js';
import { FAILURE_MESSAGES, FederationError, NO_OTHER_SOURCE, type FederationFailure } from '../federation/index.js';
import { ERROR_PAGE_PATH, errorPageUrl, languageReturnsTo, renderErrorPage, serviceLink, type ClientLike, type WayForward } from '../pages/index.js';
import { oauthErrorPage, PAGE_ERRORS, pageErrorStatus } from '../protocol/index.js';
import type { SourceRegistry } from '../sources/index.js';

export interface ErrorPageDeps {
  provider: () => Provider;
  sources: SourceRegistry;
}

/** A page, its status, and the URL that shows it again (undefined: it cannot be shown again). */
interface Shown {
  status: number;
  html: string;
  again: string | undefined;
}

const FED_PREFIX = 'NIXA-FED-';
const INPUT_ERROR = new InvalidInputError('', '').code;
const UID = /^[A-Za-z0-9_-]{1,64}$/;

/** A registered, enabled client, or undefined; never an error (the page still shows without it). */
async function findClient(deps: ErrorPageDeps, clientId: string | undefined): Promise<ClientLike | undefined> {
  if (!clientId) return undefined;
  try {
    return (await deps.provider().Client.find(clientId)) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The service a sign-in is for, from the sign-in itself (a read: nothing is consumed). */
async function clientOfSignIn(deps: ErrorPageDeps, uid: string | undefined): Promise<string | undefined> {
  if (!uid) return undefined;
  try {
    const clientId = (await deps.provider().Interaction.find(uid))?.params.client_id;
    return typeof clientId === 'string' ? clientId : undefined;
  } catch {
    return undefined;
  }
}

/** A link conflict in plain words: which source, which of the citizen's details (names, never values). */
function conflictWords(source: { vi: string; en: string }, attributes: AttributeName[]): { vi: string; en: string } {
  const vi = attributes.map((a) => ATTRIBUTE_LABELS[a].vi).join(', ');
  const en = attributes.map((a) => ATTRIBUTE_LABELS[a].en).join(', ');
  return {
    vi: `Thông tin do “${source.vi}” cung cấp khác với thông tin đã được xác minh của bạn về: ${vi}. Để bảo vệ bạn, nixa không liên kết nguồn này với tài khoản của bạn. Hãy dùng nguồn khác, hoặc liên hệ bộ phận hỗ trợ nếu thông tin của bạn đã thay đổi.`,
    en: `The details from “${source.en}” differ from your verified details in: ${en}. To protect you, nixa did not link this source to your account. Use another source, or contact support if your details have changed.`,
  };
}

interface FailureFacts {
  interaction?: string | undefined;
  source?: string | undefined;
  client?: string | undefined;
  attributes?: readonly string[] | undefined;
}

/** The page for a failed sign-in at a source: what happened, and another source or the way back to the service. */
async function failurePage(deps: ErrorPageDeps, reason: FederationFailure, facts: FailureFacts): Promise<Shown> {
  const client = await findClient(deps, facts.client);
  const service = serviceLink(client);
  const source = facts.source ? deps.sources.get(facts.source) : undefined;
  const attributes = ATTRIBUTE_NAMES.filter((a) => facts.attributes?.includes(a));
  const interaction = facts.interaction && UID.test(facts.interaction) ? facts.interaction : undefined;
  const ways: WayForward[] = [];
  if (interaction && !NO_OTHER_SOURCE.has(reason)) ways.push({ to: 'another-source', interaction });
  if (service) ways.push({ to: 'service', service });
  else ways.push({ to: 'home' });
  const html = renderErrorPage({
    view: 'sign-in-failed',
    code: `${FED_PREFIX}${reason}`,
    heading: { vi: 'Chưa đăng nhập được', en: 'You are not signed in' },
    message: reason === 'link-conflict' && source && attributes.length ? conflictWords(source.name, attributes) : FAILURE_MESSAGES[reason],
    ways,
  });
  const again = errorPageUrl(`${FED_PREFIX}${reason}`, {
    client: service ? client!.clientId : undefined,
    interaction,
    source: source?.id,
    attributes: source ? attributes : [],
  });
  return { status: new FederationError(reason, '').status, html, again };
}

function answer(ctx: Context, shown: Shown): void {
  ctx.status = shown.status;
  ctx.type = 'html';
  ctx.body = shown.html;
  if (shown.again) languageReturnsTo(ctx, shown.again);
}

/** The page for a sign-in that failed at or after the source (the journey's routes catch these). */
export async function showFailure(deps: ErrorPageDeps, ctx: Context, err: FederationError): Promise<void> {
  const client = await clientOfSignIn(deps, err.interactionUid);
  answer(ctx, await failurePage(deps, err.reason, { interaction: err.interactionUid, source: err.sourceId, client, attributes: err.attributes }));
}

/** oidc-provider's session cookie (its default name, which nixa does not change). */
const SESSION_COOKIE = '_session';

/**
 * The service this browser's nixa session signed in to, when there is exactly one
 * (going Back after a sign-in: the service it was for). With several, which one
 * is not known, and none is offered. A read: the session is not touched.
 */
async function onlyServiceOfSession(deps: ErrorPageDeps, ctx: Context): Promise<ClientLike | undefined> {
  const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (!id) return undefined;
  try {
    const clients = Object.keys((await deps.provider().Session.find(id))?.authorizations ?? {});
    return clients.length === 1 ? await findClient(deps, clients[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** GET /interaction/<uid> of a sign-in that is over (the browser's Back after it finished, or it expired). */
export async function showSignInOver(deps: ErrorPageDeps, ctx: Context): Promise<void> {
  const page = oauthErrorPage('session_not_found', await onlyServiceOfSession(deps, ctx));
  answer(ctx, { status: pageErrorStatus('session_not_found'), html: page.html, again: page.again });
}

/**
 * The page for an error the boundary (app/errors.ts) answers a browser with: words
 * chosen by its code alone, and nixa's home as the way on. Unknown codes get the
 * words of their status and cannot be shown again.
 */
export function boundaryPage(code: string, status: number, field?: string): Shown {
  if (PAGE_ERRORS.has(code)) {
    const page = oauthErrorPage(code, undefined);
    return { status, html: page.html, again: page.again };
  }
  const known = Object.hasOwn(NIXA_PAGE_WORDS, code);
  const words = known ? NIXA_PAGE_WORDS[code]! : wordsForStatus(status);
  const input = code === INPUT_ERROR && field && Object.hasOwn(INPUT_PROBLEMS, field) ? INPUT_PROBLEMS[field]! : undefined;
  const html = renderErrorPage({
    view: 'error',
    code,
    heading: words.heading,
    message: input ? { vi: input.vi, en: input.en } : words.message,
    detail: input ? `${field}: ${input.problem}` : undefined,
    // A failed sign-in to the account page offers the sign-in again, in either language.
    ways: code.startsWith(ACCOUNT_SIGN_IN_PREFIX) ? [{ to: 'account-sign-in' }, { to: 'home' }] : [{ to: 'home' }],
  });
  return { status, html, again: known ? errorPageUrl(code, { field: input ? field : undefined }) : undefined };
}

/** A query parameter as a short printable string, or undefined. */
function param(value: unknown, max = 200): string | undefined {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length > 0 && value.length <= max && !/[\u0000-\u001f\u007f]/.test(value) ? value : undefined;
}

/** The page GET /error/<code> shows, or undefined for a code nixa never shows. */
async function pageFor(deps: ErrorPageDeps, code: string, query: Record<string, unknown>): Promise<Shown | undefined> {
  if (code.startsWith(FED_PREFIX)) {
    const reason = code.slice(FED_PREFIX.length);
    if (!Object.hasOwn(FAILURE_MESSAGES, reason)) return undefined;
    return failurePage(deps, reason as FederationFailure, {
      client: param(query.client),
      interaction: param(query.interaction, 64),
      source: param(query.source, 64),
      attributes: param(query.attributes)?.split(','),
    });
  }
  if (PAGE_ERRORS.has(code)) {
    const page = oauthErrorPage(code, await findClient(deps, param(query.client)));
    return { status: pageErrorStatus(code), html: page.html, again: page.again };
  }
  if (Object.hasOwn(NIXA_PAGE_WORDS, code)) return boundaryPage(code, NIXA_PAGE_WORDS[code]!.status, param(query.field, 40));
  return undefined;
}

/** GET /error/<code>: an error page shown again, from its code and checked public facts. */
export function errorPages(deps: ErrorPageDeps) {
  return async function showErrorAgain(ctx: Context, next: Next): Promise<void> {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith(`${ERROR_PAGE_PATH}/`)) return next();
    const code = ctx.path.slice(ERROR_PAGE_PATH.length + 1);
    const shown = /^[A-Za-z0-9_-]{1,64}$/.test(code) ? await pageFor(deps, code, ctx.query) : undefined;
    if (!shown) throw new NotFoundError('page', ctx.path);
    ctx.set('Cache-Control', 'no-store');
    answer(ctx, shown);
  };
}
