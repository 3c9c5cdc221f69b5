// The relations persons act on, read from where nixa keeps them: a parent's
// children as their citizen-ID source last named them (accounts/wards.ts), and the
// authorisations citizens gave at /account (src/delegation).
import { accountClaims, wardAccount, wardByAccount, wardsOf, type AccountsContext } from '../accounts/index.js';
import { delegationById, delegationsFor, inForce } from '../delegation/index.js';
import type { HelpedView, PersonRelations } from './persons.js';

export function personRelations(accounts: AccountsContext): PersonRelations {
  return {
    wards: async (actorId) => (await wardsOf(accounts, actorId)).map((w) => ({ nationalId: w.nationalId, fullName: w.fullName, birthdate: w.birthdate, sourceId: w.sourceId, assertedAt: w.assertedAt })),
    wardAccount: async (actorId, nationalId) => {
      const w = await wardAccount(accounts, actorId, nationalId);
      return w ? { accountId: w.accountId, enabled: w.enabled } : undefined;
    },
    wardStill: async (actorId, wardAccountId) => {
      const w = await wardByAccount(accounts, actorId, wardAccountId);
      return w ? { birthdate: w.birthdate, assertedAt: w.assertedAt } : undefined;
    },
    // One row by its id (the helper was proven at the choice; a suspended grantor is refused by the caller).
    delegationInForce: async (delegationId, clientId, today) => {
      const d = await delegationById(accounts, delegationId);
      return d !== undefined && inForce(d, clientId, today);
    },
    helping: async (actorId, today): Promise<HelpedView[]> => {
      // The helper is named by their ID number in an authorisation: one without a number helps nobody.
      const nationalId = (await accountClaims(accounts, actorId)).national_id;
      if (typeof nationalId !== 'string') return [];
      const given = await delegationsFor(accounts, nationalId, today);
      return Promise.all(
        given.map(async (d) => {
          const name = (await accountClaims(accounts, d.grantorId)).name;
          return { delegationId: d.id, grantorId: d.grantorId, grantorName: typeof name === 'string' ? name : '', clients: d.clients, validUntil: d.validUntil };
        }),
      );
    },
  };
}
