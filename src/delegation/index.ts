// A citizen lets another citizen act for them (issue 14 §4, "helpers"): the
// authorisations a grantor gives at /account (whom, which services, until when),
// who may end one (either of the two, at once), and which are in force for a
// helper at sign-in. Each change is one transaction with its audit events.
//
// Audit: DELEGATION_GRANTED and DELEGATION_REVOKED name both people (subject: the
// grantor; details: the helper's masked number, the helper's account when they
// have one, the grantor's account, the services, the last day, who acted). A
// citizen's history reads the events whose subject is their account
// (audit/history.ts, by the (subject, seq) index), so when the helper has an
// account the same event is written a second time with the helper's account as
// subject: each person's history finds it by that index, and no query reads
// inside details.
import { randomUUID } from 'node:crypto';

import { accountIdByNationalId, maskNationalId, type AccountsContext } from '../accounts/index.js';
// The hash is the accounts' own index key; only its module exports it (accounts/index keeps it private to sign-in).
import { nationalIdHash } from '../accounts/national-id.js';
import { appendAudit, type AuditEventName } from '../audit/index.js';
import { clientStore, listClients } from '../clients/index.js';
import { InvalidInputError } from '../errors/index.js';
import { personRelationsAccepted } from '../representation/policy.js';
import type { Level } from '../assurance/index.js';
import { authorisationRefusal, type Delegation, type RevokedBy } from './policy.js';
import * as repo from './repository.js';

export {
  authorisationRefusal,
  DELEGATION_LEVEL,
  inForce,
  isCalendarDate,
  latestValidUntil,
  MAX_YEARS,
  nextDay,
  statusOf,
  todayInVietnam,
  type Delegation,
  type DelegationField,
  type DelegationStatus,
  type RevokedBy,
} from './policy.js';

/** The grantor's list shows this many, newest first. */
export const GIVEN_SHOWN = 200;

const TWELVE_DIGITS = /^[0-9]{12}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const publicView = ({ helperHash: _, ...d }: repo.StoredDelegation): Delegation => d;

/** The account of a well-formed number, if it has one; nothing is looked up for a malformed one. */
const accountOf = (ctx: AccountsContext, nationalId: string) => (TWELVE_DIGITS.test(nationalId) ? accountIdByNationalId(ctx, nationalId) : Promise.resolve(undefined));

/**
 * The services a citizen may name in an authorisation: registered, enabled, and
 * whose `representation` metadata includes 'helper'. The one reading for the
 * page's checkboxes and for authorise's check.
 */
export async function servicesAcceptingHelpers(ctx: Pick<AccountsContext, 'db'>): Promise<{ clientId: string; name: string }[]> {
  const store = clientStore(ctx.db);
  const out: { clientId: string; name: string }[] = [];
  for (const c of await listClients(ctx.db)) {
    if (c.status !== 'enabled') continue;
    const accepts = (await store.findMetadata(c.clientId))?.representation;
    if (Array.isArray(accepts) && personRelationsAccepted(accepts.filter((a): a is string => typeof a === 'string')).includes('helper')) {
      out.push({ clientId: c.clientId, name: c.name });
    }
  }
  return out;
}

export interface AuthoriseInput {
  grantorId: string;
  /** As the grantor typed it; never logged, never stored (only its hash and masked form). */
  helperNationalId: string;
  clients: readonly string[];
  /** The last day, YYYY-MM-DD. */
  validUntil: string;
  /** The level of the grantor's session. */
  level: Level;
}

async function audit(
  tx: Parameters<typeof appendAudit>[0],
  event: Extract<AuditEventName, 'DELEGATION_GRANTED' | 'DELEGATION_REVOKED'>,
  d: repo.StoredDelegation,
  actorAccount: string,
  helperAccount: string | undefined,
  by: RevokedBy,
): Promise<void> {
  const details = {
    delegation: d.id,
    helper: d.helperMasked,
    ...(helperAccount ? { helper_account: helperAccount } : {}),
    grantor_account: d.grantorId,
    clients: d.clients,
    valid_until: d.validUntil,
    by,
  };
  await appendAudit(tx, { event, actor: `account:${actorAccount}`, subject: d.grantorId, details });
  // The same fact in the helper's history (see the file's header).
  if (helperAccount && helperAccount !== d.grantorId) await appendAudit(tx, { event, actor: `account:${actorAccount}`, subject: helperAccount, details });
}

/**
 * The grantor lets the holder of `helperNationalId` act for them at `clients`
 * until `validUntil` (its last day). Refused with an InvalidInputError naming the
 * form's field (helper_national_id, clients, valid_until, level), nothing
 * stored: see policy.ts authorisationRefusal. `today` is Vietnam's date.
 */
export async function authorise(ctx: AccountsContext, input: AuthoriseInput, today: string): Promise<Delegation> {
  const clients = [...new Set(input.clients)];
  const helperAccountId = await accountOf(ctx, input.helperNationalId);
  const accepting = new Set((await servicesAcceptingHelpers(ctx)).map((s) => s.clientId));
  const refusal = authorisationRefusal(
    { helperNationalId: input.helperNationalId, clients, validUntil: input.validUntil, level: input.level },
    { helperAccountId, grantorId: input.grantorId, acceptingHelpers: accepting },
    today,
  );
  if (refusal) throw new InvalidInputError(refusal.field, refusal.problem);
  const stored = await ctx.db.transaction(async (tx) => {
    const d = await repo.insertDelegation(tx, {
      id: randomUUID(),
      grantorId: input.grantorId,
      helperHash: nationalIdHash(input.helperNationalId, ctx.pepper),
      helperMasked: maskNationalId(input.helperNationalId),
      clients,
      validUntil: input.validUntil,
    });
    await audit(tx, 'DELEGATION_GRANTED', d, input.grantorId, helperAccountId, 'grantor');
    return d;
  });
  return publicView(stored);
}

/** Every authorisation the grantor gave (in force, ended or revoked), newest first. */
export async function delegationsGivenBy(ctx: AccountsContext, grantorId: string): Promise<Delegation[]> {
  return (await repo.selectGivenBy(ctx.db, grantorId, GIVEN_SHOWN)).map(publicView);
}

/**
 * The authorisations in force on `today` naming this number as helper (for the
 * helper's page and sign-in), leaving out those of a suspended grantor. A sign-in
 * still checks the service with inForce, and that the service accepts helpers now.
 */
export async function delegationsFor(ctx: AccountsContext, helperNationalId: string, today: string): Promise<Delegation[]> {
  if (!TWELVE_DIGITS.test(helperNationalId)) return [];
  return (await repo.selectInForceFor(ctx.db, nationalIdHash(helperNationalId, ctx.pepper), today)).map(publicView);
}

export async function delegationById(ctx: AccountsContext, id: string): Promise<Delegation | undefined> {
  if (!UUID.test(id)) return undefined;
  const d = await repo.selectById(ctx.db, id);
  return d && publicView(d);
}

export interface RevokedByWhom {
  /** The account revoking (the session's). */
  accountId: string;
  as: RevokedBy;
  /** As helper: the national ID of `accountId`'s account, which must be the one the authorisation names. */
  nationalId?: string;
}

/**
 * Ends an authorisation at once (revoked_at = now): only its grantor, or its
 * helper (proven by their account's national ID hash), may. Undefined when there
 * is no such authorisation of theirs (a third person learns nothing more).
 * Idempotent: revoking it again returns it as it is, and writes nothing.
 */
export async function revoke(ctx: AccountsContext, id: string, by: RevokedByWhom): Promise<Delegation | undefined> {
  if (!UUID.test(id)) return undefined;
  let helperHash: string | undefined;
  if (by.as === 'helper') {
    // The number must be the revoking account's own, not merely one the caller knows.
    if (!by.nationalId || (await accountOf(ctx, by.nationalId)) !== by.accountId) return undefined;
    helperHash = nationalIdHash(by.nationalId, ctx.pepper);
  }
  const result = await ctx.db.transaction(async (tx) => {
    const d = await repo.selectForRevocation(tx, id);
    if (!d) return undefined;
    if (by.as === 'grantor' ? d.grantorId !== by.accountId : d.helperHash !== helperHash) return undefined;
    const { helperAccount, ...stored } = d;
    if (stored.revokedAt) return stored;
    const revoked = (await repo.markRevoked(tx, id, by.as))!;
    await audit(tx, 'DELEGATION_REVOKED', revoked, by.accountId, helperAccount, by.as);
    return revoked;
  });
  if (!result) return undefined;
  return publicView(result);
}
