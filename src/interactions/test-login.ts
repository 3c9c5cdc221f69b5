// The test login (development and tests only; configuration refuses it in
// production): sign in as any account id, with the requested scopes granted and
// claims as the account agreed (consent.ts fills the grant, as for every sign-in).
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

import { ensureAccount } from '../accounts/index.js';
import { InvalidInputError } from '../errors/index.js';
import { grantAsAgreed } from './consent.js';
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
  const grantId = await grantAsAgreed(deps, details, accountId);
  await p.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId, amr: ['test'], acr: TEST_ACR }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}
