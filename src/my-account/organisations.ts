// The companies a person is the legal representative of, on /account: who signed
// in to which service acting for each, from the audit trail (REPRESENTATION_CHOSEN,
// written when someone chose that company; nothing is stored twice). The registry
// says which companies are this person's to oversee; a mandated person does not
// see the others' acts.
import { accountClaims } from '../accounts/index.js';
import { eventsForEnterprises } from '../audit/index.js';
import { escapeHtml, formatDateTime } from '../pages/index.js';
import type { Organisation } from '../registries/contract.js';
import { RegistryUnavailableError } from '../registries/errors.js';
import { roleLabel, taskLabel } from '../representation/labels.js';
import type { AccountDeps, CitizenSession } from './session.js';

/** How many acts per page of the section (the newest). */
export const ACTS_SHOWN = 20;

export async function organisationsSection(deps: AccountDeps, s: CitizenSession): Promise<string> {
  if (!deps.registries) return '';
  const nationalId = (await accountClaims(deps.accounts, s.accountId)).national_id;
  if (typeof nationalId !== 'string') return '';
  let represented: Organisation[];
  try {
    represented = (await deps.registries.lookup(nationalId)).flatMap((l) => l.organisations).filter((o) => o.role === 'legal_representative');
  } catch (err) {
    if (!(err instanceof RegistryUnavailableError)) throw err;
    if (err.reason === 'none-enabled') return '';
    deps.logger.warn({ reason: err.reason }, 'organisation registry unavailable for the account page');
    return section(
      '<p role="status">Hiện không kiểm tra được các doanh nghiệp bạn đại diện: cơ quan đăng ký không trả lời. <span lang="en">(The companies you represent cannot be checked now: the registry is not answering.)</span></p>',
    );
  }
  if (!represented.length) return '';
  const acts = await eventsForEnterprises(deps.accounts.db, 'REPRESENTATION_CHOSEN', represented.map((o) => o.enterprise_code), ACTS_SHOWN * represented.length);
  const names = new Map<string, string>();
  const nameOf = async (accountId: string) => {
    if (!names.has(accountId)) {
      const n = (await accountClaims(deps.accounts, accountId)).name;
      names.set(accountId, typeof n === 'string' ? n : 'Không rõ tên (name not on record)');
    }
    return names.get(accountId)!;
  };
  const services = new Map<string, string>();
  const serviceOf = async (clientId: string) => {
    if (!services.has(clientId)) services.set(clientId, (await deps.provider().Client.find(clientId))?.clientName ?? clientId);
    return services.get(clientId)!;
  };
  const parts: string[] = [];
  for (const o of represented) {
    const rows: string[] = [];
    for (const a of acts.filter((e) => e.details.enterprise === o.enterprise_code).slice(0, ACTS_SHOWN)) {
      const d = a.details as { client?: string; role?: 'legal_representative' | 'mandate'; tasks?: string[] };
      const role = d.role ? roleLabel(d.role) : { vi: '?', en: '?' };
      const tasks = d.tasks?.length ? `: ${d.tasks.map((t) => escapeHtml(taskLabel(t).vi)).join(', ')}` : '';
      rows.push(
        `          <tr><td>${escapeHtml(formatDateTime(new Date(a.at)))}</td><td>${escapeHtml(a.subject === s.accountId ? 'Bạn (you)' : await nameOf(a.subject ?? ''))}</td><td>${escapeHtml(role.vi)}${tasks} <span lang="en">(${escapeHtml(role.en)})</span></td><td>${escapeHtml(await serviceOf(d.client ?? ''))}</td></tr>`,
      );
    }
    const heading = `<h3>${escapeHtml(o.name_vi)}${o.name_en ? ` <span lang="en">(${escapeHtml(o.name_en)})</span>` : ''} — ${escapeHtml(o.enterprise_code)}</h3>`;
    parts.push(
      rows.length
        ? `      ${heading}
      <table class="claims">
        <caption>Ai đã đăng nhập thay mặt doanh nghiệp, mới nhất trước <span lang="en">(Who signed in for the company, newest first)</span></caption>
        <thead><tr><th scope="col">Thời gian <span lang="en">(When)</span></th><th scope="col">Người <span lang="en">(Person)</span></th><th scope="col">Tư cách <span lang="en">(As)</span></th><th scope="col">Dịch vụ <span lang="en">(Service)</span></th></tr></thead>
        <tbody>
${rows.join('\n')}
        </tbody>
      </table>`
        : `      ${heading}
      <p>Chưa có ai đăng nhập thay mặt doanh nghiệp này qua nixa. <span lang="en">(Nobody has signed in for this company through nixa yet.)</span></p>`,
    );
  }
  return section(parts.join('\n'));
}

const section = (body: string) => `    <section aria-labelledby="organisations-heading">
      <h2 id="organisations-heading">Doanh nghiệp bạn đại diện <span lang="en">(Companies you represent)</span></h2>
      <p>Bạn là người đại diện theo pháp luật của các doanh nghiệp dưới đây (theo cơ quan đăng ký). Mọi lần ai đó đăng nhập vào một dịch vụ thay mặt doanh nghiệp đều được ghi lại ở đây. <span lang="en">(You are the legal representative of the companies below, as the registry says. Every sign-in to a service on a company’s behalf is listed here.)</span></p>
${body}
    </section>`;
