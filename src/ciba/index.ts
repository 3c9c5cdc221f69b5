// CIBA for counters and call centres (OpenID Connect Client-Initiated
// Backchannel Authentication 1.0, poll and ping): a registered service names the
// citizen (login_hint: national ID number, or the sub it knows) with a binding
// message; nixa finds the citizen's bound phones, notifies them (Web Push, when
// the phone subscribed), and the citizen approves on the phone with its passkey
// (src/phone: the same pages and checks as a QR sign-in, without the number).
// oidc-provider does the protocol (the request, auth_req_id, the token endpoint,
// ping); this folder gives it nixa's answers at each hook.
//
//   step                        where
//   service asks                POST /backchannel   oidc-provider → processLoginHint, verifyUserCode (a bound phone?),
//                                                   validateBindingMessage → triggerAuthenticationDevice (row + push)
//   the phone opens nixa        GET  /p             src/phone: pending requests of its account → /p/:handle
//   citizen approves / denies   POST /p/:handle/…   src/phone → cibaSettled → backchannelResult (grant or access_denied)
//   service polls               POST /token         oidc-provider; sooner than POLL_INTERVAL_SECONDS → slow_down (cibaAdapter)
import { createHash } from 'node:crypto';

import type { Adapter, Configuration } from 'oidc-provider';
import Provider, { errors } from 'oidc-provider';

import { accountClaims, accountIdByNationalId, accountIsEnabled, type AccountsContext } from '../accounts/index.js';
import { levelOfAcr } from '../assurance/index.js';
import { appendAudit } from '../audit/index.js';
import { consentableClaims, consentGiven, recordConsent, requestedClaims } from '../consent/index.js';
import { recordPoll } from '../device-grant/repository.js';
import type { Logger } from '../logging/index.js';
import { handleHash, listBoundPhones, newHandle, type RequestRow } from '../phone/index.js';
import { insertCibaRequest } from '../phone/repository.js';
import type { Database } from '../storage/index.js';
import { checkBindingMessage, parseLoginHint, POLL_INTERVAL_SECONDS } from './policy.js';

export { BINDING_MESSAGE_MAX, checkBindingMessage, parseLoginHint, POLL_INTERVAL_SECONDS } from './policy.js';

export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

export interface CibaDeps {
  db: Database;
  accounts: AccountsContext;
  logger: Logger;
  /** Reverses a service's sub to the account (pairwise subjects are an HMAC of the account). */
  accountOfSub(sub: string, client: { clientId: string; subjectType?: string }): Promise<string | undefined>;
  /** Notifies one bound phone (Web Push); never throws. Absent: the phone sees the request when it opens nixa. */
  notify?: (phoneId: string, message: { type: 'ciba'; id: string }) => Promise<unknown>;
}

type Ciba = NonNullable<NonNullable<Configuration['features']>['ciba']>;

/** The feature's configuration: nixa's answer at each of oidc-provider's CIBA hooks. */
export function cibaFeature(deps: CibaDeps): Ciba {
  return {
    enabled: true,
    deliveryModes: ['poll', 'ping'],
    async processLoginHint(ctx, loginHint) {
      const hint = parseLoginHint(loginHint);
      if (!hint) throw new errors.InvalidRequest('login_hint must be the citizen’s national ID number (12 digits) or the sub this service knows');
      const accountId =
        hint.kind === 'national-id' ? await accountIdByNationalId(deps.accounts, hint.value) : await deps.accountOfSub(hint.value, ctx.oidc.client as never);
      // Unknown and suspended alike: the service learns nothing more about the person.
      if (!accountId || !(await accountIsEnabled(deps.db, accountId))) throw new errors.UnknownUserId('no citizen nixa can reach matches login_hint');
      return accountId;
    },
    async processLoginHintToken() {
      throw new errors.InvalidRequest('login_hint_token is not supported: send login_hint');
    },
    // Called for every request once the citizen is known (also for id_token_hint):
    // nixa has no user codes, and a citizen with no bound phone cannot be asked.
    async verifyUserCode(_ctx, account, userCode) {
      if (userCode) throw new errors.InvalidUserCode('user_code is not used: the citizen approves on their bound phone');
      if (!(await listBoundPhones({ db: deps.db }, account.accountId)).length) {
        throw new errors.AccessDenied('the citizen has no phone bound to nixa to approve this request on');
      }
    },
    async validateBindingMessage(_ctx, bindingMessage) {
      const c = checkBindingMessage(bindingMessage);
      if (!c.ok) throw new errors.InvalidBindingMessage(c.problem);
    },
    async validateRequestContext(_ctx, requestContext) {
      if (requestContext !== undefined && (typeof requestContext !== 'string' || requestContext.length > 2000)) {
        throw new errors.InvalidRequest('request_context must be a string of at most 2000 characters');
      }
    },
    async triggerAuthenticationDevice(_ctx, request, account, client) {
      const handle = newHandle();
      const now = new Date();
      const params = request.params as Record<string, unknown>;
      const scopes = String(request.scope ?? '').split(' ').filter(Boolean);
      const claims = consentableClaims(requestedClaims(scopes, request.claims as never, client.scope?.split(' ')));
      const level = levelOfAcr(String(params.acr_values ?? '').split(' ')[0] ?? '');
      const id = createHash('sha256').update(`ciba-notice:${request.jti}`).digest('base64url').slice(0, 22);
      // validateBindingMessage accepted it already: this is its normalised form, as the phone shows it.
      const binding = checkBindingMessage(params.binding_message);
      await deps.db.transaction(async (tx) => {
        await insertCibaRequest(tx, {
          handleHash: handleHash(handle),
          authReqId: request.jti,
          clientId: client.clientId,
          accountId: account.accountId,
          details: {
            // No browser asks: the service calls from its server (the phone's pages show no computer for CIBA).
            device: { browser: 'other', os: 'other' },
            claims,
            ...(level ? { level } : {}),
            sessionAccount: account.accountId,
            bindingMessage: binding.ok ? binding.message : '',
            handle,
            scope: scopes.join(' '),
          },
          createdAt: now,
          // oidc-provider has saved the request: its remaining lifetime, in seconds.
          expiresAt: new Date(now.getTime() + (request.expiration as number) * 1000),
        });
        await appendAudit(tx, {
          event: 'CIBA_REQUESTED',
          actor: `client:${client.clientId}`,
          subject: account.accountId,
          details: { client: client.clientId, mode: client.backchannelTokenDeliveryMode, level: level ?? null, claims },
        });
      });
      // Push is a convenience: the phone also lists the request when it opens nixa.
      // Not awaited, so a slow push service never holds the service's request.
      if (deps.notify) {
        const phones = await listBoundPhones({ db: deps.db }, account.accountId);
        for (const p of phones) void deps.notify(p.id, { type: 'ciba', id }).catch(() => undefined);
      }
    },
  };
}

/**
 * What oidc-provider is told once the citizen answered on the phone: an approval
 * is consent to the attributes the phone showed (recorded as any consent is) and
 * a grant of them, with the acr/amr of a bound phone; a refusal is access_denied.
 * A ping-mode service is then pinged by oidc-provider.
 */
export function cibaSettled(deps: Pick<CibaDeps, 'db' | 'accounts' | 'logger'>, provider: () => Provider) {
  return async (r: RequestRow): Promise<void> => {
    const p = provider();
    try {
      if (r.state === 'approved') {
        const accountId = r.accountId!;
        const given = consentGiven(r.details.claims, r.details.claims, await accountClaims(deps.accounts, accountId));
        await deps.db.transaction(async (tx) => {
          await recordConsent(tx, accountId, r.clientId, given);
          await appendAudit(tx, { event: 'CONSENT_GIVEN', actor: `account:${accountId}`, subject: accountId, details: { client: r.clientId, claims: given.claims, via: 'ciba' } });
        });
        const grant = new p.Grant({ accountId, clientId: r.clientId });
        if (r.details.scope) grant.addOIDCScope(r.details.scope);
        if (given.claims.length) grant.addOIDCClaims(given.claims);
        await p.backchannelResult(r.authReqId!, await grant.save(), { acr: `urn:nixa:loa:${r.level}`, amr: r.amr ?? [], authTime: Math.floor(Date.now() / 1000) });
      } else if (r.state === 'denied') {
        await p.backchannelResult(r.authReqId!, new errors.AccessDenied(r.reason === 'citizen' ? 'the citizen refused on their phone' : `refused: ${r.reason}`));
      }
    } catch (err) {
      // The request expired or was removed meanwhile: the service's poll says expired_token.
      deps.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message, cause: String((err as Error).cause ?? '') }, client: r.clientId }, 'CIBA result or ping failed');
    }
  };
}

/** How long a request's row outlives its expiry (oidc-provider still sees it expired, from its exp). */
const KEPT_AFTER_EXPIRY_SECONDS = 600;

/**
 * The BackchannelAuthenticationRequest adapter, with slow_down: a pending request
 * polled sooner than POLL_INTERVAL_SECONDS after the last answered poll is refused
 * (CIBA §11, RFC 8628 §3.5), across instances (device-grant/repository.ts's poll
 * record, under a model name of its own).
 */
export function cibaAdapter(inner: Adapter, db: Database, polling: () => boolean): Adapter {
  return {
    // Kept past its expiry, as device codes are, so a late poll is told expired_token, not invalid_grant.
    upsert: (id, payload, expiresIn) => inner.upsert(id, payload, expiresIn === undefined ? expiresIn : expiresIn + KEPT_AFTER_EXPIRY_SECONDS),
    async find(id) {
      const payload = await inner.find(id);
      const pending = payload && !payload.grantId && !payload.error && !payload.consumed && typeof payload.exp === 'number' && payload.exp > Date.now() / 1000;
      if (pending && polling()) {
        const key = createHash('sha256').update(id).digest('base64url');
        if (!(await recordPoll(db, key, POLL_INTERVAL_SECONDS, 'CibaPoll'))) throw new errors.SlowDown();
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
