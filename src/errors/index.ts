// One error hierarchy for nixa. Each class carries a stable code (documented in
// README's error catalogue) and says how it becomes a CLI message or HTTP answer;
// src/app/errors.ts and src/cli are the only places that render them.
import { ACCOUNT_SIGN_IN_FAILURES, ACCOUNT_SIGN_IN_PREFIX, type AccountSignInFailure } from './account-sign-in.js';
import { CONSOLE_SIGN_IN_FAILURES, CONSOLE_SIGN_IN_PREFIX, type ConsoleSignInFailure } from './console-sign-in.js';

export abstract class NixaError extends Error {
  /** Stable, documented code support staff can look up. */
  abstract readonly code: string;
  /** HTTP status when the error reaches an HTTP boundary. */
  readonly status: number = 500;
}

/** A configuration variable is missing or malformed; nixa refuses to start. */
export class ConfigError extends NixaError {
  readonly code = 'NIXA-CFG-001';
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly others: string[] = [],
  ) {
    super(
      `Configuration error: ${variable} ${expected.startsWith('is ') || expected.startsWith('must') || expected.startsWith('cannot') ? expected : `must be ${expected}`}` +
        (others.length ? `\nAlso: ${others.join('; ')}` : ''),
    );
  }
}

/** Operator input (CLI or admin API) failed validation; names the field. */
export class InvalidInputError extends NixaError {
  readonly code = 'NIXA-INP-001';
  override readonly status = 400;
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A named record (client, key, ...) does not exist. */
export class NotFoundError extends NixaError {
  readonly code = 'NIXA-NTF-001';
  override readonly status = 404;
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} "${id}" not found`);
  }
}

/** The operation is not allowed in the record's current state (e.g. revoking a deleted key). */
export class StateError extends NixaError {
  readonly code = 'NIXA-STA-001';
  override readonly status = 409;
}

/** No valid credentials: the answer carries a WWW-Authenticate challenge (RFC 6750, RFC 9470). */
export class UnauthenticatedError extends NixaError {
  readonly code = 'NIXA-AUTH-001';
  override readonly status = 401;
  constructor(
    message: string,
    readonly challenge: string,
  ) {
    super(message);
  }
}

/**
 * Someone else's change committed between reading a record and writing it back.
 * Based on a version the caller named, that is a ConflictError (412); without
 * one (a command run without --if-version, nixa's own start-up), the record
 * changed meanwhile: a StateError, try again.
 */
export function lostRace(what: string, id: string, expected: number | undefined, read: number): NixaError {
  return expected === undefined
    ? new StateError(`${what} "${id}" changed while this change was being made; try again`)
    : new ConflictError(what, id, expected, read + 1);
}

/** A change to a versioned record came without the version it was based on (HTTP If-Match). */
export class PreconditionRequiredError extends NixaError {
  readonly code = 'NIXA-CNF-002';
  override readonly status = 428;
}

/** The caller is known but may not do this (a missing role or scope, a role change on oneself). */
export class ForbiddenError extends NixaError {
  readonly code = 'NIXA-AUTH-002';
  override readonly status = 403;
}

/**
 * Someone else changed the record since the caller read it (optimistic
 * concurrency): the caller held `expected`, the record is at `current`. HTTP 412
 * (Precondition Failed: the version in If-Match is not the current one). Nothing
 * was written.
 */
export class ConflictError extends NixaError {
  readonly code = 'NIXA-CNF-001';
  // Precondition Failed: the version the change was based on (If-Match) is not the current one.
  override readonly status = 412;
  constructor(
    readonly what: string,
    readonly id: string,
    readonly expected: number,
    readonly current: number,
  ) {
    super(`${what} "${id}" was changed by someone else (version ${current}, you had ${expected}); reload and try again`);
  }
}

/**
 * A form was posted to one of nixa's pages from another site (Origin or
 * Sec-Fetch-Site says so): refused before anything is read or changed.
 */
export class CrossSiteRequestError extends NixaError {
  readonly code = 'NIXA-CSRF-001';
  override readonly status = 403;
  constructor() {
    super('This form was sent from another site, so nixa did nothing with it.');
  }
}

/** The master key cannot decrypt stored key material: wrong key or tampered row. */
export class MasterKeyError extends NixaError {
  readonly code = 'NIXA-KEY-001';
}

/**
 * The key store could not sign (a PKCS#11 token removed, its PIN refused, its
 * session lost and not re-opened). HTTP 503: nixa never signs with another key
 * instead; `reason` is one of a few fixed words (pkcs11.ts), safe as a metric label.
 */
export class SigningUnavailableError extends NixaError {
  readonly code = 'NIXA-KEY-002';
  override readonly status = 503;
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The database cannot be reached or the schema is not what this build expects. */
export class StorageError extends NixaError {
  readonly code = 'NIXA-DB-001';
  override readonly status = 503;
}

/**
 * The database connection was lost or refused while serving a request (a
 * failover, a restart, a pooler cutting it). Whatever the request was writing
 * rolled back with its transaction; nothing is retried behind the caller's back.
 * HTTP 503: try again in a moment.
 */
export class StorageUnavailableError extends NixaError {
  readonly code = 'NIXA-DB-002';
  override readonly status = 503;
}

/**
 * A citizen's sign-in to their own account (my-account/sign-in.ts) did not end
 * signed in: the reason's code (NIXA-ACC-<reason>) and status come from
 * ACCOUNT_SIGN_IN_FAILURES, as do the words of its page.
 */
export class AccountSignInError extends NixaError {
  readonly code: string;
  override readonly status: number;
  constructor(
    readonly reason: AccountSignInFailure,
    /** For logs only (never shown, never request input unchecked, never a code or token). */
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.code = `${ACCOUNT_SIGN_IN_PREFIX}${reason}`;
    this.status = ACCOUNT_SIGN_IN_FAILURES[reason].status;
  }
}

/**
 * An operator's sign-in to the console (console/sign-in.ts) did not end signed
 * in: the reason's code (NIXA-CON-<reason>) and status come from
 * CONSOLE_SIGN_IN_FAILURES, as do the words of its page.
 */
export class ConsoleSignInError extends NixaError {
  readonly code: string;
  override readonly status: number;
  constructor(
    readonly reason: ConsoleSignInFailure,
    /** For logs only (never shown, never request input unchecked, never a code or token). */
    readonly detail: string,
    /** 'refused': the OAuth error nixa's authorization endpoint answered, when well-formed ([a-z_]); shown on the page. */
    readonly oauthError?: string,
  ) {
    super(`${reason}: ${detail}`);
    this.code = `${CONSOLE_SIGN_IN_PREFIX}${reason}`;
    this.status = CONSOLE_SIGN_IN_FAILURES[reason].status;
  }
}

/** Short catalogue for README and `nixa errors`. */
export const ERROR_CATALOGUE: Record<string, string> = {
  'NIXA-CFG-001': 'A configuration variable is missing or malformed; the message names it. nixa does not start.',
  'NIXA-INP-001': 'Operator input was refused; the message names the field and what it expects. Nothing was written.',
  'NIXA-NTF-001': 'The named client, key or record does not exist.',
  'NIXA-STA-001': 'The record is in a state that does not allow this operation (e.g. a disabled client, a deleted key).',
  'NIXA-CNF-001': 'The record was changed by someone else since the version the caller read; reload and try again. Nothing was written.',
  'NIXA-KEY-001': 'Stored key material cannot be decrypted: the master key is wrong or the row was tampered with.',
  'NIXA-KEY-002': 'The HSM (PKCS#11 token) holding the signing keys could not sign: token removed, PIN refused or session lost. HTTP 503 (temporarily_unavailable); nothing is signed with another key instead. The log and nixa_signing_failures_total say why.',
  'NIXA-DB-001': 'The database is unreachable or its schema is older or newer than this build.',
  'NIXA-DB-002': 'The database connection was lost or refused during the request (failover, restart): nothing was half-written; try again in a moment. HTTP 503.',
  'NIXA-CNF-002': 'A change to a versioned record came without the version it was based on (If-Match): read the record, then send its ETag.',
  'NIXA-AUTH-001': 'Admin API: no valid bearer token, or a sign-in below level high (WWW-Authenticate says which).',
  'NIXA-AUTH-002': 'Admin API: the caller may not do this (no role or scope for it, or a role change on their own account).',
  'NIXA-CSRF-001': "A form was posted to one of nixa's pages from another site (Origin, Sec-Fetch-Site); nothing was done.",
  'NIXA-REG-001':
    'No organisation registry could answer usably (unreachable, timeout, refused token, an answer outside the contract), or none is enabled; the log names each registry and reason. At sign-in the person may continue as themselves; a refresh gets temporarily_unavailable (HTTP 503) and its refresh token stays valid.',
};

export {
  accountAuthorizationFailure,
  ACCOUNT_SIGN_IN_FAILURES,
  ACCOUNT_SIGN_IN_HEADING,
  ACCOUNT_SIGN_IN_PREFIX,
  type AccountSignInFailure,
} from './account-sign-in.js';
export { CONSOLE_SIGN_IN_FAILURES, CONSOLE_SIGN_IN_HEADING, CONSOLE_SIGN_IN_PREFIX, type ConsoleSignInFailure } from './console-sign-in.js';
export { CONTROL_CHARACTER, fieldWithControlCharacter, refuseControlCharacters } from './control-characters.js';
export { INPUT_PROBLEMS, knownInputProblem, NIXA_PAGE_WORDS, wordsForStatus, type PageWords } from './pages.js';
