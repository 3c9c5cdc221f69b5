// How the console's pages are put together: the layout with the operator's menu
// (only the entries their permissions allow), form fields that carry the API's
// error next to the field it names, and the API's refusals in plain words.
// Vietnamese first, English beside it in lang="en" (hidden unless asked for).
import type { Context } from 'koa';

import { dateTimeHtml, escapeHtml as e, renderInLayout } from '../pages/index.js';
import type { ApiAnswer } from './admin-client.js';
import { CONSOLE_PATH } from './registration.js';

/** Both languages: Vietnamese, then English in a lang="en" span. */
export const t = (vi: string, en: string) => `${e(vi)} <span lang="en">(${e(en)})</span>`;

export interface Me {
  kind: 'operator' | 'machine';
  accountId: string;
  roles: string[];
  permissions: string[];
}

export const MENU: { path: string; permission?: string; vi: string; en: string }[] = [
  { path: CONSOLE_PATH, vi: 'Tổng quan', en: 'Home' },
  { path: `${CONSOLE_PATH}/sources`, permission: 'sources:read', vi: 'Nguồn định danh', en: 'Identity sources' },
  { path: `${CONSOLE_PATH}/services`, permission: 'clients:read', vi: 'Dịch vụ', en: 'Services' },
  { path: `${CONSOLE_PATH}/keys`, permission: 'keys:read', vi: 'Khóa ký', en: 'Signing keys' },
  { path: `${CONSOLE_PATH}/audit`, permission: 'audit:read', vi: 'Nhật ký kiểm toán', en: 'Audit trail' },
  { path: `${CONSOLE_PATH}/operators`, permission: 'operators:read', vi: 'Người vận hành', en: 'Operators' },
];

export interface Frame {
  /** Who is signed in, for the header; undefined on pages before sign-in. */
  operator?: { name: string; csrf: string };
  /** Permissions from GET /me: decide the menu. */
  permissions?: readonly string[];
}

export function render(ctx: Context, view: string, values: Record<string, unknown> & { title: string }, frame: Frame = {}, status = 200): void {
  const current = ctx.path.replace(/\/$/, '') || CONSOLE_PATH;
  const nav = frame.permissions
    ? `<nav aria-label="Bảng điều khiển"><ul>${MENU.filter((m) => !m.permission || frame.permissions!.includes(m.permission))
        .map((m) => {
          const here = m.path === CONSOLE_PATH ? current === CONSOLE_PATH : current === m.path || current.startsWith(`${m.path}/`);
          return `<li><a href="${m.path}"${here ? ' aria-current="page"' : ''}>${t(m.vi, m.en)}</a></li>`;
        })
        .join('')}</ul></nav>`
    : '';
  const who = frame.operator
    ? `<form class="who" method="post" action="${CONSOLE_PATH}/logout"><span>${e(frame.operator.name)}</span> <input type="hidden" name="csrf" value="${e(frame.operator.csrf)}"><button type="submit" class="secondary">${t('Đăng xuất', 'Sign out')}</button></form>`
    : '';
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderInLayout('console-layout', view, { ...values, nav, who });
}

// ── Forms ────────────────────────────────────────────────────────────────────

export interface FieldSpec {
  name: string;
  /** The element id, when one page has several fields of this name (default f-<name>). */
  id?: string;
  vi: string;
  en: string;
  type?: 'text' | 'url' | 'password' | 'number' | 'textarea' | 'select' | 'datetime-local' | 'date';
  options?: { value: string; vi: string; en: string }[];
  hint?: [vi: string, en: string];
  required?: boolean;
  autocomplete?: string;
}

/** Where each error goes: by form field name; '' for the page-level alert. */
export type FieldErrors = Record<string, string>;

const id = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

export function field(f: FieldSpec, values: Record<string, string | undefined>, errors: FieldErrors): string {
  const fid = f.id ?? id(f.name);
  const error = errors[f.name];
  const describedBy = [f.hint ? `${fid}-hint` : '', error ? `${fid}-error` : ''].filter(Boolean).join(' ');
  const common = `id="${fid}" name="${e(f.name)}"${f.required ? ' required' : ''}${describedBy ? ` aria-describedby="${describedBy}"` : ''}${error ? ' aria-invalid="true"' : ''}`;
  const value = values[f.name] ?? '';
  let control: string;
  if (f.type === 'textarea') control = `<textarea ${common} rows="3">${e(value)}</textarea>`;
  else if (f.type === 'select') {
    control = `<select ${common}>${(f.options ?? [])
      .map((o) => `<option value="${e(o.value)}"${o.value === value ? ' selected' : ''}>${e(o.vi)}${o.en ? ` (${e(o.en)})` : ''}</option>`)
      .join('')}</select>`;
  } else {
    const auto = f.autocomplete ? ` autocomplete="${f.autocomplete}"` : f.type === 'password' ? ' autocomplete="off"' : '';
    control = `<input ${common} type="${f.type ?? 'text'}"${f.type === 'password' ? '' : ` value="${e(value)}"`}${auto}>`;
  }
  return `<div class="field${error ? ' invalid' : ''}">
  <label for="${fid}">${t(f.vi, f.en)}</label>
  ${f.hint ? `<p class="hint" id="${fid}-hint">${t(f.hint[0], f.hint[1])}</p>` : ''}
  ${error ? `<p class="field-error" id="${fid}-error" role="alert">${fieldErrorText(error)}</p>` : ''}
  ${control}
</div>`;
}

/** A field's error: the lead-in in both languages, the API's words (English, always shown). */
const fieldErrorText = (message: string) => `Chưa hợp lệ <span lang="en">(Not accepted)</span>: <span class="api-words">${e(message)}</span>`;

export const reasonField = (values: Record<string, string | undefined>, errors: FieldErrors, elementId?: string) =>
  field(
    {
      name: 'reason',
      ...(elementId ? { id: elementId } : {}),
      vi: 'Lý do',
      en: 'Reason',
      type: 'textarea',
      required: true,
      hint: ['Ít nhất 10 ký tự; được ghi vào nhật ký kiểm toán.', 'At least 10 characters; recorded in the audit trail.'],
    },
    values,
    errors,
  );

export const csrfInput = (csrf: string) => `<input type="hidden" name="csrf" value="${e(csrf)}">`;

export function alertBox(html: string): string {
  return html ? `<div class="alert" role="alert">${html}</div>` : '';
}

export function notice(html: string): string {
  return html ? `<div class="notice" role="status">${html}</div>` : '';
}

// ── The API's refusals in plain words ───────────────────────────────────────

/** What an API refusal means to an operator, in both languages. */
export function explain(a: ApiAnswer<unknown>): string {
  const words = a.body.message ? ` <span class="api-words">${e(a.body.message)}</span>` : '';
  switch (a.status) {
    case 400:
      return `${t('nixa không nhận dữ liệu này.', 'nixa did not accept this input.')}${words}`;
    case 403:
      if (/own account/.test(a.body.message ?? '')) {
        return t(
          'Không ai được tự cấp hay tự thu hồi vai trò trên chính tài khoản của mình: một cán bộ an ninh khác phải làm việc này. Không có gì được ghi.',
          'Nobody can grant or take away a role on their own account: another security officer must do it. Nothing was written.',
        );
      }
      return `${t('Vai trò của bạn không cho phép việc này.', 'Your roles do not allow this.')}${words}`;
    case 404:
      return `${t('Không tìm thấy bản ghi này.', 'This record does not exist.')}${words}`;
    case 409:
      return `${t('Trạng thái hiện tại của bản ghi không cho phép việc này.', 'The record’s current state does not allow this.')}${words}`;
    case 412:
    case 428:
      return t(
        'Ai đó đã thay đổi bản ghi này sau khi bạn mở trang, nên thay đổi của bạn không được ghi (để không ghi đè lên thay đổi của họ). Hãy mở lại trang, xem phiên bản mới rồi thử lại.',
        'Someone else changed this record after you opened the page, so your change was not written (it would have overwritten theirs). Open the page again, look at the new version, and try again.',
      );
    default:
      return `${t('nixa không hoàn tất được yêu cầu này. Hãy thử lại sau ít phút.', 'nixa could not complete this request. Try again in a few minutes.')}${words}`;
  }
}

/**
 * Sorts an API refusal onto a form: a field error goes next to the field it names
 * (`redirect_uris[0]` → `redirect_uris`, `claim_mapping.gender` → `claim_mapping`),
 * anything else to the alert at the top of the page ('').
 */
export function errorsOf(a: ApiAnswer<unknown>, fields: readonly string[], alias: Record<string, string> = {}): FieldErrors {
  if (a.status === 400 && a.body.field) {
    const f = a.body.field;
    const base = f.split(/[.[]/)[0]!;
    const target = alias[f] ?? alias[base] ?? (fields.includes(f) ? f : fields.includes(base) ? base : undefined);
    const message = a.body.message?.startsWith(`${f}: `) ? a.body.message.slice(f.length + 2) : (a.body.message ?? '');
    if (target) return { [target]: f === target ? message : `${f}: ${message}` };
  }
  return { '': explain(a) };
}

/** A time the admin API gave (ISO 8601), as every nixa page shows one (pages/dates.ts); the instant stays in datetime. */
export const formatTime = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? e(iso) : dateTimeHtml(at);
};
