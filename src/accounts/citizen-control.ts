// What a citizen controls of their own account: blocking a source for it (a SIM
// swapped away, a bank account taken over) and which source is offered first.
// The block is enforced where sign-ins are decided, in signInFromSource's
// transaction (index.ts); this file writes and reads it, each change audited in
// the transaction that makes it.
import { appendAudit } from '../audit/index.js';
import type { Queryable } from '../storage/index.js';
import type { AccountsContext } from './index.js';
import * as repo from './repository.js';

export type BlockedSource = repo.BlockedSourceRow;

/** The sources the citizen blocked, oldest block first. */
export function blockedSources(ctx: Pick<AccountsContext, 'db'>, accountId: string): Promise<BlockedSource[]> {
  return repo.selectBlockedSources(ctx.db, accountId);
}

export interface SourceBlockChange {
  accountId: string;
  sourceId: string;
  /** Who did it: 'account:<id>' for the citizen. */
  actor: string;
  /** What the audit event adds (the level of the session that did it, whether it ended itself). */
  details?: Record<string, unknown>;
}

/**
 * Blocks the source for the account; false when it was already blocked (nothing
 * written). The account row is locked first, so a sign-in through the source in
 * flight either commits before the block or sees it.
 */
export function blockSource(ctx: Pick<AccountsContext, 'db'>, c: SourceBlockChange, alsoInTransaction?: (tx: Queryable) => Promise<void>): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    if (!(await repo.lockAccount(tx, c.accountId))) return false;
    if (!(await repo.insertBlockedSource(tx, c.accountId, c.sourceId))) return false;
    await appendAudit(tx, { event: 'SOURCE_BLOCKED_BY_CITIZEN', actor: c.actor, subject: c.accountId, details: { source: c.sourceId, ...c.details } });
    if (alsoInTransaction) await alsoInTransaction(tx);
    return true;
  });
}

/** Lifts the block; false when the source was not blocked (nothing written). The caller checks who may. */
export function unblockSource(ctx: Pick<AccountsContext, 'db'>, c: SourceBlockChange): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    if (!(await repo.lockAccount(tx, c.accountId))) return false;
    if (!(await repo.deleteBlockedSource(tx, c.accountId, c.sourceId))) return false;
    await appendAudit(tx, { event: 'SOURCE_UNBLOCKED_BY_CITIZEN', actor: c.actor, subject: c.accountId, details: { source: c.sourceId, ...c.details } });
    return true;
  });
}

/** The sources linked to the account, with when each was linked and last used. */
export function linkedSourcesOf(ctx: Pick<AccountsContext, 'db'>, accountId: string): Promise<repo.LinkRecord[]> {
  return repo.selectLinkTimes(ctx.db, accountId);
}

/** The source the citizen wants offered first, if they chose one. */
export function preferredSource(ctx: Pick<AccountsContext, 'db'>, accountId: string): Promise<string | undefined> {
  return repo.selectPreferredSource(ctx.db, accountId);
}

/** Sets (or, with null, clears) the source offered first. Not audited: it changes an order on a page, nothing anyone can do. */
export function setPreferredSource(ctx: Pick<AccountsContext, 'db'>, accountId: string, sourceId: string | null): Promise<void> {
  return repo.updatePreferredSource(ctx.db, accountId, sourceId);
}

export {
  advanceNoticesSeen,
  selectConsentsInForce as consentsInForce,
  selectTrailAfter as trailAfter,
  type TrailEventRow,
} from './repository.js';
