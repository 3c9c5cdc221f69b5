// Federation: signing in at upstream identity sources and turning what they assert
// into nixa's attributes and assurance levels.
export { Upstream, type UpstreamIdentity } from './upstream.js';
export { FederationError, FAILURE_MESSAGES, ForeignStateError, NO_OTHER_SOURCE, type FederationFailure } from './errors.js';
export { acrValuesFor, authenticationLevel, confirmAnswer, mapClaims, sessionLevel, type AnswerVerdict, type UpstreamAsk } from './mapping.js';
export { postgresUpstreamLogins, redisUpstreamLogins, type UpstreamLogins } from './transactions.js';
export {
  signOutAtSource,
  rememberSourceSession,
  sourceLoginLevel,
  sourceLoginOf,
  type SourceLogin,
  returnFromSource,
  SIGNED_OUT_PATH,
  type SourceLogoutDeps,
} from './source-logout.js';
export { purgeUpstreamSessions } from './source-sessions.js';
