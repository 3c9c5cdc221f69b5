// Persons acting for persons, in the protocol: whom a token represents, and the
// check that the grounds still hold at every use of it.
//
// oidc-provider's grant, codes and tokens belong to the person who signed in (the
// actor: the session's account, which every token must match). nixa keeps beside
// the grant whom it acts for (acting_for, written at consent) and, through
// findAccount — which oidc-provider calls with the code, refresh token or access
// token at the token endpoint and at userinfo — answers with the represented
// person's claims: their `sub` (pairwise for the service, by oidc-provider) and
// `act: { sub: <the actor's subject for this service> }` (RFC 8693 §4.1). The JWT
// access token and introspection say the same (extraTokenClaims and the JWT
// customizer below), so no view of the token names the actor as its subject.
//
// Every use re-checks: the service still accepts the relation, the represented
// account is not suspended, a child is still under 14 (as the source last said),
// an authorisation is still in force for this service. When not, the grant ends
// (all its tokens with it), the end is audited, and the service gets invalid_grant
// (token endpoint) or invalid_token (userinfo).
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

import { accountClaims, findAccount, type AccountsContext } from '../accounts/index.js';
import { appendAudit } from '../audit/index.js';
import { todayInVietnam } from '../pages/index.js';
import { grantableClaims, releasableClaims } from '../consent/index.js';
import type { Logger } from '../logging/index.js';
import { actClaim, guardianMayAct, wardAssertionFresh, type PersonRelations } from '../representation/persons.js';
import { REPRESENTATION_SCOPE } from '../representation/policy.js';
import { actingForGrant, grantsOfDelegation, type ActingFor } from '../representation/repository.js';
import type { Database, Queryable } from '../storage/index.js';
import { revokeGrant } from './adapter.js';
import { acceptsOf } from './representation.js';
import { revokeGrantsById } from './revocation.js';

export interface ActingForDeps {
  db: Database;
  accounts: AccountsContext;
  /** Absent: no relation can be checked, so no token acting for a person is issued or honoured. */
  relations: PersonRelations | undefined;
  logger: Logger;
  /** The service's subject for an account (pairwise or public), as oidc-provider computes it. */
  subjectFor: (ctx: KoaContextWithOIDC, accountId: string, client: NonNullable<KoaContextWithOIDC['oidc']['client']>) => Promise<string> | string;
}

interface TokenLike {
  kind?: string;
  grantId?: string;
  scope?: string;
}

/** What this request's token says of the persons in it, kept for the access token it issues. */
interface Acting {
  acting: ActingFor;
  /** The represented person's and the actor's subjects for this service. */
  sub: string;
  act: { sub: string };
}

const actingOfCtx = new WeakMap<object, Acting>();

/**
 * acting_for by grant id, in memory: a row is written in the transaction that
 * saves its grant (before any token of it exists) and never changes, so what was
 * read once — a row, or that there is none — stays true for the grant's life, on
 * every instance, without invalidation. Bounded; the oldest entry goes first.
 */
const KNOWN_GRANTS = 10_000;
const knownGrants = new Map<string, ActingFor | null>();

async function actingForOfGrant(db: Database, grantId: string): Promise<ActingFor | undefined> {
  const known = knownGrants.get(grantId);
  if (known !== undefined) return known ?? undefined;
  const row = await actingForGrant(db, grantId);
  if (knownGrants.size >= KNOWN_GRANTS) knownGrants.delete(knownGrants.keys().next().value!);
  knownGrants.set(grantId, row ?? null);
  return row;
}


/** Why the grounds no longer hold, or undefined when they do. */
async function endedBecause(deps: ActingForDeps, a: ActingFor, clientAccepts: readonly string[]): Promise<string | undefined> {
  if (!clientAccepts.includes(a.relation)) return 'service-no-longer-accepts';
  if (!deps.relations) return 'relations-unavailable';
  if (!(await findAccount(deps.accounts, a.representedAccount))) return 'represented-account-suspended';
  if (a.relation === 'guardian') {
    const ward = await deps.relations.wardStill(a.actorAccount, a.representedAccount);
    if (!ward) return 'no-longer-asserted';
    if (!guardianMayAct(ward.birthdate, todayInVietnam())) return 'fourteen';
    return wardAssertionFresh(ward.assertedAt, new Date()) ? undefined : 'relation-not-confirmed';
  }
  return a.delegationId && (await deps.relations.delegationInForce(a.delegationId, a.clientId, todayInVietnam())) ? undefined : 'authorisation-ended';
}

/**
 * For findAccount: whom this token acts for, checked now; undefined when it acts
 * for nobody (the person's own sign-in). Only tokens carrying the representation
 * scope are looked up (every grant acting for a person has it), so other
 * services' tokens cost nothing. Throws when the grounds ended.
 */
export async function actingFor(deps: ActingForDeps, ctx: KoaContextWithOIDC, actorId: string, token: TokenLike | undefined): Promise<Acting | undefined> {
  const client = ctx.oidc?.client;
  if (!client || !token?.grantId || !String(token.scope ?? '').split(' ').includes(REPRESENTATION_SCOPE)) return undefined;
  const a = await actingForOfGrant(deps.db, token.grantId);
  if (!a || a.actorAccount !== actorId || a.clientId !== client.clientId) return undefined;
  const ended = await endedBecause(deps, a, acceptsOf(client));
  if (ended) {
    // The grant goes, and every token of it, on every instance. A token still
    // presented after that (an access token whose grant is gone) is refused the same
    // way, without a second ACTING_FOR_ENDED for the same end.
    const endedNow = (await revokeGrant(deps.db, a.grantId)) > 0;
    if (endedNow) {
      await deps.db.transaction((tx) =>
        appendAudit(tx, {
          event: 'ACTING_FOR_ENDED',
          actor: `client:${client.clientId}`,
          subject: a.representedAccount,
          details: { client: client.clientId, relation: a.relation, actor_account: a.actorAccount, reason: ended, ...(a.delegationId ? { delegation: a.delegationId } : {}) },
        }),
      );
      deps.logger.info({ client: client.clientId, relation: a.relation, reason: ended }, 'acting for a person ended');
    }
    const why = `the signed-in person may no longer act for the person this token represents (${ended})`;
    throw token.kind === 'AccessToken' ? new errors.InvalidToken(why) : new errors.InvalidGrant(why);
  }
  const found: Acting = { acting: a, sub: await deps.subjectFor(ctx, a.representedAccount, client), act: actClaim(await deps.subjectFor(ctx, actorId, client)) };
  actingOfCtx.set(ctx, found);
  return found;
}

/** The represented person's claims, limited to what the actor agreed to share in that sign-in; `sub` is theirs (oidc-provider makes it pairwise), `act` the actor. */
export async function actingClaims(deps: ActingForDeps, ctx: KoaContextWithOIDC, found: Acting): Promise<Record<string, unknown>> {
  const client = ctx.oidc.client;
  const allowed = grantableClaims({ registeredScopes: client?.scope?.split(' '), consent: { claims: found.acting.claims, withoutValue: [] } });
  const values = await accountClaims(deps.accounts, found.acting.representedAccount);
  return { ...releasableClaims(allowed, allowed, values), sub: found.acting.representedAccount, act: found.act };
}

/**
 * extraTokenClaims' part: an access token issued in a request whose findAccount
 * found a person acted for carries their subject and the actor (introspection
 * lays these over the actor's `sub`; the JWT customizer does the same).
 */
export function actingTokenClaims(ctx: KoaContextWithOIDC | undefined): { sub: string; act: { sub: string } } | undefined {
  const found = ctx ? actingOfCtx.get(ctx) : undefined;
  return found ? { sub: found.sub, act: found.act } : undefined;
}

/** formats.customizers.jwt: oidc-provider writes the actor's subject last; the represented person's is the token's. */
export async function actingJwtCustomizer(_ctx: KoaContextWithOIDC, token: { extra?: Record<string, unknown> }, jwt: { payload: Record<string, unknown> }): Promise<void> {
  const sub = token.extra?.sub;
  if (typeof sub === 'string' && token.extra?.act) jwt.payload.sub = sub;
}

/**
 * An authorisation revoked (by either person): the grants acting under it end at
 * once, and with them every refresh token and opaque access token (each use loads
 * its grant). Returns how many ended.
 */
export async function endGrantsOfDelegation(db: Queryable, delegationId: string): Promise<{ grants: number; tokens: number }> {
  return revokeGrantsById(db, await grantsOfDelegation(db, delegationId));
}
