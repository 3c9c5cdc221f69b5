// Services (relying parties) in the console: the list, registering one, and its
// integration values — issuer, endpoints from nixa's discovery document, client
// id, the secret shown once, how to verify nixa's tokens — and its minimum level.
import { LEVELS } from '../assurance/index.js';
import type { ClientView } from '../clients/index.js';
import { escapeHtml as e } from '../pages/index.js';
import { seg, type ApiAnswer } from './admin-client.js';
import type { Call, ConsoleRoute } from './app.js';
import { alertBox, csrfInput, errorsOf, explain, field, formatTime, notice, reasonField, t, type FieldErrors, type FieldSpec } from './pages.js';
import { CONSOLE_PATH } from './registration.js';

const LEVEL_OPTIONS = [
  { value: '', vi: 'Không đặt (theo yêu cầu của dịch vụ)', en: 'None (as the service asks)' },
  ...LEVELS.map((l) => ({ value: l, vi: { low: 'thấp', substantial: 'đáng kể', high: 'cao' }[l], en: l })),
];

const PROFILE_OPTIONS = [
  { value: '', vi: 'Tự động: FAPI 2.0 từ mức đáng kể trở lên', en: 'Automatic: FAPI 2.0 from substantial up' },
  { value: 'fapi2', vi: 'FAPI 2.0 (PAR, DPoP, private_key_jwt)', en: 'FAPI 2.0 (PAR, DPoP, private_key_jwt)' },
  { value: 'standard', vi: 'Tiêu chuẩn (OpenID Connect với PKCE); ở mức đáng kể hoặc cao cần nêu lý do', en: 'Standard (OpenID Connect with PKCE); at substantial or high, say why' },
];

const FORM: FieldSpec[] = [
  { name: 'name', vi: 'Tên dịch vụ', en: 'Service name', required: true },
  { name: 'client_id', vi: 'Mã khách (client id)', en: 'Client id', hint: ['Để trống để nixa tự tạo.', 'Leave empty and nixa makes one.'] },
  {
    name: 'application_type',
    vi: 'Loại ứng dụng',
    en: 'Application type',
    type: 'select',
    options: [
      { value: 'web', vi: 'Trang web (web)', en: 'A web site' },
      { value: 'native', vi: 'Ứng dụng trên điện thoại hoặc máy tính (native)', en: 'An app on the citizen’s device (native)' },
    ],
    hint: [
      'Ứng dụng native là ứng dụng công khai: chọn cách xác thực “Không” (chỉ PKCE).',
      'A native app is a public client: choose authentication “none” (PKCE only).',
    ],
  },
  {
    name: 'redirect_uris',
    vi: 'Địa chỉ chuyển hướng (redirect URI)',
    en: 'Redirect URIs',
    type: 'textarea',
    required: true,
    hint: [
      'Mỗi dòng một địa chỉ https, khớp chính xác. Ứng dụng native: https của ứng dụng, lược đồ riêng dạng tên miền đảo ngược (vn.gov.dichvucong.app:/oauth2redirect) hoặc http://127.0.0.1/đường-dẫn (mọi cổng).',
      'One https URL per line, matched exactly. A native app: its claimed https URL, a reverse-domain private scheme (vn.gov.dichvucong.app:/oauth2redirect) or http://127.0.0.1/path (any port).',
    ],
  },
  { name: 'post_logout_redirect_uris', vi: 'Địa chỉ quay về sau khi đăng xuất', en: 'Post-logout redirect URIs', type: 'textarea', hint: ['Mỗi dòng một địa chỉ (không bắt buộc).', 'One URL per line (optional).'] },
  {
    name: 'token_endpoint_auth_method',
    vi: 'Cách dịch vụ xác thực với nixa',
    en: 'How the service authenticates to nixa',
    type: 'select',
    options: [
      { value: 'client_secret_basic', vi: 'Mật khẩu khách (client_secret_basic)', en: '' },
      { value: 'private_key_jwt', vi: 'Khóa riêng của dịch vụ (private_key_jwt)', en: 'the service’s private key (private_key_jwt)' },
      { value: 'none', vi: 'Không (ứng dụng công khai, chỉ PKCE)', en: 'none: a public client, PKCE only' },
    ],
  },
  { name: 'scope', vi: 'Phạm vi (scope) được phép', en: 'Allowed scopes', hint: ['Cách nhau bởi dấu cách: openid profile phone address national_id offline_access', 'Space-separated: openid profile phone address national_id offline_access'] },
  { name: 'min_level', vi: 'Mức độ đảm bảo tối thiểu', en: 'Minimum assurance level', type: 'select', options: LEVEL_OPTIONS },
  { name: 'api_resource', vi: 'API của dịch vụ (resource indicator)', en: 'The service’s API (resource indicator)', type: 'url', hint: ['Không bắt buộc; để nhận JWT access token cho API này.', 'Optional; to get JWT access tokens for this API.'] },
  {
    name: 'security_profile',
    vi: 'Hồ sơ bảo mật',
    en: 'Security profile',
    type: 'select',
    options: PROFILE_OPTIONS,
    hint: [
      'FAPI 2.0: yêu cầu đẩy trước (PAR), token gắn khóa (DPoP), xác thực bằng khóa riêng; cần địa chỉ bộ khóa công khai bên dưới.',
      'FAPI 2.0: pushed requests (PAR), key-bound tokens (DPoP), private-key authentication; needs the public key set address below.',
    ],
  },
  { name: 'jwks_uri', vi: 'Địa chỉ bộ khóa công khai của dịch vụ (jwks_uri)', en: 'The service’s public key set (jwks_uri)', type: 'url', hint: ['Cho private_key_jwt.', 'For private_key_jwt.'] },
];
const FIELDS = FORM.map((f) => f.name).concat(['reason', 'grant_types']);
const lines = (v: string) => v.split('\n').map((l) => l.trim()).filter(Boolean);

function newServicePage(c: Call, values: Record<string, string>, errors: FieldErrors, status = 200): void {
  c.page(
    'console-service-new',
    {
      title: 'Đăng ký dịch vụ',
      alert: alertBox(errors[''] ?? ''),
      form: `<form method="post" action="${CONSOLE_PATH}/services" novalidate>${csrfInput(c.csrf)}
  ${FORM.map((f) => field(f, values, errors)).join('')}
  <div class="field"><input type="checkbox" id="f-refresh" name="refresh" value="yes"${values.refresh ? ' checked' : ''}><label class="inline" for="f-refresh">${t('Cho phép refresh token (cần phạm vi offline_access)', 'Allow refresh tokens (needs the offline_access scope)')}</label></div>
  ${reasonField(values, errors)}
  <button type="submit">${t('Đăng ký dịch vụ', 'Register the service')}</button></form>`,
    },
    status,
  );
}

function refusedPage(c: Call, a: ApiAnswer<unknown>): void {
  c.page('console-refused', { title: 'Không thực hiện được', alert: alertBox(explain(a)) }, a.status >= 500 ? 502 : a.status);
}

async function integrationPage(c: Call, client: ClientView, etag: string | null, o: { secret?: string; notice?: string; errors?: FieldErrors; status?: number } = {}): Promise<void> {
  const m = await c.discovery();
  const issuer = String(m.issuer);
  const row = (vi: string, en: string, v: unknown) => `<tr><th scope="row">${t(vi, en)}</th><td>${v ? `<code>${e(v)}</code>` : '—'}</td></tr>`;
  const values = `<table class="data integration"><caption>${t('Giá trị tích hợp', 'Integration values')}</caption><tbody>
    ${row('Issuer', 'Issuer', issuer)}
    ${row('Tài liệu khám phá', 'Discovery URL', `${issuer}/.well-known/openid-configuration`)}
    ${row('Điểm ủy quyền', 'Authorization endpoint', m.authorization_endpoint)}
    ${row('Điểm cấp token', 'Token endpoint', m.token_endpoint)}
    ${row('Điểm thông tin người dùng', 'Userinfo endpoint', m.userinfo_endpoint)}
    ${row('Bộ khóa công khai', 'JWKS', m.jwks_uri)}
    ${row('Điểm đăng xuất', 'End-session endpoint', m.end_session_endpoint)}
    ${row('Điểm kiểm tra token', 'Introspection endpoint', m.introspection_endpoint)}
    ${row('Mã khách', 'Client id', client.clientId)}
    ${row('Loại ứng dụng', 'Application type', client.applicationType)}
    ${row('Cách xác thực', 'Client authentication', client.tokenEndpointAuthMethod)}
    ${row('Địa chỉ chuyển hướng', 'Redirect URIs', client.redirectUris.join(' '))}
    ${row('Phạm vi', 'Scopes', client.scope)}
    ${row('Mức tối thiểu', 'Minimum level', client.minLevel)}
    ${row('Hồ sơ bảo mật', 'Security profile', client.securityProfile === 'fapi2' ? 'FAPI 2.0 (PAR, DPoP, private_key_jwt)' : `standard${client.securityProfileReason ? ` — ${client.securityProfileReason}` : ''}`)}
    ${row('API của dịch vụ', 'Service API', client.apiResource)}
    ${row('Trạng thái', 'Status', client.status)}
    ${row('Đăng ký lúc', 'Registered at', client.createdAt)}
  </tbody></table>`;
  const secret = o.secret
    ? `<section class="secret-once" aria-labelledby="secret-heading"><h2 id="secret-heading">${t('Mật khẩu khách: chỉ hiển thị một lần', 'Client secret: shown once')}</h2>
      <p>${t('Hãy chép ngay vào kho bí mật của dịch vụ. nixa chỉ giữ bản băm, không thể hiển thị lại; nếu mất, hãy tạo mật khẩu mới.', 'Copy it now into the service’s secret store. nixa keeps only a hash and cannot show it again; if lost, rotate it.')}</p>
      <p><code class="secret">${e(o.secret)}</code></p></section>`
    : '';
  const audience = client.apiResource ?? '<https://dich-vu.example.gov.vn/api>';
  // The example scrolls sideways: tabindex lets a keyboard user scroll it (axe: scrollable-region-focusable).
  const verify = `<section aria-labelledby="verify-heading"><h2 id="verify-heading">${t('Cách kiểm tra token của nixa', 'How to verify nixa’s tokens')}</h2>
    <p>${t('Dùng nixa/verify (chỉ cần jose). Tạo bộ kiểm tra một lần khi dịch vụ khởi động; nó đọc tài liệu khám phá và lưu JWKS, nên việc xoay vòng khóa không làm hỏng token hợp lệ.', 'Use nixa/verify (jose only). Create a verifier once when the service starts; it reads discovery and caches the JWKS, so key rotations never break a valid token.')}</p>
<pre tabindex="0"><code>import { createVerifier, requireLevel } from 'nixa/verify';

// ID tokens: audience is the client id.
const idTokens = createVerifier({ issuer: '${e(issuer)}', audience: '${e(client.clientId)}', minimumAcr: '${e(client.minLevel ?? 'substantial')}' });
const result = await idTokens.verifyIdToken(idToken);
if (!result.ok &amp;&amp; result.error === 'insufficient_user_authentication') {
  // send the citizen back to nixa with acr_values=result.acrValues.join(' ')
}

${
    client.securityProfile === 'fapi2'
      ? `// The service's API (FAPI 2.0): DPoP-bound JWT access tokens whose audience is the API,
// each call with a proof of the key the token is bound to (RFC 9449).
const api = createVerifier({ issuer: '${e(issuer)}', audience: '${e(audience)}', dpop: {} });
const guard = requireLevel(api, 'high', { dpop: 'required' });
const { status, wwwAuthenticate, dpopNonce, claims } = await guard({
  authorization: request.headers.authorization, dpop: request.headers.dpop, method: request.method, url: publicUrlOf(request),
});`
      : `// The service's API: JWT access tokens whose audience is the API.
const api = createVerifier({ issuer: '${e(issuer)}', audience: '${e(audience)}' });
const guard = requireLevel(api, 'high');
const { status, wwwAuthenticate, claims } = await guard(request.headers.authorization);`
  }</code></pre>
    <p>${t('Một token dưới mức yêu cầu được trả lời 401 với WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values=…; dịch vụ gửi công dân về nixa với các acr_values đó.', 'A token below the level gets 401 with WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values=…; the service sends the citizen back to nixa with those acr_values.')}</p></section>`;
  const errors = o.errors ?? {};
  const level = c.may('clients:write')
    ? `<section aria-labelledby="level-heading"><h2 id="level-heading">${t('Mức độ đảm bảo tối thiểu', 'Minimum assurance level')}</h2>
    <p>${t('Mọi lần đăng nhập vào dịch vụ này đạt ít nhất mức này, dù dịch vụ yêu cầu gì. Có hiệu lực ngay.', 'Every sign-in to this service reaches at least this level, whatever it asks. Takes effect at once.')}</p>
    <form method="post" action="${CONSOLE_PATH}/services/${e(client.clientId)}/level">${csrfInput(c.csrf)}<input type="hidden" name="version" value="${e(etag ?? '')}">
    ${field({ name: 'min_level', vi: 'Mức tối thiểu', en: 'Minimum level', type: 'select', options: LEVEL_OPTIONS }, { min_level: c.form('min_level') || (client.minLevel ?? '') }, errors)}
    ${field(
      { name: 'security_profile', vi: 'Hồ sơ bảo mật', en: 'Security profile', type: 'select', options: PROFILE_OPTIONS.slice(1) },
      { security_profile: c.form('security_profile') || client.securityProfile },
      errors,
    )}
    ${reasonField({ reason: c.form('reason') }, errors)}
    <button type="submit">${t('Lưu mức và hồ sơ bảo mật', 'Save the level and profile')}</button></form></section>`
    : '';
  c.page(
    'console-service',
    { title: client.name, name: client.name, notice: notice(o.notice ?? ''), alert: alertBox(errors[''] ?? ''), secret, values, verify, level },
    o.status,
  );
}

export const SERVICE_ROUTES: ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/services',
    handle: async (c) => {
      const list = await c.api<{ clients: ClientView[] }>('GET', '/clients');
      if (list.status !== 200) return refusedPage(c, list);
      const rows = list.body.clients
        .map(
          (s) => `<tr><th scope="row"><a href="${CONSOLE_PATH}/services/${e(s.clientId)}">${e(s.name)}</a></th><td><code>${e(s.clientId)}</code></td>
          <td>${s.status === 'enabled' ? t('Đang hoạt động', 'Enabled') : t('Đã tắt', 'Disabled')}</td><td>${e(s.minLevel ?? '—')}</td><td>${formatTime(s.createdAt)}</td></tr>`,
        )
        .join('');
      c.page('console-services', {
        title: 'Dịch vụ',
        add: c.may('clients:write') ? `<p><a class="button" href="${CONSOLE_PATH}/services/new">${t('Đăng ký dịch vụ', 'Register a service')}</a></p>` : '',
        table: `<table class="data"><caption>${t('Các dịch vụ đã đăng ký', 'Registered services')}</caption><thead><tr><th scope="col">${t('Tên', 'Name')}</th><th scope="col">${t('Mã khách', 'Client id')}</th><th scope="col">${t('Trạng thái', 'Status')}</th><th scope="col">${t('Mức tối thiểu', 'Minimum level')}</th><th scope="col">${t('Đăng ký lúc', 'Registered at')}</th></tr></thead><tbody>${rows}</tbody></table>`,
      });
    },
  },
  { method: 'GET', path: '/services/new', handle: async (c) => newServicePage(c, { scope: 'openid profile', application_type: 'web', token_endpoint_auth_method: 'client_secret_basic' }, {}) },
  {
    method: 'POST',
    path: '/services',
    handle: async (c) => {
      const values = Object.fromEntries(FIELDS.concat(['refresh']).map((n) => [n, c.form(n)]));
      const body: Record<string, unknown> = {
        reason: c.form('reason'),
        name: c.form('name'),
        ...(c.form('client_id').trim() ? { client_id: c.form('client_id').trim() } : {}),
        application_type: c.form('application_type') === 'native' ? 'native' : 'web',
        redirect_uris: lines(c.form('redirect_uris')),
        post_logout_redirect_uris: lines(c.form('post_logout_redirect_uris')),
        grant_types: c.form('refresh') ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
        token_endpoint_auth_method: c.form('token_endpoint_auth_method') || 'client_secret_basic',
        scope: c.form('scope').trim().split(/\s+/).filter(Boolean).join(' ') || 'openid',
        ...(c.form('min_level') ? { min_level: c.form('min_level') } : {}),
        ...(c.form('api_resource').trim() ? { api_resource: c.form('api_resource').trim() } : {}),
        ...(c.form('security_profile') ? { security_profile: c.form('security_profile') } : {}),
        ...(c.form('jwks_uri').trim() ? { jwks_uri: c.form('jwks_uri').trim() } : {}),
      };
      const created = await c.api<ClientView & { clientSecret?: string }>('POST', '/clients', { body });
      if (created.status !== 201) return newServicePage(c, values, errorsOf(created, FIELDS, { grant_types: 'redirect_uris' }), created.status >= 500 ? 502 : created.status);
      const { clientSecret, ...client } = created.body;
      // Rendered here, not after a redirect: the secret exists only in this answer.
      return integrationPage(c, client, created.etag, {
        ...(clientSecret ? { secret: clientSecret } : {}),
        notice: t('Đã đăng ký dịch vụ. Gửi các giá trị dưới đây cho đội phát triển dịch vụ.', 'Service registered. Give the values below to the service’s developers.'),
        status: 201,
      });
    },
  },
  {
    method: 'GET',
    path: '/services/:id',
    handle: async (c) => {
      const read = await c.api<ClientView>('GET', `/clients/${seg(c.params.id!)}`);
      if (read.status !== 200) return refusedPage(c, read);
      return integrationPage(c, read.body, read.etag, c.ctx.query.done ? { notice: t('Đã lưu mức tối thiểu.', 'Minimum level saved.') } : {});
    },
  },
  {
    method: 'POST',
    path: '/services/:id/level',
    handle: async (c) => {
      const body = { reason: c.form('reason'), min_level: c.form('min_level') || null, ...(c.form('security_profile') ? { security_profile: c.form('security_profile') } : {}) };
      const done = await c.api<ClientView>('POST', `/clients/${seg(c.params.id!)}`, { body, ifMatch: c.form('version') });
      if (done.status === 200) {
        c.ctx.status = 303;
        c.ctx.redirect(`${CONSOLE_PATH}/services/${encodeURIComponent(c.params.id!)}?done=level`);
        return;
      }
      const read = await c.api<ClientView>('GET', `/clients/${seg(c.params.id!)}`);
      if (read.status !== 200) return refusedPage(c, read);
      return integrationPage(c, read.body, read.etag, { errors: errorsOf(done, ['min_level', 'security_profile', 'reason']), status: done.status });
    },
  },
];
