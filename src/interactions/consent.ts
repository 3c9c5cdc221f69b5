// Step 5: consent. A service sees only the attributes it is registered for, asked
// for, and the citizen agreed to; agreement is remembered per service and asked
// again only when the service asks for more.
import type { Context } from 'koa';

import { appendAudit } from '../audit/index.js';
import { claimLabel, consentDiff, grantedClaims, inReadingOrder, recordConsent, requestedClaims } from '../consent/index.js';
import { escapeHtml, renderPage } from '../pages/index.js';
import { claimsRequest } from '../protocol/index.js';
import { accountClaims, maskNationalId } from '../accounts/index.js';
import { checkCsrf, csrfToken } from './csrf.js';
import type { JourneyDeps } from './journey.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

function display(claim: string, value: unknown): string {
  if (value === undefined || value === null) return 'Chưa có <span lang="en">(not on record)</span>';
  if (claim === 'gender') return value === 'male' ? 'Nam <span lang="en">(male)</span>' : value === 'female' ? 'Nữ <span lang="en">(female)</span>' : escapeHtml(value);
  if (claim === 'address') return escapeHtml((value as { formatted?: string }).formatted ?? '');
  if (claim === 'birthdate' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return escapeHtml(value.split('-').reverse().join('/')); // dd/mm/yyyy, as Vietnamese documents write it
  }
  // Shown masked: the page may be seen over the citizen's shoulder.
  if (claim === 'national_id') return escapeHtml(maskNationalId(String(value)));
  return escapeHtml(value);
}

/** What this sign-in asks to share: claims of allowed, requested scopes and the claims parameter, minus sub. */
async function requested(deps: JourneyDeps, details: Details): Promise<{ claims: string[]; clientName: string; allowedScopes?: string[] }> {
  const client = await deps.provider().Client.find(String(details.params.client_id));
  const scopes = String(details.params.scope ?? '').split(' ');
  const allowedScopes = client?.scope?.split(' ');
  const claims = requestedClaims(scopes, claimsRequest(details.params), allowedScopes).filter((c) => c !== 'sub' && c !== 'phone_number_verified');
  return { claims, clientName: client?.clientName ?? client?.clientId ?? '', ...(allowedScopes ? { allowedScopes } : {}) };
}

/**
 * At login: when the citizen already agreed to everything this service asks, the
 * grant is made right away, so the sign-in does not go round a second time only
 * to find consent already given. Returns the grant id, or undefined to ask.
 */
export async function rememberedGrant(deps: JourneyDeps, details: Details, accountId: string): Promise<string | undefined> {
  const clientId = String(details.params.client_id);
  const { claims, allowedScopes } = await requested(deps, details);
  if (!consentDiff(claims, await grantedClaims(deps.db, accountId, clientId)).satisfied) return undefined;
  const grant = new (deps.provider().Grant)({ accountId, clientId });
  const scopes = String(details.params.scope ?? '').split(' ').filter((s) => s && (!allowedScopes || allowedScopes.includes(s)));
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const asked = claimsRequest(details.params);
  const named = [...Object.keys(asked?.id_token ?? {}), ...Object.keys(asked?.userinfo ?? {})];
  if (named.length) grant.addOIDCClaims(named);
  return grant.save();
}

async function grantAndFinish(deps: JourneyDeps, ctx: Context, details: Details): Promise<void> {
  const p = deps.provider();
  const { prompt } = details;
  const grant = details.grantId ? await p.Grant.find(details.grantId) : new p.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
  if (!grant) throw new Error('grant vanished during consent');
  const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await p.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

export async function showConsent(deps: JourneyDeps, ctx: Context, details: Details): Promise<void> {
  const accountId = details.session!.accountId;
  const clientId = String(details.params.client_id);
  const { claims, clientName } = await requested(deps, details);
  const { satisfied } = consentDiff(claims, await grantedClaims(deps.db, accountId, clientId));
  if (satisfied) return grantAndFinish(deps, ctx, details);

  const values = await accountClaims(deps.accounts, accountId);
  ctx.type = 'html';
  ctx.body = renderPage('consent', {
    title: 'Chia sẻ thông tin',
    uid: details.uid,
    csrf: csrfToken(deps.keyring.snapshot.cookieKeys, details.uid),
    clientName,
    rows: inReadingOrder(claims)
      .map((c) => `        <tr><th scope="row">${escapeHtml(claimLabel(c).vi)} <span lang="en">(${escapeHtml(claimLabel(c).en)})</span></th><td>${display(c, values[c])}</td></tr>`)
      .join('\n'),
  });
}

export async function decideConsent(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const accountId = details.session!.accountId;
  const clientId = String(details.params.client_id);
  const { claims } = await requested(deps, details);
  if (body.decision === 'accept') {
    await deps.db.transaction(async (tx) => {
      await recordConsent(tx, accountId, clientId, claims);
      // Subject: the account, as for every event of a citizen's (their history is one query); the service in details.
      await appendAudit(tx, { event: 'CONSENT_GIVEN', actor: `account:${accountId}`, subject: accountId, details: { client: clientId, claims } });
    });
    return grantAndFinish(deps, ctx, details);
  }
  await deps.db.transaction((tx) => appendAudit(tx, { event: 'CONSENT_REFUSED', actor: `account:${accountId}`, subject: accountId, details: { client: clientId, claims } }));
  await deps.provider().interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'End-User refused to share the requested attributes' }, { mergeWithLastSubmission: false });
}
