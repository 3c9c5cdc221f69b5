// From what a source says to what nixa knows: pure functions, no I/O.
import { acrFor, lowest, rank, type Level } from '../assurance/index.js';
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

export { acrFor };
