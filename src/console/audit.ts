// The audit trail in the console: search by time, event, actor and subject,
// newest first, a page at a time (GET /audit/events).
import { AUDIT_EVENTS, type StoredAuditEvent } from '../audit/index.js';
import { escapeHtml as e } from '../pages/index.js';
import type { ConsoleRoute } from './app.js';
import { alertBox, errorsOf, field, formatTime, t } from './pages.js';
import { CONSOLE_PATH } from './registration.js';

/** What GET /audit/events answers, event by event. */
type AuditEvent = StoredAuditEvent;

const FILTERS = ['from', 'to', 'event', 'actor', 'subject'] as const;

export const AUDIT_ROUTES: ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/audit',
    handle: async (c) => {
      const q = (name: string) => (typeof c.ctx.query[name] === 'string' ? (c.ctx.query[name] as string) : '');
      const values = Object.fromEntries([...FILTERS, 'before'].map((n) => [n, q(n)]));
      const found = await c.api<{ events: AuditEvent[]; next?: number }>('GET', '/audit/events', { query: { ...values, limit: '50' } });
      const errors = found.status === 200 ? {} : errorsOf(found, [...FILTERS]);
      const form = `<form method="get" action="${CONSOLE_PATH}/audit" class="search">
  ${field({ name: 'from', vi: 'Từ ngày', en: 'From (date, UTC)', type: 'date' }, values, errors)}
  ${field({ name: 'to', vi: 'Đến trước ngày', en: 'Until before (date, UTC)', type: 'date' }, values, errors)}
  ${field({ name: 'event', vi: 'Sự kiện', en: 'Event', type: 'select', options: [{ value: '', vi: 'Mọi sự kiện', en: 'any event' }, ...Object.keys(AUDIT_EVENTS).map((k) => ({ value: k, vi: k, en: '' }))] }, values, errors)}
  ${field({ name: 'actor', vi: 'Người thực hiện', en: 'Actor', hint: ['Ví dụ operator:<mã tài khoản>, client:<mã khách>, system:console', 'E.g. operator:<account id>, client:<client id>, system:console'] }, values, errors)}
  ${field({ name: 'subject', vi: 'Đối tượng', en: 'Subject', hint: ['Mã tài khoản, mã khách, mã nguồn hoặc mã khóa (kid)', 'An account id, client id, source id or key id (kid)'] }, values, errors)}
  <button type="submit">${t('Tìm', 'Search')}</button></form>`;
      let results = '';
      if (found.status === 200) {
        const rows = found.body.events
          .map(
            (ev) => `<tr><td>${ev.seq}</td><td>${formatTime(ev.at)}</td><th scope="row"><code>${e(ev.event)}</code></th><td><code>${e(ev.actor)}</code></td><td>${ev.subject ? `<code>${e(ev.subject)}</code>` : '—'}</td><td>${e(ev.reason ?? (typeof ev.details.reason === 'string' ? ev.details.reason : '')) || '—'}</td><td><code class="details">${e(JSON.stringify(ev.details))}</code></td></tr>`,
          )
          .join('');
        const next = found.body.next
          ? `<p><a href="${CONSOLE_PATH}/audit?${e(new URLSearchParams({ ...Object.fromEntries(FILTERS.map((f) => [f, values[f]!]).filter(([, v]) => v)), before: String(found.body.next) }).toString())}">${t('Các sự kiện cũ hơn', 'Older events')}</a></p>`
          : '';
        results = found.body.events.length
          ? `<table class="data audit"><caption>${t(`${found.body.events.length} sự kiện, mới nhất trước`, `${found.body.events.length} events, newest first`)}</caption>
          <thead><tr><th scope="col">seq</th><th scope="col">${t('Lúc', 'At')}</th><th scope="col">${t('Sự kiện', 'Event')}</th><th scope="col">${t('Người thực hiện', 'Actor')}</th><th scope="col">${t('Đối tượng', 'Subject')}</th><th scope="col">${t('Lý do', 'Reason')}</th><th scope="col">${t('Chi tiết', 'Details')}</th></tr></thead><tbody>${rows}</tbody></table>${next}`
          : `<p role="status">${t('Không có sự kiện nào khớp.', 'No event matches.')}</p>`;
      }
      c.page('console-audit', { title: 'Nhật ký kiểm toán', form, alert: alertBox(errors[''] ?? ''), results }, found.status === 200 ? 200 : found.status);
    },
  },
];
