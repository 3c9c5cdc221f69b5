// The numbers of signing in with a bound phone, in one place, and the rules that
// need no I/O: how a cross-device handle looks and how long it lives, the
// two-digit number and its decoys, and what a request's state means. Pure.
import { createHash, randomInt } from 'node:crypto';

/** How long a QR code (and its short link) can be used: a scan is seconds; two minutes allow for finding the phone. */
export const CROSS_DEVICE_TTL_SECONDS = 120;

/** How long a request's row is kept after it expires, so a late scan is told "expired" rather than "unknown". */
export const KEPT_AFTER_EXPIRY_SECONDS = 600;

/** How often the computer's page asks whether the phone answered. */
export const POLL_MILLISECONDS = 1000;

/**
 * The handle's alphabet: the device grant's base-20 consonants (no 0/O, 1/I, no
 * words). Ten of them are 20^10 ≈ 10^13 handles, each alive two minutes and opened
 * by a bound phone only; typed from the short link as BCDF-GHJK-LM.
 */
export const HANDLE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const HANDLE_LENGTH = 10;

export function newHandle(): string {
  return Array.from({ length: HANDLE_LENGTH }, () => HANDLE_ALPHABET[randomInt(HANDLE_ALPHABET.length)]).join('');
}

/** A handle as typed or scanned (any case, dashes and spaces): its canonical form, or undefined if it cannot be one. */
export function normalizeHandle(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 40) return undefined;
  const h = input.toUpperCase().replace(/[\s-]/g, '');
  return h.length === HANDLE_LENGTH && [...h].every((c) => HANDLE_ALPHABET.includes(c)) ? h : undefined;
}

/** BCDF-GHJK-LM: how a handle is shown for typing. */
export const groupHandle = (h: string) => `${h.slice(0, 4)}-${h.slice(4, 8)}-${h.slice(8)}`;

/** The handle is a bearer secret for two minutes: only its hash is stored. */
export const handleHash = (h: string) => createHash('sha256').update(`cross-device:${h}`).digest('base64url');

/** The number both screens show: two digits, never starting with 0 (10–99), so it reads the same aloud in any language. */
export const newNumber = () => randomInt(10, 100);

/**
 * The choices the phone offers: the number and two others, in random order. A
 * citizen who approves without looking at the computer picks wrong two times in
 * three, and a wrong pick ends the request.
 */
export function numberChoices(number: number): number[] {
  const picks = new Set([number]);
  while (picks.size < 3) picks.add(randomInt(10, 100));
  const list = [...picks];
  for (let i = list.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export type RequestState = 'pending' | 'claimed' | 'matched' | 'approved' | 'denied' | 'expired' | 'finished';

/**
 * Why a request was refused:
 *   citizen        the citizen pressed "Không phải tôi / Deny" on the phone
 *   wrong-number   the number picked is not the one the computer shows (a relayed code, or a guess)
 *   second-scan    another phone opened the code after the first: it may have been relayed, so it is ended
 *   other-account  the computer is signed in as someone else than the phone's owner
 *   level          the phone was bound at a level below what the service needs
 */
export type DenialReason = 'citizen' | 'wrong-number' | 'second-scan' | 'other-account' | 'level';
export const DENIAL_REASONS: readonly DenialReason[] = ['citizen', 'wrong-number', 'second-scan', 'other-account', 'level'];

/** A state the computer stops waiting at. */
export const isSettled = (s: RequestState) => s === 'approved' || s === 'denied' || s === 'expired' || s === 'finished';
