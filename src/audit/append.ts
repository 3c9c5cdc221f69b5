// Appending to the chain. The chain lock (the head row) is taken as late as
// possible: events are queued on the caller's transaction and chained just before
// it commits, so a sign-in holds the lock for two short statements, not for the
// rest of its transaction. A change and its event still commit together or not at all.
import type { Database, Queryable } from '../storage/index.js';
import { eventHash, type ChainRow } from './chain.js';
import type { AuditEventName } from './events.js';
import { redactDetails, redactText } from './redact.js';
import { ensurePartitions, insertChained, lockHead } from './repository.js';

export interface AuditEvent {
  event: AuditEventName;
  /** Who acted: 'cli:<os user>', 'system:rotation', 'source:<id>', 'account:<id>'. */
  actor: string;
  /** What it was done to: a kid, a client id, an account id. Never a full ID number or a secret. */
  subject?: string;
  /** Why, for admin actions (an operator's --reason). */
  reason?: string;
  details?: Record<string, unknown>;
}

type Pending = Pick<ChainRow, 'event' | 'actor' | 'subject' | 'reason' | 'details'>;

const queues = new WeakMap<Queryable, Pending[]>();

/**
 * Appends an event within the caller's transaction. On a transaction handle the
 * event is chained at commit; given the database, in a transaction of its own;
 * on any other handle at once (the caller must then be inside a transaction).
 */
export async function appendAudit(tx: Queryable, e: AuditEvent): Promise<void> {
  // Copied and cleaned now: the caller may change its objects before commit.
  const pending: Pending = {
    event: e.event,
    actor: redactText(e.actor),
    subject: e.subject === undefined || e.subject === null ? null : redactText(e.subject),
    reason: e.reason === undefined || e.reason === null ? null : redactText(e.reason),
    details: redactDetails(e.details ?? {}) as Record<string, unknown>,
  };
  if (!tx.beforeCommit) {
    // Given the database itself, not a transaction: the head lock needs one.
    const db = tx as Partial<Database>;
    if (typeof db.transaction === 'function') await db.transaction((t) => chain(t, [pending]));
    else await chain(tx, [pending]);
    return;
  }
  let queue = queues.get(tx);
  if (!queue) {
    const q: Pending[] = [];
    queue = q;
    queues.set(tx, q);
    tx.beforeCommit(() => chain(tx, q));
  }
  queue.push(pending);
}

async function chain(tx: Queryable, events: Pending[]): Promise<void> {
  if (!events.length) return;
  const head = await lockHead(tx);
  // Normally the periodic job made this month's partition long ago; this is the fallback.
  if (head.needsPartition) await ensurePartitions(tx, head.now);
  let prevHash = head.hash;
  const rows: ChainRow[] = events.map((p, i) => {
    const row = { ...p, seq: head.seq + i + 1, at: head.now, prevHash };
    const hash = eventHash(row);
    prevHash = hash;
    return { ...row, hash, hashVersion: 2 };
  });
  await insertChained(tx, rows);
}
