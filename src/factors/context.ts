// What the factor services need: the database, the cipher that keeps secrets
// encrypted at rest, and the lockout policy (the built-in one unless configured).
import type { Cipher } from '../keys/index.js';
import type { Database } from '../storage/index.js';
import type { LockoutPolicy } from './attempts.js';
import type { PasskeySettings } from './passkeys.js';

export interface FactorsContext {
  db: Database;
  cipher: Cipher;
  /** Defaults to LOCKOUT_POLICY. */
  policy?: LockoutPolicy;
  /** RP ID and origins for passkeys; undefined when nixa cannot offer them (see NIXA_PASSKEY_RP_ID). */
  passkeys?: PasskeySettings;
}

/** The audit actor for what a citizen does in their own session. */
export const citizen = (accountId: string) => `account:${accountId}`;

/** The audit actor for locks placed and lifted by the policy itself. */
export const LOCKOUT_ACTOR = 'system:lockout';
