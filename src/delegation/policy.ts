// A citizen lets another act for them, as policy: what an authorisation may be
// (whom, which services, until when, from which session) and when one is in
// force for a service on a day. Pure: the accounts, the services that accept
// helpers and today's date come in as data.
import { atLeast, type Level } from '../assurance/index.js';
import { checkNationalId } from '../accounts/national-id.js';

/**
 * Authorising someone to act for you is as weighty as adding a second factor:
 * a weaker session (a borrowed SIM card) must not be able to hand the citizen's
 * services to a stranger.
 */
export const DELEGATION_LEVEL: Level = 'substantial';

/** An authorisation lasts at most this long: renewed on purpose, never forgotten for ever. */
export const MAX_YEARS = 1;

/** Services named in one authorisation, at most (a form of checkboxes; anything longer is not a person's). */
export const MAX_CLIENTS = 50;

export type RevokedBy = 'grantor' | 'helper';

export interface Delegation {
  id: string;
  /** The account of the person who asked for help. */
  grantorId: string;
  /** The helper's ID number, masked (*********345): all that is ever shown of it. */
  helperMasked: string;
  /** The services (client ids) at which the helper may act for the grantor. */
  clients: string[];
  /** The last day it is in force, YYYY-MM-DD (Vietnam's calendar). */
  validUntil: string;
  createdAt: string;
  revokedAt?: string;
  revokedBy?: RevokedBy;
}

/** The form's fields, as InvalidInputError names them (the page marks the one refused). */
export type DelegationField = 'helper_national_id' | 'clients' | 'valid_until' | 'level';

export interface Refusal {
  field: DelegationField;
  /** For logs and the error's message; never the number. */
  problem: string;
}

// Validity is counted in Vietnam's days (pages/dates.ts).
export { todayInVietnam } from '../pages/dates.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD (not 2027-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** The day after `day`, YYYY-MM-DD. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** The last day an authorisation made on `today` may run to: the same date a year on (29 February: 1 March). */
export function latestValidUntil(today: string): string {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + MAX_YEARS, m - 1, d)).toISOString().slice(0, 10);
}

export interface AuthorisationRequest {
  /** What the grantor typed, as typed. */
  helperNationalId: string;
  clients: readonly string[];
  validUntil: string;
  /** The level of the grantor's session. */
  level: Level;
}

export interface AuthorisationFacts {
  /** The account the helper's number belongs to, when it has one. */
  helperAccountId: string | undefined;
  grantorId: string;
  /** The services that accept helpers now (registered, enabled, representation includes 'helper'). */
  acceptingHelpers: ReadonlySet<string>;
}

/**
 * Why this authorisation cannot be made, or undefined. In the order a person
 * reads the form: the session first (without the level nothing else matters),
 * then whom, which services, until when.
 */
export function authorisationRefusal(r: AuthorisationRequest, facts: AuthorisationFacts, today: string): Refusal | undefined {
  if (!atLeast(r.level, DELEGATION_LEVEL)) {
    return { field: 'level', problem: `authorising a helper needs a session at level ${DELEGATION_LEVEL} or above; this one is ${r.level}` };
  }
  // checkNationalId judges a birth year "in the future" against the calendar in Vietnam; noon there on `today` is that day.
  const id = checkNationalId(r.helperNationalId, {}, new Date(`${today}T12:00:00+07:00`));
  if (!id.ok) return { field: 'helper_national_id', problem: id.message };
  if (facts.helperAccountId === facts.grantorId) return { field: 'helper_national_id', problem: 'is your own number: a helper is someone else' };
  if (!r.clients.length) return { field: 'clients', problem: 'name at least one service the helper may act at' };
  if (r.clients.length > MAX_CLIENTS) return { field: 'clients', problem: `at most ${MAX_CLIENTS} services` };
  if (r.clients.some((c) => !facts.acceptingHelpers.has(c))) return { field: 'clients', problem: 'a service named does not accept helpers (or is not registered, or is disabled)' };
  if (!isCalendarDate(r.validUntil)) return { field: 'valid_until', problem: 'must be a calendar date, YYYY-MM-DD' };
  if (r.validUntil <= today) return { field: 'valid_until', problem: 'must be after today' };
  if (r.validUntil > latestValidUntil(today)) return { field: 'valid_until', problem: `must be at most ${MAX_YEARS} year from today` };
  return undefined;
}

/** Whether the authorisation lets the helper act for the grantor at this service today (its last day included). */
export function inForce(d: Delegation, clientId: string, today: string): boolean {
  return d.revokedAt === undefined && d.validUntil >= today && d.clients.includes(clientId);
}

export type DelegationStatus = 'in-force' | 'expired' | 'revoked';

/** What the grantor's list says of one authorisation. */
export function statusOf(d: Delegation, today: string): DelegationStatus {
  if (d.revokedAt !== undefined) return 'revoked';
  return d.validUntil >= today ? 'in-force' : 'expired';
}
