// Signing in on one screen by approving on the bound phone (issue 13 §2). The
// computer's sign-in makes a request with a one-time handle (shown as a QR code
// and a short link) and a two-digit number; the phone that opens the handle
// claims it, shows what is asked, and the citizen picks the number the computer
// shows and confirms with the phone's passkey (user verification required). The
// computer, polling, then completes its sign-in at the level the assurance policy
// gives a bound phone. Every refusal ends the request for both screens.
//
//   computer                         phone
//   startRequest  → handle, number
//                                    openRequest    (claims it; a second phone ends it)
//                                    pickNumber     (wrong: ends it)
//                                    approvalOptions → passkey challenge
//                                    approve        (passkey, UV) → approved
//                                    deny           → denied
//   requestStatus (polls; notices expiry)
//   takeApproval  → the login
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';

import { proofingLevelOf, type AccountsContext } from '../accounts/index.js';
import { atLeast, boundPhoneAssurance, type AssurancePolicy, type Level } from '../assurance/index.js';
import { appendAudit } from '../audit/index.js';
import { challengeBinding, clientAddress, startPasskeyAuthentication, verifyPasskeyAssertion, type FactorsContext } from '../factors/index.js';
import type { Database } from '../storage/index.js';
import {
  CROSS_DEVICE_TTL_SECONDS,
  handleHash,
  newHandle,
  newNumber,
  type DenialReason,
  type RequestState,
} from './policy.js';
import * as repo from './repository.js';

export interface CrossDeviceDeps {
  db: Database;
  factors: FactorsContext;
  accounts: AccountsContext;
  policy: AssurancePolicy;
  /**
   * Told once a CIBA request is approved or denied on a phone (after commit): the
   * service learns it from oidc-provider (src/ciba). A QR request needs nothing:
   * the computer polls.
   */
  cibaSettled?: (r: repo.RequestRow) => Promise<void>;
}

export type { RequestDetails, RequestRow } from './repository.js';

const actorOf = (phone: { id: string }) => `phone:${phone.id}`;

// ── The computer ─────────────────────────────────────────────────────────────

export interface NewRequest {
  interaction: string;
  clientId: string;
  details: repo.RequestDetails;
  now?: Date;
}

/** A new request for the computer's sign-in: the handle (for the QR code, never stored) and the number to show. */
export async function startRequest(deps: CrossDeviceDeps, r: NewRequest): Promise<{ handle: string; number: number; expiresAt: Date }> {
  const now = r.now ?? new Date();
  const handle = newHandle();
  const number = newNumber();
  const expiresAt = new Date(now.getTime() + CROSS_DEVICE_TTL_SECONDS * 1000);
  await repo.insertRequest(deps.db, { handleHash: handleHash(handle), interaction: r.interaction, clientId: r.clientId, number, details: r.details, createdAt: now, expiresAt });
  return { handle, number, expiresAt };
}

/**
 * The state of the computer's newest request, as its page polls it. A request
 * past its time is marked expired here (or wherever it is first noticed) and
 * audited once.
 */
export async function requestStatus(deps: CrossDeviceDeps, interaction: string, now = new Date()): Promise<repo.RequestRow | undefined> {
  const r = await repo.latestRequestOf(deps.db, interaction);
  if (!r) return undefined;
  return (await noticeExpiry(deps, r, now)) ?? r;
}

/**
 * Takes the approval of the computer's newest request (once): the login to
 * complete, or the request as it stands when there is none to take.
 */
export async function takeApproval(
  deps: CrossDeviceDeps,
  interaction: string,
  now = new Date(),
): Promise<{ ok: true; accountId: string; level: Level; amr: string[]; request: repo.RequestRow } | { ok: false; request: repo.RequestRow | undefined }> {
  const r = await requestStatus(deps, interaction, now);
  if (r?.state !== 'approved') return { ok: false, request: r };
  const taken = await repo.finishRequest(deps.db, r.handleHash, interaction);
  if (!taken) return { ok: false, request: await repo.selectRequest(deps.db, r.handleHash) };
  return { ok: true, accountId: taken.accountId!, level: taken.level!, amr: taken.amr ?? [], request: taken };
}

// ── The phone ────────────────────────────────────────────────────────────────

export interface Phone {
  id: string;
  accountId: string;
  passkeyId: string;
  boundLevel: Level;
}

export type Opened =
  | { ok: true; request: repo.RequestRow }
  | { ok: false; problem: 'unknown' | 'expired' | 'used' | DenialReason; request?: repo.RequestRow };

/**
 * A bound phone opens a handle (scanned or typed). The first phone to open it
 * claims it; the same phone may open it again (a reload); another phone ends it
 * (the code was shown to someone else: a relay). A computer signed in as another
 * account, or a level the phone cannot give, ends it too.
 */
export async function openRequest(deps: CrossDeviceDeps, handle: string, phone: Phone, now = new Date()): Promise<Opened> {
  const hash = handleHash(handle);
  let r = await repo.selectRequest(deps.db, hash);
  if (!r) return { ok: false, problem: 'unknown' };
  const expired = await noticeExpiry(deps, r, now);
  if (expired || r.state === 'expired') return { ok: false, problem: 'expired', request: expired ?? r };
  if (r.kind === 'ciba') return openCiba(deps, r, phone, now);
  if (r.state === 'pending') {
    const claimed = await repo.moveRequest(deps.db, hash, ['pending'], 'claimed', now, { claimedBy: phone.id, accountId: phone.accountId });
    // Another phone got there in the same instant: this one is the second.
    if (!claimed) return openRequest(deps, handle, phone, now);
    r = claimed;
    const refusal = await refusalFor(deps, r, phone);
    if (refusal) return deny(deps, r, phone, refusal, now).then((request) => ({ ok: false, problem: refusal, request }));
    return { ok: true, request: r };
  }
  if ((r.state === 'claimed' || r.state === 'matched') && r.claimedBy === phone.id) return { ok: true, request: r };
  if (r.state === 'claimed' || r.state === 'matched') {
    const ended = await deny(deps, r, phone, 'second-scan', now);
    return { ok: false, problem: 'second-scan', request: ended };
  }
  if (r.state === 'denied') return { ok: false, problem: r.reason ?? 'citizen', request: r };
  return { ok: false, problem: 'used', request: r };
}

/**
 * A CIBA request names its citizen: any of their phones may open it (the
 * notification reached each), and it goes straight to the passkey step — the
 * binding message, shown on both the phone and the service's screen, does what
 * the number does for a QR code. A phone of another account gets nothing from
 * it and cannot end it.
 */
async function openCiba(deps: CrossDeviceDeps, r: repo.RequestRow, phone: Phone, now: Date): Promise<Opened> {
  if (r.accountId !== phone.accountId) return { ok: false, problem: 'unknown' };
  if (r.state === 'denied') return { ok: false, problem: r.reason ?? 'citizen', request: r };
  if (r.state !== 'pending' && r.state !== 'claimed' && r.state !== 'matched') return { ok: false, problem: 'used', request: r };
  if (r.details.level && !atLeast(await phoneLevel(deps, phone), r.details.level)) {
    return { ok: false, problem: 'level', request: await deny(deps, r, phone, 'level', now) };
  }
  if (r.state === 'matched' && r.claimedBy === phone.id) return { ok: true, request: r };
  const moved = await repo.moveRequest(deps.db, r.handleHash, ['pending', 'claimed', 'matched'], 'matched', now, { claimedBy: phone.id });
  return moved ? { ok: true, request: moved } : { ok: false, problem: 'used', request: r };
}

/** Why this phone may not approve this request, if it may not. */
async function refusalFor(deps: CrossDeviceDeps, r: repo.RequestRow, phone: Phone): Promise<DenialReason | undefined> {
  if (r.details.sessionAccount && r.details.sessionAccount !== phone.accountId) return 'other-account';
  if (r.details.level && !atLeast(await phoneLevel(deps, phone), r.details.level)) return 'level';
  return undefined;
}

/** What an approval from this phone is worth now (the account's proofing may have changed since binding). */
async function phoneLevel(deps: CrossDeviceDeps, phone: Phone): Promise<Level> {
  return boundPhoneAssurance({ boundLevel: phone.boundLevel, proofingLevel: await proofingLevelOf(deps.accounts, phone.accountId) }, deps.policy).level;
}

/** The citizen picked a number on the phone: the right one lets them approve; a wrong one ends the request. */
export async function pickNumber(deps: CrossDeviceDeps, handle: string, phone: Phone, picked: unknown, now = new Date()): Promise<Opened> {
  const opened = await openRequest(deps, handle, phone, now);
  if (!opened.ok) return opened;
  const r = opened.request;
  if (r.state === 'matched') return opened;
  if (Number(picked) !== r.number || !/^\d{2}$/.test(String(picked))) {
    return { ok: false, problem: 'wrong-number', request: await deny(deps, r, phone, 'wrong-number', now) };
  }
  const matched = await repo.moveRequest(deps.db, r.handleHash, ['claimed'], 'matched', now, { onlyBy: phone.id });
  return matched ? { ok: true, request: matched } : openRequest(deps, handle, phone, now);
}

/** The passkey challenge for approving a matched request, bound to it. */
export async function approvalOptions(deps: CrossDeviceDeps, handle: string, phone: Phone, now = new Date()): Promise<PublicKeyCredentialRequestOptionsJSON | Opened> {
  const opened = await openRequest(deps, handle, phone, now);
  if (!opened.ok || opened.request.state !== 'matched') return opened;
  return startPasskeyAuthentication(deps.factors, {
    accountId: phone.accountId,
    binding: challengeBinding('cross-device', opened.request.handleHash),
    passkeyIds: [phone.passkeyId],
    userVerification: 'required',
    now,
  });
}

export type Approval = Opened | { ok: false; problem: 'passkey'; retryAfterSeconds: number; request: repo.RequestRow };

/**
 * The phone's passkey answered: checked under the factor lockout (a failure
 * counts like a wrong code), with user verification required; the request is
 * approved with what the assurance policy gives a bound phone.
 */
export async function approve(deps: CrossDeviceDeps, handle: string, phone: Phone, response: unknown, ip: string, now = new Date()): Promise<Approval> {
  const opened = await openRequest(deps, handle, phone, now);
  if (!opened.ok) return opened;
  if (opened.request.state !== 'matched') return { ok: false, problem: 'passkey', retryAfterSeconds: 0, request: opened.request };
  const r = opened.request;
  const checked = await verifyPasskeyAssertion(deps.factors, {
    accountId: phone.accountId,
    binding: challengeBinding('cross-device', r.handleHash),
    ip: clientAddress(ip),
    response,
    passkeyIds: [phone.passkeyId],
    now,
  });
  // verifyPasskeyAssertion demanded user verification (the challenge says so); checked again here.
  if (!checked.ok) return { ok: false, problem: 'passkey', retryAfterSeconds: checked.retryAfterSeconds, request: r };
  if (!checked.use?.userVerified) return { ok: false, problem: 'passkey', retryAfterSeconds: 0, request: r };
  const proofingLevel = await proofingLevelOf(deps.accounts, phone.accountId);
  const a = boundPhoneAssurance({ boundLevel: phone.boundLevel, proofingLevel }, deps.policy);
  const approved = await deps.db.transaction(async (tx) => {
    const moved = await repo.moveRequest(tx, r.handleHash, ['matched'], 'approved', now, { onlyBy: phone.id, level: a.level, amr: a.amr, decided: true });
    if (!moved) return undefined;
    await repo.touchBoundPhone(tx, phone.id, now);
    await appendAudit(tx, {
      event: 'CROSS_DEVICE_APPROVED',
      actor: actorOf(phone),
      subject: phone.accountId,
      details: { kind: r.kind, client: r.clientId, level: a.level, amr: a.amr, phoneId: phone.id, device: r.details.device },
    });
    return moved;
  });
  if (!approved) return openRequest(deps, handle, phone, now);
  if (approved.kind === 'ciba') await deps.cibaSettled?.(approved);
  return { ok: true, request: approved };
}

/** The citizen refused on the phone. */
export async function refuse(deps: CrossDeviceDeps, handle: string, phone: Phone, now = new Date()): Promise<Opened> {
  const opened = await openRequest(deps, handle, phone, now);
  if (!opened.ok) return opened;
  return { ok: false, problem: 'citizen', request: await deny(deps, opened.request, phone, 'citizen', now) };
}

// ── Shared ───────────────────────────────────────────────────────────────────

/** Ends a live request as refused (audited); the row as it then stands. */
async function deny(deps: CrossDeviceDeps, r: repo.RequestRow, phone: Phone, reason: DenialReason, now: Date): Promise<repo.RequestRow | undefined> {
  const denied = await denyIn(deps, r, phone, reason, now);
  if (denied?.kind === 'ciba' && denied.state === 'denied') await deps.cibaSettled?.(denied);
  return denied;
}

function denyIn(deps: CrossDeviceDeps, r: repo.RequestRow, phone: Phone, reason: DenialReason, now: Date): Promise<repo.RequestRow | undefined> {
  return deps.db.transaction(async (tx) => {
    const moved = await repo.moveRequest(tx, r.handleHash, ['pending', 'claimed', 'matched'], 'denied', now, { reason, decided: true });
    if (!moved) return repo.selectRequest(tx, r.handleHash);
    // The phone's owner is the subject: a second scan from someone else's phone is
    // a security event in the history of the citizen who scanned first.
    const owner = moved.accountId ?? phone.accountId;
    await appendAudit(tx, {
      event: 'CROSS_DEVICE_DENIED',
      actor: actorOf(phone),
      subject: owner,
      details: { reason, kind: r.kind, client: r.clientId, phoneId: phone.id, ...(moved.claimedBy && moved.claimedBy !== phone.id ? { firstPhoneId: moved.claimedBy } : {}), device: r.details.device },
    });
    return moved;
  });
}

/** Marks an undecided request past its time as expired (audited once); the row if this call did it. */
async function noticeExpiry(deps: CrossDeviceDeps, r: repo.RequestRow, now: Date): Promise<repo.RequestRow | undefined> {
  if (!(['pending', 'claimed', 'matched'] as RequestState[]).includes(r.state) || r.expiresAt > now) return undefined;
  return deps.db.transaction(async (tx) => {
    const expired = await repo.expireRequest(tx, r.handleHash, now);
    if (!expired) return undefined;
    await appendAudit(tx, {
      event: 'CROSS_DEVICE_EXPIRED',
      actor: 'system:cross-device',
      ...(expired.accountId ? { subject: expired.accountId } : {}),
      details: { kind: r.kind, client: r.clientId, reached: r.state },
    });
    return expired;
  });
}
