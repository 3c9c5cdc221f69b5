// Which sources could vouch for a level a citizen cannot reach through the ones
// they use: pure, so the chooser and /account give the same advice.
import { atLeast, type Level } from '../assurance/index.js';
import { maxReachableLevel, type Source } from './index.js';

export interface LevelAdvice {
  level: Level;
  /** Enabled sources a sign-in through which can reach `level`. */
  able: Source[];
  /** Enabled sources that cannot. */
  unable: Source[];
  /**
   * A citizen-ID source among `able`: anyone can get an account there by activating
   * a level-2 e-ID account (định danh điện tử mức 2) at the police.
   */
  citizenId: Source | undefined;
}

/**
 * The sources that can and cannot reach `level`. A step-up-only source links no
 * one, so it counts only for an account already linked to it (`linked`).
 */
export function levelAdvice(sources: readonly Source[], level: Level, linked: ReadonlySet<string> = new Set()): LevelAdvice {
  const usable = sources.filter((s) => s.enabled && (s.role !== 'step-up-only' || linked.has(s.id)));
  const able = usable.filter((s) => atLeast(maxReachableLevel(s), level));
  const unable = usable.filter((s) => !atLeast(maxReachableLevel(s), level));
  return { level, able, unable, citizenId: able.find((s) => s.kind === 'citizen_id') };
}

/** Whether any of the account's linked sources can bring a sign-in to `level`. */
export function linkedCanReach(sources: readonly Source[], linked: ReadonlySet<string>, level: Level): boolean {
  return sources.some((s) => s.enabled && linked.has(s.id) && atLeast(maxReachableLevel(s), level));
}
