// The key lifecycle policy on its own: no database, no clock but the one passed in.
import {
  isPublished,
  type KeyPolicy,
  type KeyRecord,
  type KeyStep,
  planMaintenance,
  planRevocation,
  planRotation,
} from '../../src/keys/lifecycle.js';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const DAY = 86_400;
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);

const RS: KeyPolicy = { use: 'sig', alg: 'RS256', rotationSeconds: 30 * DAY, retainSeconds: 615 };
const ES: KeyPolicy = { use: 'sig', alg: 'ES256', rotationSeconds: 30 * DAY, retainSeconds: 615 };
const COOKIE: KeyPolicy = { use: 'cookie', alg: 'HS256', rotationSeconds: 7 * DAY, retainSeconds: 8 * 3600 };

let serial = 0;
function key(partial: Partial<KeyRecord> & Pick<KeyRecord, 'state'>): KeyRecord {
  serial += 1;
  const base: KeyRecord = {
    kid: `kid-${serial}`,
    use: 'sig',
    alg: 'RS256',
    state: partial.state,
    createdAt: at(-DAY),
    activatedAt: partial.state === 'active' ? at(-DAY) : null,
    retiredAt: null,
    deleteAfter: null,
  };
  return { ...base, ...partial };
}

/** A steady (use, alg): an active key well inside its period and a waiting next key. */
function steady(policy: KeyPolicy, activatedSecondsAgo = DAY): KeyRecord[] {
  return [
    key({ use: policy.use, alg: policy.alg, state: 'active', activatedAt: at(-activatedSecondsAgo), createdAt: at(-activatedSecondsAgo - 60) }),
    key({ use: policy.use, alg: policy.alg, state: 'next', createdAt: at(-activatedSecondsAgo) }),
  ];
}

const creates = (steps: KeyStep[]) => steps.filter((s) => s.type === 'create');

describe('planMaintenance', () => {
  it('creates an active and a next key for every policy when there are no keys at all', () => {
    const steps = planMaintenance([], [RS, ES, COOKIE], NOW);
    expect(steps).toHaveLength(6);
    for (const p of [RS, ES, COOKIE]) {
      expect(steps).toContainEqual({ type: 'create', use: p.use, alg: p.alg, state: 'active' });
      expect(steps).toContainEqual({ type: 'create', use: p.use, alg: p.alg, state: 'next' });
    }
    expect(steps.every((s) => s.type === 'create')).toBe(true);
  });

  it('does nothing when every algorithm has an active key inside its period and a next key waiting', () => {
    const keys = [...steady(RS), ...steady(ES), ...steady(COOKIE)];
    expect(planMaintenance(keys, [RS, ES, COOKIE], NOW)).toEqual([]);
  });

  it('retires an active key past its rotation period, activates the next one and queues a new next', () => {
    const [active, next] = steady(RS, RS.rotationSeconds + 1);
    const steps = planMaintenance([active!, next!], [RS], NOW);
    expect(steps).toEqual([
      { type: 'retire', kid: active!.kid, deleteAfter: at(RS.retainSeconds) },
      { type: 'activate', kid: next!.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('rotates exactly when the rotation period has elapsed, not a second before', () => {
    const [activeDue, nextDue] = steady(RS, RS.rotationSeconds);
    expect(planMaintenance([activeDue!, nextDue!], [RS], NOW).map((s) => s.type)).toEqual(['retire', 'activate', 'create']);
    const [activeEarly, nextEarly] = steady(RS, RS.rotationSeconds - 1);
    expect(planMaintenance([activeEarly!, nextEarly!], [RS], NOW)).toEqual([]);
  });

  it('counts the rotation period from activation, not creation, of the active key', () => {
    const active = key({ state: 'active', createdAt: at(-RS.rotationSeconds * 2), activatedAt: at(-DAY) });
    const next = key({ state: 'next' });
    expect(planMaintenance([active, next], [RS], NOW)).toEqual([]);
  });

  it('rotates an overdue active key that has no next key by creating a new active one', () => {
    const active = key({ state: 'active', activatedAt: at(-RS.rotationSeconds - 10) });
    expect(planMaintenance([active], [RS], NOW)).toEqual([
      { type: 'retire', kid: active.kid, deleteAfter: at(RS.retainSeconds) },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'active' },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('queues a next key when the active key has none waiting', () => {
    const active = key({ state: 'active' });
    expect(planMaintenance([active], [RS], NOW)).toEqual([{ type: 'create', use: 'sig', alg: 'RS256', state: 'next' }]);
  });

  it('promotes a waiting next key when there is no active key', () => {
    const next = key({ state: 'next' });
    expect(planMaintenance([next], [RS], NOW)).toEqual([
      { type: 'activate', kid: next.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('deletes a retired key once its deleteAfter has passed, and at deleteAfter itself', () => {
    const past = key({ state: 'retired', retiredAt: at(-700), deleteAfter: at(-1) });
    const exact = key({ state: 'retired', retiredAt: at(-615), deleteAfter: NOW });
    const steps = planMaintenance([...steady(RS), past, exact], [RS], NOW);
    expect(steps).toEqual([
      { type: 'delete', kid: past.kid },
      { type: 'delete', kid: exact.kid },
    ]);
  });

  it('keeps a retired key before its deleteAfter, and keeps publishing it', () => {
    const retired = key({ state: 'retired', retiredAt: at(-10), deleteAfter: at(1) });
    expect(planMaintenance([...steady(RS), retired], [RS], NOW)).toEqual([]);
    expect(isPublished(retired, NOW)).toBe(true);
    // Once maintenance would delete it, it is no longer published either.
    expect(isPublished(retired, at(1))).toBe(false);
  });

  it('retires the active key and deletes the next key of an algorithm that is no longer configured', () => {
    const [esActive, esNext] = steady(ES);
    const steps = planMaintenance([...steady(RS), esActive!, esNext!], [RS], NOW);
    expect(steps).toEqual([
      { type: 'retire', kid: esActive!.kid, deleteAfter: at(RS.retainSeconds) },
      { type: 'delete', kid: esNext!.kid },
    ]);
  });

  it('keeps a dropped algorithm’s retired key published until its deleteAfter, then deletes it', () => {
    const esRetired = key({ alg: 'ES256', state: 'retired', retiredAt: at(-10), deleteAfter: at(600) });
    expect(planMaintenance([...steady(RS), esRetired], [RS], NOW)).toEqual([]);
    expect(planMaintenance([...steady(RS), esRetired], [RS], at(600))).toEqual([{ type: 'delete', kid: esRetired.kid }]);
  });

  it('never deletes or changes a revoked key (it stays for the record)', () => {
    const revoked = key({ state: 'revoked', deleteAfter: at(-DAY) });
    const revokedEs = key({ alg: 'ES256', state: 'revoked' });
    expect(planMaintenance([...steady(RS), revoked, revokedEs], [RS], NOW)).toEqual([]);
  });

  it('replaces a revoked active key instead of counting it as active', () => {
    const revoked = key({ state: 'revoked', activatedAt: at(-60) });
    const next = key({ state: 'next' });
    expect(planMaintenance([revoked, next], [RS], NOW)).toEqual([
      { type: 'activate', kid: next.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('rotates cookie keys on their own period, independently of signing keys', () => {
    const keys = [...steady(RS, COOKIE.rotationSeconds + 1), ...steady(COOKIE, COOKIE.rotationSeconds + 1)];
    const steps = planMaintenance(keys, [RS, COOKIE], NOW);
    const cookieActive = keys.find((k) => k.use === 'cookie' && k.state === 'active')!;
    expect(steps).toEqual([
      { type: 'retire', kid: cookieActive.kid, deleteAfter: at(COOKIE.retainSeconds) },
      { type: 'activate', kid: keys.find((k) => k.use === 'cookie' && k.state === 'next')!.kid },
      { type: 'create', use: 'cookie', alg: 'HS256', state: 'next' },
    ]);
  });
});

describe('planRotation', () => {
  it('retires the active key with deleteAfter = now + retainSeconds, activates next and queues a new next', () => {
    const [active, next] = steady(RS);
    expect(planRotation([active!, next!], RS, NOW)).toEqual([
      { type: 'retire', kid: active!.kid, deleteAfter: at(RS.retainSeconds) },
      { type: 'activate', kid: next!.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('only touches the (use, alg) of its policy', () => {
    const keys = [...steady(RS), ...steady(ES), ...steady(COOKIE)];
    const steps = planRotation(keys, ES, NOW);
    const esKids = keys.filter((k) => k.alg === 'ES256').map((k) => k.kid);
    for (const s of steps) {
      if ('kid' in s) expect(esKids).toContain(s.kid);
      else expect(s).toMatchObject({ use: 'sig', alg: 'ES256' });
    }
    expect(creates(steps)).toHaveLength(1);
  });

  it('creates an active and a next key when there is nothing to rotate', () => {
    expect(planRotation([], RS, NOW)).toEqual([
      { type: 'create', use: 'sig', alg: 'RS256', state: 'active' },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });
});

describe('planRevocation', () => {
  it('revokes the active key, promotes the next key at once and queues a new next', () => {
    const [active, next] = steady(RS);
    expect(planRevocation([active!, next!], active!.kid)).toEqual([
      { type: 'revoke', kid: active!.kid },
      { type: 'activate', kid: next!.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('revokes an active key with no next waiting by creating a new active key, so signing never stops', () => {
    const active = key({ state: 'active' });
    expect(planRevocation([active], active.kid)).toEqual([
      { type: 'revoke', kid: active.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'active' },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('revokes the next key and queues a replacement next, leaving the active key signing', () => {
    const [active, next] = steady(RS);
    const steps = planRevocation([active!, next!], next!.kid);
    expect(steps).toEqual([
      { type: 'revoke', kid: next!.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('revokes a retired key and nothing else', () => {
    const retired = key({ state: 'retired', retiredAt: at(-10), deleteAfter: at(600) });
    expect(planRevocation([...steady(RS), retired], retired.kid)).toEqual([{ type: 'revoke', kid: retired.kid }]);
  });

  it('refuses an unknown kid', () => {
    expect(planRevocation(steady(RS), 'no-such-kid')).toEqual({ error: 'not-found' });
  });

  it('refuses a key that is already revoked', () => {
    const revoked = key({ state: 'revoked' });
    expect(planRevocation([...steady(RS), revoked], revoked.kid)).toEqual({ error: 'already-revoked' });
  });

  it('promotes within the revoked key’s own (use, alg) only', () => {
    const keys = [...steady(ES), ...steady(RS)];
    const rsActive = keys.find((k) => k.alg === 'RS256' && k.state === 'active')!;
    const rsNext = keys.find((k) => k.alg === 'RS256' && k.state === 'next')!;
    const steps = planRevocation(keys, rsActive.kid);
    expect(steps).toContainEqual({ type: 'activate', kid: rsNext.kid });
    expect(steps).toContainEqual({ type: 'create', use: 'sig', alg: 'RS256', state: 'next' });
    expect(steps).toHaveLength(3);
  });
});

describe('isPublished', () => {
  it('publishes next and active signing keys', () => {
    expect(isPublished(key({ state: 'next' }), NOW)).toBe(true);
    expect(isPublished(key({ state: 'active' }), NOW)).toBe(true);
  });

  it('publishes a retired signing key until deleteAfter and not from then on', () => {
    const retired = key({ state: 'retired', retiredAt: at(-10), deleteAfter: at(5) });
    expect(isPublished(retired, NOW)).toBe(true);
    expect(isPublished(retired, at(4.999))).toBe(true);
    expect(isPublished(retired, at(5))).toBe(false);
    expect(isPublished(retired, at(6))).toBe(false);
  });

  it('does not publish a retired key that has no deleteAfter', () => {
    expect(isPublished(key({ state: 'retired', retiredAt: at(-10), deleteAfter: null }), NOW)).toBe(false);
  });

  it('never publishes a revoked key', () => {
    expect(isPublished(key({ state: 'revoked', deleteAfter: at(DAY) }), NOW)).toBe(false);
  });

  it('never publishes a cookie key, whatever its state', () => {
    for (const state of ['next', 'active', 'retired', 'revoked'] as const) {
      expect(isPublished(key({ use: 'cookie', alg: 'HS256', state, deleteAfter: at(DAY) }), NOW)).toBe(false);
    }
  });
});

describe('a change of key backend (NIXA_KEY_BACKEND)', () => {
  const HSM_RS: KeyPolicy = { ...RS, backend: 'pkcs11' };

  it('retires an active software key at once and lets no software next key sign: both are replaced by token keys', () => {
    const [active, next] = steady(RS);
    const steps = planMaintenance([active!, next!], [HSM_RS], NOW);
    expect(steps).toEqual([
      { type: 'retire', kid: active!.kid, deleteAfter: at(HSM_RS.retainSeconds) },
      { type: 'delete', kid: next!.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'active' },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('leaves keys already in the configured backend alone, and records without a backend count as software', () => {
    const inToken = steady(RS).map((k) => ({ ...k, backend: 'pkcs11' as const }));
    expect(planMaintenance(inToken, [HSM_RS], NOW)).toEqual([]);
    expect(planMaintenance(steady(RS), [{ ...RS, backend: 'software' }], NOW)).toEqual([]);
  });

  it('replaces only a waiting key made in the other backend', () => {
    const [active, next] = steady(RS).map((k) => ({ ...k, backend: 'pkcs11' as const }));
    const softNext = { ...next!, backend: 'software' as const };
    expect(planMaintenance([active!, softNext], [HSM_RS], NOW)).toEqual([
      { type: 'delete', kid: softNext.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });

  it('never promotes a waiting key of the other backend when the active key is revoked', () => {
    const [active, next] = steady(RS);
    const plan = planRevocation([active!, next!], active!.kid, 'pkcs11');
    expect(plan).toEqual([
      { type: 'revoke', kid: active!.kid },
      { type: 'delete', kid: next!.kid },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'active' },
      { type: 'create', use: 'sig', alg: 'RS256', state: 'next' },
    ]);
  });
});
