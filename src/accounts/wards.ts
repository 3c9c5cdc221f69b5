// Wards: the minor children a source (at proofing level high, sources/schema.ts)
// says a person is the legal representative of, kept as that source last said it,
// and the child's own nixa account, made the first time a parent acts for them.
// Whether a parent may act for a child (age, service) is the caller's policy; this
// file only keeps what the source said and finds or makes the child's account.
import { randomUUID } from 'node:crypto';

import { appendAudit } from '../audit/index.js';
import type { Queryable } from '../storage/index.js';
import type { AccountsContext } from './index.js';
import type { AttributeName, Level, StoredAttribute } from './linking.js';
import { checkNationalId, maskNationalId, nationalIdHash } from './national-id.js';
import * as repo from './repository.js';
import { sealed } from './sealing.js';
import * as wardsRepo from './wards-repository.js';

export interface Ward {
  nationalId: string;
  fullName: string;
  /** YYYY-MM-DD */
  birthdate: string;
  gender?: 'male' | 'female';
  /** The source that said so. */
  sourceId: string;
  /** When it last said so (ISO 8601): the guardian's last sign-in through it. */
  assertedAt: string;
}

export interface WardAccount {
  /** The child's nixa account. */
  accountId: string;
  ward: Ward;
  /** False: the child's account is suspended; the caller refuses to act for it. */
  enabled: boolean;
}

/** What recordWards kept: the caller logs the counts, never what was skipped. */
export interface RecordedWards {
  recorded: number;
  /** Elements without a valid number (checkNationalId against birthdate and gender), name or birthdate, the guardian themselves, or a repeat. */
  skipped: number;
}

type Sealed = { national_id: string; full_name: string; birthdate: string; gender?: 'male' | 'female' };

// Bound to the guardian, the source and the child: a sealed row copied onto another
// guardian's (or moved to another child's key) does not open.
const aad = (guardianId: string, sourceId: string, hash: string) => `ward:${guardianId}:${sourceId}:${hash}`;

function toWard(ctx: AccountsContext, guardianId: string, row: wardsRepo.WardRow): Ward {
  const v = JSON.parse(ctx.cipher.decrypt(row.sealed, aad(guardianId, row.sourceId, row.wardNationalIdHash))) as Sealed;
  return {
    nationalId: v.national_id,
    fullName: v.full_name,
    birthdate: v.birthdate,
    ...(v.gender ? { gender: v.gender } : {}),
    sourceId: row.sourceId,
    assertedAt: row.assertedAt.toISOString(),
  };
}

/** A child as a source asserted them (already mapped to nixa's attribute names), or undefined when it cannot be believed. */
function acceptable(w: Partial<Record<AttributeName, string>>, now: Date): Sealed | undefined {
  const { national_id: nid, full_name: name, birthdate } = w;
  if (!nid || !name?.trim() || !birthdate) return undefined;
  // A gender the mapping did not translate is not an attribute nixa keeps; the number still carries one.
  const gender = w.gender === 'male' || w.gender === 'female' ? w.gender : undefined;
  if (!checkNationalId(nid, { birthdate, ...(gender ? { gender } : {}) }, now).ok) return undefined;
  return { national_id: nid, full_name: name.trim(), birthdate, ...(gender ? { gender } : {}) };
}

/**
 * Replaces what `sourceId` says of `guardianId`'s wards, in the caller's
 * transaction (the sign-in's): a child it no longer names is gone. Elements that
 * cannot be believed are skipped and counted; the guardian's own number is never
 * their ward.
 */
export async function recordWards(
  ctx: AccountsContext,
  tx: Queryable,
  guardianId: string,
  sourceId: string,
  wards: Array<Partial<Record<AttributeName, string>>>,
  now = new Date(),
): Promise<RecordedWards> {
  const own = await wardsRepo.selectNationalIdHash(tx, guardianId);
  const kept = new Map<string, Buffer>();
  for (const w of wards) {
    const ward = acceptable(w, now);
    if (!ward) continue;
    const hash = nationalIdHash(ward.national_id, ctx.pepper);
    if (hash === own || kept.has(hash)) continue;
    kept.set(hash, ctx.cipher.encrypt(JSON.stringify(ward), aad(guardianId, sourceId, hash)));
  }
  await wardsRepo.replaceWards(tx, guardianId, sourceId, [...kept].map(([hash, s]) => ({ hash, sealed: s })), now);
  return { recorded: kept.size, skipped: wards.length - kept.size };
}

/** Every ward of the guardian, from every source still vouching for children: oldest child first, then by name. */
export async function wardsOf(ctx: AccountsContext, guardianId: string): Promise<Ward[]> {
  const wards = (await wardsRepo.selectWards(ctx.db, guardianId)).map((r) => toWard(ctx, guardianId, r));
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return wards.sort((a, b) => order(a.birthdate, b.birthdate) || a.fullName.localeCompare(b.fullName, 'vi') || order(a.sourceId, b.sourceId));
}

/**
 * The child's nixa account, when that number is (still) asserted as the guardian's
 * ward: found by the number's hash, under the same lock as a sign-in (once only, the
 * number is the key), or made in one transaction with what the source said of the
 * child, at its proofing level, without any upstream link. An existing account is
 * never overwritten; a suspended one is returned with enabled false.
 */
export async function wardAccount(ctx: AccountsContext, guardianId: string, wardNationalId: string): Promise<WardAccount | undefined> {
  if (typeof wardNationalId !== 'string' || !/^[0-9]{12}$/.test(wardNationalId)) return undefined;
  const hash = nationalIdHash(wardNationalId, ctx.pepper);
  return ctx.db.transaction(async (tx): Promise<WardAccount | undefined> => {
    await repo.lockNationalId(tx, hash);
    const row = await wardsRepo.selectWard(tx, guardianId, hash);
    if (!row) return undefined;
    const ward = toWard(ctx, guardianId, row);
    const found = await wardsRepo.selectAccountByHash(tx, hash);
    if (found) return { accountId: found.id, ward, enabled: found.enabled };
    const id = randomUUID();
    await repo.insertAccount(tx, id, hash);
    const level: Level = row.proofingLevel;
    const values: [AttributeName, string | undefined][] = [
      ['national_id', ward.nationalId],
      ['full_name', ward.fullName],
      ['birthdate', ward.birthdate],
      ['gender', ward.gender],
    ];
    for (const [name, value] of values) {
      if (value === undefined) continue;
      const a: StoredAttribute = { name, value, sourceId: row.sourceId, level, verifiedAt: ward.assertedAt };
      await repo.upsertAttribute(tx, id, { name, sourceId: a.sourceId, level, verifiedAt: a.verifiedAt, stored: sealed(ctx.cipher, id, a) });
    }
    await appendAudit(tx, {
      event: 'ACCOUNT_CREATED',
      actor: `account:${guardianId}`,
      subject: id,
      details: { nationalId: maskNationalId(ward.nationalId), by: 'guardian', source: row.sourceId, level },
    });
    return { accountId: id, ward, enabled: true };
  });
}

/** The ward as last asserted for this guardian, by the child's account (for re-checks at refresh); undefined when no longer their ward. */
export async function wardByAccount(ctx: AccountsContext, guardianId: string, wardAccountId: string): Promise<Ward | undefined> {
  const row = await wardsRepo.selectWardByAccount(ctx.db, guardianId, wardAccountId);
  return row && toWard(ctx, guardianId, row);
}
