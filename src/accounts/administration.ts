// What security officers do to accounts (issue 5, item 2), for the admin API to
// call: look a person up by ID number or account id, always with a stated reason
// and always audited (looking a person up is itself a sensitive act), and suspend
// or reinstate an account, refused when someone else changed it meanwhile.
// The officer sees the ID number masked, the sources linked and what each vouches
// for, and how many second factors the account holds — never attribute values,
// factor secrets or the full number.
import { appendAudit, checkReason } from '../audit/index.js';
import type { Level } from '../assurance/index.js';
import { ConflictError, InvalidInputError, lostRace, NotFoundError, StateError } from '../errors/index.js';
// Not protocol/index.js: that loads oidc-provider, whose configuration imports accounts.
import { endSessionsOf, revokeGrantsById, revokeGrantsOf, type SessionAuthorization } from '../protocol/revocation.js';
import type { Queryable } from '../storage/index.js';
import type { AccountsContext } from './index.js';
import type { AttributeName } from './linking.js';
import { checkNationalId, maskNationalId, nationalIdHash } from './national-id.js';
import * as repo from './repository.js';
import { unsealed } from './sealing.js';

/** Longest actor and account id accepted (reasons follow audit/reason.ts). */
const MAX_ACTOR_LENGTH = 200;
const MAX_ACCOUNT_ID_LENGTH = 200;

export interface LinkedSourceSummary {
  sourceId: string;
  /** When the source was first linked and last used to sign in; null for a source that vouched for attributes but is no longer linked. */
  linkedAt: string | null;
  lastLoginAt: string | null;
  /** The attributes the account holds from this source (names only, never values), each at the source's proofing level. */
  vouchesFor: { attribute: AttributeName; level: Level; verifiedAt: string }[];
}

export interface AccountSummary {
  accountId: string;
  createdAt: string;
  /** When the account was suspended; null when it is not. */
  disabledAt: string | null;
  suspended: boolean;
  /** Administrative version, for expectedVersion (or an HTTP ETag / If-Match). */
  version: number;
  /** Masked ('*********217'); null for an account without one (test login). */
  nationalId: string | null;
  proofingLevel: Level;
  linkedSources: LinkedSourceSummary[];
  factors: {
    passkeys: number;
    authenticatorApp: boolean;
    recoveryCodesLeft: number;
    /** A second-factor lock in force (src/factors' unlockAccount lifts it); null when none. */
    lockedUntil: string | null;
  };
}

export interface AccountChange {
  accountId: string;
  disabledAt: string | null;
  suspended: boolean;
  version: number;
}

export interface Suspension extends AccountChange {
  /** What was revoked with the suspension. */
  revoked: repo.Revoked;
  /** What each ended session had given each service: the caller tells them by back-channel logout after commit (protocol/backchannel.ts). */
  logouts: SessionAuthorization[];
}

// --- Input checks (pure): each refusal names the field, and nothing is written.

function checkActor(actor: unknown): string {
  if (typeof actor !== 'string' || actor.trim() === '' || actor.length > MAX_ACTOR_LENGTH) {
    throw new InvalidInputError('actor', `must name who acts (1-${MAX_ACTOR_LENGTH} characters), e.g. "admin:lan.nguyen"`);
  }
  return actor.trim();
}

function checkAccountId(accountId: unknown): string {
  if (typeof accountId !== 'string' || accountId === '' || accountId.length > MAX_ACCOUNT_ID_LENGTH || /[\s\p{C}]/u.test(accountId)) {
    throw new InvalidInputError('account_id', `must be an account id (1-${MAX_ACCOUNT_ID_LENGTH} characters, no spaces)`);
  }
  return accountId;
}

function checkExpectedVersion(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidInputError('expected_version', 'must be a positive whole number');
  return v;
}

/** Checked as a source's number is, without the birthdate and gender a source sends; the message never holds the number. */
function checkLookupNumber(nationalId: unknown, now: Date): string {
  if (typeof nationalId !== 'string') throw new InvalidInputError('national_id', 'must be a string of exactly 12 digits 0-9');
  const check = checkNationalId(nationalId, {}, now);
  if (!check.ok) throw new InvalidInputError('national_id', check.message);
  return nationalId;
}

// --- Lookups.

async function summarise(ctx: AccountsContext, db: Queryable, account: repo.AccountRecord): Promise<AccountSummary> {
  // One after another: a transaction handle runs one statement at a time.
  const attributes = await repo.selectAttributes(db, account.id);
  const links = await repo.selectLinkTimes(db, account.id);
  const factors = await repo.countFactors(db, account.id);
  const proofingLevel = await repo.proofingLevel(db, account.id);
  const stored = attributes.find((a) => a.name === 'national_id');
  // Decrypted only to be masked at once: the full number leaves this function nowhere.
  const nationalId = stored ? maskNationalId(unsealed(ctx.cipher, account.id, 'national_id', stored.stored)) : null;
  const sources = new Map<string, LinkedSourceSummary>(
    links.map((l) => [l.sourceId, { sourceId: l.sourceId, linkedAt: l.linkedAt.toISOString(), lastLoginAt: l.lastLoginAt.toISOString(), vouchesFor: [] }]),
  );
  for (const a of attributes) {
    let s = sources.get(a.sourceId);
    if (!s) sources.set(a.sourceId, (s = { sourceId: a.sourceId, linkedAt: null, lastLoginAt: null, vouchesFor: [] }));
    s.vouchesFor.push({ attribute: a.name, level: a.level, verifiedAt: a.verifiedAt });
  }
  const now = Date.now();
  return {
    accountId: account.id,
    createdAt: account.createdAt.toISOString(),
    disabledAt: account.disabledAt?.toISOString() ?? null,
    suspended: account.disabledAt !== null,
    version: account.version,
    nationalId,
    proofingLevel,
    linkedSources: [...sources.values()],
    factors: {
      passkeys: factors.passkeys,
      authenticatorApp: factors.authenticatorApp,
      recoveryCodesLeft: factors.recoveryCodesLeft,
      lockedUntil: factors.lockedUntil && factors.lockedUntil.getTime() > now ? factors.lockedUntil.toISOString() : null,
    },
  };
}

/**
 * Finds the account of a national ID number, for an officer who states why. The
 * lookup is recorded (ACCOUNT_LOOKED_UP: actor, reason, masked number, found or
 * not) in the same transaction as the read, so no answer leaves unrecorded.
 * Invalid input is refused before anything is read or written.
 * @throws InvalidInputError naming `national_id`, `reason` or `actor`; NotFoundError (recorded) when no account holds the number.
 */
export async function lookUpAccount(
  ctx: AccountsContext,
  input: { nationalId: string; actor: string; reason: string },
  now = new Date(),
): Promise<AccountSummary> {
  const nationalId = checkLookupNumber(input.nationalId, now);
  const reason = checkReason(input.reason);
  const actor = checkActor(input.actor);
  const masked = maskNationalId(nationalId);
  const hash = nationalIdHash(nationalId, ctx.pepper);
  const summary = await ctx.db.transaction(async (tx) => {
    const accountId = await repo.accountByNationalIdHash(tx, hash);
    const account = accountId ? await repo.selectAccount(tx, accountId) : undefined;
    await appendAudit(tx, {
      event: 'ACCOUNT_LOOKED_UP',
      actor,
      ...(account ? { subject: account.id } : {}),
      reason,
      details: { by: 'national_id', nationalId: masked, found: account !== undefined },
    });
    return account ? summarise(ctx, tx, account) : undefined;
  });
  if (!summary) throw new NotFoundError('account with national ID', masked);
  return summary;
}

/**
 * The same summary by account id, for follow-up views (after a lookup, from an
 * audit event); recorded the same way.
 * @throws InvalidInputError naming `account_id`, `reason` or `actor`; NotFoundError (recorded).
 */
export async function accountById(ctx: AccountsContext, accountId: string, actor: string, reason: string): Promise<AccountSummary> {
  const id = checkAccountId(accountId);
  const why = checkReason(reason);
  const who = checkActor(actor);
  const summary = await ctx.db.transaction(async (tx) => {
    const account = await repo.selectAccount(tx, id);
    const s = account ? await summarise(ctx, tx, account) : undefined;
    await appendAudit(tx, {
      event: 'ACCOUNT_LOOKED_UP',
      actor: who,
      reason: why,
      ...(s ? { subject: s.accountId } : {}),
      details: s ? { by: 'account_id', nationalId: s.nationalId, found: true } : { by: 'account_id', accountId: id, found: false },
    });
    return s;
  });
  if (!summary) throw new NotFoundError('account', id);
  return summary;
}

// --- Ending sessions: suspension here, and the citizen's own "end all my sessions" and "this wasn't me" (my-account).

/** What endAccountSessions revoked, and what each ended session had given each service (for back-channel logout). */
export interface EndedSessions extends repo.Revoked {
  logouts: SessionAuthorization[];
}

/**
 * Ends every sign-in session of the account, in the caller's transaction.
 * `grants`: 'all' revokes every grant of the account with all it issued (a
 * suspension, a citizen who says "this wasn't me"); 'sign-out' only those that
 * signing out revokes, the ones an ended session held without offline_access,
 * as oidc-provider's end_session does (a citizen ending their sessions).
 * Telling the services (back-channel logout) is the caller's, after commit.
 */
export async function endAccountSessions(tx: Queryable, accountId: string, grants: 'all' | 'sign-out'): Promise<EndedSessions> {
  // Grants first for 'all': everything oidc-provider holds for the account, with all they issued.
  const all = grants === 'all' ? await revokeGrantsOf(tx, accountId) : undefined;
  const { sessions, authorizations } = await endSessionsOf(tx, accountId);
  const revoked = all ?? (await revokeGrantsById(tx, [...new Set(authorizations.filter((a) => !a.persistsLogout && a.grantId).map((a) => a.grantId!))]));
  return { sessions, grants: revoked.grants, tokens: revoked.tokens, logouts: authorizations };
}

/** Takes the account's row lock for the rest of the transaction (one citizen's acts one at a time); false when there is no such account. */
export async function lockAccount(tx: Queryable, accountId: string): Promise<boolean> {
  return (await repo.selectAccount(tx, accountId, true)) !== undefined;
}

// --- Suspension.

export interface AccountChangeInput {
  accountId: string;
  actor: string;
  reason: string;
  /** The version the officer saw (AccountSummary.version); a different current version is refused with ConflictError. */
  expectedVersion?: number;
}

/**
 * Reads the account under a row lock and applies the officer's preconditions, in
 * this order: it exists, it is at the version they saw, it is in the state the
 * change needs.
 */
async function lockForChange(tx: Queryable, accountId: string, expectedVersion: number | undefined, needSuspended: boolean): Promise<repo.AccountRecord> {
  const account = await repo.selectAccount(tx, accountId, true);
  if (!account) throw new NotFoundError('account', accountId);
  if (expectedVersion !== undefined && expectedVersion !== account.version) throw new ConflictError('account', accountId, expectedVersion, account.version);
  const suspended = account.disabledAt !== null;
  if (suspended !== needSuspended) throw new StateError(`account "${accountId}" is ${suspended ? 'already suspended' : 'not suspended'}`);
  return account;
}

const changeOf = (a: repo.AccountRecord): AccountChange => ({
  accountId: a.id,
  disabledAt: a.disabledAt?.toISOString() ?? null,
  suspended: a.disabledAt !== null,
  version: a.version,
});

/**
 * Suspends an account: it can no longer sign in, and its sessions, grants and the
 * codes and tokens issued under them are revoked in the same transaction, so
 * userinfo, introspection and refresh refuse its tokens at once. Recorded as
 * ACCOUNT_SUSPENDED with the reason and what was revoked. The sessions end
 * through endAccountSessions, as the citizen's own "end all my sessions": the
 * caller tells the services (`logouts`) by back-channel logout after commit.
 * @throws InvalidInputError (field named); NotFoundError; ConflictError when expectedVersion is stale; StateError when already suspended. Nothing is written then.
 */
export async function suspendAccount(ctx: AccountsContext, input: AccountChangeInput, now = new Date()): Promise<Suspension> {
  const accountId = checkAccountId(input.accountId);
  const reason = checkReason(input.reason);
  const actor = checkActor(input.actor);
  const expectedVersion = checkExpectedVersion(input.expectedVersion);
  return ctx.db.transaction(async (tx) => {
    const before = await lockForChange(tx, accountId, expectedVersion, false);
    // The row lock makes this update certain; the version guard is a second line.
    const after = await repo.setDisabledAt(tx, accountId, before.version, now);
    if (!after) throw lostRace('account', accountId, input.expectedVersion, before.version);
    const ended = await endAccountSessions(tx, accountId, 'all');
    const revoked: repo.Revoked = { sessions: ended.sessions, grants: ended.grants, tokens: ended.tokens };
    await appendAudit(tx, { event: 'ACCOUNT_SUSPENDED', actor, subject: accountId, reason, details: { version: after.version, revoked } });
    return { ...changeOf(after), revoked, logouts: ended.logouts };
  });
}

/**
 * Lifts a suspension: the citizen may sign in again (nothing revoked comes back).
 * Recorded as ACCOUNT_REINSTATED with the reason.
 * @throws InvalidInputError (field named); NotFoundError; ConflictError when expectedVersion is stale; StateError when not suspended. Nothing is written then.
 */
export async function reinstateAccount(ctx: AccountsContext, input: AccountChangeInput): Promise<AccountChange> {
  const accountId = checkAccountId(input.accountId);
  const reason = checkReason(input.reason);
  const actor = checkActor(input.actor);
  const expectedVersion = checkExpectedVersion(input.expectedVersion);
  return ctx.db.transaction(async (tx) => {
    const before = await lockForChange(tx, accountId, expectedVersion, true);
    const after = await repo.setDisabledAt(tx, accountId, before.version, null);
    if (!after) throw lostRace('account', accountId, input.expectedVersion, before.version);
    await appendAudit(tx, {
      event: 'ACCOUNT_REINSTATED',
      actor,
      subject: accountId,
      reason,
      details: { version: after.version, suspendedAt: before.disabledAt!.toISOString() },
    });
    return changeOf(after);
  });
}
