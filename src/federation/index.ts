// Federation: signing in at upstream identity sources and turning what they assert
// into nixa's attributes and assurance levels.
export { Upstream, type UpstreamIdentity } from './upstream.js';
export { FederationError, FAILURE_MESSAGES, NO_OTHER_SOURCE, type FederationFailure } from './errors.js';
export { mapClaims, authenticationLevel, sessionLevel } from './mapping.js';
export { purgeUpstreamLogins } from './transactions.js';
export {
  signOutAtSource,
  purgeUpstreamSessions,
  rememberSourceSession,
  sourceLoginLevel,
  type SourceLogin,
  returnFromSource,
  SIGNED_OUT_PATH,
  type SourceLogoutDeps,
} from './source-logout.js';
