// The rule for control characters in input, one for every route that reads
// parameters: nixa's pages, the console, the admin API.
import { InvalidInputError } from './index.js';

// C0 controls and DEL, but not tab, line feed and carriage return, which a
// textarea (an operator's reason) may hold. PostgreSQL refuses NUL in text and
// jsonb; the others have no business in an identifier, a code or a name.
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * The name of the first field whose name or value (at any depth) holds a control
 * character, as a dotted path ("extra.note", "ids.2"); undefined if none does.
 */
export function fieldWithControlCharacter(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return CONTROL_CHARACTER.test(value) ? path || '(value)' : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      // A repeated parameter or a list of strings keeps its name; an object in a list is named by its index.
      const found = fieldWithControlCharacter(item, typeof item === 'object' && item !== null ? `${path}.${i}` : path);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const name = path ? `${path}.${key}` : key;
      if (CONTROL_CHARACTER.test(key)) return path || '(name)';
      const found = fieldWithControlCharacter(item, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** Throws the input error naming the first field with a control character. */
export function refuseControlCharacters(value: unknown): void {
  const field = fieldWithControlCharacter(value);
  if (field) throw new InvalidInputError(field, 'must not contain control characters');
}

