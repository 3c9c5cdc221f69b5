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
} as const;

export type AuditEventName = keyof typeof AUDIT_EVENTS;
