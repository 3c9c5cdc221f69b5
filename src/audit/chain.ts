// The hash chain, as pure functions: how an event's hash is computed, and the
// walk that finds the first broken link. No I/O here; verify.ts feeds it rows.
import { createHash } from 'node:crypto';

/** prev_hash of the very first event. */
export const GENESIS = '0'.repeat(64);

export interface ChainRow {
  seq: number;
  /** ISO 8601 with milliseconds, as stored (timestamptz truncated to ms). */
  at: string;
  event: string;
  actor: string;
  subject: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** 1: written before migration 0008; 2: this module's format. */
  hashVersion: 1 | 2;
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as RFC 8785) and no
 * whitespace. jsonb does not keep key order, so the hash must not depend on it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Version 2: sha256 (hex) of the canonical JSON array
 * [2, seq, at, event, actor, subject, reason, details, prev_hash].
 * seq is inside, so a removed row shows as a gap even where the links were rebuilt.
 */
export function eventHash(r: Omit<ChainRow, 'hash' | 'hashVersion'>): string {
  return sha256(canonicalJson([2, r.seq, r.at, r.event, r.actor, r.subject, r.reason, r.details, r.prevHash]));
}

/**
 * Version 1 (before migration 0008) hashed JSON.stringify in the order the code
 * built `details`, which jsonb did not keep. A stored row is intact if some order
 * of its object keys reproduces the hash; an altered value matches none. Details
 * are small (a handful of keys), so the search is bounded and cheap.
 */
export function legacyHashMatches(r: ChainRow, budget = 50_000): boolean {
  const head = [r.prevHash, r.at, r.event, r.actor, r.subject];
  let tries = 0;
  for (const details of keyOrders(r.details)) {
    if (sha256(JSON.stringify([...head, details])) === r.hash) return true;
    if (++tries >= budget) return false;
  }
  return false;
}

/** Every way of ordering the keys of every object inside `value`. */
function* keyOrders(value: unknown): Generator<unknown> {
  if (value === null || typeof value !== 'object') {
    yield value;
    return;
  }
  if (Array.isArray(value)) {
    yield* product(value.map((v) => () => keyOrders(v)), (items) => items);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const keys of permutations(Object.keys(obj))) {
    yield* product(keys.map((k) => () => keyOrders(obj[k])), (items) => Object.fromEntries(keys.map((k, i) => [k, items[i]])));
  }
}

function* product<T>(parts: (() => Generator<unknown>)[], build: (items: unknown[]) => T, prefix: unknown[] = []): Generator<T> {
  if (prefix.length === parts.length) {
    yield build(prefix);
    return;
  }
  for (const item of parts[prefix.length]!()) yield* product(parts, build, [...prefix, item]);
}

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i]!, ...p];
  }
}

export function contentIntact(r: ChainRow): boolean {
  return r.hashVersion === 1 ? legacyHashMatches(r) : eventHash(r) === r.hash;
}

export type ChainBreak =
  | { kind: 'altered'; seq: number; at: string; message: string }
  | { kind: 'missing'; afterSeq: number | null; beforeSeq: number; at: string; message: string };

/** Where the walk starts: the hash the first row must point to, or trust the first row's link (--from). */
export type ChainAnchor = { seq: number | null; hash: string; what: string } | 'trust-first';

/**
 * Walks rows in seq order and reports the first broken link: a row whose content
 * no longer gives its hash (altered), or a row that does not point to the one
 * before it (rows missing in between).
 */
export class ChainWalker {
  #prev: { seq: number; hash: string } | undefined;
  #count = 0;

  constructor(private readonly anchor: ChainAnchor) {}

  get count(): number {
    return this.#count;
  }

  get last(): { seq: number; hash: string } | undefined {
    return this.#prev;
  }

  next(r: ChainRow): ChainBreak | undefined {
    if (!contentIntact(r)) {
      return { kind: 'altered', seq: r.seq, at: r.at, message: `seq ${r.seq} (${r.at}) was altered: its content no longer gives its hash` };
    }
    const prev = this.#prev;
    if (prev) {
      // Version 1 seq came from a sequence and may skip numbers after a rollback;
      // from version 2 on seq has no gaps, so a jump is itself a missing row.
      const gap = r.hashVersion === 2 && r.seq !== prev.seq + 1;
      if (r.prevHash !== prev.hash || gap) {
        return {
          kind: 'missing',
          afterSeq: prev.seq,
          beforeSeq: r.seq,
          at: r.at,
          message:
            r.seq > prev.seq + 1
              ? `row(s) missing between seq ${prev.seq} and seq ${r.seq} (${r.at}): seq ${r.seq} does not point to seq ${prev.seq}`
              : `seq ${r.seq} (${r.at}) does not point to seq ${prev.seq}: a row was removed or the chain rewritten`,
        };
      }
    } else if (this.anchor !== 'trust-first' && r.prevHash !== this.anchor.hash) {
      return {
        kind: 'missing',
        afterSeq: this.anchor.seq,
        beforeSeq: r.seq,
        at: r.at,
        message: `row(s) missing before seq ${r.seq} (${r.at}): it does not point to ${this.anchor.what}`,
      };
    }
    this.#prev = { seq: r.seq, hash: r.hash };
    this.#count++;
    return undefined;
  }
}
