// The demo service's pages: views/demo-*.html inside views/demo-layout.html, with
// the same {{escaped}} / {{{raw}}} placeholders as nixa's own pages. Everything
// that reaches a {{{raw}}} slot is built here from escaped parts.
import { dateTimeHtml, escapeHtml, formatCalendarDate, renderFragment, renderInLayout } from '../pages/index.js';

/** A fragment: views/demo-<name>.html without the layout. */
export function renderPartial(name: string, values: Record<string, unknown> = {}): string {
  return renderFragment(`demo-${name}`, values);
}

/** A page: views/demo-<name>.html inside views/demo-layout.html. */
export function renderDemoPage(name: string, values: Record<string, unknown> & { title: string }): string {
  return renderInLayout('demo-layout', `demo-${name}`, values);
}

// ---------------------------------------------------------------------------
// The signed-in page's claims table.

/** ID token claims that are protocol plumbing rather than something nixa tells the service about the person. */
const PROTOCOL_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'sid', 'azp', 'jti']);

/** The claims worth showing: sub, acr, amr, auth_time and any attribute nixa shared. */
export function claimsToShow(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([k]) => !PROTOCOL_CLAIMS.has(k)));
}

const LABELS: Record<string, { vi: string; en: string }> = {
  sub: { vi: 'Mã định danh của bạn với dịch vụ này', en: 'Your identifier at this service' },
  acr: { vi: 'Mức độ đảm bảo', en: 'Assurance level' },
  amr: { vi: 'Phương thức xác thực', en: 'Authentication methods' },
  auth_time: { vi: 'Thời điểm xác thực', en: 'Authenticated at' },
  name: { vi: 'Họ và tên', en: 'Full name' },
  given_name: { vi: 'Tên', en: 'Given name' },
  family_name: { vi: 'Họ', en: 'Family name' },
  birthdate: { vi: 'Ngày sinh', en: 'Date of birth' },
  gender: { vi: 'Giới tính', en: 'Gender' },
  place_of_origin: { vi: 'Quê quán', en: 'Place of origin' },
  national_id: { vi: 'Số định danh cá nhân', en: 'Personal identification number' },
  email: { vi: 'Thư điện tử', en: 'Email' },
  email_verified: { vi: 'Thư điện tử đã xác minh', en: 'Email verified' },
  phone_number: { vi: 'Số điện thoại', en: 'Phone number' },
  phone_number_verified: { vi: 'Số điện thoại đã xác minh', en: 'Phone number verified' },
  address: { vi: 'Địa chỉ', en: 'Address' },
  organisation: { vi: 'Tổ chức bạn thay mặt', en: 'Organisation you act for' },
  act: { vi: 'Người làm việc thay mặt', en: 'Acting for this person' },
};

/** What nixa's assurance levels mean, for people rather than protocols. */
const ACR: Record<string, { vi: string; en: string }> = {
  'urn:nixa:test': {
    vi: 'Đăng nhập thử nghiệm — không xác minh danh tính, không có giá trị pháp lý.',
    en: 'Test sign-in — identity not verified, no legal value.',
  },
  'urn:nixa:loa:low': {
    vi: 'Mức thấp — danh tính do nguồn như nhà mạng xác nhận.',
    en: 'Low — identity vouched for by a source such as a telecom operator.',
  },
  'urn:nixa:loa:substantial': {
    vi: 'Mức đáng kể — danh tính đã được xác minh (ví dụ eKYC của ngân hàng).',
    en: 'Substantial — identity verified (e.g. by a bank’s eKYC).',
  },
  'urn:nixa:loa:high': {
    vi: 'Mức cao — danh tính đã được xác minh với cơ sở dữ liệu quốc gia về dân cư.',
    en: 'High — identity verified against the national population database.',
  },
};

export function describeAcr(acr: unknown): { vi: string; en: string } {
  if (typeof acr !== 'string' || !acr) {
    return { vi: 'nixa không cho biết mức độ đảm bảo.', en: 'nixa did not state an assurance level.' };
  }
  return ACR[acr] ?? { vi: 'Mức độ mà dịch vụ mẫu này chưa biết.', en: 'A level this sample service does not know.' };
}

function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return `<code>${escapeHtml(seconds)}</code>`;
  // nixa's one format (pages/dates.ts): dd/mm/yyyy HH:mm, Vietnam's time zone.
  return dateTimeHtml(d);
}

function formatValue(key: string, value: unknown): string {
  if (key === 'auth_time' && typeof value === 'number') return formatTime(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.map((v) => `<code>${escapeHtml(v)}</code>`).join(', ');
  }
  if (typeof value === 'boolean') return value ? 'có <span lang="en">(yes)</span>' : 'không <span lang="en">(no)</span>';
  if (key === 'address' && value !== null && typeof value === 'object' && 'formatted' in value) return escapeHtml((value as { formatted: unknown }).formatted);
  if (value !== null && typeof value === 'object') return `<code>${escapeHtml(JSON.stringify(value))}</code>`;
  if (key === 'birthdate' && typeof value === 'string') return escapeHtml(formatCalendarDate(value));
  if (key === 'gender') return value === 'male' ? 'Nam <span lang="en">(male)</span>' : value === 'female' ? 'Nữ <span lang="en">(female)</span>' : escapeHtml(value);
  // Text in the page font: monospace fonts lack Vietnamese letters with two marks (ầ, ố).
  return typeof value === 'string' && !/^[\x21-\x7e]+$/.test(value) ? escapeHtml(value) : `<code>${escapeHtml(value)}</code>`;
}

/** Table rows for the claims, known claims first in a fixed order, the rest by name. */
export function claimRows(claims: Record<string, unknown>): string {
  const known = Object.keys(LABELS).filter((k) => k in claims);
  const others = Object.keys(claims).filter((k) => !(k in LABELS)).sort();
  return [...known, ...others]
    .map((key) => {
      const label = LABELS[key];
      const heading = label
        ? `${escapeHtml(label.vi)} <span lang="en">(${escapeHtml(label.en)})</span>`
        : '';
      return `        <tr><th scope="row">${heading}${heading ? '<br>' : ''}<code>${escapeHtml(key)}</code></th><td>${formatValue(key, claims[key])}</td></tr>`;
    })
    .join('\n');
}

/** Table rows for the records the demo's API returned (escaped: the API is another server). */
export function recordRows(records: { number: string; kind: { vi: string; en: string }; status: { vi: string; en: string }; date: string }[]): string {
  return records
    .map(
      (r) =>
        `        <tr><td><code>${escapeHtml(r.number)}</code></td><td>${escapeHtml(r.kind.vi)} <span lang="en">(${escapeHtml(r.kind.en)})</span></td>` +
        `<td>${escapeHtml(r.status.vi)} <span lang="en">(${escapeHtml(r.status.en)})</span></td><td><time datetime="${escapeHtml(r.date)}">${escapeHtml(r.date.split('-').reverse().join('/'))}</time></td></tr>`,
    )
    .join('\n');
}

const ROLES: Record<string, { vi: string; en: string }> = {
  legal_representative: { vi: 'người đại diện theo pháp luật', en: 'legal representative' },
  mandate: { vi: 'người được ủy quyền', en: 'mandated person' },
};

/**
 * Who the person acts for, when nixa says (the `organisation` claim): the part of
 * the signed-in page a service acting on a company's behalf would build on.
 */
export function organisationSection(claim: unknown): string {
  if (claim === null || typeof claim !== 'object') return '';
  const o = claim as { enterprise_code?: unknown; name?: unknown; name_en?: unknown; role?: unknown; tasks?: unknown; valid_until?: unknown; status?: unknown };
  if (typeof o.enterprise_code !== 'string' || typeof o.name !== 'string') return '';
  const role = ROLES[String(o.role)] ?? { vi: String(o.role), en: String(o.role) };
  const tasks = Array.isArray(o.tasks) && o.tasks.length ? ` — <code>${o.tasks.map((t) => escapeHtml(t)).join('</code>, <code>')}</code>` : '';
  const until = typeof o.valid_until === 'string' ? `, đến hết ngày ${escapeHtml(formatCalendarDate(o.valid_until))} <span lang="en">(until ${escapeHtml(formatCalendarDate(o.valid_until))})</span>` : '';
  return `    <section class="assurance" aria-labelledby="organisation-heading">
      <h2 id="organisation-heading">Bạn đang làm việc thay mặt <span lang="en">(You are acting for)</span></h2>
      <p><strong>${escapeHtml(o.name)}</strong>${typeof o.name_en === 'string' ? ` <span lang="en">(${escapeHtml(o.name_en)})</span>` : ''}</p>
      <p>Mã số doanh nghiệp <span lang="en">(enterprise code)</span> <code>${escapeHtml(o.enterprise_code)}</code> · ${escapeHtml(role.vi)} <span lang="en">(${escapeHtml(role.en)})</span>${tasks}${until}</p>
    </section>`;
}

/**
 * Someone acting for the person (the token's `act`, RFC 8693 §4.1): the record is
 * the represented person's (`sub`, `name`), and the service knows another person
 * is at the keyboard — by their own subject for this service, never their name.
 */
export function actorSection(act: unknown, name: unknown): string {
  if (act === null || typeof act !== 'object' || typeof (act as { sub?: unknown }).sub !== 'string') return '';
  const whom = typeof name === 'string' ? `<strong>${escapeHtml(name)}</strong>` : 'người này <span lang="en">(this person)</span>';
  return `    <section class="assurance" aria-labelledby="actor-heading">
      <h2 id="actor-heading">Bạn đang làm việc thay mặt người khác <span lang="en">(You are acting for someone else)</span></h2>
      <p>Hồ sơ này là của ${whom}. Người đăng nhập làm việc thay mặt họ <span lang="en">(The record is theirs; the person signed in acts for them)</span>: <code>act.sub</code> = <code>${escapeHtml((act as { sub: string }).sub)}</code></p>
    </section>`;
}
