// From what a source says to what nixa knows: pure functions, no I/O.
import { acrFor, atLeast, lowest, rank, type Level } from '../assurance/index.js';
import type { AttributeName, MappingEntry, Source } from '../sources/index.js';

/** Maps upstream claims to nixa attributes through the source's claim_mapping. */
export function mapClaims(
  mapping: Source['claimMapping'],
  claims: Record<string, unknown>,
): Partial<Record<AttributeName, string>> {
  const out: Partial<Record<AttributeName, string>> = {};
  for (const [attr, entry] of Object.entries(mapping) as [AttributeName, MappingEntry][]) {
    const claim = typeof entry === 'string' ? entry : entry.claim;
    const raw = claims[claim];
    if (raw === undefined || raw === null || raw === '') continue;
    const text = typeof raw === 'string' ? raw.normalize('NFC').trim() : String(raw);
    out[attr] = typeof entry === 'string' ? text : (entry.values?.[text] ?? text);
  }
  return out;
}

/**
 * The authentication level a login through this source reached: fixed by
 * configuration, or read from the returned acr; never above max_auth_level.
 * An acr the configuration does not know counts as the lowest level.
 */
export function authenticationLevel(source: Pick<Source, 'authLevel' | 'acrLevels' | 'maxAuthLevel'>, acr: string | undefined): Level {
  const reached: Level = source.authLevel ?? (acr !== undefined ? (source.acrLevels[acr] ?? 'low') : 'low');
  return rank(reached) > rank(source.maxAuthLevel) ? source.maxAuthLevel : reached;
}

/** The level a session stands at: the lower of identity proofing and authentication. */
export function sessionLevel(proofing: Level, authentication: Level): Level {
  return lowest(proofing, authentication);
}

/** What a sign-in asks of the source's authentication (from the service's request). */
export interface UpstreamAsk {
  level: Level | undefined;
  /** prompt=login */
  login: boolean;
  /** max_age, in seconds */
  maxAge: number | undefined;
}

/**
 * The source's own acr values that reach `level` (through acr_levels, capped by
 * max_auth_level), the least demanding first: sent upstream as acr_values, so the
 * source knows what the service needs. None when no level is asked, when the
 * source's level is fixed (auth_level), or when no acr of it maps high enough:
 * its answer is checked all the same.
 */
export function acrValuesFor(source: Pick<Source, 'authLevel' | 'acrLevels' | 'maxAuthLevel'>, level: Level | undefined): string[] {
  if (!level || source.authLevel) return [];
  const worth = (l: Level) => lowest(l, source.maxAuthLevel);
  return Object.entries(source.acrLevels)
    .filter(([, l]) => atLeast(worth(l), level))
    .sort(([a, la], [b, lb]) => rank(worth(la)) - rank(worth(lb)) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([acr]) => acr);
}


export type AnswerVerdict =
  | { ok: true; authLevel: Level; level: Level; authTime: number | undefined }
  | { ok: false; reason: 'insufficient-level' | 'stale-authentication' | 'bad-response'; detail: string; facts: Record<string, unknown> };

/**
 * Whether the source's answer gives what the sign-in asked, before nixa states
 * anything about it: the level its acr reaches (session level: capped by the
 * source's identity proofing) is at least the level asked; with prompt=login its
 * auth_time is not before nixa sent the citizen there; with max_age it is no
 * older than that. The auth_time nixa states is the source's, never the time
 * nixa heard of it (undefined when the source sent none and none was needed).
 */
export function confirmAnswer(
  source: Pick<Source, 'authLevel' | 'acrLevels' | 'maxAuthLevel' | 'proofingLevel'>,
  answer: { acr: string | undefined; authTime: number | undefined },
  ask: UpstreamAsk,
  clock: { startedAt: number; now: number; toleranceSeconds: number },
): AnswerVerdict {
  const authLevel = authenticationLevel(source, answer.acr);
  const level = sessionLevel(source.proofingLevel, authLevel);
  if (ask.level && !atLeast(level, ask.level)) {
    return {
      ok: false,
      reason: 'insufficient-level',
      detail: `asked ${ask.level}, the source's answer (acr ${answer.acr ?? 'none'}) reaches ${level}`,
      facts: { asked: ask.level, reached: level, acr: answer.acr ?? null },
    };
  }
  const authTime = answer.authTime;
  // How far a source's clock and nixa's may differ (NIXA_CLOCK_TOLERANCE_SECONDS): a
  // source session this much older than the request still passes prompt=login.
  const tolerance = clock.toleranceSeconds;
  if (authTime !== undefined && authTime > clock.now + tolerance) {
    return { ok: false, reason: 'bad-response', detail: `auth_time ${authTime - clock.now}s in the future`, facts: {} };
  }
  if (ask.login || ask.maxAge !== undefined) {
    const asked = { ...(ask.login ? { prompt: 'login' } : {}), ...(ask.maxAge !== undefined ? { max_age: ask.maxAge } : {}) };
    if (authTime === undefined) {
      return { ok: false, reason: 'stale-authentication', detail: 'a fresh authentication was asked and the source sent no auth_time', facts: { ...asked, age: null } };
    }
    const age = clock.now - authTime;
    if (ask.login && authTime < Math.floor(clock.startedAt) - tolerance) {
      return { ok: false, reason: 'stale-authentication', detail: `prompt=login, and the source's auth_time is ${age}s old, before nixa sent the citizen there`, facts: { ...asked, age } };
    }
    if (ask.maxAge !== undefined && age > ask.maxAge + tolerance) {
      return { ok: false, reason: 'stale-authentication', detail: `max_age ${ask.maxAge}, and the source's auth_time is ${age}s old`, facts: { ...asked, age } };
    }
  }
  return { ok: true, authLevel, level, authTime };
}

export { acrFor };
