// The "once only" linking rule, pure: after a login at an identity source, decide
// whether its assertion creates an account, links to the account that already holds
// the national ID (adding or refreshing attributes with their provenance), or is
// refused. The caller finds the account by national ID hash, has already checked the
// number with checkNationalId, and writes what this decides.
//
// The rules, as decided:
// - Linking is by national ID only: an assertion without one, or from a source not
//   authoritative for 'national_id', is refused ('not-authoritative'), whether or not
//   an account exists. A returning login by an already linked (source, subject) that
//   does not carry the national ID is the caller's lookup, not a link.
// - A source already linked to this account under another subject is refused
//   ('subject-mismatch'): one subject per source per account.
// - Only attributes the source is authoritative for are compared and stored. The
//   others are ignored altogether, not even checked for conflicts: they are
//   unverified, so they neither prove nor disprove that this is the same person,
//   and letting them refuse a login would let self-declared data lock a citizen out.
// - Any authoritative identity attribute that differs from the stored value, whichever
//   source stored it, refuses the whole link ('conflict', every conflict listed): never
//   link silently. phone_number and permanent_address are changeable (people move and
//   hold several SIMs): a different value replaces the stored one when its level is the
//   same or higher, and is ignored otherwise. The caller must not log the conflicts' values (they hold personal data).
// - Comparison: national_id, birthdate and gender exactly; phone_number after
//   bringing Vietnamese numbers to +84 form ('0912 345 678' = '+84912345678'); the
//   free-text attributes (full_name, place_of_origin, permanent_address) after NFC,
//   whitespace collapsing and case folding. Vietnamese diacritics matter ('Lê' is not
//   'Lệ'), but sources that cannot carry them send the bare form, so a value with no
//   diacritics at all is compatible with a stored value that strips to it
//   ('NGUYEN VAN AN' ~ 'Nguyễn Văn An', 'Dang' ~ 'Đặng'). Partly accented forms
//   ('Nguyễn Van An') are a conflict.
// - Provenance: the stored value is always exactly what its recorded source asserted
//   (NFC, whitespace tidied). An equal value from a source at the same or a higher
//   level replaces the stored one with a fresh verifiedAt ('update'); a lower level
//   never downgrades it. A bare (diacritic-less) form never replaces an accented one,
//   whatever its level, because its source never vouched for the accents; an accented
//   form replaces a stored bare form when its level is the same or higher.
// - Storage is one value per attribute name (account_attributes' key); if several are
//   given, all are checked for conflicts and the highest-level one is the reference.

export type AttributeName =
  | 'national_id'
  | 'full_name'
  | 'birthdate'
  | 'gender'
  | 'place_of_origin'
  | 'permanent_address'
  | 'phone_number';

/** Identity-proofing level; the same order as src/assurance (low < substantial < high). */
export type Level = 'low' | 'substantial' | 'high';

export interface Assertion {
  sourceId: string;
  /** The identity-proofing level the source vouches for. */
  level: Level;
  authoritativeFor: AttributeName[];
  attributes: Partial<Record<AttributeName, string>>;
  /** The source's `sub`. */
  subject: string;
}

export interface StoredAttribute {
  name: AttributeName;
  value: string;
  sourceId: string;
  level: Level;
  verifiedAt: string;
}

export interface ExistingAccount {
  accountId: string;
  attributes: StoredAttribute[];
  linkedSources: { sourceId: string; subject: string }[];
}

export interface AttributeConflict {
  name: AttributeName;
  stored: string;
  asserted: string;
  storedSource: string;
}

export type LinkDecision =
  | { decision: 'create'; attributes: StoredAttribute[] }
  | { decision: 'link'; accountId: string; add: StoredAttribute[]; update: StoredAttribute[] }
  | { decision: 'refuse'; reason: 'conflict'; conflicts: AttributeConflict[] }
  | { decision: 'refuse'; reason: 'not-authoritative' }
  | { decision: 'refuse'; reason: 'subject-mismatch' };

/** Every attribute name, in the order decisions list them. */
export const ATTRIBUTE_NAMES: readonly AttributeName[] = [
  'national_id',
  'full_name',
  'birthdate',
  'gender',
  'place_of_origin',
  'permanent_address',
  'phone_number',
];

/**
 * Each attribute in plain words, for the page that tells a citizen which of their
 * details a source disagreed on (a link conflict): the name, never the value.
 */
export const ATTRIBUTE_LABELS: Readonly<Record<AttributeName, { vi: string; en: string }>> = Object.freeze({
  national_id: { vi: 'số định danh cá nhân', en: 'personal identification number' },
  full_name: { vi: 'họ và tên', en: 'full name' },
  birthdate: { vi: 'ngày sinh', en: 'date of birth' },
  gender: { vi: 'giới tính', en: 'gender' },
  place_of_origin: { vi: 'quê quán', en: 'place of origin' },
  permanent_address: { vi: 'nơi thường trú', en: 'permanent address' },
  phone_number: { vi: 'số điện thoại', en: 'phone number' },
});

const LEVEL_RANK: Record<Level, number> = { low: 0, substantial: 1, high: 2 };

/** NFC, whitespace collapsed and trimmed: the form values are compared and stored in. */
const tidy = (v: string) => v.normalize('NFC').replace(/\s+/gu, ' ').trim();

const fold = (v: string) => tidy(v).toLowerCase();

/** Removes Vietnamese diacritics: combining marks after NFD, and đ/Đ, which NFD keeps. */
const stripDiacritics = (v: string) =>
  v.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').normalize('NFC');

const isBare = (v: string) => stripDiacritics(v) === v;

/** How an asserted value relates to a stored one. */
type Comparison =
  | 'equal' //          the same value (possibly written differently)
  | 'bare-asserted' //  asserted without diacritics, stored with: compatible, keep stored
  | 'richer-asserted' // asserted with diacritics, stored without: compatible, may replace
  | 'different';

function compareText(asserted: string, stored: string): Comparison {
  const a = fold(asserted);
  const s = fold(stored);
  if (a === s) return 'equal';
  if (stripDiacritics(a) !== stripDiacritics(s)) return 'different';
  if (isBare(a)) return 'bare-asserted';
  if (isBare(s)) return 'richer-asserted';
  return 'different';
}

/** Vietnamese phone numbers in +84 form; anything else only loses its separators. */
function phoneKey(v: string): string {
  const compact = tidy(v).replace(/[\s.\-()]/g, '');
  if (/^00\d+$/.test(compact)) return `+${compact.slice(2)}`;
  if (/^0\d{9}$/.test(compact)) return `+84${compact.slice(1)}`;
  if (/^84\d{9}$/.test(compact)) return `+${compact}`;
  return compact;
}

const COMPARE: Record<AttributeName, (asserted: string, stored: string) => Comparison> = {
  national_id: (a, s) => (tidy(a) === tidy(s) ? 'equal' : 'different'),
  birthdate: (a, s) => (tidy(a) === tidy(s) ? 'equal' : 'different'),
  gender: (a, s) => (tidy(a) === tidy(s) ? 'equal' : 'different'),
  phone_number: (a, s) => (phoneKey(a) === phoneKey(s) ? 'equal' : 'different'),
  full_name: compareText,
  place_of_origin: compareText,
  permanent_address: compareText,
};

/**
 * Attributes a person legitimately changes (a move, a second SIM): a different
 * value is not a conflict. A newer value from the same or a higher level replaces
 * the stored one; from a lower level it is ignored. Identity attributes (ID number,
 * name, birthdate, gender, place of origin) stay strict.
 */
const CHANGEABLE: ReadonlySet<AttributeName> = new Set(['phone_number', 'permanent_address']);

/** The authoritative, non-empty attributes of an assertion, in ATTRIBUTE_NAMES order. */
function authoritativeValues(assertion: Assertion): [AttributeName, string][] {
  const out: [AttributeName, string][] = [];
  for (const name of ATTRIBUTE_NAMES) {
    const raw = assertion.attributes[name];
    if (!assertion.authoritativeFor.includes(name) || typeof raw !== 'string') continue;
    const value = tidy(raw);
    if (value !== '') out.push([name, value]);
  }
  return out;
}

export function decideLink(assertion: Assertion, existing: ExistingAccount | undefined, now: Date): LinkDecision {
  const values = authoritativeValues(assertion);
  if (!values.some(([name]) => name === 'national_id')) return { decision: 'refuse', reason: 'not-authoritative' };

  const verifiedAt = now.toISOString();
  const provenance = (name: AttributeName, value: string): StoredAttribute => ({
    name,
    value,
    sourceId: assertion.sourceId,
    level: assertion.level,
    verifiedAt,
  });

  if (!existing) return { decision: 'create', attributes: values.map(([name, value]) => provenance(name, value)) };

  if (existing.linkedSources.some((l) => l.sourceId === assertion.sourceId && l.subject !== assertion.subject)) {
    return { decision: 'refuse', reason: 'subject-mismatch' };
  }

  const conflicts: AttributeConflict[] = [];
  const add: StoredAttribute[] = [];
  const update: StoredAttribute[] = [];
  for (const [name, value] of values) {
    const stored = existing.attributes.filter((s) => s.name === name);
    if (stored.length === 0) {
      add.push(provenance(name, value));
      continue;
    }
    let reference = stored[0]!;
    if (CHANGEABLE.has(name)) {
      for (const s of stored) if (LEVEL_RANK[s.level] > LEVEL_RANK[reference.level]) reference = s;
      const comparison = COMPARE[name](value, reference.value);
      const notLower = LEVEL_RANK[assertion.level] >= LEVEL_RANK[reference.level];
      if (notLower && comparison !== 'bare-asserted') update.push(provenance(name, value));
      continue;
    }
    for (const s of stored) {
      const c = COMPARE[name](value, s.value);
      if (c === 'different') conflicts.push({ name, stored: s.value, asserted: value, storedSource: s.sourceId });
      if (LEVEL_RANK[s.level] > LEVEL_RANK[reference.level]) reference = s;
    }
    if (conflicts.some((c) => c.name === name)) continue;
    const comparison = COMPARE[name](value, reference.value);
    const notLower = LEVEL_RANK[assertion.level] >= LEVEL_RANK[reference.level];
    if ((comparison === 'equal' || comparison === 'richer-asserted') && notLower) update.push(provenance(name, value));
  }

  if (conflicts.length > 0) return { decision: 'refuse', reason: 'conflict', conflicts };
  return { decision: 'link', accountId: existing.accountId, add, update };
}
