// The rules of CIBA at nixa (OpenID Connect Client-Initiated Backchannel
// Authentication 1.0) that need no I/O: what a login_hint may be, what a binding
// message may say, and how often a service may poll. Pure.
/**
 * The least time between two polls of one request at the token endpoint (CIBA
 * §7.3: 5 seconds when the OP says nothing, which is what nixa's answer says);
 * a poll sooner than this after the last answered one gets slow_down.
 */
export const POLL_INTERVAL_SECONDS = 5;

export type LoginHint = { kind: 'national-id'; value: string } | { kind: 'sub'; value: string };

/**
 * A login_hint is the citizen's national ID number (12 digits, the CCCD) or the
 * `sub` the service already knows for them; anything else is not a hint nixa can
 * resolve.
 */
export function parseLoginHint(hint: unknown): LoginHint | undefined {
  if (typeof hint !== 'string') return undefined;
  const v = hint.trim();
  if (/^\d{12}$/.test(v)) return { kind: 'national-id', value: v };
  return /^[A-Za-z0-9._~-]{1,128}$/.test(v) ? { kind: 'sub', value: v } : undefined;
}

/** At most this many characters: it has to fit on a phone's screen and on a counter's display. */
export const BINDING_MESSAGE_MAX = 40;

/**
 * The binding message, as the phone will show it, or why not. Required: it is
 * what the citizen compares with what the counter or the call centre tells them
 * (the number of a QR sign-in does the same). Vietnamese letters are welcome;
 * control and format characters are not (they could hide or reorder text).
 */
export function checkBindingMessage(input: unknown): { ok: true; message: string } | { ok: false; problem: string } {
  if (typeof input !== 'string' || !input.trim()) return { ok: false, problem: 'binding_message is required: the citizen compares it with what the service shows them' };
  const message = input.normalize('NFC').trim().replace(/\s+/g, ' ');
  if ([...message].length > BINDING_MESSAGE_MAX) return { ok: false, problem: `binding_message must be at most ${BINDING_MESSAGE_MAX} characters` };
  if (/[\p{C}]/u.test(message)) return { ok: false, problem: 'binding_message must not hold control or format characters' };
  return { ok: true, message };
}
