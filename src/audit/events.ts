// The audit event catalogue: every sensitive act has one name here, and logs and
// the audit trail speak these names.
export const AUDIT_EVENTS = {
  KEY_CREATED: 'Key created (state next): published in JWKS, not yet signing',
  KEY_ACTIVATED: 'Key became the active signing key for its algorithm',
  KEY_RETIRED: 'Key stopped signing; stays published until its last token expires',
  KEY_DELETED: 'Retired key removed after the longest token lifetime',
  KEY_REVOKED: 'Key revoked in an emergency: removed from JWKS at once, private part destroyed',
  CLIENT_ADDED: 'Relying party registered',
  CLIENT_DISABLED: 'Relying party disabled: it can no longer authenticate or start sign-ins',
  CLIENT_SECRET_ROTATED: 'Relying party secret replaced; the old one stops working at once',
  SOURCE_ADDED: 'Identity source registered',
  SOURCE_UPDATED: 'Identity source changed (the details list which fields)',
  SOURCE_DISABLED: 'Identity source disabled: no longer offered to citizens',
  ACCOUNT_CREATED: 'First sign-in of a person: account created from a source',
  ACCOUNT_LINKED: 'A source identity was linked to an existing account (same national ID)',
  LINK_CONFLICT: 'Security: a source asserted attributes that conflict with the account for that national ID; sign-in refused',
  UPSTREAM_REPLAY: 'Security: an identity source callback was replayed or forged; refused',
  SIGN_IN: 'A citizen signed in through a source (level reached, service)',
  CONSENT_GIVEN: 'A citizen agreed to share attributes with a service',
  CONSENT_REFUSED: 'A citizen refused to share attributes with a service',
  FACTOR_ENROLLED: 'A citizen added a second factor (an authenticator app after its first correct code)',
  FACTOR_REMOVED: 'A second factor was removed from an account',
  FACTOR_USED: 'A second factor was accepted (method; for a recovery code, how many remain)',
  FACTOR_FAILED: 'A second-factor attempt was refused and counted against the lockout (method and reason; never the code)',
  ACCOUNT_LOCKED: 'Security: too many failed second-factor attempts; the account, or a client address (details.scope), is locked until the stated time',
  ACCOUNT_UNLOCKED: 'A second-factor lock was lifted: it expired, or a security officer lifted it (with a reason)',
  RECOVERY_CODES_ISSUED: 'A new set of single-use recovery codes was issued; any earlier set no longer works',
  AUDIT_EXPORTED: 'An operator exported the audit trail between two times (details: range, seq range, sha256 of the file)',
  AUDIT_PRUNED: 'Retention removed a whole month of the audit trail, already checkpointed and exported (details: the last removed event\'s seq and hash)',
} as const;

export type AuditEventName = keyof typeof AUDIT_EVENTS;
