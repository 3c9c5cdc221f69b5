// The audit trail: append-only, each event carrying the hash of the previous one
// so that a rewritten or deleted row breaks the chain. Appends happen inside the
// caller's transaction, so a change and its event are written together or not at all.
import { createHash } from 'node:crypto';

import type { Queryable } from '../storage/index.js';
import type { AuditEventName } from './events.js';

export { AUDIT_EVENTS, type AuditEventName } from './events.js';

export interface AuditEvent {
  event: AuditEventName;
  /** Who acted: 'cli:<os user>', 'system:rotation', an operator id later. */
  actor: string;
  /** What it was done to: a kid, a client id. Never a full ID number or a secret. */
  subject?: string;
  details?: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);
const CHAIN_LOCK = 7_415_002;

export function eventHash(prevHash: string, at: string, e: AuditEvent): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, at, e.event, e.actor, e.subject ?? null, e.details ?? {}]))
    .digest('hex');
}

/** Appends an event; must run inside a transaction (the chain lock is transaction-scoped). */
export async function appendAudit(tx: Queryable, e: AuditEvent): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  const prev = await tx.query<{ hash: string }>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const prevHash = prev.rows[0]?.hash ?? GENESIS;
  const at = new Date().toISOString();
  await tx.query(
    `INSERT INTO audit_events (at, event, actor, subject, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)`,
    [at, e.event, e.actor, e.subject ?? null, JSON.stringify(e.details ?? {}), prevHash, eventHash(prevHash, at, e)],
  );
}

export interface StoredAuditEvent {
  seq: number;
  at: string;
  event: string;
  actor: string;
  subject: string | null;
  details: Record<string, unknown>;
}

export async function listAudit(db: Queryable, opts: { subject?: string; limit?: number } = {}): Promise<StoredAuditEvent[]> {
  const { rows } = await db.query<StoredAuditEvent & { at: Date | string }>(
    `SELECT seq, at, event, actor, subject, details FROM audit_events
     WHERE ($1::text IS NULL OR subject = $1) ORDER BY seq DESC LIMIT $2`,
    [opts.subject ?? null, opts.limit ?? 100],
  );
  return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}

/** How many events the trail holds (for the audit-chain-length gauge). */
export async function auditChainLength(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string | number | null }>('SELECT max(seq) AS n FROM audit_events');
  return Number(rows[0]?.n ?? 0);
}
