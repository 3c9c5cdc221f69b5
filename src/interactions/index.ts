// The sign-in journey's pages. Until the federation issue adds identity sources,
// the only way to sign in is the test login, which configuration refuses to
// enable in production (see src/config).
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

import { ensureAccount } from '../accounts/index.js';
import type { Config } from '../config/index.js';
import { InvalidInputError } from '../errors/index.js';
import { renderPage } from '../pages/index.js';
import type { Database } from '../storage/index.js';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|abort))?$/;
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface InteractionDeps {
  config: Config;
  db: Database;
  provider: () => Provider;
}

export function interactionRoutes({ config, db, provider }: InteractionDeps) {
  return async function interactions(ctx: Context, next: Next): Promise<void> {
    const m = ROUTE.exec(ctx.path);
    if (!m) return next();
    const [, uid, action] = m;
    const p = provider();
    const details = await p.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new InvalidInputError('uid', 'does not match this browser’s sign-in');
    ctx.set('Cache-Control', 'no-store');

    if (!action && ctx.method === 'GET' && details.prompt.name === 'consent' && config.testLogin && details.session) {
      // Signed in already (single sign-on), only this client's grant is missing.
      const grantId = await grantRequested(p, details.session.accountId, details.params);
      await p.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (!action && ctx.method === 'GET') {
      const client = await p.Client.find(String(details.params.client_id));
      ctx.type = 'html';
      ctx.body = config.testLogin
        ? renderPage('test-login', { title: 'Đăng nhập thử nghiệm', uid, clientName: client?.clientName ?? client?.clientId })
        : renderPage('no-login', { title: 'Chưa thể đăng nhập', uid });
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      return;
    }
    if (action === 'abort') {
      await p.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
      return;
    }
    if (action === 'login' && config.testLogin) {
      const accountId = String((ctx.request as { body?: Record<string, unknown> }).body?.account ?? '');
      if (!ACCOUNT_ID.test(accountId)) throw new InvalidInputError('account', '1 to 64 letters, digits, dots, dashes or underscores');
      await ensureAccount(db, accountId);
      const grantId = await grantRequested(p, accountId, details.params);
      await p.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId, amr: ['test'], acr: 'urn:nixa:test' }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    ctx.status = 404;
  };
}

/** Test clients are first-party: grant what they asked for, without a consent page. */
async function grantRequested(p: Provider, accountId: string, params: Record<string, unknown>): Promise<string> {
  const grant = new p.Grant({ accountId, clientId: String(params.client_id) });
  if (params.scope) grant.addOIDCScope(String(params.scope));
  return grant.save();
}
