// Persons acting for persons, as policy: a parent for their child under 14, and a
// helper for a citizen who authorised them at /account. Pure: the relations come in
// as data (a port, PersonRelations, reads them); nothing here reads a clock.
//
// In the token the represented person is the `sub` and the actor is named in an
// `act` claim (RFC 8693 §4.1): { sub: the actor's subject for that service }. A
// service learns both, and a service registered for neither relation never gets
// such a token (the choice is not offered, and every use re-checks).
import type { PersonRelation } from './policy.js';

/**
 * Under Vietnamese law a child's parents are their legal representatives, and a
 * child of 14 or over takes part in civil transactions themselves: from then on
 * the child signs in as themselves, and a parent's sign-in for them is refused.
 */
export const GUARDIAN_AGE_LIMIT = 14;

/** Whole years from a birthdate (YYYY-MM-DD) to a day (YYYY-MM-DD), the way a birthday counts. */
export function ageOn(birthdate: string, today: string): number {
  const [by, bm, bd] = birthdate.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = today.split('-').map(Number) as [number, number, number];
  return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
}

/**
 * How long what the population register said of a family is trusted without
 * being said again. Custody changes (a court, an adoption) reach nixa only when the
 * parent signs in through the citizen-ID source again: a parent who has not for
 * this long is asked to, before acting for the child, and a refresh ends.
 */
export const WARD_ASSERTION_MAX_DAYS = 30;

/** Whether an assertion made at `assertedAt` (an ISO instant) is still trusted at `now`. */
export function wardAssertionFresh(assertedAt: string, now: Date): boolean {
  const at = Date.parse(assertedAt);
  return Number.isFinite(at) && now.getTime() - at <= WARD_ASSERTION_MAX_DAYS * 86_400_000;
}

/** Whether a guardian may still act for a child born on `birthdate`, on `today`. */
export function guardianMayAct(birthdate: string, today: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(birthdate) && ageOn(birthdate, today) < GUARDIAN_AGE_LIMIT;
}

/** A child the citizen-ID source says this person is the legal representative of. */
export interface WardView {
  nationalId: string;
  fullName: string;
  birthdate: string;
  sourceId: string;
  /** When the source last said so (an ISO instant). */
  assertedAt: string;
}

/** An authorisation someone gave this person, from /account. */
export interface HelpedView {
  delegationId: string;
  grantorId: string;
  grantorName: string;
  clients: string[];
  validUntil: string;
}

/** Reads the relations a person has (src/accounts' wards, src/delegation's authorisations). */
export interface PersonRelations {
  /** The actor's wards as the source last asserted them. */
  wards(actorId: string): Promise<WardView[]>;
  /** The ward's nixa account (found by number, made once); undefined when no longer asserted. */
  wardAccount(actorId: string, wardNationalId: string): Promise<{ accountId: string; enabled: boolean } | undefined>;
  /** At each use of a token: the ward as last asserted, by the ward's account. */
  wardStill(actorId: string, wardAccountId: string): Promise<{ birthdate: string; assertedAt: string } | undefined>;
  /** Authorisations in force on `today` in which the actor is the helper. */
  helping(actorId: string, today: string): Promise<HelpedView[]>;
  /** At each use of a token: whether that one authorisation is still in force for this service on `today`. */
  delegationInForce(delegationId: string, clientId: string, today: string): Promise<boolean>;
}

/** Why a person cannot be chosen. */
export type PersonRefusal = 'fourteen' | 'not-confirmed';

export interface PersonChoice {
  relation: PersonRelation;
  /** The form's value: `ward:<n>` (n-th of the wards as listed) or `helper:<delegation id>`. */
  value: string;
  name: string;
  /** Wards: their birthdate; helpers: the authorisation's last day. */
  birthdate?: string;
  validUntil?: string;
  refused?: PersonRefusal;
  ward?: WardView;
  helped?: HelpedView;
}

/**
 * Whom this person may act for at this service: their wards (when the service
 * accepts `guardian`; one of 14 or over shown, not offered) and those who made
 * them their helper for this service (when it accepts `helper`; an authorisation
 * for other services only is not listed: it says nothing about this one).
 */
export function personChoices(
  o: { wards: readonly WardView[]; helped: readonly HelpedView[]; accepted: readonly PersonRelation[]; clientId: string; today: string; now: Date },
): PersonChoice[] {
  const out: PersonChoice[] = [];
  if (o.accepted.includes('guardian')) {
    o.wards.forEach((w, i) => {
      const refused: PersonRefusal | undefined = !guardianMayAct(w.birthdate, o.today) ? 'fourteen' : !wardAssertionFresh(w.assertedAt, o.now) ? 'not-confirmed' : undefined;
      out.push({ relation: 'guardian', value: `ward:${i}`, name: w.fullName, birthdate: w.birthdate, ward: w, ...(refused ? { refused } : {}) });
    });
  }
  if (o.accepted.includes('helper')) {
    for (const h of o.helped) {
      if (!h.clients.includes(o.clientId) || h.validUntil < o.today) continue;
      out.push({ relation: 'helper', value: `helper:${h.delegationId}`, name: h.grantorName, validUntil: h.validUntil, helped: h });
    }
  }
  return out;
}

/** The `act` claim (RFC 8693 §4.1): the actor, by their subject identifier for this service. */
export function actClaim(actorSub: string): { sub: string } {
  return { sub: actorSub };
}
