// Consent: what a service may see, when the citizen must be asked, and what they agreed to.
export * from './policy.js';
export { CLAIM_LABELS, claimLabel, inReadingOrder } from './labels.js';
export { consentCache, consentKey, consentOf, consentsOf, deleteConsent, recordConsent, CONSENTS_CHANNEL, type ConsentCache, type StoredConsent } from './store.js';
