// The consents section of /account: each service the citizen shares information
// with, what it sees and since when, and withdrawing that consent.
//
//   POST /account/consents/:clientId/withdraw   csrf → consent deleted, grants and tokens revoked
//
// Any session level may withdraw: it only takes away, so a borrowed SIM card
// can do no harm with it that signing in to the service would not undo.
import type { Context } from 'koa';

import { appendAudit } from '../audit/index.js';
import { showClient } from '../clients/index.js';
import { NotFoundError } from '../errors/index.js';
import { claimLabel, consentsOf, deleteConsent, inReadingOrder } from '../consent/index.js';
import { escapeHtml } from '../pages/index.js';
import { revokeGrantsOf, sessionSidsFor } from '../protocol/index.js';
import { ACCOUNT_PATH, csrfFor, dateVi, notice, refused, type AccountDeps, type CitizenSession } from './session.js';

/** A registered client id (the pattern `nixa clients add` accepts); anything else names no service. */
const CLIENT_ID = /^[A-Za-z0-9._-]{3,64}$/;

/** The service's registered name, from the clients table (a service since removed is shown by its id). */
async function serviceName(deps: AccountDeps, clientId: string): Promise<string> {
  try {
    return (await showClient(deps.accounts.db, clientId)).name;
  } catch (err) {
    // A service removed since: its id says which it was. Anything else is a real failure.
    if (err instanceof NotFoundError) return clientId;
    throw err;
  }
}

/** The consents section of the account page. */
export async function consentsSection(deps: AccountDeps, s: CitizenSession, message = ''): Promise<string> {
  const csrf = escapeHtml(csrfFor(deps, s));
  const consents = await consentsOf(deps.accounts.db, s.accountId);
  const items = await Promise.all(
    consents.map(async (c, i) => {
      const name = escapeHtml(await serviceName(deps, c.clientId));
      const label = (claim: string) => `${escapeHtml(claimLabel(claim).vi)} <span lang="en">(${escapeHtml(claimLabel(claim).en)})</span>`;
      // Accepted while not on record: nothing is shared, and nixa asks again once there is a value.
      const claims = [
        ...inReadingOrder(c.claims).map((claim) => `<li>${label(claim)}</li>`),
        ...inReadingOrder(c.withoutValue).map(
          (claim) => `<li>${label(claim)}: chưa có, nixa sẽ hỏi lại bạn khi có <span lang="en">(not on record; nixa will ask you when it is)</span></li>`,
        ),
      ].join('');
      return `<li>
          <h3>${name}</h3>
          <p id="consent-${i}-shared">Thông tin được chia sẻ: <span lang="en">(Information shared:)</span></p>
          <ul aria-labelledby="consent-${i}-shared">${claims}</ul>
          <p>Đồng ý ngày ${dateVi(c.grantedAt)} <span lang="en">(agreed on ${dateVi(c.grantedAt)})</span></p>
          <form method="post" action="${ACCOUNT_PATH}/consents/${encodeURIComponent(c.clientId)}/withdraw" class="inline">
            <input type="hidden" name="csrf" value="${csrf}">
            <button type="submit" class="secondary" aria-label="Rút lại đồng ý với ${name} (Withdraw consent from ${name})">Rút lại đồng ý <span lang="en">(Withdraw consent)</span></button>
          </form>
        </li>`;
    }),
  );
  const list = items.length
    ? `<ul class="consents">${items.join('\n')}</ul>`
    : '<p>Bạn chưa chia sẻ thông tin với dịch vụ nào. <span lang="en">(You do not share information with any service.)</span></p>';
  return `<section aria-labelledby="consents-heading">
      <h2 id="consents-heading">Dịch vụ bạn đã chia sẻ thông tin <span lang="en">(Services you share information with)</span></h2>
      <p>Khi bạn rút lại đồng ý, dịch vụ không còn nhận được thông tin của bạn, bị đăng xuất, và lần đăng nhập sau nixa sẽ hỏi lại bạn. <span lang="en">(When you withdraw consent, the service no longer receives your information, is signed out, and nixa asks you again the next time you sign in to it.)</span></p>
      ${message}
      ${list}
    </section>`;
}

function notFound(ctx: Context): void {
  refused(
    ctx,
    404,
    'Không tìm thấy',
    notice('alert', 'Bạn không chia sẻ thông tin với dịch vụ này, hoặc không có dịch vụ như vậy.', 'You do not share information with this service, or there is no such service.'),
  );
}

/**
 * The service hears of it by back-channel logout, as at sign-out: one logout token
 * per sign-in session of the account that the service holds a sid of. Best effort,
 * after commit: the tokens are already revoked whether or not the service answers.
 */
async function tellService(deps: AccountDeps, accountId: string, clientId: string): Promise<void> {
  const client = (await deps.provider().Client.find(clientId)) as
    | { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> }
    | undefined;
  if (!client?.backchannelLogoutUri) return;
  const sids = await sessionSidsFor(deps.accounts.db, accountId, clientId);
  await Promise.all(
    sids.map((sid) =>
      client.backchannelLogout(accountId, sid).catch((err: Error) => {
        deps.logger.warn({ client: clientId, err: { name: err.name, message: err.message } }, 'back-channel logout after consent withdrawal failed');
      }),
    ),
  );
}

/**
 * POST /account/consents/:clientId/withdraw. In one transaction: the consent goes,
 * every grant of the account for that service goes with its codes and tokens, and
 * CONSENT_WITHDRAWN is appended. Returns a notice for the account page, or
 * undefined when a page was already sent.
 */
export async function withdrawConsent(deps: AccountDeps, ctx: Context, s: CitizenSession, rawClientId: string): Promise<string | undefined> {
  let clientId: string;
  try {
    clientId = decodeURIComponent(rawClientId);
  } catch {
    clientId = '';
  }
  if (!CLIENT_ID.test(clientId)) {
    notFound(ctx);
    return undefined;
  }
  const outcome = await deps.accounts.db.transaction(async (tx) => {
    const consent = await deleteConsent(tx, s.accountId, clientId);
    if (!consent) return undefined;
    const { claims, withoutValue } = consent;
    const { grants } = await revokeGrantsOf(tx, s.accountId, clientId);
    await appendAudit(tx, { event: 'CONSENT_WITHDRAWN', actor: `account:${s.accountId}`, subject: s.accountId, details: { client: clientId, claims, ...(withoutValue.length ? { withoutValue } : {}) } });
    return { grants };
  });
  if (!outcome) {
    notFound(ctx);
    return undefined;
  }
  deps.logger.info({ account: s.accountId, client: clientId, grants: outcome.grants }, 'consent withdrawn');
  await tellService(deps, s.accountId, clientId);
  const name = await serviceName(deps, clientId);
  return notice(
    'status',
    `Đã rút lại đồng ý với «${name}». Dịch vụ này không còn nhận được thông tin của bạn; lần đăng nhập sau, nixa sẽ hỏi lại bạn.`,
    `Consent withdrawn from “${name}”. This service no longer receives your information; nixa will ask you again the next time you sign in to it.`,
  );
}
