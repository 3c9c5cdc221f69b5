// Consent: what a service may see, when the citizen must be asked, and what they agreed to.
export * from './policy.js';
export { CLAIM_LABELS, claimLabel, inReadingOrder } from './labels.js';
export { consentOf, consentsOf, deleteConsent, recordConsent, type StoredConsent } from './store.js';
