// `nixa audit verify`: walks the trail in seq order, a batch at a time, through
// the chain walker (chain.ts), and checks every signed checkpoint against the
// rows it vouches for. Reports the first broken link, not a flood.
import type { Queryable } from '../storage/index.js';
import { ChainWalker, GENESIS, type ChainAnchor } from './chain.js';
import { checkCheckpoint, keyThumbprint } from './checkpoint.js';
import {
  checkpointsAfter,
  eventsAfter,
  keyPublicJwk,
  lastCheckpoint,
  lastEventOf,
  readHead,
  type StoredCheckpoint,
} from './repository.js';

export interface VerifyProblem {
  kind: 'altered' | 'missing' | 'checkpoint';
  /** The event where the chain breaks (the later one for missing rows). */
  seq?: number;
  at?: string;
  checkpoint?: number;
  message: string;
}

export interface CheckpointKey {
  kid: string;
  /** RFC 7638 thumbprint of the public key kept with the checkpoints. */
  jkt: string;
  /** What vouches that this key is nixa's: still in the keys table, its KEY_CREATED event, or nothing (compare with an archived JWKS). */
  attestedBy: 'keys table' | `KEY_CREATED at seq ${number}` | null;
  checkpoints: number;
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  checkpoints: number;
  lastCheckpoint: { id: number; seq: number; createdAt: string } | null;
  /** At most one trail problem (the first broken link) and one checkpoint problem. */
  problems: VerifyProblem[];
  keys: CheckpointKey[];
}

export async function verifyTrail(db: Queryable, opts: { fromSeq?: number; batchSize?: number } = {}): Promise<VerifyReport> {
  const batch = opts.batchSize ?? 1000;
  // Fix the end first: events and checkpoints appended while we walk are not judged.
  const lastCp = await lastCheckpoint(db);
  const head = await readHead(db);

  let anchor: ChainAnchor = { seq: null, hash: GENESIS, what: 'the start of the trail' };
  let prunedThrough = 0;
  if (opts.fromSeq !== undefined) {
    anchor = 'trust-first';
  } else {
    const pruned = await lastEventOf(db, 'AUDIT_PRUNED');
    const d = pruned?.details as { lastSeq?: number; lastHash?: string } | undefined;
    if (pruned && typeof d?.lastSeq === 'number' && typeof d.lastHash === 'string') {
      prunedThrough = d.lastSeq;
      anchor = { seq: d.lastSeq, hash: d.lastHash, what: `seq ${d.lastSeq}, the last event removed by retention (recorded at seq ${pruned.seq})` };
    }
  }

  const walker = new ChainWalker(anchor);
  let trailProblem: VerifyProblem | undefined;
  let checkpointProblem: VerifyProblem | undefined;
  let firstSeq: number | null = null;

  // Checkpoints are read alongside the rows, in batches too.
  const checkpoints = checkpointStream(db, batch, lastCp?.id ?? 0);
  let cp = await checkpoints.next();
  let previousCp: StoredCheckpoint | undefined;
  let cpCount = 0;
  const keys = new Map<string, CheckpointKey>();

  const checkOne = async (c: StoredCheckpoint) => {
    const wrong = (await checkCheckpoint(c, previousCp)) ?? (await attest(db, c, keys));
    if (wrong && !checkpointProblem) {
      checkpointProblem = { kind: 'checkpoint', checkpoint: c.id, seq: c.seq, message: `checkpoint ${c.id} (signed ${c.createdAt}, covering seq ${c.seq}): ${wrong}` };
    }
    previousCp = c;
    cpCount++;
  };

  let after = (opts.fromSeq ?? prunedThrough + 1) - 1;
  walk: while (after < head.seq) {
    const rows = await eventsAfter(db, after, batch);
    if (!rows.length) break;
    for (const r of rows) {
      if (r.seq > head.seq) break walk;
      firstSeq ??= r.seq;
      const broken = walker.next(r);
      if (broken) {
        trailProblem = { kind: broken.kind, seq: broken.kind === 'altered' ? broken.seq : broken.beforeSeq, at: broken.at, message: broken.message };
        break walk;
      }
      while (!cp.done && cp.value.seq <= r.seq) {
        const c = cp.value;
        await checkOne(c);
        if (c.seq === r.seq && c.hash !== r.hash && !checkpointProblem) {
          checkpointProblem = {
            kind: 'checkpoint',
            checkpoint: c.id,
            seq: c.seq,
            at: r.at,
            message: `checkpoint ${c.id} (signed ${c.createdAt}) vouches that seq ${c.seq} had hash ${c.hash.slice(0, 16)}…; the trail now has ${r.hash.slice(0, 16)}…: it was rewritten up to seq ${c.seq}`,
          };
        }
        cp = await checkpoints.next();
      }
    }
    after = rows[rows.length - 1]!.seq;
  }

  const last = walker.last;
  if (!trailProblem) {
    const lastSeq = last?.seq ?? (opts.fromSeq === undefined ? prunedThrough : opts.fromSeq - 1);
    if (head.seq > lastSeq) {
      trailProblem = {
        kind: 'missing',
        seq: lastSeq + 1,
        message: `row(s) missing after seq ${lastSeq}: the chain head says the last event is seq ${head.seq}`,
      };
    } else if (last && last.hash !== head.hash) {
      trailProblem = { kind: 'altered', seq: last.seq, message: `seq ${last.seq} does not have the hash the chain head records: the last row was replaced` };
    }
  }
  // Checkpoints beyond the rows walked: their signatures are still checked; if
  // the walk was complete they also prove rows at the end were removed.
  for (; !cp.done; cp = await checkpoints.next()) {
    const c = cp.value;
    await checkOne(c);
    if (!trailProblem && !checkpointProblem && (!last || c.seq > last.seq)) {
      checkpointProblem = {
        kind: 'missing',
        checkpoint: c.id,
        seq: c.seq,
        message: `row(s) missing after seq ${last?.seq ?? 0}: checkpoint ${c.id} (signed ${c.createdAt}) vouches for events up to seq ${c.seq}`,
      };
    }
  }

  const problems = [trailProblem, checkpointProblem].filter((p): p is VerifyProblem => !!p);
  return {
    ok: problems.length === 0,
    events: walker.count,
    firstSeq,
    lastSeq: last?.seq ?? null,
    checkpoints: cpCount,
    lastCheckpoint: previousCp ? { id: previousCp.id, seq: previousCp.seq, createdAt: previousCp.createdAt } : null,
    problems,
    keys: [...keys.values()],
  };
}

async function* checkpointStream(db: Queryable, batch: number, upToId: number): AsyncGenerator<StoredCheckpoint, undefined> {
  let after = 0;
  while (after < upToId) {
    const rows = await checkpointsAfter(db, after, batch);
    if (!rows.length) return undefined;
    for (const c of rows) {
      if (c.id > upToId) return undefined;
      yield c;
    }
    after = rows[rows.length - 1]!.id;
  }
  return undefined;
}

/**
 * Is the checkpoint's key nixa's? The public key is kept with the checkpoint;
 * it must be the one in the keys table or, once that key is deleted, the one
 * whose thumbprint its KEY_CREATED event recorded. Returns a problem or undefined.
 */
async function attest(db: Queryable, c: StoredCheckpoint, seen: Map<string, CheckpointKey>): Promise<string | undefined> {
  const jkt = await keyThumbprint(c.publicJwk);
  const known = seen.get(c.kid);
  if (known) {
    if (known.jkt !== jkt) return `signed with a different public key than earlier checkpoints of kid ${c.kid}`;
    known.checkpoints++;
    return undefined;
  }
  const entry: CheckpointKey = { kid: c.kid, jkt, attestedBy: null, checkpoints: 1 };
  seen.set(c.kid, entry);
  const current = await keyPublicJwk(db, c.kid);
  if (current) {
    if ((await keyThumbprint(current)) !== jkt) return `signed with a public key that is not nixa's key ${c.kid}`;
    entry.attestedBy = 'keys table';
    return undefined;
  }
  const created = await lastEventOf(db, 'KEY_CREATED', c.kid);
  const recorded = (created?.details as { jkt?: unknown } | undefined)?.jkt;
  if (created && typeof recorded === 'string') {
    if (recorded !== jkt) return `signed with a public key whose thumbprint differs from the one KEY_CREATED recorded for ${c.kid} (seq ${created.seq})`;
    entry.attestedBy = `KEY_CREATED at seq ${created.seq}`;
  }
  return undefined;
}
