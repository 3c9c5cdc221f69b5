// Identity sources in the console: the list with status and health, onboarding a
// source step by step (registered disabled → test the connection → enable), and
// enabling or disabling one with the version read (If-Match).
import { LEVELS } from '../assurance/index.js';
import { CALLBACK_PATH } from '../interactions/index.js';
import { escapeHtml as e } from '../pages/index.js';
import { ATTRIBUTES, SOURCE_KINDS, type Source } from '../sources/index.js';
import { seg, type ApiAnswer } from './admin-client.js';
import type { Call, ConsoleRoute } from './app.js';
import { alertBox, csrfInput, errorsOf, explain, field, formatTime, notice, reasonField, t, type FieldErrors, type FieldSpec } from './pages.js';
import { CONSOLE_PATH } from './registration.js';

type SourceView = Omit<Source, 'clientSecret'> & { hasClientSecret: boolean };

const KIND_WORDS: Record<string, [string, string]> = {
  citizen_id: ['Căn cước công dân', 'Citizen ID'],
  telecom: ['Nhà mạng', 'Telecom'],
  bank: ['Ngân hàng', 'Bank'],
  other: ['Khác', 'Other'],
};

const LEVEL_WORDS: Record<string, [string, string]> = { low: ['thấp', 'low'], substantial: ['đáng kể', 'substantial'], high: ['cao', 'high'] };
const levelOptions = LEVELS.map((l) => ({ value: l, vi: LEVEL_WORDS[l]![0], en: LEVEL_WORDS[l]![1] }));

const ATTRIBUTE_WORDS: Record<string, [string, string]> = {
  national_id: ['Số định danh cá nhân', 'Personal ID number'],
  full_name: ['Họ và tên', 'Full name'],
  birthdate: ['Ngày sinh', 'Date of birth'],
  gender: ['Giới tính', 'Gender'],
  place_of_origin: ['Quê quán', 'Place of origin'],
  permanent_address: ['Nơi thường trú', 'Permanent address'],
  phone_number: ['Số điện thoại', 'Phone number'],
};

const STEP1: FieldSpec[] = [
  { name: 'id', vi: 'Mã nguồn', en: 'Source id', required: true, hint: ['Chữ thường, số và dấu gạch ngang, ví dụ ngan-hang-a.', 'Lowercase letters, digits and dashes, e.g. bank-a.'] },
  { name: 'kind', vi: 'Loại nguồn', en: 'Kind', type: 'select', options: SOURCE_KINDS.map((k) => ({ value: k, vi: KIND_WORDS[k]![0], en: KIND_WORDS[k]![1] })) },
  { name: 'name_vi', vi: 'Tên hiển thị tiếng Việt', en: 'Display name in Vietnamese', required: true },
  { name: 'name_en', vi: 'Tên hiển thị tiếng Anh', en: 'Display name in English', required: true },
];
const STEP2: FieldSpec[] = [
  { name: 'discovery_url', vi: 'Địa chỉ tài liệu khám phá OpenID', en: 'OpenID discovery URL', type: 'url', required: true, hint: ['https://…/.well-known/openid-configuration', 'https://…/.well-known/openid-configuration'] },
  { name: 'client_id', vi: 'Mã khách (client id) nixa được nguồn cấp', en: 'Client id the source gave nixa', required: true },
  {
    name: 'auth_method',
    vi: 'Cách nixa xác thực với nguồn',
    en: 'How nixa authenticates to the source',
    type: 'select',
    options: [
      { value: 'client_secret_basic', vi: 'Mật khẩu khách (client_secret_basic)', en: '' },
      { value: 'client_secret_post', vi: 'Mật khẩu khách trong thân yêu cầu (client_secret_post)', en: '' },
      { value: 'private_key_jwt', vi: 'Khóa ký của nixa (private_key_jwt)', en: '' },
    ],
  },
  { name: 'client_secret', vi: 'Mật khẩu khách', en: 'Client secret', type: 'password', hint: ['Với client_secret_basic hoặc client_secret_post; được mã hóa khi lưu và không bao giờ hiển thị lại.', 'With client_secret_basic or client_secret_post; stored encrypted, never shown again.'] },
  { name: 'scopes', vi: 'Phạm vi (scope) cần xin', en: 'Scopes to ask for', required: true, hint: ['Cách nhau bởi dấu cách, có openid.', 'Space-separated, including openid.'] },
  { name: 'timeout_ms', vi: 'Thời gian chờ tối đa (mili giây)', en: 'Timeout (milliseconds)', type: 'number' },
];
const STEP4: FieldSpec[] = [
  { name: 'proofing_level', vi: 'Mức xác minh danh tính của nguồn', en: 'Identity proofing level of the source', type: 'select', options: levelOptions },
  {
    name: 'auth_level',
    vi: 'Mức xác thực cố định',
    en: 'Fixed authentication level',
    type: 'select',
    options: [{ value: '', vi: 'Lấy từ acr nguồn trả về (bảng dưới)', en: 'From the acr the source returns (below)' }, ...levelOptions],
  },
  { name: 'acr_levels', vi: 'Bảng acr → mức', en: 'acr → level table', type: 'textarea', hint: ['Mỗi dòng một mục: giá-trị-acr=mức, ví dụ urn:vn:bank:loa:substantial=substantial.', 'One per line: acr-value=level, e.g. urn:vn:bank:loa:substantial=substantial.'] },
  { name: 'max_auth_level', vi: 'Mức xác thực cao nhất nguồn có thể đạt', en: 'Highest authentication level the source can reach', type: 'select', options: levelOptions },
];
const FIELDS = [...STEP1, ...STEP2, ...STEP4].map((f) => f.name).concat(['claim_mapping', 'authoritative_for', 'reason']);

const DEFAULTS: Record<string, string> = { kind: 'bank', auth_method: 'client_secret_basic', scopes: 'openid', timeout_ms: '5000', proofing_level: 'substantial', max_auth_level: 'substantial' };

function claimsStep(c: Call, values: Record<string, string>, errors: FieldErrors): string {
  const chosen = new Set(c.formAll('authoritative_for'));
  const rows = ATTRIBUTES.map((a) => {
    const w = ATTRIBUTE_WORDS[a]!;
    return `<tr><th scope="row">${t(w[0], w[1])} <code>${a}</code></th>
      <td><label class="inline" for="f-map-${a}"><span class="visually-hidden">${t(`Tên claim của nguồn cho ${w[0]}`, `Source claim for ${w[1]}`)}</span></label><input id="f-map-${a}" name="map_${a}" value="${e(values[`map_${a}`] ?? '')}"></td>
      <td><input type="checkbox" id="f-auth-${a}" name="authoritative_for" value="${a}"${chosen.has(a) ? ' checked' : ''}><label class="inline" for="f-auth-${a}">${t('có thẩm quyền', 'authoritative')}<span class="visually-hidden"> ${e(w[0])}</span></label></td></tr>`;
  }).join('');
  const err = (name: string) => (errors[name] ? `<p class="field-error" id="f-${name}-error" role="alert">Chưa hợp lệ <span lang="en">(Not accepted)</span>: <span class="api-words">${e(errors[name])}</span></p>` : '');
  return `${err('claim_mapping')}${err('authoritative_for')}
  <table class="data"><caption>${t('Claim nào của nguồn cho thuộc tính nào của nixa', 'Which claim of the source gives which nixa attribute')}</caption>
  <thead><tr><th scope="col">${t('Thuộc tính nixa', 'nixa attribute')}</th><th scope="col">${t('Claim của nguồn', 'Source claim')}</th><th scope="col">${t('Nguồn có thẩm quyền?', 'Source authoritative?')}</th></tr></thead>
  <tbody>${rows}</tbody></table>
  ${field({ name: 'gender_values', vi: 'Giá trị giới tính (nếu khác male/female)', en: 'Gender values (if not male/female)', hint: ['Ví dụ: nam=male, nu=female', 'E.g. nam=male, nu=female'] }, values, errors)}`;
}

function newSourcePage(c: Call, values: Record<string, string>, errors: FieldErrors, status = 200): void {
  const fields = (specs: FieldSpec[]) => specs.map((f) => field(f, values, errors)).join('');
  c.page(
    'console-source-new',
    {
      title: 'Thêm nguồn định danh',
      callback: `${c.issuer}${CALLBACK_PATH}`,
      alert: alertBox(errors[''] ?? ''),
      form: `<form method="post" action="${CONSOLE_PATH}/sources" novalidate>${csrfInput(c.csrf)}
  <fieldset><legend>${t('Bước 1: Nguồn là ai', 'Step 1: Which source')}</legend>${fields(STEP1)}</fieldset>
  <fieldset><legend>${t('Bước 2: Kết nối', 'Step 2: Connection')}</legend>${fields(STEP2)}</fieldset>
  <fieldset><legend>${t('Bước 3: Thuộc tính', 'Step 3: Attributes')}</legend>${claimsStep(c, values, errors)}</fieldset>
  <fieldset><legend>${t('Bước 4: Mức độ đảm bảo', 'Step 4: Assurance')}</legend>${fields(STEP4)}</fieldset>
  <fieldset><legend>${t('Bước 5: Lý do', 'Step 5: Reason')}</legend>${reasonField(values, errors)}</fieldset>
  <button type="submit">${t('Đăng ký nguồn (chưa bật)', 'Register the source (not yet enabled)')}</button>
</form>`,
    },
    status,
  );
}

/** The registration the API takes, from the form; a malformed line is refused here, naming its field. */
function registrationOf(c: Call): { registration?: Record<string, unknown>; errors?: FieldErrors } {
  const claim_mapping: Record<string, unknown> = {};
  for (const a of ATTRIBUTES) {
    const claim = c.form(`map_${a}`).trim();
    if (!claim) continue;
    claim_mapping[a] = claim;
  }
  const genderValues = c.form('gender_values').trim();
  if (genderValues) {
    const values: Record<string, string> = {};
    for (const pair of genderValues.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
      const m = /^([^=\s]+)\s*=\s*(male|female|other)$/.exec(pair);
      if (!m) return { errors: { gender_values: `"${pair}": write source-value=male, female or other` } };
      values[m[1]!] = m[2]!;
    }
    const claim = claim_mapping.gender;
    if (typeof claim !== 'string') return { errors: { gender_values: 'give the gender claim in the table above first' } };
    claim_mapping.gender = { claim, values };
  }
  const acr_levels: Record<string, string> = {};
  for (const line of c.form('acr_levels').split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^(\S+)\s*=\s*(\S+)$/.exec(line);
    if (!m) return { errors: { acr_levels: `"${line}": write acr-value=level` } };
    acr_levels[m[1]!] = m[2]!;
  }
  const timeout = c.form('timeout_ms').trim();
  const secret = c.form('client_secret');
  return {
    registration: {
      reason: c.form('reason'),
      id: c.form('id').trim(),
      kind: c.form('kind'),
      name_vi: c.form('name_vi'),
      name_en: c.form('name_en'),
      discovery_url: c.form('discovery_url').trim(),
      client_id: c.form('client_id').trim(),
      auth_method: c.form('auth_method'),
      ...(secret ? { client_secret: secret } : {}),
      scopes: c.form('scopes').split(/\s+/).filter(Boolean),
      claim_mapping,
      authoritative_for: c.formAll('authoritative_for'),
      proofing_level: c.form('proofing_level'),
      ...(c.form('auth_level') ? { auth_level: c.form('auth_level') } : {}),
      ...(Object.keys(acr_levels).length ? { acr_levels } : {}),
      max_auth_level: c.form('max_auth_level'),
      ...(timeout ? { timeout_ms: /^\d+$/.test(timeout) ? Number(timeout) : timeout } : {}),
      // Registered disabled: citizens are offered it only once the connection is tested and it is enabled.
      enabled: false,
    },
  };
}

function formValues(c: Call): Record<string, string> {
  const names = [...STEP1, ...STEP2, ...STEP4].map((f) => f.name).concat(['reason', 'gender_values', ...ATTRIBUTES.map((a) => `map_${a}`)]);
  return Object.fromEntries(names.map((n) => [n, n === 'client_secret' ? '' : c.form(n)]));
}

const availabilityWords = (s: SourceView): string => {
  if (!s.enabled) return t('Đang tắt', 'Disabled');
  if (s.maintenance.on) return t('Đang bảo trì', 'In maintenance');
  if (s.health.status === 'failing') return `${t('Đang lỗi', 'Failing')}: <span class="api-words">${e(s.health.error ?? '')}</span>`;
  if (s.health.status === 'ok') return t('Hoạt động', 'Working');
  return t('Đang bật, chưa kiểm tra sức khỏe', 'Enabled, health not checked yet');
};

function sourceDetails(s: SourceView): string {
  const mapping = Object.entries(s.claimMapping)
    .map(([a, m]) => `<li><code>${e(a)}</code> ← <code>${e(typeof m === 'string' ? m : JSON.stringify(m))}</code></li>`)
    .join('');
  const row = (vi: string, en: string, v: string) => `<tr><th scope="row">${t(vi, en)}</th><td>${v}</td></tr>`;
  return `<table class="data"><caption>${t('Đăng ký', 'Registration')}</caption><tbody>
  ${row('Mã nguồn', 'Source id', `<code>${e(s.id)}</code>`)}
  ${row('Loại', 'Kind', KIND_WORDS[s.kind] ? t(...KIND_WORDS[s.kind]!) : e(s.kind))}
  ${row('Trạng thái', 'Status', availabilityWords(s))}
  ${row('Kiểm tra sức khỏe gần nhất', 'Last health check', formatTime(s.health.checkedAt))}
  ${row('Tài liệu khám phá', 'Discovery', `<code>${e(s.discoveryUrl)}</code>`)}
  ${row('Mã khách', 'Client id', `<code>${e(s.clientId)}</code>`)}
  ${row('Xác thực', 'Authentication', `<code>${e(s.authMethod)}</code>${s.hasClientSecret ? ` ${t('(đã lưu mật khẩu, mã hóa)', '(secret stored, encrypted)')}` : ''}`)}
  ${row('Phạm vi', 'Scopes', `<code>${e(s.scopes.join(' '))}</code>`)}
  ${row('Ánh xạ claim', 'Claim mapping', `<ul class="plain">${mapping}</ul>`)}
  ${row('Có thẩm quyền về', 'Authoritative for', e(s.authoritativeFor.join(', ')) || '—')}
  ${row('Mức xác minh / xác thực tối đa', 'Proofing / highest authentication level', `${e(s.proofingLevel)} / ${e(s.authLevel ?? s.maxAuthLevel)}`)}
  ${row('Phiên bản', 'Version', String(s.version))}
  </tbody></table>`;
}

async function sourcePage(c: Call, o: { notice?: string; alert?: string; test?: string; errors?: FieldErrors; status?: number } = {}): Promise<void> {
  const read = await c.api<SourceView>('GET', `/sources/${seg(c.params.id!)}`);
  if (read.status !== 200) return refusedPage(c, read);
  const s = read.body;
  const errors = o.errors ?? {};
  const test = `<section aria-labelledby="test-heading"><h2 id="test-heading">${t('Kiểm tra kết nối', 'Test connection')}</h2>
    <p>${t('nixa đọc tài liệu khám phá và bộ khóa công khai (JWKS) của nguồn, rồi báo từng bước.', 'nixa reads the source’s discovery document and public keys (JWKS) and reports each check.')}</p>
    ${o.test ?? ''}
    <form method="post" action="${CONSOLE_PATH}/sources/${e(s.id)}/test">${csrfInput(c.csrf)}<button type="submit">${t('Kiểm tra kết nối', 'Test connection')}</button></form></section>`;
  const toggle = c.may('sources:write')
    ? `<section aria-labelledby="state-heading"><h2 id="state-heading">${s.enabled ? t('Tắt nguồn', 'Disable the source') : t('Bật nguồn', 'Enable the source')}</h2>
    <p>${s.enabled ? t('Công dân sẽ không còn thấy nguồn này khi đăng nhập.', 'Citizens will no longer be offered this source.') : t('Sau khi bật, công dân sẽ thấy nguồn này trên trang chọn nguồn của nixa.', 'Once enabled, citizens see this source on nixa’s chooser.')}</p>
    <form method="post" action="${CONSOLE_PATH}/sources/${e(s.id)}/${s.enabled ? 'disable' : 'enable'}">${csrfInput(c.csrf)}
      <input type="hidden" name="version" value="${e(read.etag ?? '')}">
      ${reasonField({ reason: c.form('reason') }, errors)}
      <button type="submit">${s.enabled ? t('Tắt nguồn', 'Disable the source') : t('Bật nguồn', 'Enable the source')}</button></form></section>`
    : '';
  c.page(
    'console-source',
    { title: s.name.vi, nameVi: s.name.vi, nameEn: s.name.en, notice: notice(o.notice ?? ''), alert: alertBox(o.alert ?? errors[''] ?? ''), details: sourceDetails(s), test, toggle },
    o.status,
  );
}

function refusedPage(c: Call, a: ApiAnswer<unknown>): void {
  c.page('console-refused', { title: 'Không thực hiện được', alert: alertBox(explain(a)) }, a.status >= 500 ? 502 : a.status);
}

type TestAnswer = ApiAnswer<{ ok: boolean; steps: { name: string; status: 'ok' | 'warning' | 'fail'; detail: string }[] }>;

// The same marks as `nixa sources test` prints.
const STEP_MARKS = { ok: 'ok', warning: 'WARN', fail: 'FAIL' } as const;

function testResult(a: TestAnswer): string {
  if (a.status !== 200) return alertBox(explain(a));
  // A warning (e.g. a scope the source does not advertise) does not stop sign-ins: shown as such, not as a failure.
  const rows = a.body.steps
    .map((s) => `<tr><th scope="row"><code>${e(s.name)}</code></th><td class="${e(s.status)}">${STEP_MARKS[s.status]}</td><td class="api-words">${e(s.detail)}</td></tr>`)
    .join('');
  const warned = a.body.steps.some((s) => s.status === 'warning');
  const summary = !a.body.ok
    ? t('Có bước không đạt: xem bảng dưới.', 'Some checks failed: see below.')
    : warned
      ? t('Kết nối dùng được, có cảnh báo: xem bảng dưới.', 'The connection works, with warnings: see below.')
      : t('Kết nối tốt: mọi bước đều đạt.', 'The connection works: every check passed.');
  return `<div role="status" class="test-result ${!a.body.ok ? 'fail' : warned ? 'warning' : 'ok'}"><p>${summary}</p>
  <table class="data"><caption>${t('Kết quả từng bước', 'Each check')}</caption><thead><tr><th scope="col">${t('Bước', 'Check')}</th><th scope="col">${t('Kết quả', 'Result')}</th><th scope="col">${t('Chi tiết', 'Detail')}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export const SOURCE_ROUTES: ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/sources',
    handle: async (c) => {
      const list = await c.api<{ sources: SourceView[] }>('GET', '/sources');
      if (list.status !== 200) return refusedPage(c, list);
      const rows = list.body.sources
        .map(
          (s) => `<tr><th scope="row"><a href="${CONSOLE_PATH}/sources/${e(s.id)}">${e(s.name.vi)}</a> <span lang="en">(${e(s.name.en)})</span></th>
          <td><code>${e(s.id)}</code></td><td>${KIND_WORDS[s.kind] ? t(...KIND_WORDS[s.kind]!) : e(s.kind)}</td><td>${availabilityWords(s)}</td><td>${formatTime(s.health.checkedAt)}</td></tr>`,
        )
        .join('');
      c.page('console-sources', {
        title: 'Nguồn định danh',
        add: c.may('sources:write') ? `<p><a class="button" href="${CONSOLE_PATH}/sources/new">${t('Thêm nguồn định danh', 'Onboard an identity source')}</a></p>` : '',
        table: `<table class="data"><caption>${t('Các nguồn đã đăng ký', 'Registered sources')}</caption><thead><tr><th scope="col">${t('Tên', 'Name')}</th><th scope="col">${t('Mã', 'Id')}</th><th scope="col">${t('Loại', 'Kind')}</th><th scope="col">${t('Trạng thái', 'Status')}</th><th scope="col">${t('Kiểm tra lúc', 'Checked at')}</th></tr></thead><tbody>${rows}</tbody></table>`,
      });
    },
  },
  { method: 'GET', path: '/sources/new', handle: async (c) => newSourcePage(c, { ...DEFAULTS }, {}) },
  {
    method: 'POST',
    path: '/sources',
    handle: async (c) => {
      const { registration, errors } = registrationOf(c);
      if (!registration) return newSourcePage(c, formValues(c), errors!, 400);
      const created = await c.api<SourceView>('POST', '/sources', { body: registration });
      if (created.status !== 201) {
        return newSourcePage(c, formValues(c), errorsOf(created, FIELDS, { claim_mapping: 'claim_mapping', gender: 'gender_values' }), created.status >= 500 ? 502 : created.status);
      }
      c.ctx.status = 303;
      c.ctx.redirect(`${CONSOLE_PATH}/sources/${encodeURIComponent(created.body.id)}?added=1`);
    },
  },
  {
    method: 'GET',
    path: '/sources/:id',
    handle: (c) =>
      sourcePage(c, c.ctx.query.added
        ? { notice: t('Đã đăng ký nguồn (đang tắt). Bước tiếp: kiểm tra kết nối, rồi bật nguồn.', 'Source registered (disabled). Next: test the connection, then enable it.') }
        : c.ctx.query.done === 'enabled'
          ? { notice: t('Đã bật nguồn: công dân thấy nguồn này trên trang chọn nguồn.', 'Source enabled: citizens see it on the chooser.') }
          : c.ctx.query.done === 'disabled'
            ? { notice: t('Đã tắt nguồn.', 'Source disabled.') }
            : {}),
  },
  {
    method: 'POST',
    path: '/sources/:id/test',
    handle: async (c) => {
      const result: TestAnswer = await c.api('POST', `/sources/${seg(c.params.id!)}/test`, { body: {} });
      return sourcePage(c, { test: testResult(result) });
    },
  },
  ...(['enable', 'disable'] as const).map(
    (action): ConsoleRoute => ({
      method: 'POST',
      path: `/sources/:id/${action}`,
      handle: async (c) => {
        const done = await c.api('POST', `/sources/${seg(c.params.id!)}/${action}`, { body: { reason: c.form('reason') }, ifMatch: c.form('version') });
        if (done.status === 200) {
          c.ctx.status = 303;
          c.ctx.redirect(`${CONSOLE_PATH}/sources/${encodeURIComponent(c.params.id!)}?done=${action}d`);
          return;
        }
        return sourcePage(c, { errors: errorsOf(done, ['reason']), status: done.status });
      },
    }),
  ),
];
