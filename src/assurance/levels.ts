// The assurance vocabulary: the ordered levels and their acr values. No imports,
// so that nixa/verify (src/verify), which services install, can use it with jose alone.
/** Assurance levels, ordered low < substantial < high. */
export const LEVELS = ['low', 'substantial', 'high'] as const;
export type Level = (typeof LEVELS)[number];

export const rank = (l: Level): number => LEVELS.indexOf(l);
export const lowest = (...ls: Level[]): Level => ls.reduce((a, b) => (rank(a) <= rank(b) ? a : b));
export const highest = (...ls: Level[]): Level => ls.reduce((a, b) => (rank(a) >= rank(b) ? a : b));
export const atLeast = (l: Level, min: Level): boolean => rank(l) >= rank(min);

/** The acr value nixa states for a level. */
export const acrFor = (l: Level): string => `urn:nixa:loa:${l}`;
export const ACR_VALUES = LEVELS.map(acrFor);
export function levelOfAcr(acr: string): Level | undefined {
  return LEVELS.find((l) => acrFor(l) === acr);
}

/** amr value nixa adds for a login federated from an identity source (not in RFC 8176). */
export const AMR_FEDERATED = 'fed';

