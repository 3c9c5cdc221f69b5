// The trail must never hold tokens, secrets or full ID numbers. Callers already
// pass masked values; this is the safety net, as the log redaction list is for
// logs. Pure: it returns a cleaned copy.

// A full 12-digit personal identification number (CCCD), not part of a longer number.
const NATIONAL_ID = /(?<!\d)\d{12}(?!\d)/g;
// A compact JWS/JWE (ID token, logout token, request object).
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
// Fields whose value is a secret whatever it looks like.
const SECRET_FIELD = /^(client_)?secret$|password|^(access_|refresh_|id_|logout_)?token$|^code(_verifier)?$|^private|^otp$|^totp$/i;

export function redactText(text: string): string {
  return text.replace(JWT, '[token removed]').replace(NATIONAL_ID, (id) => `${'*'.repeat(9)}${id.slice(-3)}`);
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
