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
 * The OAuth errors nixa's endpoints send with the features it enables (the device
 * grant, CIBA and DPoP included; no dynamic registration), and every code its
 * error page may show (protocol/errors.ts's PAGE_ERRORS, which /error/<code>
 * shows again): a test keeps this list a superset of both.
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
  ['unmet_authentication_requirements', 'no identity source nixa offers can reach the level the service asked (acr_values or an essential acr claim)'],
  ['unsupported_response_mode', 'response_mode is not one nixa supports (query, fragment, form_post)'],
  ['request_not_supported', 'a request object (request=) was sent: nixa does not accept them; send the parameters themselves or push them (PAR)'],
  ['request_uri_not_supported', 'request_uri anywhere but /auth with a pushed authorization request (PAR)'],
  ['registration_not_supported', 'the registration parameter was sent: nixa has no dynamic registration; an operator registers services'],
  ['invalid_client_metadata', 'the service’s registration cannot serve this request (e.g. an encrypted ID token asked with no suitable key in its JWKS)'],
  ['invalid_authorization_details', 'authorization_details (RFC 9396) is not valid; nixa does not enable rich authorization requests'],
  ['invalid_dpop_proof', 'a DPoP proof (RFC 9449) that does not verify: signature, htm/htu, iat or a reused jti'],
  ['use_dpop_nonce', 'DPoP: the proof must carry the nonce nixa sent in DPoP-Nonce (RFC 9449 §8); retry with it'],
  ['session_not_found', 'a page: the sign-in is over or expired (Back after a finished sign-in, an old link); it offers the service or nixa’s home'],
  ['authorization_pending', 'device grant or CIBA poll: the citizen has not approved yet; poll again after the interval'],
  ['slow_down', 'device grant or CIBA poll sooner than 5 s after the last answered one; wait longer between polls'],
  ['expired_token', 'device grant or CIBA: the device code or auth_req_id expired before the citizen approved; start again'],
  ['unknown_user_id', 'CIBA: login_hint names no citizen nixa can reach (no such national ID or sub, or the account is suspended)'],
  ['invalid_binding_message', 'CIBA: binding_message is missing, too long, or holds characters the phone cannot show'],
  ['invalid_user_code', 'CIBA: a user_code was sent; nixa uses none (the citizen approves on their bound phone)'],
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
