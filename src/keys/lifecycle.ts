// Key lifecycle policy, pure: given the keys that exist and the time, which steps
// bring them to the wanted state. next (published, not signing) → active (signs)
// → retired (published until every token it signed has expired) → deleted.
// revoked is the emergency exit from any state.

export type KeyUse = 'sig' | 'cookie';
export type KeyState = 'next' | 'active' | 'retired' | 'revoked';
/** Where a key's private part lives: encrypted in the database, or inside a PKCS#11 token. */
export type KeyBackend = 'software' | 'pkcs11';

export interface KeyRecord {
  kid: string;
  use: KeyUse;
  alg: string;
  state: KeyState;
  createdAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  deleteAfter: Date | null;
  /** Absent: software (records from before keys could live in a token). */
  backend?: KeyBackend;
}

export interface KeyPolicy {
  use: KeyUse;
  alg: string;
  /** How long a key signs before the next one takes over. */
  rotationSeconds: number;
  /** How long a retired key stays published (the longest lifetime of what it signed). */
  retainSeconds: number;
  /** Where this policy's keys are made; a key made elsewhere stops signing (absent: anywhere will do). */
  backend?: KeyBackend;
}

export type KeyStep =
  | { type: 'create'; use: KeyUse; alg: string; state: 'next' | 'active' }
  | { type: 'activate'; kid: string }
  | { type: 'retire'; kid: string; deleteAfter: Date }
  | { type: 'delete'; kid: string }
  | { type: 'revoke'; kid: string };

const addSeconds = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

function find(keys: KeyRecord[], use: KeyUse, alg: string, state: KeyState) {
  return keys.find((k) => k.use === use && k.alg === alg && k.state === state);
}

/** Whether `k` lives where `backend` wants it (no wish: anywhere). */
const isIn = (k: KeyRecord, backend: KeyBackend | undefined) => !backend || (k.backend ?? 'software') === backend;

/**
 * Promote next to active (or create an active key if there is none waiting), and
 * queue a new next. A waiting key in another backend than wanted never signs: it
 * is deleted and a new one made where the configuration says.
 */
function promote(keys: KeyRecord[], use: KeyUse, alg: string, backend?: KeyBackend): KeyStep[] {
  const waiting = find(keys, use, alg, 'next');
  const next = waiting && isIn(waiting, backend) ? waiting : undefined;
  if (waiting && !next) {
    return [{ type: 'delete', kid: waiting.kid }, { type: 'create', use, alg, state: 'active' }, { type: 'create', use, alg, state: 'next' }];
  }
  return next
    ? [{ type: 'activate', kid: next.kid }, { type: 'create', use, alg, state: 'next' }]
    : [{ type: 'create', use, alg, state: 'active' }, { type: 'create', use, alg, state: 'next' }];
}

/** Steps for a forced rotation of one (use, alg): the active key retires, next signs. */
export function planRotation(keys: KeyRecord[], policy: KeyPolicy, now: Date): KeyStep[] {
  const active = find(keys, policy.use, policy.alg, 'active');
  const steps: KeyStep[] = [];
  if (active) steps.push({ type: 'retire', kid: active.kid, deleteAfter: addSeconds(now, policy.retainSeconds) });
  return [...steps, ...promote(keys, policy.use, policy.alg, policy.backend)];
}

/**
 * Steps that scheduled maintenance takes: create missing keys, rotate keys past
 * their period, delete retired keys whose tokens have all expired, and retire
 * keys of algorithms no longer configured.
 */
export function planMaintenance(keys: KeyRecord[], policies: KeyPolicy[], now: Date): KeyStep[] {
  const steps: KeyStep[] = [];
  for (const p of policies) {
    const active = find(keys, p.use, p.alg, 'active');
    const next = find(keys, p.use, p.alg, 'next');
    if (!active) {
      steps.push(...promote(keys, p.use, p.alg, p.backend));
    } else if (addSeconds(active.activatedAt ?? active.createdAt, p.rotationSeconds) <= now || !isIn(active, p.backend)) {
      // Also when the backend changed (software → HSM or back): the old key retires at once.
      steps.push(...planRotation(keys, p, now));
    } else if (!next) {
      steps.push({ type: 'create', use: p.use, alg: p.alg, state: 'next' });
    } else if (!isIn(next, p.backend)) {
      steps.push({ type: 'delete', kid: next.kid }, { type: 'create', use: p.use, alg: p.alg, state: 'next' });
    }
  }
  const wanted = (k: KeyRecord) => policies.some((p) => p.use === k.use && p.alg === k.alg);
  for (const k of keys) {
    if (k.state === 'retired' && k.deleteAfter && k.deleteAfter <= now) {
      steps.push({ type: 'delete', kid: k.kid });
    } else if (!wanted(k) && k.state === 'next') {
      steps.push({ type: 'delete', kid: k.kid });
    } else if (!wanted(k) && k.state === 'active') {
      const retain = Math.max(...policies.filter((p) => p.use === k.use).map((p) => p.retainSeconds), 0);
      steps.push({ type: 'retire', kid: k.kid, deleteAfter: addSeconds(now, retain) });
    }
  }
  return steps;
}

/**
 * Steps to revoke a key. An active key is replaced at once by the waiting one so
 * that signing never stops; a new next key is queued behind it.
 */
export function planRevocation(keys: KeyRecord[], kid: string, backend?: KeyBackend): KeyStep[] | { error: string } {
  const key = keys.find((k) => k.kid === kid);
  if (!key) return { error: 'not-found' };
  if (key.state === 'revoked') return { error: 'already-revoked' };
  const steps: KeyStep[] = [{ type: 'revoke', kid }];
  if (key.state === 'active') steps.push(...promote(keys, key.use, key.alg, key.use === 'sig' ? backend : undefined));
  if (key.state === 'next') steps.push({ type: 'create', use: key.use, alg: key.alg, state: 'next' });
  return steps;
}

/** Keys that belong in the published JWKS: everything that may have signed a live token, or soon will. */
export function isPublished(k: KeyRecord, now: Date): boolean {
  if (k.use !== 'sig') return false;
  if (k.state === 'next' || k.state === 'active') return true;
  return k.state === 'retired' && !!k.deleteAfter && k.deleteAfter > now;
}
