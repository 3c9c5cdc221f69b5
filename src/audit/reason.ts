// The reason an operator gives for a change: required, recorded in the audit trail
// beside the change. One rule for every command, route and console form.
import { InvalidInputError } from '../errors/index.js';

export const MIN_REASON_LENGTH = 10;
export const MAX_REASON_LENGTH = 500;

/** The trimmed reason, or an InvalidInputError naming `field`. Lengths count characters (code points). */
export function checkReason(input: unknown, field = 'reason'): string {
  const reason = typeof input === 'string' ? input.trim() : '';
  const length = Array.from(reason).length;
  if (length < MIN_REASON_LENGTH) throw new InvalidInputError(field, `say why, in at least ${MIN_REASON_LENGTH} characters (it is recorded in the audit trail)`);
  if (length > MAX_REASON_LENGTH) throw new InvalidInputError(field, `at most ${MAX_REASON_LENGTH} characters`);
  return reason;
}
