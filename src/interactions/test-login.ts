// The test login (development and tests only; configuration refuses it in
// production): sign in as any account id, with the requested scopes granted.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import { ensureAccount } from '../accounts/index.js';
import { InvalidInputError } from '../errors/index.js';
import { checkCsrf } from './csrf.js';
import type { JourneyDeps } from './journey.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const TEST_ACR = 'urn:nixa:test';

export async function testLogin(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const accountId = String(body.account ?? '');
  if (!ACCOUNT_ID.test(accountId)) throw new InvalidInputError('account', '1 to 64 letters, digits, dots, dashes or underscores');
  await ensureAccount(deps.db, accountId);
  const p = deps.provider();
  const grant = new p.Grant({ accountId, clientId: String(details.params.client_id) });
  if (details.params.scope) grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await p.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId, amr: ['test'], acr: TEST_ACR }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}
