// Retention: the trail only ever loses whole month partitions, oldest first, and
// only once each is at least MIN_ONLINE_MONTHS old, vouched for by a signed
// checkpoint and exported in full. What was removed is itself recorded in the
// chain (AUDIT_PRUNED, with the hash of the last removed event), so verify knows
// where the remaining trail starts.
import { InvalidInputError, StateError } from '../errors/index.js';
import type { Database } from '../storage/index.js';
import { appendAudit } from './append.js';
import { checkReason } from './reason.js';
import { dropPartition, eventsOf, lastCheckpoint, lastEventOf, listPartitions, type Partition } from './repository.js';

export const MIN_ONLINE_MONTHS = 12;

export interface ExportRecord {
  from: string;
  to: string;
  lastSeq: number | null;
}

export type PrunePlan = { ok: true; drop: Partition[] } | { ok: false; partition: string; why: string };

const monthsBefore = (d: Date, months: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1));

/** Which partitions may go, or why the oldest one asked for may not. Pure. */
export function planPrune(
  partitions: Partition[],
  before: Date,
  now: Date,
  checkpointSeq: number | null,
  exports: ExportRecord[],
): PrunePlan {
  const oldestAllowedEnd = monthsBefore(now, MIN_ONLINE_MONTHS - 1);
  const drop: Partition[] = [];
  for (const p of partitions) {
    if (new Date(p.to) > before) break;
    const month = p.from.slice(0, 7);
    if (new Date(p.to) > oldestAllowedEnd) {
      return { ok: false, partition: p.name, why: `${month} is less than ${MIN_ONLINE_MONTHS} months old; the trail keeps at least ${MIN_ONLINE_MONTHS} months online` };
    }
    if (p.lastSeq !== null) {
      if (checkpointSeq === null || checkpointSeq < p.lastSeq) {
        return { ok: false, partition: p.name, why: `${month} (up to seq ${p.lastSeq}) is not covered by a signed checkpoint yet: run nixa audit checkpoint` };
      }
      const exported = exports.some((e) => e.from <= p.from && e.to >= p.to && e.lastSeq !== null && e.lastSeq >= p.lastSeq!);
      if (!exported) {
        return { ok: false, partition: p.name, why: `${month} has not been exported in full: run nixa audit export --from ${p.from.slice(0, 10)} --to ${p.to.slice(0, 10)} --out FILE, and keep the file` };
      }
    }
    drop.push(p);
  }
  return { ok: true, drop };
}

/** Parses --before YYYY-MM into the first instant of that month (UTC). */
export function parseMonth(value: string, option: string): Date {
  const m = /^(\d{4})-(\d{2})$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new InvalidInputError(option, `a month like 2025-01, got "${value}"`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

export async function prunePartitions(
  db: Database,
  opts: { before: Date; reason: string; actor: string; now?: Date },
): Promise<Partition[]> {
  const reason = checkReason(opts.reason, '--reason');
  const exports = (await eventsOf(db, 'AUDIT_EXPORTED')).map((e) => e.details as unknown as ExportRecord);
  const plan = planPrune(await listPartitions(db), opts.before, opts.now ?? new Date(), (await lastCheckpoint(db))?.seq ?? null, exports);
  if (!plan.ok) throw new StateError(`cannot remove ${plan.partition}: ${plan.why}`);
  if (!plan.drop.length) return [];
  const previous = (await lastEventOf(db, 'AUDIT_PRUNED'))?.details as { lastSeq?: number; lastHash?: string } | undefined;
  try {
    await db.transaction(async (tx) => {
      // The anchor verify starts from: the last event removed so far.
      let anchor = previous?.lastSeq !== undefined ? { lastSeq: previous.lastSeq, lastHash: previous.lastHash } : undefined;
      for (const p of plan.drop) {
        if (p.lastSeq !== null) {
          const { rows } = await tx.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = $1', [p.lastSeq]);
          anchor = { lastSeq: p.lastSeq, lastHash: rows[0]!.hash };
        }
        await dropPartition(tx, p.name);
        await appendAudit(tx, {
          event: 'AUDIT_PRUNED',
          actor: opts.actor,
          subject: p.name,
          reason,
          details: { from: p.from, to: p.to, events: p.events, firstSeq: p.firstSeq, ...anchor },
        });
      }
    });
  } catch (err) {
    if ((err as { code?: string }).code === '42501') {
      throw new StateError('removing audit partitions needs the role that owns the audit tables (README, "The database role"), not the application role');
    }
    throw err;
  }
  return plan.drop;
}
