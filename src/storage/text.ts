// PostgreSQL refuses the NUL character in text and jsonb (and a jsonb \u0000
// escape). Input that carries one is malformed, never a server fault.
import { InvalidInputError } from '../errors/index.js';

/** Whether a string, or any string key or value inside an object or array, holds NUL. */
export function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v));
  return false;
}

// 22021 character_not_in_repertoire (NUL in text), 22P05 untranslatable_character (\u0000 in jsonb).
const REFUSED_TEXT = new Set(['22021', '22P05']);

/**
 * A query error as nixa reports it: text PostgreSQL cannot store becomes an input
 * error (400), the last defence for any path that reached the database with NUL;
 * anything else passes unchanged.
 */
export function asStorageError(err: unknown): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && REFUSED_TEXT.has(code) ? new InvalidInputError('(text)', 'must not contain the NUL character') : err;
}
