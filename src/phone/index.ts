// The citizen's phone as their approver (issue 13): binding a phone to the account
// (bound-phones.ts), and approving on it a sign-in started on another screen
// (cross-device.ts, with the phone's pages in routes.ts and pages.ts). The
// numbers and pure rules are in policy.ts, the SQL in repository.ts.
export { finishBinding, listBoundPhones, MAX_PHONES, PHONE_COOKIE, rememberPhone, startBinding, thisPhone, unbindPhone, type BoundPhone, type Binding } from './bound-phones.js';
export { requestStatus, startRequest, takeApproval, type CrossDeviceDeps, type RequestDetails, type RequestRow } from './cross-device.js';
export { problemWords, type Problem } from './pages.js';
export { CROSS_DEVICE_TTL_SECONDS, groupHandle, handleHash, isSettled, KEPT_AFTER_EXPIRY_SECONDS, newHandle, POLL_MILLISECONDS } from './policy.js';
export { purgeRequests } from './repository.js';
export { PHONE_PATH, phoneRoutes, type PhoneRouteDeps } from './routes.js';
export { PUSH_PATH, phonePushRoutes, type PhonePushDeps } from './push-routes.js';
