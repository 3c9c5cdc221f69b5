// `nixa errors`: every code a citizen, a service or an operator can be shown, in
// one list read from where each is defined, so that it cannot fall behind the
// code: nixa's own errors (errors/ERROR_CATALOGUE), the sign-in failures a citizen
// sees (federation/FAILURE_MESSAGES, with the HTTP status FederationError gives
// each), the failures of a sign-in to their own account (errors/
// ACCOUNT_SIGN_IN_FAILURES, NIXA-ACC-*, with their status), the failures of an
// operator's sign-in to the console (errors/CONSOLE_SIGN_IN_FAILURES, NIXA-CON-*,
// with their status), and the OAuth 2.0 / OpenID Connect errors services receive (the
// standards' codes, listed here once: they are the engine's, not nixa's).
import {
  AccountSignInError,
  ACCOUNT_SIGN_IN_FAILURES,
  CONSOLE_SIGN_IN_FAILURES,
  ConsoleSignInError,
  ERROR_CATALOGUE,
  type AccountSignInFailure,
  type ConsoleSignInFailure,
} from '../errors/index.js';
import { FAILURE_MESSAGES, FederationError, type FederationFailure } from '../federation/index.js';

export interface CatalogueEntry {
  code: string;
  /**
   * nixa's own error, a citizen's failed sign-in (NIXA-FED-*), a failed sign-in
   * to the citizen's own account (NIXA-ACC-*), a failed operator sign-in to the
   * console (NIXA-CON-*), or an OAuth error a service receives.
   */
  kind: 'nixa' | 'sign-in' | 'account-sign-in' | 'console-sign-in' | 'oauth';
  /** HTTP status of a citizen's failure page; an OAuth error's depends on the endpoint (or is a redirect). */
  status: number | null;
  meaning: string;
}

/**
 * The OAuth errors nixa's endpoints send with the features it enables (no device
 * flow, CIBA, DPoP or dynamic registration).
 */
const OAUTH: [code: string, meaning: string][] = [
  ['invalid_request', 'the request is malformed: a missing, repeated or invalid parameter (a NUL byte included)'],
  ['invalid_client', 'the client is unknown or disabled, or its authentication failed'],
  ['invalid_redirect_uri', 'redirect_uri is not one the service registered; the citizen sees a page and is not redirected'],
  ['invalid_grant', 'the code, refresh token or grant is invalid, expired, used, or not this client’s'],
  ['unauthorized_client', 'the client is not registered for this grant type'],
  ['unsupported_grant_type', 'nixa does not support this grant type'],
  ['unsupported_response_type', 'nixa supports response_type=code only'],
  ['invalid_scope', 'a scope the client is not registered for, or unknown'],
  ['invalid_target', 'a resource (API) the client is not registered for'],
  ['invalid_request_uri', 'a PAR request_uri that is unknown, used or expired'],
  ['invalid_request_object', 'a request object that does not verify'],
  ['login_required', 'prompt=none, and the citizen is not signed in'],
  ['consent_required', 'prompt=none, and the citizen has not consented'],
  ['interaction_required', 'prompt=none, and the sign-in needs the citizen (a higher level, a source)'],
  ['access_denied', 'the citizen declined to share, or the sign-in was refused'],
  ['invalid_token', 'userinfo or introspection: the access token is invalid or expired'],
  ['insufficient_scope', 'userinfo: the access token lacks the scope'],
  ['unsupported_token_type', 'revocation: nixa cannot revoke this token type (JWT access tokens expire)'],
  ['insufficient_user_authentication', "a service's API (nixa/verify, RFC 9470): the token's level is below what the API needs; sign in again with the acr_values it names"],
  ['temporarily_unavailable', 'the database connection was lost during the request: nothing was written; try again (NIXA-DB-002)'],
  ['server_error', 'nixa failed unexpectedly; the log has the cause, never the answer'],
];

export function errorCatalogue(): CatalogueEntry[] {
  const own = Object.entries(ERROR_CATALOGUE).map(([code, meaning]) => ({ code, kind: 'nixa' as const, status: null, meaning }));
  const signIn = (Object.keys(FAILURE_MESSAGES) as FederationFailure[]).map((reason) => {
    const e = new FederationError(reason, '');
    return { code: e.code, kind: 'sign-in' as const, status: e.status, meaning: FAILURE_MESSAGES[reason].en };
  });
  const account = (Object.keys(ACCOUNT_SIGN_IN_FAILURES) as AccountSignInFailure[]).map((reason) => {
    const e = new AccountSignInError(reason, '');
    return { code: e.code, kind: 'account-sign-in' as const, status: e.status, meaning: ACCOUNT_SIGN_IN_FAILURES[reason].meaning };
  });
  const consoleSignIn = (Object.keys(CONSOLE_SIGN_IN_FAILURES) as ConsoleSignInFailure[]).map((reason) => {
    const e = new ConsoleSignInError(reason, '');
    return { code: e.code, kind: 'console-sign-in' as const, status: e.status, meaning: CONSOLE_SIGN_IN_FAILURES[reason].meaning };
  });
  const services = OAUTH.map(([code, meaning]) => ({ code, kind: 'oauth' as const, status: null, meaning }));
  return [...own, ...signIn, ...account, ...consoleSignIn, ...services];
}
