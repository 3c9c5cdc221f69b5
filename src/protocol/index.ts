// The OpenID Connect protocol engine (oidc-provider) with nixa's storage and keys.
export { buildProvider, SOURCE_HINT_PARAM, type ProviderDeps } from './provider.js';
export { countActiveSessions, PostgresAdapter, purgeExpired, revokeGrant, sessionSidsFor } from './adapter.js';
export { deleteSessionsOf, revokeGrantsOf } from './revocation.js';
export { recordCache, type RecordCache } from './record-cache.js';
export { endGrantsOfDelegation } from './acting-for.js';
export { openShortLivedState, SHORT_LIVED_MODELS, type ShortLivedState } from './short-lived.js';
export {
  claimsRequest,
  requestedAuthentication,
  requestedLevel,
  requestedLevelOf,
  serviceMinimum,
  SERVICE_MINIMUM_PARAM,
  type ClaimsRequest,
  type RequestedAuthentication,
} from './requested-level.js';
export { describeError, oauthErrorPage, PAGE_ERRORS, pageErrorStatus } from './errors.js';
