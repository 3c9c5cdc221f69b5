// The OAuth 2.0 device authorization grant (RFC 8628) for kiosks and shared
// screens: the device shows a user code (and verification_uri_complete as a QR);
// the citizen opens /device on their phone, checks which service asks, confirms,
// signs in through nixa's usual journey (chooser → source → consent), and the
// device, polling the token endpoint, gets tokens with the acr/amr reached.
//
//   step                      request                           here
//   device asks for a code    POST /device/auth                 oidc-provider; `interval` added, errors as OAuth JSON (deviceAuthorization)
//   citizen opens the link    GET  /device?user_code=…          deviceGrant: the code prefills the form (no auto-post script)
//   citizen types the code    POST /device                      deviceGrant: unknown codes counted per address → code form / confirmPage
//   citizen confirms          POST /device (confirm=yes)        oidc-provider → /interaction/:uid (src/interactions)
//   … or refuses              POST /device (abort=yes)          → deniedPage, DEVICE_GRANT_DENIED, access_denied to the device
//   sign-in ends              GET  /device/:uid                 successSource → donePage, DEVICE_GRANT_APPROVED
//   device polls              POST /token (device_code)         deviceCodeAdapter: sooner than the interval → slow_down
//
// oidc-provider does the protocol (codes, xsrf, the interaction, the token
// endpoint); this folder gives it nixa's pages, the numbers of policy.ts, and
// the counters of repository.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, createHmac } from 'node:crypto';

import type { Context, Next } from 'koa';
import { errors, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { appendAudit, coarseDevice } from '../audit/index.js';
import { DEVICE_CODE_GRANT } from '../clients/index.js';
// The address rules of the second-factor lockout (IPv6 counted by its /64), pure functions of factors/.
import { addressTag, clientAddress, waitInWords } from '../factors/index.js';
import { languageReturnsTo } from '../pages/index.js';
import type { Database } from '../storage/index.js';
import { CODE_VERIFICATION_PATH, codeFormPage, confirmPage, deniedPage, donePage, waitPage, type CodeProblem } from './pages.js';
import {
  DEVICE_CODE_KEPT_AFTER_EXPIRY_SECONDS,
  GUESS_POLICY,
  POLL_INTERVAL_SECONDS,
  prefillUserCode,
  USER_CODE_CHARSET,
  USER_CODE_MASK,
} from './policy.js';
import { giveBackGuess, recordPoll, takeGuess } from './repository.js';

export { CODE_VERIFICATION_PATH } from './pages.js';
export { DEVICE_CODE_TTL_SECONDS, GUESS_POLICY, POLL_INTERVAL_SECONDS, USER_CODE_MASK } from './policy.js';

/** oidc-provider's default routes, which nixa keeps. */
export const DEVICE_AUTHORIZATION_PATH = '/device/auth';
const TOKEN_PATH = '/token';

export interface DeviceGrantDeps {
  /** The provider's database handle (a lost connection is temporarily_unavailable). */
  db: Database;
  /** HMAC key under which client addresses are counted: the table holds no address. */
  addressKey: Buffer;
}

type DeviceFlow = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;

/** Where oidc-provider resumes a device's sign-in (device_resume), and the cookie it needs there (its default name). */
const RESUME_ROUTE = /^\/device\/[^/]+$/;
const RESUME_COOKIE = '_interaction_resume';

const PREFILL = Symbol('nixa device prefill');
const GUESS = Symbol('nixa device guess');
type State = { [PREFILL]?: string; [GUESS]?: { wrong: boolean } };
const stateOf = (ctx: { state: unknown }) => ctx.state as State;

/** oidc-provider's re-render errors (thrown at /device and /device/:uid), by name. */
const PROBLEM_OF: Record<string, CodeProblem> = {
  NoCodeError: 'no-code',
  NotFoundError: 'unknown',
  ExpiredError: 'expired',
  AlreadyUsedError: 'used',
};

/** oidc-provider's form token, kept in the browser's session for the device forms. */
const xsrfOf = (ctx: KoaContextWithOIDC) => (ctx.oidc.session as unknown as { state?: { secret?: string } } | undefined)?.state?.secret ?? '';

const clientNameOf = (client: { clientName?: string | undefined; clientId: string } | undefined, clientId?: string) =>
  client?.clientName ?? client?.clientId ?? clientId ?? '';

/** The feature's configuration: nixa's pages, its code alphabet and lifetime, its audit events. */
export function deviceFlow(deps: DeviceGrantDeps): DeviceFlow {
  return {
    enabled: true,
    charset: USER_CODE_CHARSET,
    mask: USER_CODE_MASK,
    // Nothing of the device's request (its address, its User-Agent) is kept: the
    // service's registered name is what tells the citizen which kiosk asks.
    deviceInfo: () => ({}),
    async userCodeInputSource(ctx, _form, out, err) {
      const action = ctx.oidc.urlFor('code_verification');
      const xsrf = xsrfOf(ctx);
      ctx.type = 'html';
      languageReturnsTo(ctx as unknown as Context, CODE_VERIFICATION_PATH);
      if (!err) {
        ctx.body = codeFormPage({ action, xsrf, code: stateOf(ctx)[PREFILL] ?? '' });
        return;
      }
      // oidc-provider's re-render errors answer 200; any other failure keeps its status.
      const reRender = (err as { statusCode?: number }).statusCode === 200;
      if (reRender && err.name === 'AbortedError') {
        await auditDenied(deps, ctx);
        ctx.body = deniedPage(action, ctx.oidc.client?.clientName ?? undefined);
        return;
      }
      const problem: CodeProblem = (reRender && PROBLEM_OF[err.name]) || 'failed';
      // A code typed at /device that matches none: the guess the address pays for.
      const attempt = stateOf(ctx)[GUESS];
      if (problem === 'unknown' && attempt && ctx.oidc.route === 'code_verification') attempt.wrong = true;
      if (reRender) ctx.status = 400;
      const typed = prefillUserCode((err as { userCode?: unknown }).userCode);
      ctx.body = codeFormPage({ action, xsrf, code: problem === 'unknown' ? typed : '', problem, ...(out?.error ? { errorCode: String(out.error) } : {}) });
    },
    async userCodeConfirmSource(ctx, _form, client, _deviceInfo, userCode) {
      ctx.type = 'html';
      languageReturnsTo(ctx as unknown as Context, CODE_VERIFICATION_PATH);
      const iat = (ctx.oidc.entities as { DeviceCode?: { iat?: number } }).DeviceCode?.iat;
      ctx.body = confirmPage({
        action: ctx.oidc.urlFor('code_verification'),
        xsrf: xsrfOf(ctx),
        userCode,
        clientName: clientNameOf(client),
        ...(iat ? { requestedAt: new Date(iat * 1000) } : {}),
      });
    },
    async successSource(ctx) {
      const code = ctx.oidc.deviceCode!;
      const accountId = ctx.oidc.session!.accountId!;
      // Written before the page: should it fail, oidc-provider (deviceUserFlowErrors)
      // records the failure on the device code, and the device gets that error, not
      // tokens whose approval is not in the trail.
      await appendAudit(deps.db, {
        event: 'DEVICE_GRANT_APPROVED',
        actor: `account:${accountId}`,
        subject: accountId,
        details: { client: code.clientId, acr: code.acr ?? null, amr: code.amr ?? [], device: coarseDevice(ctx.get('user-agent')) },
      });
      ctx.type = 'html';
      languageReturnsTo(ctx as unknown as Context, CODE_VERIFICATION_PATH);
      ctx.body = donePage(clientNameOf(ctx.oidc.client, code.clientId));
    },
  };
}

async function auditDenied(deps: DeviceGrantDeps, ctx: KoaContextWithOIDC): Promise<void> {
  const code = ctx.oidc.deviceCode;
  const accountId = ctx.oidc.session?.accountId;
  await appendAudit(deps.db, {
    event: 'DEVICE_GRANT_DENIED',
    actor: accountId ? `account:${accountId}` : 'anonymous',
    ...(accountId ? { subject: accountId } : {}),
    // At /device: "not me" on the confirmation; at /device/:uid: the sign-in was cancelled or consent refused.
    details: {
      client: code?.clientId ?? ctx.oidc.client?.clientId ?? (ctx.oidc.entities.Interaction as { params?: { client_id?: string } } | undefined)?.params?.client_id ?? null,
      step: ctx.oidc.route === 'code_verification' ? 'confirmation' : 'sign-in',
    },
  });
}

/** The stored key of a client address (an HMAC), as the second-factor lockout counts it. */
const addressKeyOf = (key: Buffer, ip: string) => createHmac('sha256', key).update(clientAddress(ip)).digest('hex');

/**
 * Middleware in front of oidc-provider's device endpoints: a code carried in a link
 * prefills the form (oidc-provider would auto-post it with an inline script);
 * every POST /device takes one attempt from the address's allowance, given back
 * unless the code typed matched none; the device authorization endpoint names
 * the polling interval and answers every error as OAuth JSON; a poll at the token
 * endpoint is marked for deviceCodeAdapter.
 */
export function deviceGrantRoutes(deps: DeviceGrantDeps) {
  return async function deviceGrant(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === CODE_VERIFICATION_PATH && ctx.method === 'GET' && ctx.querystring) {
      stateOf(ctx)[PREFILL] = prefillUserCode(ctx.query.user_code);
      ctx.querystring = '';
      return next();
    }
    if (ctx.path === CODE_VERIFICATION_PATH && ctx.method === 'POST') return limitGuesses(deps, ctx, next);
    if (ctx.path === DEVICE_AUTHORIZATION_PATH) return deviceAuthorization(ctx, next);
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && RESUME_ROUTE.test(ctx.path) && !ctx.cookies.get(RESUME_COOKIE)) {
      // No sign-in for a device in progress in this browser (the link opened again, in
      // another browser, or after it ended): oidc-provider would fail with a 500. The
      // code form is where to start again.
      ctx.status = 303;
      ctx.redirect(CODE_VERIFICATION_PATH);
      return;
    }
    if (ctx.path === TOKEN_PATH && ctx.method === 'POST') return polling.run(true, next);
    return next();
  };
}

/** oidc-provider's answers to a client whose stored registration it cannot load. */
const UNUSABLE_REGISTRATION = new Set(['invalid_client_metadata', 'invalid_redirect_uri']);

/**
 * POST /device/auth, a device's endpoint: every answer is JSON with an error of
 * RFC 6749 §5.2 (which RFC 8628 §3.2 refers to), never a page nor a 500.
 */
async function deviceAuthorization(ctx: Context, next: Next): Promise<void> {
  if (ctx.method === 'OPTIONS') return next();
  if (ctx.method !== 'POST') {
    // oidc-provider would take a GET for /device/:uid (uid "auth") and fail saving a session it never stored.
    ctx.status = 405;
    ctx.set('Allow', 'POST');
    ctx.body = { error: 'invalid_request', error_description: 'the device authorization endpoint takes POST only' };
    return;
  }
  // A device wants JSON whatever it says it accepts; oidc-provider would answer a browser with a page.
  ctx.request.headers.accept = 'application/json';
  await next();
  const body = ctx.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return;
  if (ctx.status === 200 && 'device_code' in body) body.interval = POLL_INTERVAL_SECONDS;
  if (ctx.status !== 400) return;
  // oidc-provider answers invalid_request to a client without the grant.
  const client = (ctx as unknown as KoaContextWithOIDC).oidc?.client;
  if (client && !client.grantTypeAllowed(DEVICE_CODE_GRANT)) {
    ctx.body = { error: 'unauthorized_client', error_description: `${DEVICE_CODE_GRANT} is not registered for this client` };
  } else if (UNUSABLE_REGISTRATION.has(String(body.error))) {
    // A registration stored past the schema (an operator's mistake, logged as device_authorization.error):
    // to the device, a client that cannot be used, without what is wrong in it.
    ctx.status = 401;
    ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
  }
}

async function limitGuesses(deps: DeviceGrantDeps, ctx: Context, next: Next): Promise<void> {
  const key = addressKeyOf(deps.addressKey, ctx.ip);
  const taken = await takeGuess(deps.db, key, GUESS_POLICY.windowSeconds, GUESS_POLICY.allowed);
  if (!taken.taken) {
    ctx.status = 429;
    ctx.set('Retry-After', String(taken.retryAfterSeconds));
    ctx.type = 'html';
    ctx.body = waitPage(waitInWords(taken.retryAfterSeconds));
    languageReturnsTo(ctx, CODE_VERIFICATION_PATH);
    return;
  }
  const attempt = { wrong: false };
  stateOf(ctx)[GUESS] = attempt;
  try {
    await next();
  } finally {
    if (!attempt.wrong) await giveBackGuess(deps.db, key);
    else if (taken.count >= GUESS_POLICY.allowed) {
      await appendAudit(deps.db, {
        event: 'DEVICE_CODE_GUESSES_LIMITED',
        actor: 'system:device-grant',
        subject: `ip:${addressTag(key)}`,
        details: { allowed: GUESS_POLICY.allowed, windowSeconds: GUESS_POLICY.windowSeconds },
      });
    }
  }
}

/** Set while the token endpoint runs: a device code looked up then is being polled for. */
const polling = new AsyncLocalStorage<true>();

/** Whether this lookup happens in a poll at the token endpoint (CIBA's adapter asks too: src/ciba). */
export const pollingAtTokenEndpoint = (): boolean => polling.getStore() === true;

const pending = (p: AdapterPayload) =>
  !p.accountId && !p.error && !p.consumed && typeof p.exp === 'number' && p.exp > Date.now() / 1000;

/**
 * The DeviceCode adapter, with two changes: a code's row outlives its expiry by
 * DEVICE_CODE_KEPT_AFTER_EXPIRY_SECONDS (oidc-provider still sees it expired, from
 * its `exp`, and says so: "expired" to the citizen, expired_token to the device),
 * and a pending code polled sooner than POLL_INTERVAL_SECONDS after the last
 * answered poll is refused with slow_down (RFC 8628 §3.5), across instances.
 */
export function deviceCodeAdapter(inner: Adapter, deps: DeviceGrantDeps): Adapter {
  return {
    upsert: (id, payload, expiresIn) => inner.upsert(id, payload, expiresIn === undefined ? expiresIn : expiresIn + DEVICE_CODE_KEPT_AFTER_EXPIRY_SECONDS),
    async find(id) {
      const payload = await inner.find(id);
      if (payload && polling.getStore() && pending(payload)) {
        const key = createHash('sha256').update(id).digest('base64url');
        if (!(await recordPoll(deps.db, key, POLL_INTERVAL_SECONDS))) throw new errors.SlowDown();
      }
      return payload;
    },
    findByUid: (uid) => inner.findByUid(uid),
    findByUserCode: (userCode) => inner.findByUserCode(userCode),
    consume: (id) => inner.consume(id),
    destroy: (id) => inner.destroy(id),
    revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
  };
}
