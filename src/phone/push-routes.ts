// The bound phone's side of Web Push (issue 13 §3): the phone's page asks for
// nixa's VAPID public key, subscribes its browser with it, and hands nixa the
// subscription (views/phone-push.js; the worker, views/sw.js, again when the
// browser renews it).
//
//   GET    /p/push/key            → { publicKey } for pushManager.subscribe
//   POST   /p/push/subscription   PushSubscription.toJSON() as JSON → 204
//   DELETE /p/push/subscription   → 204 (nothing more is pushed to this phone)
//
// Only a bound phone (its cookie, bound-phones.ts) is answered, and a change only
// from nixa's own pages: the body is JSON, which a form on another site cannot
// send, and the Origin must be nixa's (a fetch sends it; views/phone-push.js
// asks for it with referrerPolicy, since under nixa's no-referrer policy the
// Fetch standard says "Origin: null"). Every answer is JSON and no-store, a
// refusal included.
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';

import { CrossSiteRequestError, ForbiddenError, InvalidInputError, NixaError, refuseControlCharacters } from '../errors/index.js';
import type { FactorsContext } from '../factors/index.js';
import { removePushSubscription, savePushSubscription, vapidPublicKey, type PushDeps } from '../push/index.js';
import { thisPhone } from './bound-phones.js';

export const PUSH_PATH = '/p/push';
const KEY_PATH = `${PUSH_PATH}/key`;
const SUBSCRIPTION_PATH = `${PUSH_PATH}/subscription`;

/** A PushSubscription's JSON is about 400 bytes; anything near this is not one. */
const JSON_LIMIT = '8kb';

export interface PhonePushDeps {
  db: FactorsContext['db'];
  push: PushDeps;
  /** nixa's own origins (the issuer's, the passkey origins): a change is accepted from these only. */
  origins: readonly string[];
}

/** Whether a change comes from one of nixa's own pages: its Origin must say so ("null" and none do not). */
export function isOwnOrigin(origin: string | undefined, own: readonly string[]): boolean {
  return !!origin && own.includes(origin);
}

const parseJson = bodyParser({
  enableTypes: ['json'],
  jsonLimit: JSON_LIMIT,
  encoding: 'utf-8',
  onError: (err) => {
    const tooLarge = (err as { status?: number }).status === 413;
    throw new InvalidInputError('(body)', tooLarge ? `at most ${JSON_LIMIT}` : 'the PushSubscription as JSON, as toJSON() gives it');
  },
}) as Middleware;

export function phonePushRoutes(deps: PhonePushDeps) {
  return async function phonePush(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== KEY_PATH && ctx.path !== SUBSCRIPTION_PATH) return next();
    ctx.set('Cache-Control', 'no-store');
    try {
      if (ctx.path === KEY_PATH) {
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return notAllowed(ctx, 'GET, HEAD');
        await boundPhone(ctx, deps);
        ctx.body = { publicKey: await vapidPublicKey(deps.push) };
        return;
      }
      if (ctx.method !== 'POST' && ctx.method !== 'DELETE') return notAllowed(ctx, 'POST, DELETE');
      if (!isOwnOrigin(ctx.get('Origin') || undefined, deps.origins)) throw new CrossSiteRequestError();
      const phone = await boundPhone(ctx, deps);
      if (ctx.method === 'DELETE') {
        await removePushSubscription(deps.push.db, phone.id);
        ctx.status = 204;
        return;
      }
      if (!ctx.is('application/json')) {
        ctx.status = 415;
        ctx.body = { error: 'unsupported_media_type', message: 'Send the PushSubscription as JSON (Content-Type: application/json).' };
        return;
      }
      await parseJson(ctx, async () => {});
      const body = (ctx.request as { body?: unknown }).body;
      refuseControlCharacters(body);
      await savePushSubscription(deps.push, phone.id, body);
      ctx.status = 204;
    } catch (err) {
      // This is an API for nixa's own scripts: a refusal is JSON, whatever the Accept
      // header (the error boundary would answer a browser's page load with a page).
      if (!(err instanceof NixaError) || err.status >= 500) throw err;
      ctx.status = err.status;
      ctx.body = { error: err.code, message: err.message, ...(err instanceof InvalidInputError ? { field: err.field } : {}) };
    }
  };
}

async function boundPhone(ctx: Context, deps: PhonePushDeps) {
  const phone = await thisPhone(ctx, deps.db);
  if (!phone) throw new ForbiddenError('This browser is not a bound phone: bind it on your nixa account page first.');
  return phone;
}

function notAllowed(ctx: Context, allow: string): void {
  ctx.status = 405;
  ctx.set('Allow', allow);
  ctx.body = { error: 'method_not_allowed', message: `Use ${allow}.` };
}
