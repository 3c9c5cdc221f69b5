// What every /account page needs: the citizen's nixa session (found through the
// provider's session cookie), CSRF tokens bound to it, and the small pieces of
// page the factor sections share.
import type { OrganisationRegistries } from '../registries/contract.js';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import type { AccountsContext } from '../accounts/index.js';
import { atLeast, levelOfAcr, type Level } from '../assurance/index.js';
import type { FactorsContext, PasskeySettings } from '../factors/index.js';
import { csrfToken } from '../interactions/csrf.js';
import type { KeyRing } from '../keys/index.js';
import type { SourceRegistry } from '../sources/index.js';
import type { Logger } from '../logging/index.js';
import { escapeHtml, formatDate, notice, renderPage } from '../pages/index.js';
import { ACCOUNT_PATH } from './paths.js';
import { signInHref, type AccountSignIn } from './sign-in.js';

export { ACCOUNT_PATH };

/** oidc-provider's session cookie (its default name, which nixa does not change). */
const SESSION_COOKIE = '_session';

/**
 * A session must stand at least here to add or remove a factor, or to replace the
 * recovery codes: a factor is worth no more than the session that enrolled it, and
 * a weaker session (a borrowed SIM card) must not be able to strip the citizen's.
 */
export const ENROLMENT_LEVEL: Level = 'substantial';

export interface AccountDeps {
  accounts: AccountsContext;
  keyring: KeyRing;
  logger: Logger;
  provider: () => Provider;
  /** undefined: this deployment offers no passkeys (see NIXA_PASSKEY_RP_ID). */
  passkeys?: PasskeySettings;
  /** The identity sources: every registered one (enabled or not), with its name, in memory. */
  sources: SourceRegistry;
  /** The citizen's sign-in to this account through nixa itself (sign-in.ts). */
  signIn: AccountSignIn;
  /** Which companies the citizen represents (organisations.ts); absent, that section is not shown. */
  registries?: OrganisationRegistries | undefined;
}

export interface CitizenSession {
  /** The session cookie's value: CSRF tokens of /account are bound to it. */
  id: string;
  accountId: string;
  /** The session's level (from its acr); low when the acr is not one of nixa's levels. */
  level: Level;
  amr: string[];
}

/** The nixa sign-in session of this browser, if any. */
export async function citizenSession(deps: AccountDeps, ctx: Context): Promise<CitizenSession | undefined> {
  const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (!id) return undefined;
  const session = await deps.provider().Session.find(id);
  if (!session?.accountId) return undefined;
  return { id, accountId: session.accountId, level: levelOfAcr(session.acr ?? '') ?? 'low', amr: session.amr ?? [] };
}

/** A source's name as citizens read it; the id itself for one no longer registered. */
export function sourceName(deps: Pick<AccountDeps, 'sources'>, id: string): { vi: string; en: string } {
  const s = deps.sources.get(id);
  return s ? { vi: s.name.vi, en: s.name.en } : { vi: id, en: id };
}

export const factorsOf = (deps: AccountDeps): FactorsContext => ({ db: deps.accounts.db, cipher: deps.accounts.cipher, passkeys: deps.passkeys });
export const csrfFor = (deps: AccountDeps, s: CitizenSession) => csrfToken(deps.keyring.snapshot.cookieKeys, `account:${s.id}`);

export const LEVEL_WORDS: Record<Level, { vi: string; en: string }> = {
  low: { vi: 'thấp', en: 'low' },
  substantial: { vi: 'đáng kể', en: 'substantial' },
  high: { vi: 'cao', en: 'high' },
};

export { notice };

/** Dates on the account pages: dd/mm/yyyy in Vietnam (pages/dates.ts). */
export const dateVi = formatDate;

export function html(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

export const backToAccount = `<p><a href="${ACCOUNT_PATH}">Quay lại tài khoản <span lang="en">(Back to your account)</span></a></p>`;

/** A page saying why something was refused, with the way back. */
export function refused(ctx: Context, status: number, title: string, message: string): void {
  html(ctx, status, renderPage('account-refused', { title, notice: message + backToAccount }));
}

/**
 * The way to a session at ENROLMENT_LEVEL when this one is below it: the same
 * sign-in to the account, asking for that level (nixa offers a passkey, a code
 * or a source that vouches enough). Empty when the session is already there.
 */
export function raiseLevel(s: CitizenSession): string {
  if (atLeast(s.level, ENROLMENT_LEVEL)) return '';
  const w = LEVEL_WORDS[ENROLMENT_LEVEL];
  return `<p><a class="button secondary" href="${escapeHtml(signInHref({ level: ENROLMENT_LEVEL }))}">Đăng nhập lại ở mức «${w.vi}» <span lang="en">(Sign in again at level “${w.en}”)</span></a></p>`;
}

/** Whether the session may change the account's factors; if not, answers with a page saying why. */
export function mayChangeFactors(ctx: Context, s: CitizenSession): boolean {
  if (atLeast(s.level, ENROLMENT_LEVEL)) return true;
  refused(
    ctx,
    403,
    'Chưa thể thay đổi',
    notice(
      'alert',
      `Chỉ có thể thêm, gỡ hoặc thay đổi phương thức xác thực sau khi đăng nhập ở mức độ đảm bảo «${LEVEL_WORDS[ENROLMENT_LEVEL].vi}» trở lên.`,
      `Second factors can be added, removed or changed only after signing in at assurance level “${LEVEL_WORDS[ENROLMENT_LEVEL].en}” or above.`,
    ) + raiseLevel(s),
  );
  return false;
}
