// Plain words for a citizen who cannot reach the level asked through the sources
// they have: which sources could vouch for it, and how to get an account at one
// (a level-2 e-ID account, activated at the police). Used by the chooser and by
// /account's factor sections; what to say is decided by sources/advice.ts.
import { linkedSourceIds, type AccountsContext } from '../accounts/index.js';
import type { Level } from '../assurance/index.js';
import { escapeHtml, renderFragment } from '../pages/index.js';
import { levelAdvice, linkedCanReach, listSources, type LevelAdvice, type Source } from '../sources/index.js';

export const LEVEL_NAMES: Record<Level, { vi: string; en: string }> = {
  low: { vi: 'thấp', en: 'low' },
  substantial: { vi: 'đáng kể', en: 'substantial' },
  high: { vi: 'cao', en: 'high' },
};

const namesVi = (ss: Source[]) => ss.map((s) => `«${escapeHtml(s.name.vi)}»`).join(', ');
const namesEn = (ss: Source[]) => ss.map((s) => `“${escapeHtml(s.name.en)}”`).join(', ');

/** The way to an account at the citizen-ID source, or what to do when there is none. */
function wayForward(a: LevelAdvice): string {
  if (a.citizenId) {
    const vi = `«${escapeHtml(a.citizenId.name.vi)}»`;
    const en = `“${escapeHtml(a.citizenId.name.en)}”`;
    return `<p>Chưa có tài khoản ở đó? Hãy mang thẻ căn cước đến cơ quan công an nơi bạn cư trú để kích hoạt <strong>tài khoản định danh điện tử mức 2</strong>. Sau đó bạn đăng nhập được qua ${vi}, ở mức «${LEVEL_NAMES[a.level].vi}».
      <span lang="en">(No account there yet? Take your citizen identity card to the police where you live to activate a <strong>level-2 e-ID account</strong> (định danh điện tử mức 2). You can then sign in through ${en}, at level “${LEVEL_NAMES[a.level].en}”.)</span></p>`;
  }
  return `<p>Nếu bạn không có tài khoản ở nguồn nào kể trên, hãy liên hệ dịch vụ để hỏi cách khác. <span lang="en">(If you have no account at any of these sources, ask the service for another way.)</span></p>`;
}

/**
 * On the chooser, when the service asks for more than some sources can give: why
 * they are not listed, and what to do if the ones listed do not know the citizen.
 * Empty when every source can reach the level.
 */
export function chooserLevelAdvice(a: LevelAdvice): string {
  if (a.unable.length === 0) return '';
  const level = LEVEL_NAMES[a.level];
  const able = a.able.length
    ? `<p>Dịch vụ này cần mức độ đảm bảo «${level.vi}». Chỉ ${namesVi(a.able)} xác nhận được mức này; ${namesVi(a.unable)} thì không, nên không có trong danh sách.
      <span lang="en">(This service needs assurance level “${level.en}”. Only ${namesEn(a.able)} can vouch for it; ${namesEn(a.unable)} cannot, so they are not listed.)</span></p>`
    : '';
  return `<section class="advice" aria-labelledby="advice-heading">
      <h2 id="advice-heading">Không thấy nguồn bạn thường dùng? <span lang="en">(Your usual source is not listed?)</span></h2>
      ${able}
      ${wayForward(a)}
    </section>`;
}

/**
 * On /account, for an account none of whose sources can reach `a.level` (needed to
 * add a factor): signing in there again will never be enough, so say what will.
 */
export function accountLevelAdvice(a: LevelAdvice, linked: Source[], what: { vi: string; en: string }): string {
  const level = LEVEL_NAMES[a.level];
  const through = linked.length
    ? `Tài khoản của bạn hiện chỉ liên kết với ${namesVi(linked)}, nguồn không xác nhận được mức «${level.vi}» cần để ${what.vi}. <span lang="en">(Your account is linked only to ${namesEn(linked)}, which cannot vouch for the level “${level.en}” needed to ${what.en}.)</span>`
    : `Để ${what.vi}, cần đăng nhập ở mức «${level.vi}». <span lang="en">(To ${what.en}, you need to sign in at level “${level.en}”.)</span>`;
  const able = a.able.length
    ? `<p>Hãy đăng nhập một lần qua ${namesVi(a.able)}: nguồn đó xác nhận được mức này, và sẽ được liên kết với tài khoản của bạn. <span lang="en">(Sign in once through ${namesEn(a.able)}: it can vouch for this level, and will be linked to your account.)</span></p>`
    : '';
  return `<div class="notice advice" role="status"><p>${through}</p>${able}${wayForward(a)}</div>`;
}

/**
 * For /account: when none of the account's sources can bring a sign-in to `level`
 * (so signing in again is no way to `what`), the advice saying what is; undefined
 * when one can.
 */
export async function unreachableLevelAdvice(accounts: AccountsContext, accountId: string, level: Level, what: { vi: string; en: string }): Promise<string | undefined> {
  const [sources, linked] = await Promise.all([listSources(accounts.db, accounts.cipher), linkedSourceIds(accounts, accountId)]);
  if (linkedCanReach(sources, linked, level)) return undefined;
  return accountLevelAdvice(
    levelAdvice(sources, level, linked),
    sources.filter((s) => linked.has(s.id)),
    what,
  );
}

/** What "identity source" and "assurance level" mean, for a first-time citizen. */
export const termsExplained = (): string => renderFragment('terms', {});
