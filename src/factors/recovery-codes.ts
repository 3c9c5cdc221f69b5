// Recovery codes: ten single-use codes shown once, for when the authenticator app
// is lost. Kept only as argon2id hashes; issuing a new set voids the old one.
import { randomInt, randomUUID } from 'node:crypto';

import argon2 from 'argon2';

import { appendAudit } from '../audit/index.js';
import { NotFoundError } from '../errors/index.js';
import type { Queryable } from '../storage/index.js';
import { citizen, type FactorsContext } from './context.js';
import * as repo from './repository.js';

export const RECOVERY_CODE_COUNT = 10;

/**
 * Digits and capitals without the ones people confuse when reading a printout or
 * typing it back: 0/O, 1/I/L, and U (read as V). 30 symbols, 10 per code: about
 * 49 bits each, far beyond what the lockout lets anyone guess.
 */
export const RECOVERY_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 10;

/**
 * Codes are random, not chosen by people, so OWASP's minimum argon2id cost is
 * enough (as for client secrets); it keeps checking ten hashes quick.
 */
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** One code, shown as two groups of five: "7KQ2M-XD9FH". */
export function generateRecoveryCode(): string {
  const chars = Array.from({ length: LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]!);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

/** A code as typed back: any case, spaces and hyphens ignored; undefined if it cannot be one. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  return code.length === LENGTH && [...code].every((c) => RECOVERY_ALPHABET.includes(c)) ? code : undefined;
}

/**
 * Issues a new set of codes, replacing the old set (used or not) in the same
 * transaction as its audit event. The plaintext codes are returned once, to be
 * shown once; nixa cannot show them again.
 */
export async function issueRecoveryCodes(ctx: FactorsContext, accountId: string, now = new Date(), actor = citizen(accountId)): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
  const hashed = await Promise.all(
    codes.map(async (c) => ({ id: randomUUID(), hash: await argon2.hash(normalizeRecoveryCode(c)!, HASH_OPTIONS) })),
  );
  await ctx.db.transaction(async (tx) => {
    if (!(await repo.accountExists(tx, accountId))) throw new NotFoundError('account', accountId);
    const replaced = await repo.replaceRecoveryCodes(tx, accountId, hashed, now);
    await appendAudit(tx, { event: 'RECOVERY_CODES_ISSUED', actor, subject: accountId, details: { count: codes.length, replacedUnused: replaced } });
  });
  return codes;
}

/** The id of the account's unused code that matches, checking every hash (no early exit). */
async function findCode(db: Queryable, accountId: string, typed: string): Promise<string | undefined> {
  const unused = await repo.selectUnusedRecoveryCodes(db, accountId);
  const matches = await Promise.all(unused.map((c) => argon2.verify(c.hash, typed).catch(() => false)));
  return unused[matches.indexOf(true)]?.id;
}

async function spend(tx: Queryable, accountId: string, id: string, now: Date): Promise<boolean> {
  // Of two requests with one code, only one changes the row.
  if (!(await repo.markRecoveryCodeUsed(tx, id, now))) return false;
  const remaining = await repo.countUnusedRecoveryCodes(tx, accountId);
  await appendAudit(tx, { event: 'FACTOR_USED', actor: citizen(accountId), subject: accountId, details: { method: 'recovery-code', remaining } });
  return true;
}

/** Checks and spends a code inside the caller's transaction (see withAttempt). */
export async function useRecoveryCodeIn(tx: Queryable, accountId: string, code: string, now: Date): Promise<boolean> {
  const typed = normalizeRecoveryCode(code);
  if (!typed) return false;
  const id = await findCode(tx, accountId, typed);
  return id !== undefined && spend(tx, accountId, id, now);
}

/**
 * true once per code: the hashes are checked outside any transaction (argon2 is
 * slow on purpose), then the code is spent with a conditional UPDATE, so of two
 * parallel uses of one code exactly one succeeds. Does not count failures.
 */
export async function useRecoveryCode(ctx: FactorsContext, accountId: string, code: string, now = new Date()): Promise<boolean> {
  const typed = normalizeRecoveryCode(code);
  if (!typed) return false;
  const id = await findCode(ctx.db, accountId, typed);
  if (id === undefined) return false;
  return ctx.db.transaction((tx) => spend(tx, accountId, id, now));
}

export function remainingRecoveryCodes(ctx: FactorsContext, accountId: string): Promise<number> {
  return repo.countUnusedRecoveryCodes(ctx.db, accountId);
}
