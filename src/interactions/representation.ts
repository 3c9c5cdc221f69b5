// Step 4b: whom the person acts for. A service registered to accept representation
// that asks for it (the `representation` scope, or a nixa_representation RAR) gets
// this page after the person's own sign-in and before consent: the organisation
// registries say which organisations this national ID may act for, and the person
// chooses "myself" or one of them. The choice is kept in the interaction (never in
// the browser) until consent makes the grant (consent.ts).
//
//   GET  /interaction/:uid              (prompt consent, nothing chosen yet)  this page
//   POST /interaction/:uid/represent    the choice, checked again at the registry
import type { Context } from 'koa';

import { accountClaims } from '../accounts/index.js';
import { InvalidInputError } from '../errors/index.js';
import { escapeHtml, formatCalendarDate, formatDateTime, notice, renderPage, todayInVietnam } from '../pages/index.js';
import { RegistryUnavailableError } from '../registries/errors.js';
import type { RepresentationLookup } from '../registries/contract.js';
import { acceptsOrganisations, choices, organisationClaim, personRelationsAccepted, representationAskedIn, type Choice, type OrganisationClaim, type PersonRelation, type RepresentationAsk, type Unchoosable } from '../representation/policy.js';
import { personChoices, WARD_ASSERTION_MAX_DAYS, type PersonChoice } from '../representation/persons.js';
import { taskLabel, roleLabel } from '../representation/labels.js';
import { checkCsrf, csrfToken } from './csrf.js';
import type { JourneyDeps } from './journey.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

/** The person someone chose to act for: whom, on what grounds (consent.ts grants it, protocol/acting-for.ts issues it). */
export interface PersonDecision {
  relation: PersonRelation;
  /** The represented person's account. */
  accountId: string;
  name: string;
  /** A helper's: the authorisation they act under. */
  delegationId?: string;
}

/** What the interaction keeps once the person chose (interaction.result, beside oidc-provider's own). */
export interface RepresentationDecision {
  self: boolean;
  ask: RepresentationAsk;
  organisation?: OrganisationClaim;
  person?: PersonDecision;
}

export const DECISION_KEY = 'nixa_representation';

/** The decision made on this page in this interaction, if any. */
export function decisionOf(details: Details): RepresentationDecision | undefined {
  return (details.result as Record<string, unknown> | undefined)?.[DECISION_KEY] as RepresentationDecision | undefined;
}

interface ClientRepresentation {
  clientId: string;
  clientName: string;
  accepts: string[];
  redirectUris: string[];
}

async function clientOf(deps: JourneyDeps, details: Details): Promise<(ClientRepresentation & { scope: string[] }) | undefined> {
  const client = await deps.provider().Client.find(String(details.params.client_id));
  if (!client) return undefined;
  const accepts = (client as unknown as { representation?: string[] }).representation;
  if (!accepts?.length) return undefined;
  return { clientId: client.clientId, clientName: client.clientName ?? client.clientId, accepts, redirectUris: [...(client.redirectUris ?? [])], scope: client.scope?.split(' ') ?? [] };
}

/**
 * What this sign-in asks: undefined when the service accepts no representation or
 * did not ask for it (then the journey goes on as for anyone acting for themselves).
 */
export async function representationRequest(deps: JourneyDeps, details: Details): Promise<{ ask: RepresentationAsk; client: ClientRepresentation } | undefined> {
  const client = await clientOf(deps, details);
  if (!client) return undefined;
  const ask = representationAskedIn(details.params as Record<string, unknown>, client.scope);
  return ask ? { ask, client } : undefined;
}

const REFUSAL: Record<Unchoosable, [string, string]> = {
  dissolved: ['Doanh nghiệp đã giải thể', 'the company is dissolved'],
  suspended: ['Doanh nghiệp đang tạm ngừng kinh doanh hoặc bị đình chỉ', 'the company is suspended'],
  expired: ['Giấy ủy quyền đã hết hạn', 'the mandate has ended'],
  'not-accepted': ['Dịch vụ này không nhận hình thức đại diện này', 'this service does not accept this kind of representation'],
  tasks: ['Ủy quyền không bao gồm việc dịch vụ yêu cầu', 'the mandate does not cover what the service asks'],
  'other-enterprise': ['Dịch vụ yêu cầu một doanh nghiệp khác', 'the service asks for another company'],
};

function grounds(c: Choice): string {
  const o = c.organisation;
  const role = roleLabel(o.role);
  const tasks = o.role === 'mandate' ? ` — ${(o.tasks ?? []).map((t) => escapeHtml(taskLabel(t).vi)).join(', ')}` : '';
  const until = o.role === 'mandate' && o.valid_until ? `, đến hết ngày ${escapeHtml(formatCalendarDate(o.valid_until))} <span lang="en">(until ${escapeHtml(formatCalendarDate(o.valid_until))})</span>` : '';
  return `${escapeHtml(role.vi)} <span lang="en">(${escapeHtml(role.en)})</span>${tasks}${until}`;
}

function option(c: Choice, i: number): string {
  const o = c.organisation;
  const id = `org-${i}`;
  const name = `${escapeHtml(o.name_vi)}${o.name_en ? ` <span lang="en">(${escapeHtml(o.name_en)})</span>` : ''}`;
  const detail = `Mã số doanh nghiệp <span lang="en">(enterprise code)</span> ${escapeHtml(o.enterprise_code)} · ${grounds(c)}`;
  if (c.refused) {
    const [vi, en] = REFUSAL[c.refused];
    // Shown, not offered: the person sees why a company they know of is not here to choose. The
    // reason is the radio's description, kept out of its name (aria-hidden inside the label), so
    // that a screen reader says it once.
    return `          <li><input type="radio" name="choice" id="${id}" value="${escapeHtml(o.enterprise_code)}" disabled aria-describedby="${id}-why"><label for="${id}">${name}<br><small>${detail}</small><br><small id="${id}-why" class="refused" aria-hidden="true">Không chọn được: ${escapeHtml(vi)} <span lang="en">(Cannot be chosen: ${escapeHtml(en)})</span></small></label></li>`;
  }
  return `          <li><input type="radio" name="choice" id="${id}" value="${escapeHtml(o.enterprise_code)}" required><label for="${id}">${name}<br><small>${detail}</small></label></li>`;
}

const PERSON_REFUSAL = {
  fourteen: ['Đã đủ 14 tuổi: con bạn tự đăng nhập bằng tài khoản của mình', 'is 14 or over: they sign in themselves'],
  'not-confirmed': [
    `Quan hệ cha mẹ – con chưa được xác nhận lại trong ${WARD_ASSERTION_MAX_DAYS} ngày qua: hãy đăng nhập qua nguồn định danh công dân để xác nhận`,
    `the family relation has not been confirmed in the last ${WARD_ASSERTION_MAX_DAYS} days: sign in through the citizen ID source to confirm it`,
  ],
} as const;

function personOption(c: PersonChoice, i: number): string {
  const id = `person-${i}`;
  const grounds =
    c.relation === 'guardian'
      ? `Con của bạn, sinh ngày ${escapeHtml(formatCalendarDate(c.birthdate!))} <span lang="en">(your child, born ${escapeHtml(formatCalendarDate(c.birthdate!))})</span>`
      : `Đã cho phép bạn giúp tại dịch vụ này đến hết ngày ${escapeHtml(formatCalendarDate(c.validUntil!))} <span lang="en">(authorised you to help at this service until ${escapeHtml(formatCalendarDate(c.validUntil!))})</span>`;
  if (c.refused) {
    const [vi, en] = PERSON_REFUSAL[c.refused];
    return `          <li><input type="radio" name="choice" id="${id}" value="${escapeHtml(c.value)}" disabled aria-describedby="${id}-why"><label for="${id}">${escapeHtml(c.name)}<br><small>${grounds}</small><br><small id="${id}-why" class="refused" aria-hidden="true">Không chọn được: ${escapeHtml(vi)} <span lang="en">(Cannot be chosen: ${escapeHtml(en)})</span></small></label></li>`;
  }
  return `          <li><input type="radio" name="choice" id="${id}" value="${escapeHtml(c.value)}" required><label for="${id}">${escapeHtml(c.name)}<br><small>${grounds}</small></label></li>`;
}

/** Whom this person may act for at this service (persons), or none when the service accepts no person relation. */
async function personsFor(deps: JourneyDeps, accountId: string, r: { ask: RepresentationAsk; client: ClientRepresentation }): Promise<PersonChoice[]> {
  const accepted = personRelationsAccepted(r.client.accepts);
  // A precise mandate (RAR) asks for an organisation; persons answer only the scope.
  if (!accepted.length || r.ask.via !== 'scope' || !deps.relations) return [];
  const day = todayInVietnam();
  const [wards, helped] = await Promise.all([
    accepted.includes('guardian') ? deps.relations.wards(accountId) : [],
    accepted.includes('helper') ? deps.relations.helping(accountId, day) : [],
  ]);
  return personChoices({ wards, helped, accepted, clientId: r.client.clientId, today: day, now: new Date() });
}

const SELF_OPTION = (checked: boolean) =>
  `          <li><input type="radio" name="choice" id="org-self" value="self" required${checked ? ' checked' : ''}><label for="org-self">Chính tôi <span lang="en">(Myself)</span><br><small>Không thay mặt ai khác <span lang="en">(not acting for anyone else)</span></small></label></li>`;

const SUBMIT = '<button type="submit">Tiếp tục <span lang="en">(Continue)</span></button>';


async function nationalIdOf(deps: JourneyDeps, accountId: string): Promise<string | undefined> {
  const id = (await accountClaims(deps.accounts, accountId)).national_id;
  return typeof id === 'string' ? id : undefined;
}

/** The registries' answers for this person, or the reason there are none. */
async function lookup(deps: JourneyDeps, accountId: string, accepts: readonly string[]): Promise<RepresentationLookup[] | 'unavailable' | 'no-number'> {
  // No registry registered, or a service that takes no organisation: none to show.
  if (!deps.registries || !acceptsOrganisations(accepts)) return [];
  const nationalId = await nationalIdOf(deps, accountId);
  if (!nationalId) return 'no-number';
  try {
    return await deps.registries.lookup(nationalId);
  } catch (err) {
    if (err instanceof RegistryUnavailableError) {
      // No registry registered and enabled: nobody can be shown to represent anyone.
      if (err.reason === 'none-enabled') return [];
      deps.logger.warn({ reason: err.reason, registry: err.registry }, 'organisation registry unavailable during sign-in');
      return 'unavailable';
    }
    throw err;
  }
}

/**
 * The choice page, or — when the service asked by scope and the registries know
 * no organisation for this person at all — the decision to go on as themselves
 * without a page (a question whose only answer is "myself" is not asked).
 */
export async function representationStep(deps: JourneyDeps, ctx: Context, details: Details, r: { ask: RepresentationAsk; client: ClientRepresentation }): Promise<RepresentationDecision | undefined> {
  const [found, persons] = await Promise.all([lookup(deps, details.session!.accountId, r.client.accepts), personsFor(deps, details.session!.accountId, r)]);
  if (r.ask.via === 'scope' && Array.isArray(found) && found.every((l) => l.organisations.length === 0) && persons.length === 0) return { self: true, ask: r.ask };
  await showRepresentationChoice(deps, ctx, details, r, found, persons);
  return undefined;
}

async function showRepresentationChoice(
  deps: JourneyDeps,
  ctx: Context,
  details: Details,
  r: { ask: RepresentationAsk; client: ClientRepresentation },
  found: Awaited<ReturnType<typeof lookup>>,
  persons: PersonChoice[],
): Promise<void> {
  const list = Array.isArray(found) ? choices(found, r.client.accepts, r.ask, todayInVietnam()) : [];
  const choosable = [...list.filter((c) => !c.refused), ...persons.filter((p) => !p.refused)];
  const takesOrganisations = acceptsOrganisations(r.client.accepts);
  // A precise mandate (RAR) is a request to act for an organisation: "myself" would not answer it.
  const selfAllowed = r.ask.via === 'scope';
  let problem = '';
  if (found === 'unavailable') {
    problem = selfAllowed
      ? notice('alert', 'Hiện không kiểm tra được các tổ chức bạn đại diện: cơ quan đăng ký doanh nghiệp không trả lời. Bạn vẫn có thể tiếp tục với tư cách cá nhân, hoặc thử lại sau.', 'The organisations you represent cannot be checked now: the business registry is not answering. You can still continue as yourself, or try again later.')
      : notice('alert', 'Hiện không kiểm tra được ủy quyền mà dịch vụ yêu cầu: cơ quan đăng ký doanh nghiệp không trả lời. Vui lòng thử lại sau.', 'The mandate this service asks for cannot be checked now: the business registry is not answering. Please try again later.');
  } else if (found === 'no-number' && takesOrganisations) {
    problem = notice('status', 'Tài khoản của bạn chưa có số định danh cá nhân, nên không tra cứu được tổ chức bạn đại diện.', 'Your account has no personal identification number yet, so the organisations you represent cannot be looked up.');
  } else if (!choosable.length) {
    problem = selfAllowed
      ? notice('status', 'Không có tổ chức hay người nào bạn có thể thay mặt tại dịch vụ này. Bạn có thể tiếp tục với tư cách cá nhân.', 'There is no organisation or person you can act for at this service. You can continue as yourself.')
      : notice('alert', 'Bạn không có ủy quyền mà dịch vụ này yêu cầu. Người đại diện theo pháp luật của doanh nghiệp có thể ủy quyền cho bạn tại cơ quan đăng ký.', 'You do not hold the mandate this service asks for. The company’s legal representative can give you one at the registry.');
  }
  const options = [...(selfAllowed ? [SELF_OPTION(choosable.length === 0)] : []), ...list.map(option), ...persons.map(personOption)].join('\n');
  const relations = personRelationsAccepted(r.client.accepts);
  const whom: [string, string][] = [
    ...(takesOrganisations ? [['một tổ chức mà bạn là người đại diện theo pháp luật hoặc được ủy quyền', 'an organisation you legally represent or hold a mandate for'] as [string, string]] : []),
    ...(relations.includes('guardian') ? [['con của bạn dưới 14 tuổi', 'your child under 14'] as [string, string]] : []),
    ...(relations.includes('helper') ? [['người đã cho phép bạn giúp họ', 'someone who authorised you to help them'] as [string, string]] : []),
  ];
  const registries = Array.isArray(found) ? [...new Map(found.map((l) => [l.registry.id, l.registry])).values()] : [];
  const checkedAt = Array.isArray(found) && found.length ? formatDateTime(new Date(found[0]!.checkedAt)) : '';
  ctx.type = 'html';
  ctx.body = renderPage('representation', {
    title: 'Làm việc với tư cách',
    uid: details.uid,
    csrf: csrfToken(deps.keyring.snapshot.cookieKeys, details.uid),
    clientName: r.client.clientName,
    whomVi: whom.map((w) => w[0]).join(', hoặc '),
    whomEn: whom.map((w) => w[1]).join(', or '),
    // Where the list comes from and when — only when a registry did answer.
    asOfVi: registries.length ? ` Thông tin dưới đây do ${escapeHtml(registries.map((g) => g.name.vi).join(', '))} cung cấp lúc ${escapeHtml(checkedAt)}.` : '',
    asOfEn: registries.length ? ` The list below is from ${escapeHtml(registries.map((g) => g.name.en).join(', '))}, as of ${escapeHtml(checkedAt)}.` : '',
    problem,
    options,
    // Nothing to submit when nothing can be chosen: only the way back remains.
    submit: selfAllowed || choosable.length ? SUBMIT : '',
  });
}

export async function submitRepresentationChoice(deps: JourneyDeps, ctx: Context, details: Details, body: Record<string, unknown>): Promise<void> {
  checkCsrf(deps.keyring.snapshot.cookieKeys, details.uid, body.csrf);
  const r = await representationRequest(deps, details);
  if (!r) throw new InvalidInputError('choice', 'this sign-in asks for no representation');
  const choice = typeof body.choice === 'string' ? body.choice : '';
  let decision: RepresentationDecision;
  if (choice === 'self') {
    if (r.ask.via !== 'scope') throw new InvalidInputError('choice', 'the service asked for an organisation: acting for oneself does not answer it');
    decision = { self: true, ask: r.ask };
  } else if (choice.startsWith('ward:') || choice.startsWith('helper:')) {
    decision = { self: false, ask: r.ask, person: await personChosen(deps, details.session!.accountId, r, choice) };
  } else {
    // Asked again, not taken from the page: what the person may act for is what the registry says now.
    const found = await lookup(deps, details.session!.accountId, r.client.accepts);
    if (!Array.isArray(found)) return showRepresentationChoice(deps, ctx, details, r, found, await personsFor(deps, details.session!.accountId, r));
    const picked = choices(found, r.client.accepts, r.ask, todayInVietnam()).find((c) => c.organisation.enterprise_code === choice);
    if (!picked || picked.refused) throw new InvalidInputError('choice', 'not an organisation this person may act for at this service');
    decision = { self: false, ask: r.ask, organisation: organisationClaim(picked, r.client.accepts) };
  }
  const p = deps.provider();
  // Kept in the interaction (server side), then back to the journey's page, which is now consent.
  await p.interactionResult(ctx.req, ctx.res, { ...(details.result ?? {}), [DECISION_KEY]: decision }, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(`/interaction/${encodeURIComponent(details.uid)}`);
}

/**
 * The person chosen, read again (never taken from the page): a ward still asserted
 * and under 14, whose account is found by number or made once; an authorisation
 * still in force for this service.
 */
async function personChosen(deps: JourneyDeps, actorId: string, r: { ask: RepresentationAsk; client: ClientRepresentation }, choice: string): Promise<PersonDecision> {
  const picked = (await personsFor(deps, actorId, r)).find((p) => p.value === choice);
  if (!picked || picked.refused) throw new InvalidInputError('choice', 'not a person this person may act for at this service');
  if (picked.relation === 'helper') {
    return { relation: 'helper', accountId: picked.helped!.grantorId, name: picked.name, delegationId: picked.helped!.delegationId };
  }
  const ward = await deps.relations!.wardAccount(actorId, picked.ward!.nationalId);
  if (!ward) throw new InvalidInputError('choice', 'not a person this person may act for at this service');
  if (!ward.enabled) throw new InvalidInputError('choice', "the child's account is suspended");
  return { relation: 'guardian', accountId: ward.accountId, name: picked.name };
}
