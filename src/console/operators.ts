// Operators in the console (security officers): who holds which role, granting
// one and taking one away, each with a reason. The API refuses a change on one's
// own account; the console says so in plain words.
import { ROLES } from '../admin/index.js';
import { escapeHtml as e } from '../pages/index.js';
import { seg, type ApiAnswer } from './admin-client.js';
import type { Call, ConsoleRoute } from './app.js';
import { ROLE_WORDS, words } from './home.js';
import { alertBox, csrfInput, errorsOf, explain, field, formatTime, notice, reasonField, t, type FieldErrors } from './pages.js';
import { CONSOLE_PATH } from './registration.js';

interface Operator {
  accountId: string;
  roles: { role: string; grantedBy: string; grantedAt: string; reason: string }[];
}

async function operatorsPage(c: Call, o: { notice?: string; errors?: FieldErrors; status?: number; revokeErrors?: { key: string; errors: FieldErrors } } = {}): Promise<void> {
  const list = await c.api<{ operators: Operator[] }>('GET', '/operators');
  if (list.status !== 200) {
    c.page('console-refused', { title: 'Không thực hiện được', alert: alertBox(explain(list)) }, list.status >= 500 ? 502 : list.status);
    return;
  }
  const write = c.may('operators:write');
  const rows = list.body.operators
    .flatMap((op, i) =>
      op.roles.map((r, j) => {
        const key = `${op.accountId}:${r.role}`;
        const errs = o.revokeErrors?.key === key ? o.revokeErrors.errors : {};
        const self = op.accountId === c.me.accountId;
        const revoke = write
          ? self
            ? `<td class="muted">${t('Vai trò của chính bạn: một cán bộ an ninh khác mới thay đổi được.', 'Your own role: only another security officer can change it.')}</td>`
            : `<td><form method="post" action="${CONSOLE_PATH}/operators/${e(op.accountId)}/revoke">${csrfInput(c.csrf)}<input type="hidden" name="role" value="${e(r.role)}">
            ${alertBox(errs[''] ?? '')}${reasonField({ reason: errs.reason ? c.form('reason') : '' }, errs, `f-reason-${i}-${j}`)}<button type="submit" class="secondary">${t('Thu hồi vai trò', 'Take the role away')}</button></form></td>`
          : '';
        return `<tr><th scope="row"><code>${e(op.accountId)}</code>${self ? ` ${t('(bạn)', '(you)')}` : ''}</th><td>${words(ROLE_WORDS, r.role)}</td><td><code>${e(r.grantedBy)}</code>, ${formatTime(r.grantedAt)}</td><td>${e(r.reason)}</td>${revoke}</tr>`;
      }),
    )
    .join('');
  const errors = o.errors ?? {};
  const grant = write
    ? `<section aria-labelledby="grant-heading"><h2 id="grant-heading">${t('Cấp vai trò', 'Grant a role')}</h2>
  <p>${t('Người được cấp phải đã đăng nhập nixa một lần; mã tài khoản của họ hiện trên bảng điều khiển khi họ đăng nhập.', 'The person must have signed in to nixa once; the console shows them their account id when they sign in.')}</p>
  <form method="post" action="${CONSOLE_PATH}/operators/grant">${csrfInput(c.csrf)}
  ${field({ name: 'accountId', vi: 'Mã tài khoản', en: 'Account id', required: true }, { accountId: c.form('accountId') }, errors)}
  ${field({ name: 'role', vi: 'Vai trò', en: 'Role', type: 'select', options: ROLES.map((r) => ({ value: r, vi: ROLE_WORDS[r]![0], en: ROLE_WORDS[r]![1] })) }, { role: c.form('role') }, errors)}
  ${reasonField({ reason: c.form('reason') }, errors)}
  <button type="submit">${t('Cấp vai trò', 'Grant the role')}</button></form></section>`
    : '';
  c.page(
    'console-operators',
    {
      title: 'Người vận hành',
      notice: notice(o.notice ?? ''),
      alert: alertBox(errors[''] ?? ''),
      table: `<table class="data"><caption>${t('Người vận hành và vai trò', 'Operators and their roles')}</caption><thead><tr><th scope="col">${t('Mã tài khoản', 'Account id')}</th><th scope="col">${t('Vai trò', 'Role')}</th><th scope="col">${t('Cấp bởi, lúc', 'Granted by, at')}</th><th scope="col">${t('Lý do', 'Reason')}</th>${write ? `<th scope="col">${t('Thu hồi', 'Take away')}</th>` : ''}</tr></thead><tbody>${rows}</tbody></table>`,
      grant,
    },
    o.status,
  );
}

const done = (c: Call, what: string) => {
  c.ctx.status = 303;
  c.ctx.redirect(`${CONSOLE_PATH}/operators?done=${what}`);
};

const apiStatus = (a: ApiAnswer<unknown>) => (a.status >= 500 ? 502 : a.status);

export const OPERATOR_ROUTES: ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/operators',
    handle: (c) =>
      operatorsPage(c, c.ctx.query.done === 'granted' ? { notice: t('Đã cấp vai trò.', 'Role granted.') } : c.ctx.query.done === 'revoked' ? { notice: t('Đã thu hồi vai trò.', 'Role taken away.') } : {}),
  },
  {
    method: 'POST',
    path: '/operators/grant',
    handle: async (c) => {
      const accountId = c.form('accountId').trim();
      if (!/^[A-Za-z0-9._~-]{1,128}$/.test(accountId)) return operatorsPage(c, { errors: { accountId: 'an account id, as the console shows it to its holder' }, status: 400 });
      const r = await c.api('POST', `/operators/${seg(accountId)}/roles`, { body: { role: c.form('role'), reason: c.form('reason') } });
      if (r.status === 200) return done(c, 'granted');
      return operatorsPage(c, { errors: errorsOf(r, ['role', 'reason', 'accountId']), status: apiStatus(r) });
    },
  },
  {
    method: 'POST',
    path: '/operators/:accountId/revoke',
    handle: async (c) => {
      const accountId = c.params.accountId!;
      const role = c.form('role');
      const r = await c.api('POST', `/operators/${seg(accountId)}/roles/${seg(role || '-')}/revoke`, { body: { reason: c.form('reason') } });
      if (r.status === 200) return done(c, 'revoked');
      return operatorsPage(c, { revokeErrors: { key: `${accountId}:${role}`, errors: errorsOf(r, ['reason']) }, errors: r.status === 400 ? {} : errorsOf(r, []), status: apiStatus(r) });
    },
  },
];
