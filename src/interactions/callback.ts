// Steps 3–4: the source's callback. It arrives at one fixed redirect URI, where
// the browser's interaction cookie (scoped to /interaction/<uid>) is not sent; nixa's
// in-flight cookie (in-flight.ts) names the browser's sign-in there, and the account
// is linked at once. Without that cookie it hops to /interaction/<uid>/upstream
// first, as before the cookie existed, and links the account there.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';

import { recordWards, signInFromSource, type AttributeName, type RecordedWards } from '../accounts/index.js';
import { appendAudit, coarseDevice } from '../audit/index.js';
import { acrFor, AMR_FEDERATED } from '../assurance/index.js';
import {
  confirmAnswer,
  FederationError,
  ForeignStateError,
  mapClaims,
  rememberSourceSession,
  type AnswerVerdict,
  type UpstreamIdentity,
} from '../federation/index.js';
import { recordSignIn } from '../metrics/index.js';
import { rememberAtSignIn } from '../my-account/source-preference.js';
import { renderPage } from '../pages/index.js';
import { requestedAuthentication } from '../protocol/index.js';
import { SOURCE_CALLBACK_PATH, type Source } from '../sources/index.js';
import { hasNul, withinTransaction } from '../storage/index.js';
import { rememberedGrant } from './consent.js';
import { forgetInFlight, inFlightCookie, inFlightSignIns } from './in-flight.js';
import type { JourneyDeps } from './journey.js';

type Details = Awaited<ReturnType<import('oidc-provider').default['interactionDetails']>>;

export const CALLBACK_PATH = SOURCE_CALLBACK_PATH;

/**
 * GET /federation/callback, in the sign-in this browser's in-flight cookie names:
 * `finish` takes the state for that sign-in only, so a state from another browser's
 * sign-in is refused unspent. With no cookie (the browser dropped it, or the login
 * began before nixa set it), or when the sign-in it names is over, the hop.
 */
export async function atCallback(deps: JourneyDeps, ctx: Context): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  const inFlight = inFlightSignIns(ctx);
  const state = ctx.query.state;
  if (!inFlight.length || (state !== undefined && (typeof state !== 'string' || hasNul(state)))) return hopToInteraction(deps, ctx);
  // Without a state (a callback URL opened again without its query)
  // the newest sign-in: finish refuses the callback in it, as the hop's target did.
  const uid = inFlight.length > 1 && typeof state === 'string' ? await signInOf(deps, state, inFlight) : inFlight.at(-1)!;
  const details = await liveInteraction(deps.provider(), uid);
  if (!details) return hopToInteraction(deps, ctx);
  await completeUpstream(deps, ctx, details);
  forgetInFlight(ctx, inFlightCookie(deps), uid);
}

/**
 * Which of the browser's sign-ins (two tabs) a state is for: its owner when the
 * cookie names it, else the newest, in which `finish` refuses it as foreign. The
 * cookie decides; the store only picks among what the cookie names.
 */
async function signInOf(deps: JourneyDeps, state: string, inFlight: readonly string[]): Promise<string> {
  const owner = await deps.upstream.logins.owner(state);
  return owner && inFlight.includes(owner.interactionUid) ? owner.interactionUid : inFlight.at(-1)!;
}

/**
 * The sign-in `uid`, if it is still going on: the checks of oidc-provider's
 * interactionDetails (the interaction exists; its session, if any, still does and
 * has the same account), by uid rather than by the interaction cookie.
 */
async function liveInteraction(provider: Provider, uid: string): Promise<Details | undefined> {
  const interaction = await provider.Interaction.find(uid);
  if (!interaction) return undefined;
  if (interaction.session?.uid) {
    const session = await provider.Session.findByUid(interaction.session.uid);
    if (!session || session.accountId !== interaction.session.accountId) return undefined;
  }
  return interaction;
}

/** The hop: find which sign-in the state belongs to, and go to its path, where the interaction cookie is sent. */
async function hopToInteraction(deps: JourneyDeps, ctx: Context): Promise<void> {
  const state = ctx.query.state;
  const login = typeof state === 'string' && !hasNul(state) ? await deps.upstream.logins.owner(state) : undefined;
  if (!login) throw new FederationError('state-mismatch', 'callback with an unknown state');
  if (login.consumed) await replayed(deps, login.sourceId, login.interactionUid);
  ctx.status = 303;
  ctx.redirect(`/interaction/${encodeURIComponent(login.interactionUid)}/upstream?${ctx.querystring}`);
}

/** A callback whose state was already used: a security event, then a refusal. */
async function replayed(deps: JourneyDeps, sourceId: string, interactionUid: string): Promise<never> {
  await deps.db.transaction((tx) =>
    appendAudit(tx, { event: 'UPSTREAM_REPLAY', actor: `source:${sourceId}`, details: { interaction: interactionUid } }),
  );
  throw new FederationError('replayed', 'callback state already used', sourceId);
}

/**
 * Someone presented a citizen's callback state in a sign-in of their own (they
 * learnt the callback URL). The state was not spent; the event names the sign-in
 * that presented it, not the source, which did nothing wrong.
 */
async function foreignState(deps: JourneyDeps, err: ForeignStateError): Promise<void> {
  await deps.db.transaction((tx) =>
    appendAudit(tx, {
      event: 'UPSTREAM_STATE_FOREIGN',
      actor: `interaction:${err.interactionUid ?? 'unknown'}`,
      details: { source: err.owner.sourceId, owner_interaction: err.owner.interactionUid },
    }),
  );
}

/**
 * The source answered, but not with what the service asked (the level, or a fresh
 * authentication): nothing is linked or stated. The refusal is recorded against
 * this upstream login, so the chooser does not send the citizen back to the same
 * source in this sign-in (which is what looped before), and audited as the source's.
 */
async function refuseAnswer(deps: JourneyDeps, identity: UpstreamIdentity, details: Details, verdict: Extract<AnswerVerdict, { ok: false }>): Promise<never> {
  if (verdict.reason !== 'bad-response') {
    const reason = verdict.reason;
    // The mark first: if the audit write fails the citizen is still not sent back to the same source.
    await deps.upstream.logins.markRefused(identity.login.state, reason);
    await deps.db.transaction(async (tx) => {
      await appendAudit(tx, {
        event: 'UPSTREAM_ASSURANCE_REFUSED',
        actor: `source:${identity.source.id}`,
        details: { reason, client: String(details.params.client_id), interaction: details.uid, ...verdict.facts },
      });
    });
  }
  throw new FederationError(verdict.reason, verdict.detail, identity.source.id, details.uid);
}

/** Complete the upstream login, link the account, finish the login step: at the callback, or at GET /interaction/:uid/upstream after the hop. */
export async function completeUpstream(deps: JourneyDeps, ctx: Context, details: Details): Promise<void> {
  // openid-client checks the callback against the redirect URI it was sent to.
  const callback = new URL(deps.upstream.callbackUrl);
  callback.search = ctx.querystring;
  let identity;
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    identity = await deps.upstream.finish(callback, details.uid);
    deps.metrics?.upstreamSeconds.observe({ source: identity.source.id, outcome: 'ok' }, seconds());
  } catch (err) {
    deps.metrics?.upstreamSeconds.observe({ source: (err instanceof FederationError && err.sourceId) || 'unknown', outcome: err instanceof FederationError ? err.reason : 'error' }, seconds());
    if (err instanceof ForeignStateError) await foreignState(deps, err);
    // Two tabs racing with one callback: the second is a replay too.
    else if (err instanceof FederationError && err.reason === 'replayed') await replayed(deps, err.sourceId ?? 'unknown', details.uid);
    throw err;
  }
  const { source } = identity;
  const verdict = confirmAnswer(source, identity, requestedAuthentication(details.params), {
    startedAt: identity.login.startedAt,
    now: Math.floor(Date.now() / 1000),
    toleranceSeconds: deps.config.clockToleranceSeconds,
  });
  if (!verdict.ok) return refuseAnswer(deps, identity, details, verdict);
  const { authLevel, level, authTime } = verdict;
  const attributes = mapClaims(source.claimMapping, identity.claims);
  const amr = [...new Set([...identity.amr, AMR_FEDERATED])];
  const asserted = wardsAsserted(source, identity.claims);
  // Names the source, never a value: the claim holds children's ID numbers.
  if (asserted?.malformed) deps.logger.warn({ source: source.id, claim: source.wardsClaim }, 'the source sent its minor-children claim in an unusable form: taken as no wards');
  let grantId: string | undefined;
  let wards: RecordedWards | undefined;
  const outcome = await signInFromSource(
    deps.accounts,
    { sourceId: source.id, proofingLevel: source.proofingLevel, authoritativeFor: source.authoritativeFor, subject: identity.subject, attributes, stepUpOnly: source.role === 'step-up-only', ...(details.session?.accountId ? { sessionAccount: details.session.accountId } : {}) },
    // The citizen's history shows the device coarsely (browser and system family), never the User-Agent itself.
    { level, amr, client: String(details.params.client_id), device: coarseDevice(ctx.get('user-agent')) },
    undefined,
    // The source session behind this sign-in (for signing out there later) and the
    // grant of a consent already given are written in the linking transaction: one
    // commit for the whole step (the provider's adapter joins it, storage/ambient.ts).
    async (tx, accountId, claims) => {
      await rememberSourceSession(deps.sourceLogout, ctx, { sourceId: source.id, accountId, authLevel, idToken: identity.idToken }, tx);
      // Who the person may act for changes with what they are signed in as: same commit.
      if (asserted) wards = await recordWards(deps.accounts, tx, accountId, source.id, asserted.wards);
      grantId = await withinTransaction(tx, () => rememberedGrant(deps, details, accountId, claims));
    },
  );
  if (outcome.outcome === 'refused') throw new FederationError(outcome.reason, outcome.detail, source.id, details.uid, outcome.conflicting);

  deps.logger.info({ source: source.id, level, client: details.params.client_id, created: outcome.created, linked: outcome.linked }, 'upstream sign-in');
  if (wards?.skipped) deps.logger.warn({ source: source.id, recorded: wards.recorded, skipped: wards.skipped }, 'minor children asserted by the source were skipped (no valid number, name or birthdate)');
  recordSignIn(deps.metrics, source.id, level);
  // The chooser of this browser offers the citizen's preferred source first from now on.
  rememberAtSignIn(ctx, outcome.preferredSource);
  await loginFinished(ctx, details, {
    // auth_time: when the citizen authenticated at the source, as it said; nixa
    // heard of it later, and a service's max_age is about the authentication.
    login: { accountId: outcome.accountId, acr: acrFor(level), amr, remember: true, ...(authTime !== undefined ? { ts: authTime } : {}) },
    ...(grantId ? { consent: { grantId } } : {}),
  });
}

/**
 * The minor children the source asserts in its wards_claim, each mapped with its
 * claim_mapping (undefined: the source is not registered to say). A source
 * registered with wards_claim that leaves the claim out is taken to say "no minor
 * children", and so is a value that is not a list (flagged malformed for a warning):
 * what it said before is replaced with nothing, never kept. Keeping it would let a
 * child who turned 18, or a withdrawn guardianship, outlive the source's word, and
 * the cost of the other mistake is only that a parent cannot act for a child until
 * the source answers properly again. Elements that are not objects map to nothing
 * and are skipped (and counted) by recordWards.
 */
function wardsAsserted(source: Source, claims: Record<string, unknown>): { wards: Partial<Record<AttributeName, string>>[]; malformed: boolean } | undefined {
  if (source.wardsClaim === undefined || source.role !== 'identity') return undefined;
  const value = claims[source.wardsClaim];
  if (value === undefined) return { wards: [], malformed: false };
  if (!Array.isArray(value)) return { wards: [], malformed: true };
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  return { wards: value.map((element: unknown) => (isRecord(element) ? mapClaims(source.claimMapping, element) : {})), malformed: false };
}

/**
 * What oidc-provider's interactionFinished does (without merging the last
 * submission), on the interaction already in hand: interactionFinished finds it
 * by the interaction cookie, which the callback does not receive. The browser
 * goes on to oidc-provider's resume (/auth/<uid>, where its resume cookie is sent).
 */
async function loginFinished(ctx: Context, details: Details, result: InteractionResults): Promise<void> {
  details.result = result;
  await details.save(details.exp - Math.floor(Date.now() / 1000));
  ctx.redirect(details.returnTo);
  ctx.status = 303;
}
