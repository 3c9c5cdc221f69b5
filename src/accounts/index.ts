// Accounts: one per person, keyed by the national ID number (as a keyed hash).
// A sign-in through a source creates the account, links to the existing one, or
// is refused, by the pure rule in linking.ts; this file does the I/O around it.
import { randomUUID } from 'node:crypto';

import type { Account } from 'oidc-provider';

import { appendAudit } from '../audit/index.js';
import type { Level } from '../assurance/index.js';
import type { Cipher } from '../keys/index.js';
import { NotifiedCache, readThrough, type Database, type NotifiedCacheOptions, type Queryable } from '../storage/index.js';
import { decideLink, type AttributeName, type StoredAttribute } from './linking.js';
import { checkNationalId, maskNationalId, nationalIdHash } from './national-id.js';
import * as repo from './repository.js';
import { sealed, unsealed } from './sealing.js';

export { checkNationalId, maskNationalId } from './national-id.js';
export type { AttributeName } from './linking.js';
export { ATTRIBUTE_LABELS, ATTRIBUTE_NAMES } from './linking.js';
export {
  accountById,
  endAccountSessions,
  lockAccount,
  type EndedSessions,
  lookUpAccount,
  reinstateAccount,
  suspendAccount,
  type AccountChange,
  type AccountChangeInput,
  type AccountSummary,
  type LinkedSourceSummary,
  type Suspension,
} from './administration.js';
export type { Revoked } from './repository.js';
export { recordWards, wardAccount, wardByAccount, wardsOf, type RecordedWards, type Ward, type WardAccount } from './wards.js';
export {
  advanceNoticesSeen,
  blockedSources,
  blockSource,
  consentsInForce,
  linkedSourcesOf,
  preferredSource,
  setPreferredSource,
  trailAfter,
  unblockSource,
  type BlockedSource,
  type TrailEventRow,
} from './citizen-control.js';

export interface SourceAssertion {
  sourceId: string;
  proofingLevel: Level;
  authoritativeFor: AttributeName[];
  subject: string;
  attributes: Partial<Record<AttributeName, string>>;
  /**
   * A step-up-only source: it never creates or links an account, whatever it
   * asserts; only a (source, subject) already linked signs in.
   */
  stepUpOnly?: boolean;
  /**
   * The account of the browser's nixa session, if any. A step-up-only source only
   * raises that session: a login it answers for another account (say, another
   * person's session still open at the source on a shared computer) is refused.
   */
  sessionAccount?: string;
}

export type SignInOutcome =
  | {
      outcome: 'signed-in';
      accountId: string;
      created: boolean;
      linked: boolean;
      /** The source the citizen chose to be offered first, read with the account (no statement of its own). */
      preferredSource?: string | undefined;
    }
  | {
      outcome: 'refused';
      reason: 'invalid-national-id' | 'link-conflict' | 'not-linkable' | 'missing-claims' | 'account-suspended' | 'source-blocked';
      detail: string;
      /** link-conflict: which attributes disagreed (names only, as the LINK_CONFLICT event has them). */
      conflicting?: AttributeName[];
    };

export interface AccountsContext {
  db: Database;
  cipher: Cipher;
  /** Key of the national ID hash; derived from the master key so every instance agrees. */
  pepper: Buffer;
  /** The instance's accounts in memory; without it every read goes to the database (tools, tests). */
  cache?: AccountCache;
}

/**
 * What sign-ins and userinfo read of an account, held in memory per account id
 * (undefined: no such account). Attribute values stay sealed in memory, unsealed
 * at each use, so that a heap dump holds no readable personal data from it.
 * Every write to accounts, their attributes and links announces the account
 * (repository.ts), so a suspension is seen at once on every instance.
 */
export type AccountCache = NotifiedCache<repo.AccountSnapshotRow | undefined>;

/** One per instance (not per provider: the provider is rebuilt when keys rotate); start() it before use. */
export function accountCache(db: Database, opts?: NotifiedCacheOptions): AccountCache {
  return new NotifiedCache(db, repo.ACCOUNTS_CHANNEL, opts);
}

function snapshotOf(ctx: AccountsContext, accountId: string): Promise<repo.AccountSnapshotRow | undefined> {
  return readThrough(ctx.cache, accountId, () => repo.selectSnapshot(ctx.db, accountId));
}

/** Attributes as stored (sealed) to their values. */
function unsealAll(ctx: AccountsContext, accountId: string, rows: SealedAttribute[]): StoredAttribute[] {
  return rows.map(({ stored, ...a }) => ({ ...a, value: unsealed(ctx.cipher, accountId, a.name, stored) }));
}

type SealedAttribute = Omit<StoredAttribute, 'value'> & { stored: string };

/** Writes attributes (sealed); returns them as written. */
async function write(ctx: AccountsContext, tx: Queryable, accountId: string, attrs: StoredAttribute[]): Promise<SealedAttribute[]> {
  const rows = attrs.map((a) => ({ name: a.name, sourceId: a.sourceId, level: a.level, verifiedAt: a.verifiedAt, stored: sealed(ctx.cipher, accountId, a) }));
  for (const row of rows) await repo.upsertAttribute(tx, accountId, row);
  return rows;
}

/**
 * Signs a person in from what a source asserted: checks the ID number's structure,
 * then creates, links or refuses, all in one transaction. A refusal writes only its
 * security event, never a half-made account.
 */
export async function signInFromSource(
  ctx: AccountsContext,
  a: SourceAssertion,
  /** Written as the SIGN_IN audit event in the same transaction as the account change. */
  signIn: Record<string, unknown> = {},
  now = new Date(),
  /**
   * What the caller writes for a sign-in that succeeds, in the same transaction
   * (the source session behind it, the remembered consent's grant): one commit
   * for the whole step. `claims` are the account's as this transaction leaves them.
   */
  alsoOnSignIn?: (tx: Queryable, accountId: string, claims: AccountClaims) => Promise<void>,
): Promise<SignInOutcome> {
  // The account as the transaction leaves it, kept in this instance's cache once committed.
  let after: repo.AccountSnapshotRow | undefined;
  const audited = async (tx: Queryable, o: Extract<SignInOutcome, { outcome: 'signed-in' }>) => {
    await appendAudit(tx, { event: 'SIGN_IN', actor: `source:${a.sourceId}`, subject: o.accountId, details: { ...signIn, created: o.created, linked: o.linked } });
    if (alsoOnSignIn) await alsoOnSignIn(tx, o.accountId, after ? toClaims(o.accountId, unsealAll(ctx, o.accountId, after.attributes)) : await accountClaims(ctx, o.accountId));
    return o;
  };
  // A suspended account signs in nowhere: the refusal is its only record (not even the link's last login moves).
  const suspended = async (tx: Queryable, accountId: string) => {
    await appendAudit(tx, { event: 'SIGN_IN_REFUSED', actor: `source:${a.sourceId}`, subject: accountId, details: { ...signIn, reason: 'account-suspended' } });
    return { outcome: 'refused', reason: 'account-suspended', detail: 'the account is suspended' } as const;
  };
  // A source the citizen blocked for their account (citizen-control.ts) signs them in
  // nowhere: checked under the account's lock with the suspension, the refusal is its only record.
  const blocked = async (tx: Queryable, accountId: string) => {
    await appendAudit(tx, { event: 'SIGN_IN_REFUSED', actor: `source:${a.sourceId}`, subject: accountId, details: { ...signIn, reason: 'source-blocked' } });
    return { outcome: 'refused', reason: 'source-blocked', detail: 'the citizen blocked this source for their account' } as const;
  };
  const nid = a.stepUpOnly ? undefined : a.attributes.national_id;
  if (nid === undefined) {
    // A returning citizen whose source does not repeat the number is found by the link.
    const linked = await repo.accountByLink(ctx.db, a.sourceId, a.subject);
    if (linked && a.stepUpOnly && linked !== a.sessionAccount) {
      return { outcome: 'refused', reason: 'not-linkable', detail: "a step-up-only source answered for another account than the session's" };
    }
    if (linked) {
      return ctx.db.transaction(async (tx) => {
        const state = await repo.signInStateOf(tx, linked, a.sourceId);
        if (!state?.enabled) return suspended(tx, linked);
        if (state.sourceBlocked) return blocked(tx, linked);
        await repo.recordLink(tx, a.sourceId, a.subject, linked);
        return audited(tx, { outcome: 'signed-in', accountId: linked, created: false, linked: false, preferredSource: state.preferredSource });
      });
    }
    if (a.stepUpOnly) return { outcome: 'refused', reason: 'not-linkable', detail: 'a step-up-only source is not linked to an account under this subject' };
    return { outcome: 'refused', reason: a.authoritativeFor.includes('national_id') ? 'missing-claims' : 'not-linkable', detail: 'no national ID asserted' };
  }
  const gender = a.attributes.gender === 'male' || a.attributes.gender === 'female' ? a.attributes.gender : undefined;
  const check = checkNationalId(nid, { ...(a.attributes.birthdate ? { birthdate: a.attributes.birthdate } : {}), ...(gender ? { gender } : {}) }, now);
  if (!check.ok) return { outcome: 'refused', reason: 'invalid-national-id', detail: `${check.problem}: ${check.message}` };

  const hash = nationalIdHash(nid, ctx.pepper);
  const outcome = await ctx.db.transaction(async (tx): Promise<SignInOutcome> => {
    await repo.lockNationalId(tx, hash);
    const found = await repo.selectForSignIn(tx, hash, a.sourceId);
    // Before linking is even decided: a suspension is not lifted by signing in through another source.
    if (found && !found.enabled) return suspended(tx, found.id);
    if (found?.sourceBlocked) return blocked(tx, found.id);
    const existing = found
      ? { accountId: found.id, attributes: unsealAll(ctx, found.id, found.attributes), linkedSources: found.links }
      : undefined;
    const decision = decideLink(
      { sourceId: a.sourceId, level: a.proofingLevel, authoritativeFor: a.authoritativeFor, attributes: a.attributes, subject: a.subject },
      existing,
      now,
    );
    switch (decision.decision) {
      case 'create': {
        const id = randomUUID();
        await repo.insertAccount(tx, id, hash);
        const written = await write(ctx, tx, id, decision.attributes);
        await repo.recordLink(tx, a.sourceId, a.subject, id);
        after = { enabled: true, attributes: written, linkedSources: [a.sourceId] };
        await appendAudit(tx, { event: 'ACCOUNT_CREATED', actor: `source:${a.sourceId}`, subject: id, details: { nationalId: maskNationalId(nid), level: a.proofingLevel } });
        return audited(tx, { outcome: 'signed-in', accountId: id, created: true, linked: false });
      }
      case 'link': {
        const isNewLink = !existing!.linkedSources.some((l) => l.sourceId === a.sourceId);
        // A returning citizen mostly re-asserts what is stored: refresh only its verification time.
        const same = (u: StoredAttribute) =>
          existing!.attributes.some((e) => e.name === u.name && e.value === u.value && e.sourceId === u.sourceId && e.level === u.level);
        const reverified = new Set(decision.update.filter(same).map((u) => u.name));
        const written = await write(ctx, tx, decision.accountId, [...decision.add, ...decision.update.filter((u) => !same(u))]);
        await repo.touchAttributes(tx, decision.accountId, [...reverified], now);
        await repo.recordLink(tx, a.sourceId, a.subject, decision.accountId);
        const attributes = new Map(found!.attributes.map((r) => [r.name, reverified.has(r.name) ? { ...r, verifiedAt: now.toISOString() } : r]));
        for (const r of written) attributes.set(r.name, r);
        after = { enabled: true, attributes: [...attributes.values()], linkedSources: [...new Set([...found!.links.map((l) => l.sourceId), a.sourceId])] };
        if (isNewLink) await appendAudit(tx, { event: 'ACCOUNT_LINKED', actor: `source:${a.sourceId}`, subject: decision.accountId, details: { added: decision.add.map((x) => x.name) } });
        return audited(tx, { outcome: 'signed-in', accountId: decision.accountId, created: false, linked: isNewLink, preferredSource: found!.preferredSource });
      }
      case 'refuse': {
        if (decision.reason === 'conflict') {
          // Names of the attributes only: their values are personal data.
          await appendAudit(tx, {
            event: 'LINK_CONFLICT',
            actor: `source:${a.sourceId}`,
            ...(existing ? { subject: existing.accountId } : {}),
            details: { nationalId: maskNationalId(nid), attributes: decision.conflicts.map((c) => c.name), storedBy: [...new Set(decision.conflicts.map((c) => c.storedSource))] },
          });
          const conflicting = [...new Set(decision.conflicts.map((c) => c.name))];
          return { outcome: 'refused', reason: 'link-conflict', detail: `conflicting ${conflicting.join(', ')}`, conflicting } as const;
        }
        return { outcome: 'refused', reason: 'not-linkable', detail: decision.reason } as const;
      }
    }
  });
  // Committed, and this instance has dropped its copy on its own announcement:
  // what the next step reads (the claims at /token) is what was just written.
  if (outcome.outcome === 'signed-in' && after) ctx.cache?.keep(outcome.accountId, after);
  return outcome;
}

/** The sources an account is linked to (for offering step-up-only sources). */
export async function linkedSourceIds(ctx: AccountsContext, accountId: string): Promise<Set<string>> {
  return new Set((await snapshotOf(ctx, accountId))?.linkedSources ?? []);
}

export type AccountClaims = { sub: string } & Record<string, unknown>;

/** Attributes as OpenID Connect claims; the provider releases only what scopes and consent allow. */
function toClaims(accountId: string, attrs: StoredAttribute[]): AccountClaims {
  const v = Object.fromEntries(attrs.map((a) => [a.name, a.value])) as Partial<Record<AttributeName, string>>;
  return {
    sub: accountId,
    ...(v.full_name ? { name: v.full_name } : {}),
    ...(v.birthdate ? { birthdate: v.birthdate } : {}),
    ...(v.gender ? { gender: v.gender } : {}),
    ...(v.place_of_origin ? { place_of_origin: v.place_of_origin } : {}),
    ...(v.permanent_address ? { address: { formatted: v.permanent_address, country: 'VN' } } : {}),
    ...(v.phone_number ? { phone_number: v.phone_number, phone_number_verified: true } : {}),
    ...(v.national_id ? { national_id: v.national_id } : {}),
  };
}

/** Every claim the account can back, before scopes and consent filter them. */
export async function accountClaims(ctx: AccountsContext, id: string): Promise<AccountClaims> {
  const attributes = (await snapshotOf(ctx, id))?.attributes ?? [];
  return toClaims(id, unsealAll(ctx, id, attributes));
}

export async function findAccount(ctx: AccountsContext, id: string): Promise<Account | undefined> {
  if (!(await snapshotOf(ctx, id))?.enabled) return undefined;
  return {
    accountId: id,
    claims: () => accountClaims(ctx, id),
  };
}

/** Which attributes the account holds, for the consent page (names only). */
export async function attributeNames(ctx: AccountsContext, id: string): Promise<AttributeName[]> {
  return ((await snapshotOf(ctx, id))?.attributes ?? []).map((a) => a.name);
}

/** The account's identity-proofing level: that of the source that vouched for its ID number (low when none did). */
export async function proofingLevelOf(ctx: AccountsContext, accountId: string): Promise<Level> {
  return (await snapshotOf(ctx, accountId))?.attributes.find((a) => a.name === 'national_id')?.level ?? 'low';
}

/** Creates the account if it does not exist (test login only; refused in production by configuration). */
export async function ensureAccount(db: Queryable, id: string): Promise<void> {
  await repo.insertAccountIfMissing(db, id);
}

/**
 * The account of a national ID number, for commands run on the server (the first
 * security officer is named by their number); undefined when nobody with that
 * number has signed in yet. The caller validates and audits.
 */
export async function accountIdByNationalId(ctx: AccountsContext, nationalId: string): Promise<string | undefined> {
  return repo.accountByNationalIdHash(ctx.db, nationalIdHash(nationalId, ctx.pepper));
}

/** Whether the account exists and is not suspended (the admin API checks its operators with it on every call). */
export const accountIsEnabled = (db: Queryable, accountId: string): Promise<boolean> => repo.isEnabled(db, accountId);
