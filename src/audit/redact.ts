// The trail must never hold tokens, secrets or full ID numbers. Callers already
// pass masked values; this is the safety net, as the log redaction list is for
// logs. Pure: it returns a cleaned copy.

// A full 12-digit personal identification number (CCCD), not part of a longer number.
// Identifiers are not ID numbers: about one UUID in 280 ends in a group of twelve
// decimal digits (a random hex digit is a decimal one 10 times in 16), and a hex
// hash or fingerprint holds such a run as often. Redacting those changed the
// subject of that account's every event, so its history and notices lost them.
// The alternation tries a whole UUID, then a whole lowercase hex digest (32 or
// more characters: MD5 and longer), before an ID number, and keeps the first two
// as they are. Narrow on purpose: "CCCD001085004217" is still an ID number.
const UUID = '(?<![0-9A-Za-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9A-Za-z])';
const DIGEST = '(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])';
const NATIONAL_ID = new RegExp(`${UUID}|${DIGEST}|(?<!\\d)\\d{12}(?!\\d)`, 'g');
const isIdNumber = (found: string) => /^\d{12}$/.test(found);
// A compact JWS/JWE (ID token, logout token, request object).
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
// Fields whose value is a secret whatever it looks like.
const SECRET_FIELD = /^(client_)?secret$|password|^(access_|refresh_|id_|logout_)?token$|^code(_verifier)?$|^private|^otp$|^totp$/i;

export function redactText(text: string): string {
  return text.replace(JWT, '[token removed]').replace(NATIONAL_ID, (found) => (isIdNumber(found) ? `${'*'.repeat(9)}${found.slice(-3)}` : found));
}

/**
 * The subjects an identifier may be stored under: itself, and, for events written
 * before identifiers were told apart from ID numbers, the form the old rule gave
 * it (a UUID ending in twelve decimal digits with those masked). The chain's
 * hashes cover the stored text, so old rows are found, not rewritten.
 */
export function storedSubjects(subject: string): string[] {
  const legacy = subject.replace(/(?<!\d)\d{12}(?!\d)/g, (id) => `${'*'.repeat(9)}${id.slice(-3)}`);
  return legacy === subject ? [subject] : [subject, legacy];
}

export function redactDetails(value: unknown, key = ''): unknown {
  if (key && SECRET_FIELD.test(key) && value !== null && value !== undefined) return '[removed]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactDetails(v));
  if (value && typeof value === 'object') {
    // Dates and other objects become what jsonb will store (JSON), then are cleaned.
    const plain = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, redactDetails(v, k)]));
  }
  return value;
}
