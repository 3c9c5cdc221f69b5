// The audit trail: append-only, partitioned by month, each event carrying the hash
// of the previous one so that a rewritten or removed row breaks the chain, with
// periodic checkpoints signed by nixa's key so that even a rewrite of the whole
// chain is caught by anyone holding an earlier checkpoint. Appends happen inside
// the caller's transaction (append.ts).
import type { Config } from '../config/index.js';
import type { Signer } from '../keys/index.js';
import type { Logger } from '../logging/index.js';
import { every, type Database, type Queryable } from '../storage/index.js';
import { createCheckpoint } from './checkpoint.js';
import type { ChainRow } from './chain.js';
import { HISTORY_EVENTS } from './history.js';
import { ensurePartitions, eventAboutSubject, eventsAboutSubject, hasEventNaming, readHead, searchEvents, type AuditQuery } from './repository.js';
import { storedSubjects } from './redact.js';

export type { AuditQuery } from './repository.js';

export { AUDIT_EVENTS, type AuditEventName } from './events.js';
export { appendAudit, type AuditEvent } from './append.js';
export { canonicalJson, eventHash, GENESIS, ChainWalker, type ChainRow, type ChainBreak } from './chain.js';
export { createCheckpoint, checkCheckpoint, CHECKPOINT_TYP, type CheckpointClaims } from './checkpoint.js';
export { verifyTrail, type VerifyReport, type VerifyProblem } from './verify.js';
export { exportTrail, recordExport, type ExportSummary } from './export.js';
export { planPrune, prunePartitions, parseMonth, MIN_ONLINE_MONTHS } from './retention.js';
export { listPartitions, ensurePartitions, eventsForEnterprises, type Partition, type StoredCheckpoint } from './repository.js';
export { redactDetails, redactText, storedSubjects } from './redact.js';
export { coarseDevice, deviceWords, storedDevice, type CoarseDevice } from './device.js';
export { HISTORY_EVENTS, historyLine, type HistoryEventName, type HistoryLine, type HistoryNames } from './history.js';
export { checkReason, MAX_REASON_LENGTH, MIN_REASON_LENGTH } from './reason.js';

/** Month partitions exist this far ahead, so appends never have to create one. */
export const PARTITION_LEAD_DAYS = 45;

/** An event as the trail's readers see it: the chained row without its hashes. */
export type StoredAuditEvent = Pick<ChainRow, 'seq' | 'at' | 'event' | 'actor' | 'subject' | 'reason' | 'details'>;

/**
 * Searches the trail for auditors, newest first, `limit` at a time; `next` is the
 * `beforeSeq` of the following page.
 */
export async function searchAudit(db: Queryable, q: AuditQuery): Promise<{ events: StoredAuditEvent[]; next?: number }> {
  const rows = await searchEvents(db, { ...q, limit: q.limit + 1 });
  const events = rows.slice(0, q.limit).map((r) => ({ seq: r.seq, at: r.at, event: r.event, actor: r.actor, subject: r.subject, reason: r.reason, details: r.details }));
  return rows.length > q.limit ? { events, next: events[events.length - 1]!.seq } : { events };
}

const stored = (r: ChainRow): StoredAuditEvent => ({ seq: r.seq, at: r.at, event: r.event, actor: r.actor, subject: r.subject, reason: r.reason, details: r.details });

/**
 * A page of an account's history (HISTORY_EVENTS with the account as subject),
 * newest first, `limit` at a time; `next` is the `beforeSeq` of the older page.
 */
export async function accountHistory(db: Queryable, accountId: string, q: { beforeSeq?: number; limit: number }): Promise<{ events: StoredAuditEvent[]; next?: number }> {
  const rows = await eventsAboutSubject(db, storedSubjects(accountId), HISTORY_EVENTS, q.beforeSeq, q.limit + 1);
  const events = rows.slice(0, q.limit).map(stored);
  return rows.length > q.limit ? { events, next: events[events.length - 1]!.seq } : { events };
}

/** One event of the account's history by its seq; undefined when it is not one (another account's, or not a history event). */
export async function accountHistoryEvent(db: Queryable, accountId: string, seq: number): Promise<StoredAuditEvent | undefined> {
  const row = await eventAboutSubject(db, storedSubjects(accountId), HISTORY_EVENTS, seq);
  return row ? stored(row) : undefined;
}

/** Whether the account already disputed the event with this seq (a re-post records nothing new). */
export const alreadyDisputed = (db: Queryable, accountId: string, seq: number): Promise<boolean> =>
  hasEventNaming(db, 'ACCOUNT_ACTIVITY_DISPUTED', storedSubjects(accountId), 'seq', seq);

export const partitionsAhead = (db: Queryable, now = new Date()) => ensurePartitions(db, new Date(now.getTime() + PARTITION_LEAD_DAYS * 86_400_000));

/**
 * The periodic job of every instance: partitions ahead of time, and a signed
 * checkpoint when events were appended since the last one (instances take turns
 * on a lock, so there is one checkpoint per period, not one per instance).
 */
export async function startAuditJobs(deps: {
  db: Database;
  config: Config;
  logger: Logger;
  signingKey: () => Promise<Signer>;
}): Promise<() => void> {
  const { db, config, logger } = deps;
  await partitionsAhead(db);
  return every(
    config.audit.checkpointSeconds,
    async () => {
      await partitionsAhead(db);
      const c = await createCheckpoint(db, await deps.signingKey(), config.issuer);
      if (c) logger.info({ checkpoint: c.id, seq: c.seq, kid: c.kid }, 'audit checkpoint signed');
    },
    logger,
    'audit checkpoint',
  );
}

/** The seq of the last event: the chain's length (for the metrics gauge), read from the head row. */
export async function auditChainLength(db: Queryable): Promise<number> {
  return (await readHead(db)).seq;
}
