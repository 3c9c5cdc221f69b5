// Consent: what a service may see and when the citizen must be asked.
export * from './policy.js';
