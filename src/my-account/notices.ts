// "What changed" notices: the next nixa page the citizen sees says, once, that a
// source was used for the first time, a passkey or authenticator app was added or
// removed, information was shared with a new service, or a blocked source was
// unblocked, with a link to act if it was not them.
//
// Design. Nothing is stored twice: a notice is derived from the audit trail, where
// every one of these acts is already an event about the account (subject = the
// account id): ACCOUNT_LINKED, FACTOR_ENROLLED / FACTOR_REMOVED (method passkey or
// totp), CONSENT_GIVEN (a new service when no consent for it was in force just
// before: CONSENT_WITHDRAWN is read for that), SOURCE_UNBLOCKED_BY_CITIZEN. The
// account holds one number, notices_seen_seq (migration 0016): the trail's seq up
// to which the citizen has been shown their notices. A page reads the account's
// events after it (audit_events_subject index), shows what `noticesFrom` makes of
// them, less those the viewing session may itself have caused, and /account moves
// the cursor as far as notice-policy.ts lets it: never past a notice held back
// from this session, which the citizen's other sessions must still find (a SIM
// swapped away must not let its new holder read "first sign-in through the
// telecom" and so erase it). The consent and step-up pages show the same notices
// and consume nothing. The mapping from events to
// notices is the pure function below, so a later delivery channel (email or SMS,
// outside nixa) subscribes to the same events: it follows the trail with a cursor
// of its own (per channel, say notices_sent_seq), calls the same `noticesFrom`
// and `noticeWords`, and sends; the page and the channel never wait on each other
// and neither can lose a notice the other has not delivered.
import { createHash } from 'node:crypto';

import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import { advanceNoticesSeen, consentsInForce, trailAfter, type AccountsContext, type TrailEventRow } from '../accounts/index.js';
import { sourceLoginOf } from '../federation/index.js';
import { escapeHtml, formatDate } from '../pages/index.js';
import type { SourceRegistry } from '../sources/index.js';
import { selectNotices, type NoticeViewer } from './notice-policy.js';
import { ACCOUNT_PATH } from './paths.js';
import { sourceName } from './session.js';

/** The events notices are made of (CONSENT_WITHDRAWN only tells whether a later consent is to a new service). */
export const NOTICE_EVENTS = ['ACCOUNT_LINKED', 'FACTOR_ENROLLED', 'FACTOR_REMOVED', 'CONSENT_GIVEN', 'CONSENT_WITHDRAWN', 'SOURCE_UNBLOCKED_BY_CITIZEN'] as const;

export type NoticeKind = 'new-source' | 'passkey-added' | 'passkey-removed' | 'app-added' | 'app-removed' | 'new-service' | 'source-unblocked';

export interface Notice {
  kind: NoticeKind;
  /** The trail event it comes from. */
  seq: number;
  at: Date;
  /** The source (new-source, source-unblocked) or the service (new-service) it names. */
  about?: string;
  /** Done by someone other than the citizen (an operator removing a factor). */
  byOther?: boolean;
}

export type TrailEvent = Pick<TrailEventRow, 'seq' | 'at' | 'event' | 'actor' | 'details'>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The notices a run of the account's trail events makes, oldest first. `inForce`:
 * the services the account had a consent in force with just before the first event.
 */
export function noticesFrom(accountId: string, events: readonly TrailEvent[], inForce: ReadonlySet<string>): Notice[] {
  const consents = new Set(inForce);
  const out: Notice[] = [];
  const add = (kind: NoticeKind, e: TrailEvent, about?: string) =>
    out.push({ kind, seq: e.seq, at: e.at, ...(about ? { about } : {}), ...(e.actor !== `account:${accountId}` && !e.actor.startsWith('source:') ? { byOther: true } : {}) });
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    const method = text(e.details.method);
    switch (e.event) {
      case 'ACCOUNT_LINKED':
        add('new-source', e, text(e.actor.startsWith('source:') ? e.actor.slice('source:'.length) : undefined));
        break;
      case 'FACTOR_ENROLLED':
        if (method === 'passkey') add('passkey-added', e);
        else if (method === 'totp') add('app-added', e);
        break;
      case 'FACTOR_REMOVED':
        if (method === 'passkey') add('passkey-removed', e);
        else if (method === 'totp') add('app-removed', e);
        break;
      case 'CONSENT_GIVEN': {
        const client = text(e.details.client);
        if (client && !consents.has(client)) add('new-service', e, client);
        if (client) consents.add(client);
        break;
      }
      case 'CONSENT_WITHDRAWN': {
        const client = text(e.details.client);
        if (client) consents.delete(client);
        break;
      }
      case 'SOURCE_UNBLOCKED_BY_CITIZEN':
        add('source-unblocked', e, text(e.details.source));
        break;
    }
  }
  return out;
}

export interface NoticeWords {
  vi: string;
  en: string;
  /** What to do if it was not the citizen, and where. */
  act: { href: string; vi: string; en: string };
}

/** What a notice says, in both languages; `names` gives a source's or service's display name. */
export function noticeWords(n: Notice, names: (id: string) => { vi: string; en: string } = (id) => ({ vi: id, en: id })): NoticeWords {
  const on = formatDate(n.at);
  const about = n.about ? names(n.about) : { vi: '', en: '' };
  const by = n.byOther ? { vi: ' bởi bộ phận hỗ trợ của nixa', en: ' by nixa support' } : { vi: '', en: '' };
  const block = { href: `${ACCOUNT_PATH}#sources-heading`, vi: 'Không phải bạn? Chặn nguồn định danh đó', en: 'Not you? Block that identity source' };
  const factors = (href: string) => ({ href, vi: 'Không phải bạn? Kiểm tra phương thức xác thực và chặn nguồn định danh bị lạm dụng', en: 'Not you? Check your second factors and block the misused identity source' });
  switch (n.kind) {
    case 'new-source':
      return { vi: `Tài khoản của bạn được đăng nhập lần đầu bằng «${about.vi}» vào ngày ${on}.`, en: `Your account was signed in to through “${about.en}” for the first time on ${on}.`, act: block };
    case 'passkey-added':
      return { vi: `Một khóa truy cập (passkey) đã được thêm vào ngày ${on}${by.vi}.`, en: `A passkey was added on ${on}${by.en}.`, act: factors(`${ACCOUNT_PATH}#passkeys-heading`) };
    case 'passkey-removed':
      return { vi: `Một khóa truy cập (passkey) đã bị gỡ vào ngày ${on}${by.vi}.`, en: `A passkey was removed on ${on}${by.en}.`, act: factors(`${ACCOUNT_PATH}#passkeys-heading`) };
    case 'app-added':
      return { vi: `Một ứng dụng xác thực đã được thiết lập vào ngày ${on}${by.vi}.`, en: `An authenticator app was set up on ${on}${by.en}.`, act: factors(`${ACCOUNT_PATH}#factors-heading`) };
    case 'app-removed':
      return { vi: `Ứng dụng xác thực đã bị gỡ vào ngày ${on}${by.vi}.`, en: `The authenticator app was removed on ${on}${by.en}.`, act: factors(`${ACCOUNT_PATH}#factors-heading`) };
    case 'new-service':
      return {
        vi: `Bạn đã đồng ý chia sẻ thông tin với «${about.vi}» vào ngày ${on}.`,
        en: `You agreed to share information with “${about.en}” on ${on}.`,
        act: { href: `${ACCOUNT_PATH}#consents-heading`, vi: 'Không phải bạn? Rút lại đồng ý', en: 'Not you? Withdraw that consent' },
      };
    case 'source-unblocked':
      return { vi: `Nguồn định danh «${about.vi}» đã được bỏ chặn vào ngày ${on}.`, en: `The identity source “${about.en}” was unblocked on ${on}.`, act: { ...block, vi: 'Không phải bạn? Chặn lại nguồn đó', en: 'Not you? Block that source again' } };
  }
}

/** At most this many events are read per page; the rest show on the next. */
const PAGE = 50;

export interface NoticeDeps {
  accounts: Pick<AccountsContext, 'db'>;
  /** For sources' names. */
  sources: SourceRegistry;
  /** For services' names. */
  provider: () => Provider;
}

/** The page's session as notices need it: the provider's session (undefined when it could not be read). */
export interface NoticeSession {
  accountId: string;
  session: { uid?: string | undefined; authorizations?: Record<string, unknown> | undefined } | undefined;
  /** The service of a sign-in in progress (the consent and step-up pages). */
  thisService?: string;
}

/**
 * What nixa knows of the session looking (notice-policy.ts): the source of this
 * browser's last source login for the account, and the services the session has
 * signed in to, with the one of a sign-in in progress. Without the provider's
 * session every consent notice is held back.
 */
export async function noticeViewer(deps: Pick<NoticeDeps, 'accounts'>, ctx: Context, s: NoticeSession): Promise<NoticeViewer> {
  const source = await sourceLoginOf({ db: deps.accounts.db }, ctx, s.accountId);
  const services = s.session ? new Set([...Object.keys(s.session.authorizations ?? {}), ...(s.thisService ? [s.thisService] : [])]) : undefined;
  return { source, services };
}

/**
 * How far this session was shown its notices beyond the account's cursor
 * (notice-policy.ts: `remember`): a signed cookie naming the session by a hash of
 * the account and the provider session's uid, so that another session or account
 * in the browser starts afresh. Only a repeat is saved by it: lost, a notice
 * shows once more.
 */
const SHOWN_COOKIE = 'nixa_notices_shown';

const sessionMark = (s: NoticeSession) => (s.session?.uid ? createHash('sha256').update(`${s.accountId}\n${s.session.uid}`).digest('base64url').slice(0, 22) : undefined);

function shownBefore(ctx: Context, s: NoticeSession): number | undefined {
  const mark = sessionMark(s);
  const m = /^([\w-]{22})\.(\d{1,15})$/.exec(ctx.cookies.get(SHOWN_COOKIE, { signed: true }) ?? '');
  return mark && m && m[1] === mark ? Number(m[2]) : undefined;
}

function rememberShown(ctx: Context, s: NoticeSession, seq: number): void {
  const mark = sessionMark(s);
  if (mark) ctx.cookies.set(SHOWN_COOKIE, `${mark}.${seq}`, { signed: true, httpOnly: true, sameSite: 'lax', path: '/' });
}

/** A source's or service's name as citizens read it; the id itself for one nixa no longer knows. */
async function nameOf(deps: NoticeDeps, kind: 'source' | 'service', id: string): Promise<{ vi: string; en: string }> {
  if (kind === 'source') return sourceName(deps, id);
  const name = (await deps.provider().Client.find(id))?.clientName ?? id;
  return { vi: name, en: name };
}

/**
 * The account's notices that this session may see and has not been shown
 * (notice-policy.ts), rendered; empty when there are none. With `consume`, the
 * cursor moves as far as the policy lets it: only /account consumes, where each
 * notice's "not you?" action is on the same page (the sign-in pages show them and
 * leave them for /account).
 */
export async function showNotices(deps: NoticeDeps, ctx: Context, s: NoticeSession, o: { consume: boolean }): Promise<string> {
  const { accountId } = s;
  const { seen, rows } = await trailAfter(deps.accounts.db, accountId, NOTICE_EVENTS, PAGE);
  if (!rows.length) return '';
  const clients = [...new Set(rows.filter((r) => r.event === 'CONSENT_GIVEN').map((r) => text(r.details.client)).filter((c): c is string => c !== undefined))];
  const notices = noticesFrom(accountId, rows, await consentsInForce(deps.accounts.db, accountId, clients, seen));
  const chosen = selectNotices(notices, rows.at(-1)!.seq, await noticeViewer(deps, ctx, s), shownBefore(ctx, s));
  if (o.consume) {
    if (chosen.consumeUpTo !== undefined && chosen.consumeUpTo > seen) await advanceNoticesSeen(deps.accounts.db, accountId, chosen.consumeUpTo);
    if (chosen.remember !== undefined) rememberShown(ctx, s, chosen.remember);
  }
  if (!chosen.shown.length) return '';
  const named = new Map<string, { vi: string; en: string }>();
  const kindOf = (n: Notice) => (n.kind === 'new-service' ? 'service' : 'source');
  for (const n of chosen.shown) if (n.about && !named.has(`${kindOf(n)}:${n.about}`)) named.set(`${kindOf(n)}:${n.about}`, await nameOf(deps, kindOf(n), n.about));
  const items = chosen.shown.map((n) => {
    const w = noticeWords(n, (id) => named.get(`${kindOf(n)}:${id}`) ?? { vi: id, en: id });
    return `<li><p>${escapeHtml(w.vi)} <span lang="en">(${escapeHtml(w.en)})</span></p>
          <p><a href="${escapeHtml(w.act.href)}">${escapeHtml(w.act.vi)} <span lang="en">(${escapeHtml(w.act.en)})</span></a></p></li>`;
  });
  return `<section class="notice" aria-labelledby="notices-heading">
      <h2 id="notices-heading">Thay đổi gần đây <span lang="en">(Recent changes)</span></h2>
      <ul class="notices">${items.join('\n')}</ul>
    </section>`;
}

/**
 * The notices on a page of a sign-in in progress (the consent page, the step-up
 * chooser), for the interaction's session, with the service asking counted among
 * its own; never consumed there (see showNotices).
 */
export async function noticesDuringSignIn(deps: NoticeDeps, ctx: Context, session: { accountId: string; uid?: string | undefined }, clientId: string): Promise<string> {
  const found = session.uid ? await deps.provider().Session.findByUid(session.uid) : undefined;
  return showNotices(deps, ctx, { accountId: session.accountId, session: found?.accountId === session.accountId ? found : undefined, thisService: clientId }, { consume: false });
}
