// `nixa audit export`: the trail between two times as JSON Lines, a batch at a
// time, followed by the checkpoints signed in that time. Each line can be checked
// on its own with the hash formula in chain.ts (README, "Audit trail"). The export
// itself is an audited admin action, with the file's digest.
import { createHash } from 'node:crypto';

import type { Database } from '../storage/index.js';
import { appendAudit } from './append.js';
import type { ChainRow } from './chain.js';
import { checkpointsAfter, eventsAfter, type StoredCheckpoint } from './repository.js';

export interface ExportSummary {
  from: string;
  to: string;
  events: number;
  checkpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** sha256 (hex) of every byte written. */
  sha256: string;
}

export const eventLine = (r: ChainRow) =>
  JSON.stringify({
    type: 'event',
    seq: r.seq,
    at: r.at,
    event: r.event,
    actor: r.actor,
    subject: r.subject,
    reason: r.reason,
    details: r.details,
    prev_hash: r.prevHash,
    hash: r.hash,
    hash_version: r.hashVersion,
  });

export const checkpointLine = (c: StoredCheckpoint) =>
  JSON.stringify({ type: 'checkpoint', id: c.id, created_at: c.createdAt, seq: c.seq, hash: c.hash, kid: c.kid, public_jwk: c.publicJwk, jws: c.jws });

/** Writes the lines through `write` (which may wait, for back-pressure); [from, to) by event time. */
export async function exportTrail(
  db: Database,
  range: { from: Date; to: Date },
  write: (text: string) => Promise<void> | void,
  batch = 1000,
): Promise<ExportSummary> {
  const digest = createHash('sha256');
  const emit = async (line: string) => {
    const text = `${line}\n`;
    digest.update(text);
    await write(text);
  };
  let events = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  for (let after = 0; ; ) {
    const rows = await eventsAfter(db, after, batch, range);
    if (!rows.length) break;
    for (const r of rows) await emit(eventLine(r));
    firstSeq ??= rows[0]!.seq;
    lastSeq = rows[rows.length - 1]!.seq;
    after = lastSeq;
    events += rows.length;
  }
  let checkpoints = 0;
  for (let after = 0; ; ) {
    const rows = await checkpointsAfter(db, after, batch, range);
    if (!rows.length) break;
    for (const c of rows) await emit(checkpointLine(c));
    after = rows[rows.length - 1]!.id;
    checkpoints += rows.length;
  }
  return { from: range.from.toISOString(), to: range.to.toISOString(), events, checkpoints, firstSeq, lastSeq, sha256: digest.digest('hex') };
}

/** The export is an admin action: recorded with its range and digest (retention checks it). */
export async function recordExport(db: Database, summary: ExportSummary, actor: string, reason?: string): Promise<void> {
  await db.transaction((tx) => appendAudit(tx, { event: 'AUDIT_EXPORTED', actor, ...(reason ? { reason } : {}), details: { ...summary } }));
}
