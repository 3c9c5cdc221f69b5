// Helpers on /account (issue 14 §4): a citizen lets another citizen act for them
// at named services until a date, sees whom they let, and sees who asked them
// for help; either of the two ends it at once. The rules and the storage are
// src/delegation's; this is the page.
//
//   GET  /account/helpers               the form (at DELEGATION_LEVEL), the two lists
//   POST /account/helpers               authorise: helper_national_id, clients (repeated), valid_until
//   POST /account/helpers/:id/revoke    as=grantor (Thu hồi) or as=helper (Thôi giúp)
//
// Authorising needs a session at DELEGATION_LEVEL (refused by src/delegation,
// named on the page); revoking needs none: it only takes away.
import type { Context } from 'koa';

import { accountClaims } from '../accounts/index.js';
import { atLeast } from '../assurance/index.js';
import { showClient } from '../clients/index.js';
import {
  authorise,
  DELEGATION_LEVEL,
  delegationsFor,
  delegationsGivenBy,
  latestValidUntil,
  MAX_YEARS,
  nextDay,
  revoke,
  servicesAcceptingHelpers,
  statusOf,
  todayInVietnam,
  type Delegation,
  type DelegationField,
} from '../delegation/index.js';
import { InvalidInputError, NotFoundError } from '../errors/index.js';
import { unreachableLevelAdvice } from '../interactions/level-advice.js';
import { escapeHtml, formatCalendarDate, renderPage } from '../pages/index.js';
import { ACCOUNT_PATH, csrfFor, html, LEVEL_WORDS, notice, refused, type AccountDeps, type CitizenSession } from './session.js';
import { signInHref } from './sign-in.js';
import { endGrantsOfDelegation } from '../protocol/index.js';

export const HELPERS_PATH = `${ACCOUNT_PATH}/helpers`;

/** What the citizen reads when a field is refused, by field (the error's own message is for logs). */
const FIELD_WORDS: Record<DelegationField, { vi: string; en: string }> = {
  helper_national_id: {
    vi: 'Số định danh cá nhân của người giúp chưa đúng: cần đủ 12 chữ số của một số định danh hợp lệ, và không phải số của chính bạn.',
    en: 'The helper’s ID number is not right: it must be the 12 digits of a valid personal ID number, and not your own.',
  },
  clients: {
    vi: 'Hãy chọn ít nhất một dịch vụ trong danh sách.',
    en: 'Choose at least one service from the list.',
  },
  valid_until: {
    vi: `Ngày kết thúc phải sau hôm nay và không quá ${MAX_YEARS} năm kể từ hôm nay.`,
    en: `The last day must be after today and at most ${MAX_YEARS} year from today.`,
  },
  level: {
    vi: `Chỉ có thể cho phép người khác giúp bạn sau khi đăng nhập ở mức độ đảm bảo «${LEVEL_WORDS[DELEGATION_LEVEL].vi}» trở lên.`,
    en: `You can let someone help you only after signing in at assurance level “${LEVEL_WORDS[DELEGATION_LEVEL].en}” or above.`,
  },
};

const FIELD_IDS: Record<Exclude<DelegationField, 'level'>, string> = {
  helper_national_id: 'helper-national-id',
  clients: 'helper-clients',
  valid_until: 'helper-valid-until',
};

const STATUS_WORDS = {
  'in-force': { vi: 'Đang có hiệu lực', en: 'In force' },
  expired: { vi: 'Đã hết hạn', en: 'Ended' },
  revoked: { vi: 'Đã thu hồi', en: 'Revoked' },
} as const;

const t = (vi: string, en: string) => `${escapeHtml(vi)} <span lang="en">(${escapeHtml(en)})</span>`;

/** The section on /account that leads here. */
export function helpersSection(): string {
  return `    <section aria-labelledby="helpers-heading">
      <h2 id="helpers-heading">Người giúp bạn <span lang="en">(Helpers)</span></h2>
      <p>Cho phép người thân làm thay bạn tại một số dịch vụ đến một ngày bạn chọn, xem những ai bạn đã cho phép và những ai đã nhờ bạn giúp. <span lang="en">(Let someone you trust act for you at some services until a day you choose, and see whom you have authorised and who has asked you to help.)</span></p>
      <p><a href="${HELPERS_PATH}">Quản lý người giúp bạn <span lang="en">(Manage your helpers)</span></a></p>
    </section>`;
}

/** Service names, each read once; a service removed since shows its id. */
function serviceNames(deps: AccountDeps) {
  const names = new Map<string, Promise<string>>();
  return (clientId: string) => {
    let n = names.get(clientId);
    if (!n) {
      n = showClient(deps.accounts.db, clientId).then(
        (c) => c.name,
        (err: unknown) => {
          if (err instanceof NotFoundError) return clientId;
          throw err;
        },
      );
      names.set(clientId, n);
    }
    return n;
  };
}

interface FormState {
  values?: { helper_national_id?: string; clients?: string[]; valid_until?: string };
  error?: DelegationField;
}

async function authoriseForm(deps: AccountDeps, s: CitizenSession, today: string, state: FormState): Promise<string> {
  if (!atLeast(s.level, DELEGATION_LEVEL)) {
    const w = LEVEL_WORDS[DELEGATION_LEVEL];
    const never = await unreachableLevelAdvice(deps.accounts, s.accountId, DELEGATION_LEVEL, { vi: 'cho phép người khác giúp bạn', en: 'let someone help you' });
    if (never) return never;
    return `${notice(
      'status',
      `Để cho phép người khác giúp bạn, hãy đăng nhập với mức độ đảm bảo «${w.vi}» trở lên (ví dụ qua ứng dụng định danh điện tử). Lần đăng nhập hiện tại ở mức «${LEVEL_WORDS[s.level].vi}».`,
      `To let someone help you, sign in at assurance level “${w.en}” or above (for example through the citizen ID app). This sign-in is at “${LEVEL_WORDS[s.level].en}”.`,
    )}
      <p><a class="button secondary" href="${escapeHtml(signInHref({ level: DELEGATION_LEVEL, returnTo: HELPERS_PATH }))}">Đăng nhập lại ở mức «${w.vi}» <span lang="en">(Sign in again at level “${w.en}”)</span></a></p>`;
  }
  const services = await servicesAcceptingHelpers(deps.accounts);
  if (!services.length) {
    return `<p>Hiện chưa có dịch vụ nào nhận người giúp. <span lang="en">(No service accepts helpers yet.)</span></p>`;
  }
  const v = state.values ?? {};
  const errorOf = (f: Exclude<DelegationField, 'level'>) =>
    state.error === f ? `<p class="field-error" id="${FIELD_IDS[f]}-error">${t(FIELD_WORDS[f].vi, FIELD_WORDS[f].en)}</p>` : '';
  const invalid = (f: Exclude<DelegationField, 'level'>) => (state.error === f ? ` aria-invalid="true" aria-describedby="${FIELD_IDS[f]}-error"` : '');
  const chosen = new Set(v.clients ?? []);
  const boxes = services
    .map(
      (c, i) =>
        `<li><input type="checkbox" id="helper-client-${i}" name="clients" value="${escapeHtml(c.clientId)}"${chosen.has(c.clientId) ? ' checked' : ''}><label for="helper-client-${i}">${escapeHtml(c.name)}</label></li>`,
    )
    .join('\n          ');
  return `<form method="post" action="${HELPERS_PATH}">
        <input type="hidden" name="csrf" value="${escapeHtml(csrfFor(deps, s))}">
        <label for="helper-national-id">Số định danh cá nhân của người giúp (12 chữ số, in trên thẻ căn cước) <span lang="en">(The helper’s personal ID number, 12 digits, printed on their ID card)</span></label>
        ${errorOf('helper_national_id')}
        <input type="text" id="helper-national-id" name="helper_national_id" inputmode="numeric" pattern="[0-9]{12}" maxlength="12" autocomplete="off" required value="${escapeHtml(v.helper_national_id ?? '')}"${invalid('helper_national_id')}>
        <fieldset id="helper-clients"${state.error === 'clients' ? ` aria-describedby="helper-clients-error"` : ''}>
          <legend>Những dịch vụ người đó được làm thay bạn <span lang="en">(The services at which they may act for you)</span></legend>
          ${errorOf('clients')}
          <ul class="choices">
          ${boxes}
          </ul>
        </fieldset>
        <label for="helper-valid-until">Đến hết ngày (tối đa ${MAX_YEARS} năm) <span lang="en">(Until the end of, at most ${MAX_YEARS} year)</span></label>
        ${errorOf('valid_until')}
        <input type="date" id="helper-valid-until" name="valid_until" min="${nextDay(today)}" max="${latestValidUntil(today)}" required value="${escapeHtml(v.valid_until ?? '')}"${invalid('valid_until')}>
        <button type="submit">Cho phép <span lang="en">(Authorise)</span></button>
      </form>`;
}

async function givenList(deps: AccountDeps, s: CitizenSession, today: string, nameOf: (id: string) => Promise<string>): Promise<string> {
  const given = await delegationsGivenBy(deps.accounts, s.accountId);
  if (!given.length) return `<p>Bạn chưa cho phép ai. <span lang="en">(You have not authorised anyone.)</span></p>`;
  const csrf = escapeHtml(csrfFor(deps, s));
  const rows: string[] = [];
  for (const d of given) {
    const status = statusOf(d, today);
    const services = (await Promise.all(d.clients.map(nameOf))).map(escapeHtml).join(', ');
    const action =
      status === 'in-force'
        ? `<form method="post" action="${HELPERS_PATH}/${escapeHtml(d.id)}/revoke" class="inline">
              <input type="hidden" name="csrf" value="${csrf}">
              <input type="hidden" name="as" value="grantor">
              <button type="submit" class="secondary" aria-describedby="given-${escapeHtml(d.id)}">Thu hồi <span lang="en">(Revoke)</span></button>
            </form>`
        : '';
    rows.push(
      // The button's name is what it says; whose row it is, its description (the number's cell).
      `          <tr><td id="given-${escapeHtml(d.id)}">${escapeHtml(d.helperMasked)}</td><td>${services}</td><td>${untilHtml(d)}</td><td>${t(STATUS_WORDS[status].vi, STATUS_WORDS[status].en)}</td><td>${action}</td></tr>`,
    );
  }
  return `<table class="claims">
        <caption>Người giúp, dịch vụ và thời hạn, mới nhất trước <span lang="en">(Helper, services and last day, newest first)</span></caption>
        <thead><tr><th scope="col">Số định danh <span lang="en">(ID number)</span></th><th scope="col">Dịch vụ <span lang="en">(Services)</span></th><th scope="col">Đến hết ngày <span lang="en">(Until)</span></th><th scope="col">Tình trạng <span lang="en">(Status)</span></th><th scope="col">Thao tác <span lang="en">(Action)</span></th></tr></thead>
        <tbody>
${rows.join('\n')}
        </tbody>
      </table>`;
}

const untilHtml = (d: Delegation) => `<time datetime="${escapeHtml(d.validUntil)}">${escapeHtml(formatCalendarDate(d.validUntil))}</time>`;

async function receivedList(deps: AccountDeps, s: CitizenSession, today: string, nameOf: (id: string) => Promise<string>): Promise<string> {
  const nationalId = (await accountClaims(deps.accounts, s.accountId)).national_id;
  const received = typeof nationalId === 'string' ? await delegationsFor(deps.accounts, nationalId, today) : [];
  if (!received.length) return `<p>Hiện không có ai nhờ bạn giúp. <span lang="en">(Nobody has asked you to help at the moment.)</span></p>`;
  const csrf = escapeHtml(csrfFor(deps, s));
  const rows: string[] = [];
  for (const d of received) {
    const n = (await accountClaims(deps.accounts, d.grantorId)).name;
    const who = typeof n === 'string' ? escapeHtml(n) : t('Không rõ tên', 'name not on record');
    const services = (await Promise.all(d.clients.map(nameOf))).map(escapeHtml).join(', ');
    rows.push(
      `          <tr><td id="received-${escapeHtml(d.id)}">${who}</td><td>${services}</td><td>${untilHtml(d)}</td><td><form method="post" action="${HELPERS_PATH}/${escapeHtml(d.id)}/revoke" class="inline">
              <input type="hidden" name="csrf" value="${csrf}">
              <input type="hidden" name="as" value="helper">
              <button type="submit" class="secondary" aria-describedby="received-${escapeHtml(d.id)}">Thôi giúp <span lang="en">(Stop helping)</span></button>
            </form></td></tr>`,
    );
  }
  return `<table class="claims">
        <caption>Người nhờ bạn, dịch vụ và thời hạn <span lang="en">(Who asked you, services and last day)</span></caption>
        <thead><tr><th scope="col">Người nhờ <span lang="en">(Person)</span></th><th scope="col">Dịch vụ <span lang="en">(Services)</span></th><th scope="col">Đến hết ngày <span lang="en">(Until)</span></th><th scope="col">Thao tác <span lang="en">(Action)</span></th></tr></thead>
        <tbody>
${rows.join('\n')}
        </tbody>
      </table>`;
}

async function showHelpers(deps: AccountDeps, ctx: Context, s: CitizenSession, status: number, message = '', state: FormState = {}): Promise<void> {
  const today = todayInVietnam();
  const nameOf = serviceNames(deps);
  const [form, given, received] = await Promise.all([authoriseForm(deps, s, today, state), givenList(deps, s, today, nameOf), receivedList(deps, s, today, nameOf)]);
  html(ctx, status, renderPage('account-helpers', { title: 'Người giúp bạn', message, form, given, received }));
}

const one = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
const many = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

async function authoriseHelper(deps: AccountDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>): Promise<void> {
  const values = {
    // What was typed, trimmed of the spaces people put between groups of digits; checked as it then is.
    helper_national_id: one(body.helper_national_id).replace(/\s+/g, '').slice(0, 40),
    clients: many(body.clients).slice(0, 100),
    valid_until: one(body.valid_until).slice(0, 20),
  };
  try {
    const d = await authorise(
      deps.accounts,
      { grantorId: s.accountId, helperNationalId: values.helper_national_id, clients: values.clients, validUntil: values.valid_until, level: s.level },
      todayInVietnam(),
    );
    // Never the number itself in the log: the masked form, as the audit event has it.
    deps.logger.info({ account: s.accountId, delegation: d.id, helper: d.helperMasked }, 'helper authorised');
    const until = formatCalendarDate(d.validUntil);
    return showHelpers(
      deps,
      ctx,
      s,
      200,
      notice('status', `Đã cho phép người có số định danh ${d.helperMasked} làm thay bạn đến hết ngày ${until}.`, `The person with ID number ${d.helperMasked} may now act for you until ${until}.`),
    );
  } catch (err) {
    if (!(err instanceof InvalidInputError) || !(err.field in FIELD_WORDS)) throw err;
    const field = err.field as DelegationField;
    const w = FIELD_WORDS[field];
    return showHelpers(deps, ctx, s, field === 'level' ? 403 : 400, notice('alert', `Chưa cho phép được. ${w.vi}`, `Not authorised. ${w.en}`), { values, error: field });
  }
}

async function revokeHelper(deps: AccountDeps, ctx: Context, s: CitizenSession, id: string, body: Record<string, unknown>): Promise<void> {
  const as = one(body.as);
  if (as !== 'grantor' && as !== 'helper') throw new InvalidInputError('as', 'must be grantor or helper');
  const nationalId = as === 'helper' ? (await accountClaims(deps.accounts, s.accountId)).national_id : undefined;
  const d = await revoke(deps.accounts, id, { accountId: s.accountId, as, ...(typeof nationalId === 'string' ? { nationalId } : {}) });
  if (!d) {
    return refused(ctx, 404, 'Không tìm thấy', notice('alert', 'Không có quyền giúp này trong tài khoản của bạn.', 'There is no such authorisation in your account.'));
  }
  // At once: the grants the helper holds under it end now, with their tokens (each use re-checks anyway).
  const ended = await endGrantsOfDelegation(deps.accounts.db, d.id);
  deps.logger.info({ account: s.accountId, delegation: d.id, as, grants: ended.grants }, 'helper authorisation revoked');
  return showHelpers(
    deps,
    ctx,
    s,
    200,
    as === 'grantor'
      ? notice('status', `Đã thu hồi quyền của người có số định danh ${d.helperMasked}. Việc thu hồi có hiệu lực ngay.`, `The authorisation of ${d.helperMasked} is revoked, with immediate effect.`)
      : notice('status', 'Bạn đã thôi giúp. Việc này có hiệu lực ngay.', 'You no longer act for them, with immediate effect.'),
  );
}

const REVOKE_ROUTE = /^POST \/helpers\/([^/]{1,64})\/revoke$/;

/** The helpers' routes of the /account table: what runs for `route` ('METHOD /path' below /account), and whether it is a POST (CSRF checked first). */
export function helpersRoute(route: string): { post: boolean; run: (deps: AccountDeps, ctx: Context, s: CitizenSession, body: Record<string, unknown>) => Promise<void> } | undefined {
  if (route === 'GET /helpers' || route === 'HEAD /helpers') return { post: false, run: (deps, ctx, s) => showHelpers(deps, ctx, s, 200) };
  if (route === 'POST /helpers') return { post: true, run: authoriseHelper };
  const m = REVOKE_ROUTE.exec(route);
  if (!m) return undefined;
  const id = m[1]!;
  return { post: true, run: (deps, ctx, s, body) => revokeHelper(deps, ctx, s, id, body) };
}
