// The citizen's control over their own account at /account: block an identity
// source for it (a SIM card swapped away, a bank login taken over) and unblock it,
// and choose which source the chooser offers first.
//
//   POST /account/sources/:id/block     csrf (+ confirm=end-session when it is this session's source)
//   POST /account/sources/:id/unblock   csrf; a session at ENROLMENT_LEVEL that did not come through it
//   POST /account/preferred-source      csrf, source (empty: no preference)
//
// Blocking needs only a signed-in session: it only takes away, and the citizen who
// fears their SIM card is in someone else's hands may hold nothing stronger. A
// session may block the very source it came through, but only after a page says
// that this also ends the session here, and the citizen confirms: refusing would
// leave a citizen signed in through nothing else unable to shut the door, and
// going on silently would either leave a session through a blocked source alive or
// sign them out by surprise. Unblocking gives back a way in, so it needs what
// changing a factor needs (ENROLMENT_LEVEL), from a session that came through
// another source: whoever holds the blocked source must not be able to lift the
// block with it, nor with a passkey raised on top of it. nixa refuses sign-in
// through a blocked source in signInFromSource's transaction (accounts/index.ts).
import type { Context } from 'koa';

import { blockedSources, blockSource, linkedSourcesOf, preferredSource, setPreferredSource, unblockSource } from '../accounts/index.js';
import { atLeast, type Level } from '../assurance/index.js';
import { sourceLoginOf } from '../federation/index.js';
import { termsExplained } from '../interactions/level-advice.js';
import { escapeHtml, renderPage } from '../pages/index.js';
import { maxReachableLevel, type Source } from '../sources/index.js';
import { formatDate } from '../pages/index.js';
import { ACCOUNT_PATH, csrfFor, ENROLMENT_LEVEL, html, LEVEL_WORDS, notice, refused, sourceName, type AccountDeps, type CitizenSession } from './session.js';
import { signInHref } from './sign-in.js';
import { preferredSourceOf, rememberPreferredSource } from './source-preference.js';

export type ControlDeps = AccountDeps;

/** A registered source id (sources/schema.ts); anything else names no source. */
const SOURCE_ID = /^[a-z0-9][a-z0-9-]{1,40}$/;

const CONTROL_ROUTE = /^POST \/(?:sources\/([^/]{1,64})\/(block|unblock)|(preferred-source))$/;

export type ControlAction = { action: 'block' | 'unblock'; sourceId: string } | { action: 'prefer' };

/** Which of this file's routes `route` ('POST /sources/x/block') is, if any. */
export function controlRoute(route: string): ControlAction | undefined {
  const m = CONTROL_ROUTE.exec(route);
  if (!m) return undefined;
  if (m[3]) return { action: 'prefer' };
  return { action: m[2] as 'block' | 'unblock', sourceId: m[1]! };
}


const bilingual = (n: { vi: string; en: string }) => `${escapeHtml(n.vi)} <span lang="en">(${escapeHtml(n.en)})</span>`;

/**
 * The level a session needs to block a source, or undefined when it needs none:
 * the source it came through it may always block (that shuts out whoever holds
 * it, this session included). Another source needs the highest level that source
 * signs in at: otherwise whoever took over a weak source (a SIM card swapped away)
 * could block the citizen's stronger ones, shutting the citizen out of their
 * account and of the notice at /account that would have warned them. Pure.
 */
export function levelToBlock(target: Source | undefined, current: string | undefined): Level | undefined {
  if (!target || target.id === current) return undefined;
  return maxReachableLevel(target);
}

/** Sources a citizen may sign in through, hence block or prefer: every registered source, in the registry's order. */
const registered = (deps: ControlDeps): Source[] => deps.sources.list();

/** The sources section of /account: linked and blocked sources, block and unblock, the preferred source. */
export async function controlSection(deps: ControlDeps, ctx: Context, s: CitizenSession): Promise<string> {
  const [links, blocked, preferred, current] = await Promise.all([
    linkedSourcesOf(deps.accounts, s.accountId),
    blockedSources(deps.accounts, s.accountId),
    preferredSource(deps.accounts, s.accountId),
    sourceLoginOf({ db: deps.accounts.db }, ctx, s.accountId),
  ]);
  // This browser learns the account's choice here too (it may have been made elsewhere).
  if (preferred && preferredSourceOf(ctx) !== preferred) rememberPreferredSource(ctx, preferred);
  const csrf = escapeHtml(csrfFor(deps, s));
  const ids = [...new Set([...registered(deps).map((x) => x.id), ...links.map((l) => l.sourceId), ...blocked.map((b) => b.sourceId)])];
  const mayUnblock = atLeast(s.level, ENROLMENT_LEVEL);
  const rows = ids.map((id) => {
    const name = sourceName(deps, id);
    const link = links.find((l) => l.sourceId === id);
    const block = blocked.find((b) => b.sourceId === id);
    const state = block
      ? `<strong>Đã chặn</strong> từ ngày ${formatDate(block.blockedAt)} <span lang="en">(<strong>Blocked</strong> since ${formatDate(block.blockedAt)})</span>`
      : link
        ? `Liên kết từ ngày ${formatDate(link.linkedAt)}, dùng lần cuối ngày ${formatDate(link.lastLoginAt)} <span lang="en">(Linked on ${formatDate(link.linkedAt)}, last used on ${formatDate(link.lastLoginAt)})</span>`
        : 'Chưa dùng <span lang="en">(Never used)</span>';
    const here = id === current ? ' <em>Bạn đang đăng nhập bằng nguồn này. <span lang="en">(You are signed in through this source.)</span></em>' : '';
    const label = `${escapeHtml(name.vi)} (${escapeHtml(name.en)})`;
    let action: string;
    const needed = levelToBlock(registered(deps).find((x) => x.id === id), current);
    if (!block && needed && !atLeast(s.level, needed)) {
      const w = blockNeeds(needed);
      // Words only: a button per source would repeat the same sign-in down the page (the refusal page offers it).
      action = `<p>${w.vi} <span lang="en">(${w.en})</span></p>`;
    } else if (!block) {
      action = `<form method="post" action="${ACCOUNT_PATH}/sources/${encodeURIComponent(id)}/block" class="inline">
            <input type="hidden" name="csrf" value="${csrf}">
            <button type="submit" class="secondary" aria-label="Chặn ${label} (Block ${label})">Chặn <span lang="en">(Block)</span></button>
          </form>`;
    } else if (!mayUnblock || id === current) {
      action = `<p>Để bỏ chặn, hãy đăng nhập bằng một nguồn khác ở mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên. <span lang="en">(To unblock it, sign in through another source at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above.)</span></p>`;
    } else {
      action = `<form method="post" action="${ACCOUNT_PATH}/sources/${encodeURIComponent(id)}/unblock" class="inline">
            <input type="hidden" name="csrf" value="${csrf}">
            <button type="submit" class="secondary" aria-label="Bỏ chặn ${label} (Unblock ${label})">Bỏ chặn <span lang="en">(Unblock)</span></button>
          </form>`;
    }
    return `<li>
          <h3>${bilingual(name)}</h3>
          <p>${state}${here}</p>
          ${action}
        </li>`;
  });
  const offered = registered(deps).filter((x) => x.enabled && !blocked.some((b) => b.sourceId === x.id));
  const choice = (value: string, label: string, checked: boolean, i: number) =>
    `<li><input type="radio" id="preferred-${i}" name="source" value="${escapeHtml(value)}"${checked ? ' checked' : ''}> <label for="preferred-${i}">${label}</label></li>`;
  const preference = offered.length
    ? `<form method="post" action="${ACCOUNT_PATH}/preferred-source">
        <input type="hidden" name="csrf" value="${csrf}">
        <fieldset>
          <legend>Nguồn định danh hiển thị đầu tiên khi đăng nhập <span lang="en">(The identity source shown first when you sign in)</span></legend>
          <ul class="choices">
          ${[choice('', 'Không chọn <span lang="en">(No preference)</span>', !preferred, 0), ...offered.map((x, i) => choice(x.id, bilingual(x.name), x.id === preferred, i + 1))].join('\n          ')}
          </ul>
        </fieldset>
        <button type="submit" class="secondary">Lưu lựa chọn <span lang="en">(Save this choice)</span></button>
      </form>`
    : '';
  return `<section aria-labelledby="sources-heading">
      <h2 id="sources-heading">Nguồn định danh của bạn <span lang="en">(Your identity sources)</span></h2>
      <p>Nếu bạn mất quyền kiểm soát một nguồn (ví dụ SIM bị đổi, tài khoản ngân hàng bị chiếm), hãy chặn nguồn đó: nixa sẽ không cho đăng nhập vào tài khoản của bạn bằng nguồn đó cho đến khi bạn bỏ chặn. <span lang="en">(If you lose control of a source — your SIM card was swapped, your bank login was taken over — block it: nixa will refuse sign-in to your account through it until you unblock it.)</span></p>
      <ul class="account-sources">${rows.join('\n')}</ul>
      ${preference}
    </section>`;
}

/** What to do to block a source this session is too weak for, in both languages. */
function blockNeeds(level: Level): { vi: string; en: string } {
  return {
    vi: `Để chặn nguồn này, hãy đăng nhập ở mức độ đảm bảo «${LEVEL_WORDS[level].vi}» trở lên (bằng một nguồn định danh khác, hoặc xác thực thêm bằng khóa truy cập sau khi đăng nhập).`,
    en: `To block this source, sign in at assurance level “${LEVEL_WORDS[level].en}” or above — through another identity source, or with a passkey after signing in.`,
  };
}

/** The way to a session at `level`: the account's sign-in asking for it (a passkey, a code or a source that vouches enough). */
function raiseTo(level: Level): string {
  const w = LEVEL_WORDS[level];
  return `<p><a class="button secondary" href="${escapeHtml(signInHref({ level, returnTo: ACCOUNT_PATH }))}">Đăng nhập lại ở mức «${w.vi}» <span lang="en">(Sign in again at level “${w.en}”)</span></a></p>`;
}

/** The page asking a session to confirm that blocking its own source ends it. */
function confirmPage(deps: ControlDeps, ctx: Context, s: CitizenSession, sourceId: string): void {
  const name = sourceName(deps, sourceId);
  html(
    ctx,
    200,
    renderPage('account-block-confirm', {
      title: 'Chặn nguồn định danh',
      nameVi: name.vi,
      nameEn: name.en,
      action: `${ACCOUNT_PATH}/sources/${encodeURIComponent(sourceId)}/block`,
      csrf: csrfFor(deps, s),
      terms: termsExplained(),
    }),
  );
}

function unknownSource(ctx: Context): void {
  refused(ctx, 404, 'Không tìm thấy', notice('alert', 'Không có nguồn định danh như vậy.', 'There is no such identity source.'));
}

/**
 * One of this file's POSTs. Returns a notice for the account page, or undefined
 * when a page was already sent.
 */
export async function handleControl(deps: ControlDeps, ctx: Context, s: CitizenSession, a: ControlAction, body: Record<string, unknown>): Promise<string | undefined> {
  if (a.action === 'prefer') return prefer(deps, ctx, s, body);
  let sourceId: string;
  try {
    sourceId = decodeURIComponent(a.sourceId);
  } catch {
    sourceId = '';
  }
  const known = SOURCE_ID.test(sourceId) && (registered(deps).some((x) => x.id === sourceId) || (await blockedSources(deps.accounts, s.accountId)).some((b) => b.sourceId === sourceId));
  if (!known) {
    unknownSource(ctx);
    return undefined;
  }
  const current = await sourceLoginOf({ db: deps.accounts.db }, ctx, s.accountId);
  const name = sourceName(deps, sourceId);
  const actor = `account:${s.accountId}`;
  if (a.action === 'block') {
    const needed = levelToBlock(registered(deps).find((x) => x.id === sourceId), current);
    if (needed && !atLeast(s.level, needed)) {
      const w = blockNeeds(needed);
      refused(ctx, 403, 'Chưa thể chặn', notice('alert', `${w.vi} Lần đăng nhập hiện tại ở mức «${LEVEL_WORDS[s.level].vi}».`, `${w.en} This sign-in is at “${LEVEL_WORDS[s.level].en}”.`) + raiseTo(needed));
      return undefined;
    }
    const endsSession = current === sourceId;
    if (endsSession && body.confirm !== 'end-session') {
      confirmPage(deps, ctx, s, sourceId);
      return undefined;
    }
    const done = await blockSource(deps.accounts, { accountId: s.accountId, sourceId, actor, details: { level: s.level, endedSession: endsSession } });
    if (done) deps.logger.info({ account: s.accountId, source: sourceId, endedSession: endsSession }, 'source blocked by the citizen');
    // A blocked source is not the one to offer first.
    if ((await preferredSource(deps.accounts, s.accountId)) === sourceId) await setPreferredSource(deps.accounts, s.accountId, null);
    if (preferredSourceOf(ctx) === sourceId) rememberPreferredSource(ctx, undefined);
    if (endsSession) {
      // After the commit: the block stands even if ending the session fails (it would then end at its expiry).
      await (await deps.provider().Session.find(s.id))?.destroy();
      html(ctx, 200, renderPage('account-blocked-signed-out', { title: 'Đã chặn nguồn định danh', nameVi: name.vi, nameEn: name.en, terms: termsExplained() }));
      return undefined;
    }
    return done
      ? notice(
          'status',
          `Đã chặn «${name.vi}». Từ nay nixa không cho đăng nhập vào tài khoản của bạn bằng nguồn này.`,
          `“${name.en}” is blocked. From now on nixa refuses sign-in to your account through it.`,
        )
      : notice('status', `«${name.vi}» đã bị chặn từ trước.`, `“${name.en}” was already blocked.`);
  }
  if (!atLeast(s.level, ENROLMENT_LEVEL) || current === undefined || current === sourceId) {
    refused(
      ctx,
      403,
      'Chưa thể bỏ chặn',
      notice(
        'alert',
        `Chỉ có thể bỏ chặn một nguồn định danh sau khi đăng nhập bằng một nguồn khác ở mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên. Lần đăng nhập hiện tại ở mức «${LEVEL_WORDS[s.level].vi}».`,
        `A source can be unblocked only after signing in through another source at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above. This sign-in is at “${LEVEL_WORDS[s.level].en}”.`,
      ),
    );
    return undefined;
  }
  const done = await unblockSource(deps.accounts, { accountId: s.accountId, sourceId, actor, details: { level: s.level } });
  if (done) deps.logger.info({ account: s.accountId, source: sourceId }, 'source unblocked by the citizen');
  return done
    ? notice('status', `Đã bỏ chặn «${name.vi}».`, `“${name.en}” is unblocked.`)
    : notice('status', `«${name.vi}» không bị chặn.`, `“${name.en}” was not blocked.`);
}

async function prefer(deps: ControlDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>): Promise<string | undefined> {
  const id = typeof body.source === 'string' ? body.source : '';
  if (id !== '' && !registered(deps).some((x) => x.id === id && x.enabled)) {
    unknownSource(ctx);
    return undefined;
  }
  await setPreferredSource(deps.accounts, s.accountId, id || null);
  rememberPreferredSource(ctx, id || undefined);
  if (!id) return notice('status', 'Đã bỏ lựa chọn nguồn định danh hiển thị đầu tiên.', 'You no longer have a source shown first.');
  const name = sourceName(deps, id);
  return notice('status', `Từ nay «${name.vi}» được hiển thị đầu tiên khi bạn đăng nhập trên trình duyệt này.`, `From now on “${name.en}” is shown first when you sign in in this browser.`);
}
