// What makes one simulated source differ from another, as data: its name, the
// scope and claim names it releases, the assurance it asserts, whom it knows.
// The three kinds are small modules (citizen-id.ts, telecom.ts, bank.ts) chosen
// by this table; the server code is the same for all of them.
import { createHash } from 'node:crypto';

import { bankSource } from './bank.js';
import { citizenIdSource } from './citizen-id.js';
import type { TestCitizen } from './citizens.js';
import { telecomSource } from './telecom.js';

export type SourceKind = 'citizen_id' | 'telecom' | 'bank';

/**
 * A claim value as the sources release them: strings, booleans for *_verified, and
 * lists of records (the citizen-ID source's minor children, each a record of claims).
 */
export type ClaimValue = string | boolean | readonly Readonly<Record<string, string>>[];

export interface SourceProfile {
  readonly kind: SourceKind;
  readonly name: { readonly vi: string; readonly en: string };
  /** The scope that releases this source's claims, besides openid. */
  readonly scope: string;
  /** Claim names released with that scope, in the ID token and at userinfo. */
  readonly claimNames: readonly string[];
  readonly acr: string;
  readonly amr: readonly string[];
  /** Prefix of the subject identifiers this source issues, so logs say where a sub came from. */
  readonly subjectPrefix: string;
  /** CSS class giving the pages this source's colours. */
  readonly theme: string;
  knows(c: TestCitizen): boolean;
  /** The claims this source asserts about the citizen (its own record, its own names). */
  claims(c: TestCitizen): Record<string, ClaimValue>;
  /** One line for the picker, so a developer can tell the test citizens apart. */
  describe(c: TestCitizen): { vi: string; en: string };
}

export const SOURCE_PROFILES: Readonly<Record<SourceKind, SourceProfile>> = Object.freeze({
  citizen_id: citizenIdSource,
  telecom: telecomSource,
  bank: bankSource,
});

export function profileFor(kind: SourceKind): SourceProfile {
  const profile = (SOURCE_PROFILES as Record<string, SourceProfile | undefined>)[kind];
  if (!profile) throw new TypeError(`unknown simulated source kind: ${String(kind)} (expected citizen_id, telecom or bank)`);
  return profile;
}

/**
 * The subject identifier a source gives a citizen: opaque, different at every
 * source (as real sources' are, so nixa must link people by what the sources
 * assert, never by sub), and stable across restarts so links survive them.
 */
export function subjectFor(profile: SourceProfile, c: TestCitizen): string {
  const digest = createHash('sha256').update(`nixa-simulated-source|${profile.kind}|${c.key}`).digest('hex');
  return `${profile.subjectPrefix}${digest.slice(0, 24)}`;
}
