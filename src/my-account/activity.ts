// The citizen's history, /account/activity: their part of the audit trail (read
// there, never copied), newest first, a page at a time, each entry in words
// (audit/history.ts) with "this wasn't me" beside it (sessions.ts acts on it).
//
//   GET  /account/activity[?before=<seq>]      a page of HISTORY_PAGE entries; "Older" links the next
//   GET  /account/activity/:seq/dispute        what "this wasn't me" will do, and the button
//   POST /account/activity/:seq/dispute        see sessions.ts
//   POST /account/sessions/end                 see sessions.ts
import type { Context } from 'koa';

import { accountClaims } from '../accounts/index.js';
import { accountHistory, accountHistoryEvent, historyLine, type HistoryLine, type HistoryNames } from '../audit/index.js';
import { showClient } from '../clients/index.js';
import { InvalidInputError, NotFoundError } from '../errors/index.js';
import { termsExplained } from '../interactions/level-advice.js';
import { escapeHtml, renderPage } from '../pages/index.js';
import { ACCOUNT_PATH, csrfFor, html, notice, refused, sourceName, type AccountDeps, type CitizenSession } from './session.js';
import { disputeActivity, endAllSessions } from './sessions.js';

export const ACTIVITY_PATH = `${ACCOUNT_PATH}/activity`;
/** Entries per page. */
export const HISTORY_PAGE = 20;

/** A seq as the pages carry it: a positive whole number, no longer than a bigint. */
function parseSeq(raw: unknown, field: string): number {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) throw new InvalidInputError(field, 'must be the number of an entry of your history');
  return Number(raw);
}

/** Display names for the entries of one page: each service, source and person read once. */
async function namesFor(deps: AccountDeps, lines: { event: string; subject: string | null; details: Record<string, unknown>; actor: string }[]): Promise<HistoryNames> {
  const services = new Map<string, string | undefined>();
  const sources = new Map<string, { vi: string; en: string } | undefined>();
  const people = new Map<string, string | undefined>();
  const serviceIds = (d: Record<string, unknown>) => [
    ...(typeof d.client === 'string' ? [d.client] : []),
    // A helper's authorisation names its services as a list.
    ...(Array.isArray(d.clients) ? d.clients.filter((c): c is string => typeof c === 'string') : []),
  ];
  for (const e of lines) {
    for (const id of serviceIds(e.details)) {
      if (services.has(id)) continue;
      services.set(
        id,
        await showClient(deps.accounts.db, id).then(
          (c) => c.name,
          (err: unknown) => {
            // A service removed since: the line shows its id. Anything else is a real failure.
            if (err instanceof NotFoundError) return undefined;
            throw err;
          },
        ),
      );
    }
    const sourceId = e.actor.startsWith('source:') ? e.actor.slice('source:'.length) : undefined;
    if (sourceId && !sources.has(sourceId)) sources.set(sourceId, sourceName(deps, sourceId));
    // The helper's line names whoever asked them for help (their own choice to be named to the helper).
    // And the other person of an act for someone: whom the actor acted for, who acted for the represented.
    const other =
      e.event.startsWith('DELEGATION_') && e.details.grantor_account !== e.subject
        ? e.details.grantor_account
        : e.event === 'ACTING_FOR_CHOSEN'
          ? e.details.represented_account
          : e.event === 'ACTED_FOR_BY'
            ? e.details.actor_account
            : undefined;
    if (typeof other === 'string' && !people.has(other)) {
      const name = (await accountClaims(deps.accounts, other)).name;
      people.set(other, typeof name === 'string' ? name : undefined);
    }
  }
  return { service: (id) => services.get(id), source: (id) => sources.get(id), person: (id) => people.get(id) };
}

const disputePath = (seq: number) => `${ACTIVITY_PATH}/${seq}/dispute`;

/** One entry of the list: the time, what happened, who acted and why when it was an operator, and "this wasn't me". */
export function entryHtml(l: HistoryLine): string {
  const id = `event-${l.seq}`;
  const by = l.by ? `<p>Thực hiện bởi: ${escapeHtml(l.by.vi)} <span lang="en">(By: ${escapeHtml(l.by.en)})</span></p>` : '';
  const reason = l.reason ? `<p>Lý do đã ghi: «${escapeHtml(l.reason)}» <span lang="en">(Reason recorded)</span></p>` : '';
  // Said in words, not only by the class: a security event the citizen should look at.
  const attention = l.alert ? '<strong>Cần chú ý <span lang="en">(Attention)</span>:</strong> ' : '';
  const dispute = l.disputable
    ? `<p><a href="${disputePath(l.seq)}" aria-describedby="${id}-what">Không phải tôi <span lang="en">(This wasn't me)</span></a></p>`
    : '';
  return `<li id="${id}"${l.alert ? ' class="alert"' : ''}>
      <p id="${id}-what"><time datetime="${escapeHtml(l.at)}">${escapeHtml(l.when)}</time>: ${attention}${escapeHtml(l.what.vi)}. <span lang="en">(${escapeHtml(l.what.en)}.)</span></p>
      ${by}${reason}${dispute}
    </li>`;
}

/** GET /account/activity: a page of the history. */
export async function showActivity(deps: AccountDeps, ctx: Context, s: CitizenSession, message = ''): Promise<void> {
  const before = ctx.query.before === undefined ? undefined : parseSeq(ctx.query.before, 'before');
  const page = await accountHistory(deps.accounts.db, s.accountId, { ...(before !== undefined ? { beforeSeq: before } : {}), limit: HISTORY_PAGE });
  const names = await namesFor(deps, page.events);
  const entries = page.events.map((e) => entryHtml(historyLine(e, names)));
  const list = entries.length
    ? `<ol class="history" aria-labelledby="history-heading">${entries.join('\n')}</ol>`
    : `<p>${before === undefined ? 'Chưa có hoạt động nào.' : 'Không còn hoạt động cũ hơn.'} <span lang="en">(${before === undefined ? 'No activity yet.' : 'No older activity.'})</span></p>`;
  const nav = [
    before !== undefined ? `<a href="${ACTIVITY_PATH}">Mới nhất <span lang="en">(Newest)</span></a>` : '',
    page.next !== undefined ? `<a href="${ACTIVITY_PATH}?before=${page.next}" rel="next">Cũ hơn <span lang="en">(Older)</span></a>` : '',
  ].filter(Boolean);
  html(
    ctx,
    200,
    renderPage('account-activity', {
      title: 'Hoạt động của tài khoản',
      message,
      list,
      pages: nav.length ? `<nav aria-label="Trang (Pages)"><p>${nav.join(' · ')}</p></nav>` : '',
      // Its entries name levels and sources: the words explained, as on /account.
      terms: termsExplained(),
    }),
  );
}

/** GET /account/activity/:seq/dispute: the entry, what "this wasn't me" does, and the button. */
export async function confirmDispute(deps: AccountDeps, ctx: Context, s: CitizenSession, rawSeq: string): Promise<void> {
  const seq = parseSeq(rawSeq, 'seq');
  const e = await accountHistoryEvent(deps.accounts.db, s.accountId, seq);
  if (!e || e.event === 'ACCOUNT_ACTIVITY_DISPUTED') return notInHistory(ctx);
  const line = historyLine(e, await namesFor(deps, [e]));
  html(
    ctx,
    200,
    renderPage('account-refused', {
      title: 'Không phải tôi',
      notice: `<h2>Không phải tôi <span lang="en">(This wasn't me)</span></h2>
        <ul class="history">${entryHtml({ ...line, disputable: false })}</ul>
        <p>nixa sẽ: kết thúc mọi phiên đăng nhập nixa của bạn (kể cả phiên này) và báo cho các dịch vụ; thu hồi quyền truy cập của mọi dịch vụ vào thông tin của bạn; báo cho cán bộ an ninh của nixa. <span lang="en">(nixa will end every nixa sign-in session of yours, this one included, and tell the services; revoke every service's access to your information; and alert nixa's security officers.)</span></p>
        <form method="post" action="${disputePath(seq)}">
          <input type="hidden" name="csrf" value="${escapeHtml(csrfFor(deps, s))}">
          <button type="submit">Báo không phải tôi và khóa mọi truy cập <span lang="en">(Report it and cut off all access)</span></button>
        </form>
        <p><a href="${ACTIVITY_PATH}">Quay lại lịch sử hoạt động <span lang="en">(Back to the activity)</span></a></p>`,
    }),
  );
}

export function notInHistory(ctx: Context): void {
  refused(
    ctx,
    404,
    'Không tìm thấy',
    notice('alert', 'Không có hoạt động này trong lịch sử của bạn.', 'There is no such entry in your history.'),
  );
}

const DISPUTE_ROUTE = /^(GET|HEAD|POST) \/activity\/([^/]{1,20})\/dispute$/;

/**
 * The history's and the sessions' routes of the /account table: what runs for
 * `route` ('METHOD /path' below /account), and whether it is a POST (CSRF checked first).
 */
export function activityRoute(route: string): { post: boolean; run: (deps: AccountDeps, ctx: Context, s: CitizenSession) => Promise<void> } | undefined {
  if (route === 'GET /activity' || route === 'HEAD /activity') return { post: false, run: (deps, ctx, s) => showActivity(deps, ctx, s) };
  if (route === 'POST /sessions/end') return { post: true, run: endAllSessions };
  const m = DISPUTE_ROUTE.exec(route);
  if (!m) return undefined;
  const seq = m[2]!;
  return m[1] === 'POST' ? { post: true, run: (deps, ctx, s) => disputeActivity(deps, ctx, s, parseSeq(seq, 'seq')) } : { post: false, run: (deps, ctx, s) => confirmDispute(deps, ctx, s, seq) };
}
