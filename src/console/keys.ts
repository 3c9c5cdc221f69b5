// Signing and cookie keys in the console: each key's lifecycle as a timeline
// (created → active → retired → deleted, or revoked), rotation now with a
// reason, and revocation with a reason and a confirmation step.
import type { KeyView } from '../keys/index.js';
import { escapeHtml as e } from '../pages/index.js';
import { seg, type ApiAnswer } from './admin-client.js';
import type { Call, ConsoleRoute } from './app.js';
import { alertBox, csrfInput, errorsOf, explain, field, formatTime, notice, reasonField, t, type FieldErrors } from './pages.js';
import { CONSOLE_PATH } from './registration.js';

const STATE_WORDS: Record<string, [string, string]> = {
  next: ['chờ (đã công bố, chưa ký)', 'next (published, not signing)'],
  active: ['đang ký', 'active (signing)'],
  retired: ['đã nghỉ (vẫn công bố để kiểm tra token cũ)', 'retired (still published to verify older tokens)'],
  deleted: ['đã xóa', 'deleted'],
  revoked: ['đã thu hồi', 'revoked'],
};

/** Newest first; keys made at the same moment in lifecycle order. */
const STATE_ORDER = ['next', 'active', 'retired', 'deleted', 'revoked'];

function timeline(k: KeyView): string {
  const now = Date.now();
  const step = (vi: string, en: string, at: string | null, o: { future?: boolean; cls?: string; extra?: string } = {}) =>
    `<li class="${at ? (o.future ? 'future' : 'done') : 'pending'}${o.cls ? ` ${o.cls}` : ''}"><span class="step">${t(vi, en)}</span> ${at ? formatTime(at) : `<span class="muted">${t('chưa đến', 'not yet')}</span>`}${o.extra ?? ''}</li>`;
  const deleteFuture = k.deleteAfter ? Date.parse(k.deleteAfter) > now : false;
  const steps = [step('Tạo', 'Created', k.createdAt), step('Bắt đầu ký', 'Active', k.activatedAt), step('Nghỉ', 'Retired', k.retiredAt)];
  if (k.revokedAt) {
    steps.push(step('Thu hồi', 'Revoked', k.revokedAt, { cls: 'revoked', extra: k.revokedReason ? ` — <q class="api-words">${e(k.revokedReason)}</q>` : '' }));
  } else {
    steps.push(step(deleteFuture ? 'Sẽ xóa sau' : 'Xóa', deleteFuture ? 'To be deleted after' : 'Deleted', k.deleteAfter, { future: deleteFuture }));
  }
  return `<ol class="timeline" aria-label="${e(`Vòng đời khóa ${k.kid}`)}">${steps.join('')}</ol>`;
}

function keysPage(c: Call, keys: KeyView[], o: { notice?: string; errors?: FieldErrors; status?: number } = {}): void {
  const groups = new Map<string, KeyView[]>();
  for (const k of keys) {
    const g = k.use === 'cookie' ? 'cookie' : k.alg;
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  const write = c.may('keys:write');
  const sections = [...groups.entries()]
    .map(([g, ks]) => {
      const items = ks
        .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state))
        .map(
          (k) => `<li class="key state-${e(k.state)}"><h3><code>${e(k.kid)}</code> · ${STATE_WORDS[k.state] ? t(...STATE_WORDS[k.state]!) : e(k.state)}</h3>${timeline(k)}
          ${write && k.state !== 'revoked' ? `<form method="post" action="${CONSOLE_PATH}/keys/${e(k.kid)}/revoke" class="inline">${csrfInput(c.csrf)}<button type="submit" class="secondary">${t('Thu hồi khóa này…', 'Revoke this key…')}</button></form>` : ''}</li>`,
        )
        .join('');
      const heading = g === 'cookie' ? t('Khóa cookie', 'Cookie keys') : t(`Khóa ký ${g}`, `${g} signing keys`);
      return `<section aria-labelledby="keys-${e(g)}"><h2 id="keys-${e(g)}">${heading}</h2><ul class="keys">${items}</ul></section>`;
    })
    .join('');
  const algs = [...new Set(keys.filter((k) => k.use === 'sig').map((k) => k.alg))];
  const errors = o.errors ?? {};
  const rotate = write
    ? `<section aria-labelledby="rotate-heading"><h2 id="rotate-heading">${t('Xoay vòng ngay', 'Rotate now')}</h2>
  <p>${t('Khóa đang ký sẽ nghỉ (vẫn được công bố cho đến khi token cuối cùng nó ký hết hạn), khóa chờ bắt đầu ký và một khóa chờ mới được tạo. Token hợp lệ không bị ảnh hưởng.', 'The active key retires (still published until the last token it signed expires), the next key starts signing and a new next key is made. Valid tokens are not affected.')}</p>
  <form method="post" action="${CONSOLE_PATH}/keys/rotate">${csrfInput(c.csrf)}
  ${field({ name: 'which', vi: 'Khóa nào', en: 'Which keys', type: 'select', options: [{ value: '', vi: 'Tất cả khóa ký và khóa cookie', en: 'every signing key and the cookie key' }, ...algs.map((a) => ({ value: `sig:${a}`, vi: `Khóa ký ${a}`, en: `${a} signing key` })), { value: 'cookie', vi: 'Khóa cookie', en: 'cookie key' }] }, { which: c.form('which') }, errors)}
  ${reasonField({ reason: c.form('reason') }, errors)}
  <button type="submit">${t('Xoay vòng ngay', 'Rotate now')}</button></form></section>`
    : '';
  c.page('console-keys', { title: 'Khóa ký', notice: notice(o.notice ?? ''), alert: alertBox(errors[''] ?? ''), rotate, keys: sections }, o.status);
}

function refusedPage(c: Call, a: ApiAnswer<unknown>): void {
  c.page('console-refused', { title: 'Không thực hiện được', alert: alertBox(explain(a)) }, a.status >= 500 ? 502 : a.status);
}

async function readKeys(c: Call): Promise<KeyView[] | undefined> {
  const list = await c.api<{ keys: KeyView[] }>('GET', '/keys');
  if (list.status === 200) return list.body.keys;
  refusedPage(c, list);
  return undefined;
}

export const KEY_ROUTES: ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/keys',
    handle: async (c) => {
      const keys = await readKeys(c);
      if (!keys) return;
      const done = c.ctx.query.done;
      keysPage(c, keys, {
        ...(done === 'rotated' ? { notice: t('Đã xoay vòng khóa.', 'Keys rotated.') } : done === 'revoked' ? { notice: t('Đã thu hồi khóa: nó đã rời khỏi JWKS.', 'Key revoked: it has left the JWKS.') } : {}),
      });
    },
  },
  {
    method: 'POST',
    path: '/keys/rotate',
    handle: async (c) => {
      const which = c.form('which');
      const body = { reason: c.form('reason'), ...(which === 'cookie' ? { use: 'cookie' } : which.startsWith('sig:') ? { use: 'sig', alg: which.slice(4) } : {}) };
      const done = await c.api('POST', '/keys/rotate', { body });
      if (done.status === 200) {
        c.ctx.status = 303;
        c.ctx.redirect(`${CONSOLE_PATH}/keys?done=rotated`);
        return;
      }
      const keys = await readKeys(c);
      if (keys) keysPage(c, keys, { errors: errorsOf(done, ['reason'], { alg: 'which', use: 'which' }), status: done.status });
    },
  },
  {
    method: 'POST',
    path: '/keys/:kid/revoke',
    handle: async (c) => {
      const kid = c.params.kid!;
      let errors: FieldErrors = {};
      let status = 200;
      if (c.form('confirm') === 'yes') {
        const done = await c.api('POST', `/keys/${seg(kid)}/revoke`, { body: { reason: c.form('reason') } });
        if (done.status === 200) {
          c.ctx.status = 303;
          c.ctx.redirect(`${CONSOLE_PATH}/keys?done=revoked`);
          return;
        }
        errors = errorsOf(done, ['reason']);
        status = done.status;
      }
      const keys = await readKeys(c);
      if (!keys) return;
      const key = keys.find((k) => k.kid === kid);
      if (!key) return refusedPage(c, { status: 404, body: {}, etag: null });
      // The confirmation step: what revoking means, the reason, and a second press.
      c.page(
        'console-key-revoke',
        {
          title: 'Thu hồi khóa',
          kid,
          state: STATE_WORDS[key.state] ? t(...STATE_WORDS[key.state]!) : e(key.state),
          timeline: timeline(key),
          alert: alertBox(errors[''] ?? ''),
          form: `<form method="post" action="${CONSOLE_PATH}/keys/${e(kid)}/revoke">${csrfInput(c.csrf)}<input type="hidden" name="confirm" value="yes">
          ${reasonField({ reason: c.form('reason') }, errors)}
          <div class="actions"><button type="submit">${t('Có, thu hồi khóa này', 'Yes, revoke this key')}</button> <a class="button secondary" href="${CONSOLE_PATH}/keys">${t('Không, quay lại', 'No, go back')}</a></div></form>`,
        },
        status,
      );
    },
  },
];
