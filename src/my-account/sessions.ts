// The citizen's control over their sessions, from /account and its history:
//
//   POST /account/sessions/end                csrf → every nixa session of the account ends (this one too),
//                                             the grants sign-out revokes go, each service of each session
//                                             gets a back-channel logout; ACCOUNT_SESSIONS_ENDED
//   POST /account/activity/:seq/dispute       csrf → "this wasn't me": every session ends and every grant of
//                                             the account is revoked with its tokens, the services are told;
//                                             ACCOUNT_ACTIVITY_DISPUTED for the security officers. Once per
//                                             entry: a re-post records and revokes nothing more.
//
// Both end the session they are made from, so both answer with a page that
// needs no session. The revocation is accounts' endAccountSessions, the one a
// suspension uses.
import type { Context } from 'koa';

import { endAccountSessions, lockAccount, type EndedSessions } from '../accounts/index.js';
import { accountHistoryEvent, alreadyDisputed, appendAudit, historyLine } from '../audit/index.js';
import { escapeHtml, renderPage } from '../pages/index.js';
// The file, not protocol/index.js (which loads the provider's configuration).
import { sendBackchannelLogouts } from '../protocol/backchannel.js';
import { ACCOUNT_PATH, html, notice, refused, sourceName, type AccountDeps, type CitizenSession } from './session.js';
import { ACCOUNT_CLIENT_ID } from './sign-in.js';

type Logouts = EndedSessions['logouts'];

/** The services of the ended sessions are told by back-channel logout (protocol/backchannel.ts, as for a suspension). */
export function tellServices(deps: AccountDeps, accountId: string, logouts: Logouts): Promise<number> {
  return sendBackchannelLogouts(deps.provider(), deps.logger, accountId, logouts, 'ending the sessions');
}

const servicesOf = (logouts: Logouts) => [...new Set(logouts.map((l) => l.clientId))].sort();

/**
 * What the page may truthfully say of the services: a service that registered no
 * back-channel logout (or did not answer) still has the citizen signed in, and
 * the citizen must hear that rather than a promise nixa could not keep.
 */
function servicesWords(logouts: Logouts, told: number): { vi: string; en: string } {
  // nixa's own account page is not a service to tell: it reads nixa's session, which is gone.
  const sessions = new Set(logouts.filter((l) => l.clientId !== ACCOUNT_CLIENT_ID).map((l) => `${l.clientId} ${l.sid}`)).size;
  if (sessions === 0) return { vi: '', en: '' };
  if (told >= sessions) return { vi: ' Các dịch vụ bạn đã đăng nhập qua nixa đã được báo để đăng xuất bạn.', en: ' The services you signed in to through nixa were told to sign you out.' };
  return {
    vi: ' Có dịch vụ chưa nhận được thông báo đăng xuất từ nixa (dịch vụ không hỗ trợ, hoặc không trả lời): nếu bạn vẫn còn đăng nhập ở đó, hãy đăng xuất ngay tại dịch vụ.',
    en: ' Some services could not be told by nixa (they do not support it, or did not answer): if you are still signed in there, sign out at the service itself.',
  };
}

const SIGNED_OUT_HERE = notice(
  'status',
  'Bạn đã đăng xuất khỏi nixa trên trình duyệt này. Để vào lại tài khoản, hãy đăng nhập lại.',
  'You are signed out of nixa in this browser. Sign in again to open your account.',
);

/** POST /account/sessions/end. */
export async function endAllSessions(deps: AccountDeps, ctx: Context, s: CitizenSession): Promise<void> {
  const ended = await deps.accounts.db.transaction(async (tx) => {
    const e = await endAccountSessions(tx, s.accountId, 'sign-out');
    await appendAudit(tx, {
      event: 'ACCOUNT_SESSIONS_ENDED',
      actor: `account:${s.accountId}`,
      subject: s.accountId,
      details: { sessions: e.sessions, grants: e.grants, tokens: e.tokens, clients: servicesOf(e.logouts) },
    });
    return e;
  });
  const told = await tellServices(deps, s.accountId, ended.logouts);
  deps.logger.info({ account: s.accountId, sessions: ended.sessions, told }, 'citizen ended every session');
  const services = servicesWords(ended.logouts, told);
  html(
    ctx,
    200,
    renderPage('account-refused', {
      title: 'Đã kết thúc mọi phiên đăng nhập',
      notice:
        notice(
          'status',
          `Đã kết thúc ${ended.sessions} phiên đăng nhập nixa của bạn, trên mọi thiết bị.${services.vi}`,
          `${ended.sessions} nixa sign-in session(s) of yours ended, on every device.${services.en}`,
        ) +
        SIGNED_OUT_HERE +
        `<p><a href="${ACCOUNT_PATH}">Đăng nhập lại vào tài khoản <span lang="en">(Sign in to your account again)</span></a></p>`,
    }),
  );
}

/** The source of a disputed sign-in, to name in the advice; undefined when the event names none. */
function sourceOf(deps: AccountDeps, actor: string): { vi: string; en: string } | undefined {
  return actor.startsWith('source:') ? sourceName(deps, actor.slice('source:'.length)) : undefined;
}

/** What to do next, after "this wasn't me". */
function nextSteps(source: { vi: string; en: string } | undefined): string {
  const viaSource = source
    ? `<li>Hoạt động này đến qua «${escapeHtml(source.vi)}»: hãy báo ngay cho nơi cấp nguồn đó (ví dụ nhà mạng nếu SIM của bạn bị chiếm, ngân hàng nếu tài khoản ngân hàng bị lộ), và chặn nguồn này cho tài khoản nixa của bạn sau khi đăng nhập lại. <span lang="en">(This came through “${escapeHtml(source.en)}”: tell whoever runs it at once (your mobile operator if your SIM was taken, your bank if your banking login leaked), and block this source for your nixa account once you have signed in again.)</span></li>`
    : '';
  return `<h2>Bạn nên làm gì tiếp <span lang="en">(What to do next)</span></h2>
    <ol>
      ${viaSource}
      <li>Đăng nhập lại bằng nguồn định danh mà chỉ bạn dùng được (ví dụ ứng dụng định danh điện tử), xem lại lịch sử hoạt động và các dịch vụ bạn chia sẻ thông tin. <span lang="en">(Sign in again through a source only you can use (for example the citizen ID app), and look over your activity and the services you share information with.)</span></li>
      <li>Liên hệ tổng đài hỗ trợ của nixa nếu bạn cần giúp đỡ; cán bộ an ninh đã nhận được báo cáo của bạn. <span lang="en">(Contact nixa's helpline if you need help; the security officers have your report.)</span></li>
    </ol>
    <p><a href="${ACCOUNT_PATH}">Đăng nhập lại vào tài khoản <span lang="en">(Sign in to your account again)</span></a></p>`;
}

/** POST /account/activity/:seq/dispute: "this wasn't me". */
export async function disputeActivity(deps: AccountDeps, ctx: Context, s: CitizenSession, seq: number): Promise<void> {
  const outcome = await deps.accounts.db.transaction(async (tx) => {
    // One at a time per account, so that two posts of the same report record it once.
    if (!(await lockAccount(tx, s.accountId))) return { kind: 'not-found' } as const;
    const event = await accountHistoryEvent(tx, s.accountId, seq);
    if (!event || event.event === 'ACCOUNT_ACTIVITY_DISPUTED') return { kind: 'not-found' } as const;
    if (await alreadyDisputed(tx, s.accountId, seq)) return { kind: 'already', event } as const;
    const ended = await endAccountSessions(tx, s.accountId, 'all');
    await appendAudit(tx, {
      event: 'ACCOUNT_ACTIVITY_DISPUTED',
      actor: `account:${s.accountId}`,
      subject: s.accountId,
      details: {
        seq,
        disputed: event.event,
        revoked: { sessions: ended.sessions, grants: ended.grants, tokens: ended.tokens },
        clients: servicesOf(ended.logouts),
      },
    });
    return { kind: 'done', event, ended } as const;
  });
  if (outcome.kind === 'not-found') {
    return refused(ctx, 404, 'Không tìm thấy', notice('alert', 'Không có hoạt động này trong lịch sử của bạn.', 'There is no such entry in your history.'));
  }
  const source = sourceOf(deps, outcome.event.actor);
  const line = historyLine(outcome.event, { service: () => undefined, source: () => source });
  if (outcome.kind === 'already') {
    return html(
      ctx,
      200,
      renderPage('account-refused', {
        title: 'Đã báo trước đó',
        notice:
          notice(
            'status',
            `Bạn đã báo hoạt động lúc ${line.when} không phải do mình. nixa đã kết thúc mọi phiên đăng nhập, thu hồi quyền truy cập của mọi dịch vụ và báo cho cán bộ an ninh khi đó; không có gì thay đổi thêm.`,
            `You already reported the activity at ${line.when} as not yours. nixa ended every sign-in session, revoked every service's access and alerted the security officers then; nothing more was changed.`,
          ) + nextSteps(source),
      }),
    );
  }
  const { ended } = outcome;
  const told = await tellServices(deps, s.accountId, ended.logouts);
  deps.logger.warn({ account: s.accountId, seq, disputed: outcome.event.event, sessions: ended.sessions, grants: ended.grants, told }, 'citizen disputed an activity');
  const services = servicesWords(ended.logouts, told);
  html(
    ctx,
    200,
    renderPage('account-refused', {
      title: 'Đã khóa mọi truy cập',
      notice:
        notice(
          'status',
          `Đã ghi nhận: hoạt động lúc ${line.when} không phải do bạn. nixa đã kết thúc ${ended.sessions} phiên đăng nhập, thu hồi quyền truy cập của ${ended.grants} lần cấp quyền cho dịch vụ (${ended.tokens} mã truy cập không còn dùng được), và báo cho cán bộ an ninh.${services.vi}`,
          `Recorded: the activity at ${line.when} was not you. nixa ended ${ended.sessions} sign-in session(s), revoked ${ended.grants} grant(s) to services (${ended.tokens} token(s) no longer work), and alerted the security officers.${services.en}`,
        ) +
        SIGNED_OUT_HERE +
        nextSteps(source),
    }),
  );
}
