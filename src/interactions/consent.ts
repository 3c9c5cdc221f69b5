// Step 5: consent. A service sees only the attributes it is registered for, asked
// for, and the citizen saw with a value and agreed to; agreement is remembered per
// service and asked again when the service asks for more, when a claim accepted
// as "Chưa có" has gained a value, or when the service sends prompt=consent.
// Every grant is filled here, by grantContents (consent/policy.ts).
import type { Context } from 'koa';

import { appendAudit } from '../audit/index.js';
import {
  claimLabel,
  consentableClaims,
  consentDiff,
  consentGiven,
  consentOf,
  grantContents,
  hasValue,
  inReadingOrder,
  recordConsent,
  requestedClaims,
  type ClaimsParameter,
  type Consent,
} from '../consent/index.js';
import { redirectProvesApp } from '../clients/index.js';
import { escapeHtml, formatCalendarDate, renderPage } from '../pages/index.js';
import { claimsRequest } from '../protocol/index.js';
import { ambientTransaction, withinTransaction } from '../storage/index.js';
import { insertActingFor } from '../representation/repository.js';
import { accountClaims, maskNationalId, type AccountClaims } from '../accounts/index.js';
import { noticesDuringSignIn } from '../my-account/notices.js';
import { grantedDetail, REPRESENTATION_CLAIM, REPRESENTATION_SCOPE } from '../representation/policy.js';
import { roleLabel, taskLabel } from '../representation/labels.js';
import { checkCsrf, csrfToken } from './csrf.js';
import { decisionOf, representationRequest, representationStep, type PersonDecision, type RepresentationDecision } from './representation.js';
import type { JourneyDeps } from './journey.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

function display(claim: string, value: unknown): string {
  if (value === undefined || value === null) return 'Chưa có <span lang="en">(not on record)</span>';
  if (claim === 'gender') return value === 'male' ? 'Nam <span lang="en">(male)</span>' : value === 'female' ? 'Nữ <span lang="en">(female)</span>' : escapeHtml(value);
  if (claim === 'address') return escapeHtml((value as { formatted?: string }).formatted ?? '');
  if (claim === 'birthdate' && typeof value === 'string') return escapeHtml(formatCalendarDate(value)); // dd/mm/yyyy, as Vietnamese documents write it
  // Shown masked: the page may be seen over the citizen's shoulder.
  if (claim === 'national_id') return escapeHtml(maskNationalId(String(value)));
  return escapeHtml(value);
}

interface ConsentRequest {
  /** The claims the citizen is asked about (sub and phone_number_verified never are). */
  claims: string[];
  clientName: string;
  scopes: string[];
  claimsParameter: ClaimsParameter | undefined;
  /** The client's registered scopes; undefined only for a client registered without any. */
  registeredScopes: string[] | undefined;
  /** Ask even when everything was agreed before: a native app whose redirect does not prove it is that app (RFC 8252 §8.6). */
  askEveryTime: boolean;
}

/** What this sign-in asks to share: claims of registered, requested scopes and of the claims parameter. */
async function consentRequest(deps: JourneyDeps, details: Details): Promise<ConsentRequest> {
  const client = await deps.provider().Client.find(String(details.params.client_id));
  const scopes = String(details.params.scope ?? '').split(' ').filter(Boolean);
  // A client gone mid-sign-in is registered for nothing.
  const registeredScopes = client ? client.scope?.split(' ') : [];
  const claimsParameter = claimsRequest(details.params);
  return {
    claims: consentableClaims(requestedClaims(scopes, claimsParameter, registeredScopes)),
    clientName: client?.clientName ?? client?.clientId ?? '',
    scopes,
    claimsParameter,
    registeredScopes,
    askEveryTime: !redirectProvesApp(client?.applicationType, details.params.redirect_uri === undefined ? undefined : String(details.params.redirect_uri)),
  };
}

/** What this sign-in would share and with whom (for a phone approving it from elsewhere). */
export async function sharingAsked(deps: JourneyDeps, details: Details): Promise<{ claims: string[]; clientName: string }> {
  const r = await consentRequest(deps, details);
  return { claims: r.claims, clientName: r.clientName };
}

/** Whether the service asked, with prompt=consent, that the citizen be asked whatever was agreed before. */
const promptsForConsent = (details: Details): boolean => String(details.params.prompt ?? '').split(' ').includes('consent');

/**
 * The only way nixa fills a grant: a new one holding what grantContents allows for
 * this request and this consent (scopes, claims, and the rest of nixa's claims as
 * rejected). A new grant rather than the session's, whose rejections may predate
 * this consent; the API resource scopes of that grant are carried over.
 */
async function saveGrant(deps: JourneyDeps, details: Details, accountId: string, r: ConsentRequest, consent: Consent, resources: Record<string, string[]> = {}): Promise<string> {
  const p = deps.provider();
  const clientId = String(details.params.client_id);
  const contents = grantContents({ scopes: r.scopes, claimsParameter: r.claimsParameter, registeredScopes: r.registeredScopes, consent });
  const grant = new p.Grant({ accountId, clientId });
  if (contents.scopes.length) grant.addOIDCScope(contents.scopes.join(' '));
  grant.addOIDCClaims(contents.claims);
  if (contents.rejected.length) grant.rejectOIDCClaims(contents.rejected);
  // Acting for an organisation: that one organisation, as a claim and as the granted
  // RAR detail the code and refresh tokens carry (protocol/representation.ts reads it).
  const decision = decisionOf(details);
  // Acting for a person: the grant keeps the representation scope, by which every
  // token of it is looked up in acting_for (protocol/acting-for.ts).
  if (decision?.person) grant.addOIDCScope(REPRESENTATION_SCOPE);
  if (decision?.organisation) {
    grant.addOIDCScope(REPRESENTATION_SCOPE);
    grant.addOIDCClaims([REPRESENTATION_CLAIM]);
    grant.addRar(grantedDetail(decision.ask, decision.organisation) as never);
  }
  const previous = details.grantId ? await p.Grant.find(details.grantId) : undefined;
  if (previous && previous.accountId === accountId && previous.clientId === clientId) {
    for (const indicator of Object.keys(previous.resources ?? {})) {
      const scope = previous.getResourceScope(indicator);
      if (scope) grant.addResourceScope(indicator, scope);
    }
  }
  for (const [indicator, scopes] of Object.entries(resources)) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

/** A grant of what the citizen has agreed to so far, without asking (the test login; the consent check still runs after it). */
export async function grantAsAgreed(deps: JourneyDeps, details: Details, accountId: string): Promise<string> {
  const consent = await consentOf(deps.db, accountId, String(details.params.client_id), deps.consents);
  return saveGrant(deps, details, accountId, await consentRequest(deps, details), consent);
}

/**
 * At login: when the citizen already agreed to everything this service asks, the
 * grant is made right away, so the sign-in does not go round a second time only
 * to find consent already given. Returns the grant id, or undefined to ask (always
 * with prompt=consent: the service wants the page). `claims`: the account's, when
 * the caller holds them fresher than this instance's cache (inside the linking
 * transaction that is changing them).
 */
export async function rememberedGrant(deps: JourneyDeps, details: Details, accountId: string, claims?: AccountClaims): Promise<string | undefined> {
  if (promptsForConsent(details)) return undefined;
  // Whom the person acts for is chosen at every sign-in that asks.
  if (await representationRequest(deps, details)) return undefined;
  const r = await consentRequest(deps, details);
  if (r.askEveryTime) return undefined;
  // Inside the linking transaction (callback.ts) the read goes through it: on an
  // engine with one connection (PGlite) a read from the pool would wait for that
  // transaction's commit, which waits for this read.
  const consent = await consentOf(ambientTransaction() ?? deps.db, accountId, String(details.params.client_id), deps.consents);
  if (!consentDiff(r.claims, consent, claims ?? (await accountClaims(deps.accounts, accountId))).satisfied) return undefined;
  return saveGrant(deps, details, accountId, r, consent);
}

async function grantAndFinish(deps: JourneyDeps, ctx: Context, details: Details, r: ConsentRequest, thisSignIn?: Consent): Promise<void> {
  const p = deps.provider();
  const accountId = details.session!.accountId;
  const consent = thisSignIn ?? (await consentOf(deps.db, accountId, String(details.params.client_id), deps.consents));
  const missing = details.prompt.details as { missingResourceScopes?: Record<string, string[]> };
  const grantId = await saveGrant(deps, details, accountId, r, consent, missing.missingResourceScopes);
  await p.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

export async function showConsent(deps: JourneyDeps, ctx: Context, details: Details): Promise<void> {
  const accountId = details.session!.accountId;
  const clientId = String(details.params.client_id);
  // First whom the person acts for, when the service asks (representation.ts).
  const representation = await representationRequest(deps, details);
  let decision = decisionOf(details);
  if (representation && !decision) {
    decision = await representationStep(deps, ctx, details, representation);
    if (!decision) return; // the page asking whom the person acts for
  }
  const r = await consentRequest(deps, details);
  // Acting for a person: what is shared is theirs.
  const values = await accountClaims(deps.accounts, decision?.person?.accountId ?? accountId);
  const { satisfied } = consentDiff(r.claims, await consentOf(deps.db, accountId, clientId, deps.consents), values);
  // prompt=consent: the service wants the citizen asked, whatever they agreed to before.
  // A native app that cannot prove it is the app: asked every time (consentRequest).
  // Acting for an organisation: asked every time, since what is shared is that sign-in's choice.
  // Acting for a person: asked every time, and never from the actor's own consent (the data is another's).
  if (satisfied && !details.prompt.reasons.includes('consent_prompt') && !r.askEveryTime && !decision?.organisation && !decision?.person) return grantAndFinish(deps, ctx, details, r);

  const claims = inReadingOrder(r.claims);
  // What changed on the account (a first sign-in through a new source, say), for
  // the citizen deciding whether to share: shown, not consumed, since the way to
  // act on a notice (block that source, withdraw that consent) is at /account,
  // which still shows it. Never the notices this sign-in itself may have caused.
  const notices = await noticesDuringSignIn(deps, ctx, details.session!, clientId);
  ctx.type = 'html';
  ctx.body = renderPage('consent', {
    title: 'Chia sẻ thông tin',
    notices,
    uid: details.uid,
    csrf: csrfToken(deps.keyring.snapshot.cookieKeys, details.uid),
    clientName: r.clientName,
    representation: decision?.organisation ? representationRows(decision) : decision?.person ? personRows(decision.person) : '',
    // Another person's details are theirs, and this sign-in's agreement is not kept for the next.
    whoseVi: decision?.person ? `của ${decision.person.name}` : 'của bạn',
    remembers: decision?.person
      ? 'nixa sẽ hỏi lại ở mỗi lần bạn đăng nhập thay mặt người khác. <span lang="en">(nixa asks again each time you sign in for someone else.)</span>'
      : 'nixa ghi nhớ lựa chọn của bạn cho dịch vụ này và sẽ hỏi lại nếu dịch vụ cần thêm thông tin, hoặc khi thông tin đang «Chưa có» được bổ sung. <span lang="en">(nixa remembers your choice for this service and asks again if it needs more, or when a detail not on record is added.)</span>',
    // Which rows the citizen sees with a value: only those are agreed to for their value.
    shown: claims.filter((c) => hasValue(values, c)).join(' '),
    rows: claims
      .map((c) => `        <tr><th scope="row">${escapeHtml(claimLabel(c).vi)} <span lang="en">(${escapeHtml(claimLabel(c).en)})</span></th><td>${display(c, values[c])}</td></tr>`)
      .join('\n'),
  });
}

/** The consent page's part for acting for an organisation: whom, on what grounds, and what of it is shared. */
function representationRows(decision: RepresentationDecision): string {
  const o = decision.organisation!;
  const role = roleLabel(o.role);
  const row = (vi: string, en: string, value: string) => `        <tr><th scope="row">${vi} <span lang="en">(${en})</span></th><td>${value}</td></tr>`;
  const rows = [
    row('Tên tổ chức', 'Organisation', `${escapeHtml(o.name)}${o.name_en ? ` <span lang="en">(${escapeHtml(o.name_en)})</span>` : ''}`),
    row('Mã số doanh nghiệp', 'Enterprise code', escapeHtml(o.enterprise_code)),
    row('Tình trạng', 'Status', o.status === 'active' ? 'Đang hoạt động <span lang="en">(active)</span>' : escapeHtml(o.status)),
    row('Tư cách của bạn', 'Your role', `${escapeHtml(role.vi)} <span lang="en">(${escapeHtml(role.en)})</span>`),
    ...(o.tasks ? [row('Phạm vi ủy quyền', 'Mandated for', o.tasks.map((t) => `${escapeHtml(taskLabel(t).vi)} <span lang="en">(${escapeHtml(taskLabel(t).en)})</span>`).join(', '))] : []),
    ...(o.valid_until ? [row('Ủy quyền đến hết ngày', 'Mandate valid until', escapeHtml(formatCalendarDate(o.valid_until)))] : []),
  ];
  return `    <p>Bạn đăng nhập thay mặt <strong>${escapeHtml(o.name)}</strong>. Dịch vụ sẽ biết bạn là ai và bạn làm việc cho tổ chức này. <span lang="en">(You are signing in for this organisation: the service learns who you are and whom you act for.)</span></p>
    <table class="claims">
      <caption>Thông tin tổ chức sẽ được chia sẻ <span lang="en">(Organisation details to be shared)</span></caption>
      <thead><tr><th scope="col">Thông tin <span lang="en">(Detail)</span></th><th scope="col">Giá trị <span lang="en">(Value)</span></th></tr></thead>
      <tbody>
${rows.join('\n')}
      </tbody>
    </table>`;
}

/** The consent page's part for acting for a person: whom, on what grounds, and that the service learns both. */
function personRows(p: PersonDecision): string {
  const grounds = p.relation === 'guardian' ? ['con của bạn', 'your child'] : ['người đã cho phép bạn giúp', 'who authorised you to help them'];
  return `    <p>Bạn đăng nhập thay mặt <strong>${escapeHtml(p.name)}</strong> (${grounds[0]}). Dịch vụ sẽ nhận thông tin của ${escapeHtml(p.name)} dưới đây, và biết rằng bạn là người làm việc thay mặt. <span lang="en">(You are signing in for ${escapeHtml(p.name)}, ${grounds[1]}: the service receives their details below and learns that you act for them.)</span></p>`;
}

export async function decideConsent(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const accountId = details.session!.accountId;
  const clientId = String(details.params.client_id);
  const r = await consentRequest(deps, details);
  const { claims } = r;
  const decision = decisionOf(details);
  if (body.decision === 'accept' && decision?.person) return actForPerson(deps, ctx, details, r, decision.person, body);
  if (body.decision === 'accept') {
    // What the page showed with a value (the form says; it can only narrow what is
    // recorded, and is checked against the account's values now).
    const shown = typeof body.shown === 'string' ? body.shown.split(' ') : [];
    const given = consentGiven(claims, shown, await accountClaims(deps.accounts, accountId));
    await deps.db.transaction(async (tx) => {
      await recordConsent(tx, accountId, clientId, given);
      // Subject: the account, as for every event of a citizen's (their history is one query); the service in details.
      await appendAudit(tx, {
        event: 'CONSENT_GIVEN',
        actor: `account:${accountId}`,
        subject: accountId,
        details: { client: clientId, claims: given.claims, ...(given.withoutValue.length ? { withoutValue: given.withoutValue } : {}) },
      });
      if (decision?.organisation) {
        // Both parties of the act: the person (subject) and the organisation they act for.
        const o = decision.organisation;
        await appendAudit(tx, {
          event: 'REPRESENTATION_CHOSEN',
          actor: `account:${accountId}`,
          subject: accountId,
          details: { client: clientId, enterprise: o.enterprise_code, name: o.name, role: o.role, ...(o.tasks ? { tasks: o.tasks } : {}), registry: o.registry, via: decision.ask.via },
        });
      }
    });
    return grantAndFinish(deps, ctx, details, r);
  }
  await deps.db.transaction((tx) => appendAudit(tx, { event: 'CONSENT_REFUSED', actor: `account:${accountId}`, subject: accountId, details: { client: clientId, claims } }));
  await deps.provider().interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'End-User refused to share the requested attributes' }, { mergeWithLastSubmission: false });
}

/**
 * Agreed to share another person's details: no consent of the actor's own is
 * recorded (the details are not theirs); the grant holds what was agreed in this
 * sign-in, acting_for says whom it represents, and both people's histories get
 * the act — grant, row and events in one commit.
 */
async function actForPerson(deps: JourneyDeps, ctx: Context, details: Details, r: ConsentRequest, person: PersonDecision, body: Record<string, unknown>): Promise<void> {
  const p = deps.provider();
  const accountId = details.session!.accountId;
  const clientId = String(details.params.client_id);
  const shown = typeof body.shown === 'string' ? body.shown.split(' ') : [];
  const given = consentGiven(r.claims, shown, await accountClaims(deps.accounts, person.accountId));
  const missing = details.prompt.details as { missingResourceScopes?: Record<string, string[]> };
  const grantId = await deps.db.transaction((tx) =>
    withinTransaction(tx, async () => {
      const id = await saveGrant(deps, details, accountId, r, given, missing.missingResourceScopes);
      await insertActingFor(tx, { grantId: id, clientId, actorAccount: accountId, representedAccount: person.accountId, relation: person.relation, ...(person.delegationId ? { delegationId: person.delegationId } : {}), claims: given.claims });
      const common = { client: clientId, relation: person.relation, claims: given.claims, ...(person.delegationId ? { delegation: person.delegationId } : {}) };
      await appendAudit(tx, { event: 'ACTING_FOR_CHOSEN', actor: `account:${accountId}`, subject: accountId, details: { ...common, represented_account: person.accountId } });
      await appendAudit(tx, { event: 'ACTED_FOR_BY', actor: `account:${accountId}`, subject: person.accountId, details: { ...common, actor_account: accountId } });
      return id;
    }),
  );
  await p.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}
