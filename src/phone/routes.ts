// The phone's side of signing in on another screen, at short addresses a QR code
// carries well:
//
//   GET  /p                     the form to type a code from the computer's screen (?code=… goes on to it)
//   GET  /p/:handle             what is asked, and the numbers to pick (or the passkey step, once matched)
//   POST /p/:handle/number      csrf, number → the passkey step, or the request ends (wrong number)
//   POST /p/:handle/options     csrf → the passkey challenge (JSON, for passkeys.js)
//   POST /p/:handle/approve     csrf, response → approved; the computer goes on
//   POST /p/:handle/deny        csrf → denied on both screens
//
// The phone must be bound (its cookie names the binding, bound-phones.ts); every
// POST carries a CSRF token bound to the phone and the request; every answer is
// no-store.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

import { deviceWords, storedDevice } from '../audit/index.js';
import { checkCsrf, csrfToken } from '../interactions/csrf.js';
import type { KeyRing } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { thisPhone } from './bound-phones.js';
import { approvalOptions, approve, openRequest, pickNumber, refuse, type CrossDeviceDeps, type Opened } from './cross-device.js';
import { approvedPage, approvePage, cibaPage, confirmPage, enterCodePage, phoneProblemPage, type Problem } from './pages.js';
import { pendingCibaRequests, type RequestRow } from './repository.js';
import { handleHash, normalizeHandle, numberChoices } from './policy.js';

export const PHONE_PATH = '/p';

export interface PhoneRouteDeps extends CrossDeviceDeps {
  keyring: KeyRing;
  logger: Logger;
  provider: () => Provider;
}

const ROUTE = /^\/p\/([A-Za-z0-9-]{1,40})(?:\/(number|options|approve|deny))?$/;

const STATUS: Record<Problem, number> = {
  unknown: 404,
  expired: 410,
  used: 409,
  'not-bound': 403,
  citizen: 200,
  'wrong-number': 403,
  'second-scan': 409,
  'other-account': 403,
  level: 403,
};

function page(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

export function phoneRoutes(deps: PhoneRouteDeps) {
  const csrfOf = (phoneId: string, handle: string) => csrfToken(deps.keyring.snapshot.cookieKeys, `phone:${phoneId}:${handleHash(handle)}`);
  const clientName = async (clientId: string) => {
    const c = await deps.provider().Client.find(clientId);
    return c?.clientName ?? clientId;
  };

  const cibaPageOf = (r: RequestRow, handle: string, phoneId: string, name: string, problem?: { vi: string; en: string }) =>
    cibaPage({
      handle,
      csrf: csrfOf(phoneId, handle),
      clientName: name,
      bindingMessage: r.details.bindingMessage ?? '',
      claims: r.details.claims,
      ...(r.details.level ? { level: r.details.level } : {}),
      createdAt: r.createdAt,
      ...(problem ? { problem } : {}),
    });

  return async function phone(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== PHONE_PATH && !ctx.path.startsWith(`${PHONE_PATH}/`)) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === PHONE_PATH) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
      const typed = ctx.query.code;
      if (typed === undefined) {
        // A bound phone opening nixa (or its notification) sees the service requests waiting for it.
        const phone = await thisPhone(ctx, deps.db);
        const pending = phone ? await pendingCibaRequests(deps.db, phone.accountId, new Date()) : [];
        const listed = await Promise.all(
          pending.flatMap((r) => (r.details.handle ? [{ handle: r.details.handle, createdAt: r.createdAt, clientName: clientName(r.clientId) }] : [])).map(async (p) => ({ ...p, clientName: await p.clientName })),
        );
        return page(ctx, 200, enterCodePage('', undefined, listed));
      }
      const handle = normalizeHandle(typed);
      if (!handle) {
        return page(ctx, 400, enterCodePage(typeof typed === 'string' ? typed.slice(0, 20) : '', { vi: 'Mã gồm 10 chữ cái, ví dụ BCDF-GHJK-LM. Hãy kiểm tra lại.', en: 'A code is 10 letters, e.g. BCDF-GHJK-LM. Please check it.' }));
      }
      ctx.status = 303;
      return ctx.redirect(`${PHONE_PATH}/${handle}`);
    }
    const m = ROUTE.exec(ctx.path);
    if (!m) return next();
    const action = m[2];
    if (action ? ctx.method !== 'POST' : ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const handle = normalizeHandle(m[1]);
    if (!handle) return page(ctx, 404, phoneProblemPage('unknown', enterLink));
    // A handle in another spelling (lower case, dashes): its one address.
    if (!action && m[1] !== handle) {
      ctx.status = 301;
      return ctx.redirect(`${PHONE_PATH}/${handle}`);
    }
    const phone = await thisPhone(ctx, deps.db);
    if (!phone) return page(ctx, STATUS['not-bound'], phoneProblemPage('not-bound', accountLink));
    const body = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
    if (action) checkCsrf(deps.keyring.snapshot.cookieKeys, `phone:${phone.id}:${handleHash(handle)}`, body.csrf);

    const problem = (o: Extract<Opened, { ok: false }>) => {
      deps.logger.info({ problem: o.problem, phone: phone.id }, 'cross-device request not approved');
      return page(ctx, STATUS[o.problem], phoneProblemPage(o.problem));
    };
    switch (action) {
      case undefined: {
        const o = await openRequest(deps, handle, phone);
        if (!o.ok) return problem(o);
        const r = o.request;
        const name = await clientName(r.clientId);
        if (r.kind === 'ciba') return page(ctx, 200, cibaPageOf(r, handle, phone.id, name));
        if (r.state === 'matched') return page(ctx, 200, confirmPage({ handle, csrf: csrfOf(phone.id, handle), clientName: name }));
        const device = storedDevice(r.details.device);
        return page(
          ctx,
          200,
          approvePage({
            handle,
            csrf: csrfOf(phone.id, handle),
            clientName: name,
            claims: r.details.claims,
            ...(r.details.level ? { level: r.details.level } : {}),
            createdAt: r.createdAt,
            device: device ? deviceWords(device) : { vi: 'không rõ', en: 'unknown' },
            choices: numberChoices(r.number ?? 0),
          }),
        );
      }
      case 'number': {
        const o = await pickNumber(deps, handle, phone, body.number);
        if (!o.ok) return problem(o);
        ctx.status = 303;
        return ctx.redirect(`${PHONE_PATH}/${handle}`);
      }
      case 'options': {
        const o = await approvalOptions(deps, handle, phone);
        if ('challenge' in o) {
          ctx.body = o;
          return;
        }
        ctx.status = 409;
        ctx.body = { error: o.ok ? 'number_not_matched' : o.problem };
        return;
      }
      case 'approve': {
        const o = await approve(deps, handle, phone, body.response, ctx.ip);
        if (o.ok) return page(ctx, 200, approvedPage(await clientName(o.request.clientId), o.request.kind));
        if (o.problem === 'passkey') {
          const wait = o.retryAfterSeconds > 0 ? { vi: ` Hãy đợi ${o.retryAfterSeconds} giây.`, en: ` Please wait ${o.retryAfterSeconds} seconds.` } : { vi: '', en: '' };
          const problem = {
            vi: `Không xác nhận được bằng khóa truy cập của điện thoại này (cần vân tay, khuôn mặt hoặc mã PIN).${wait.vi} Hãy thử lại.`,
            en: `The phone’s passkey could not confirm it (fingerprint, face or PIN is needed).${wait.en} Please try again.`,
          };
          const name = await clientName(o.request.clientId);
          return page(
            ctx,
            400,
            o.request.kind === 'ciba'
              ? cibaPageOf(o.request, handle, phone.id, name, problem)
              : confirmPage({ handle, csrf: csrfOf(phone.id, handle), clientName: name, problem }),
          );
        }
        return problem(o);
      }
      case 'deny': {
        const o = await refuse(deps, handle, phone);
        return problem(o.ok ? { ok: false, problem: 'used' } : o);
      }
    }
  };
}

const enterLink = `<p><a href="${PHONE_PATH}">Nhập mã trên màn hình máy tính <span lang="en">(Type the code from the computer’s screen)</span></a></p>`;
const accountLink = `<p><a class="button" href="/account">Đến tài khoản nixa để liên kết điện thoại <span lang="en">(Go to your nixa account to bind this phone)</span></a></p>`;
