// Who may do what in nixa's administration: the operator roles, the permissions
// each carries, and the admin scopes a machine client may be given. Pure: the
// admin API asks `allows(principal, permission)` before every call.
//
// Roles are granted to a person's nixa account (operators are nixa users who sign
// in to the console at level high). A machine (an operator's automation, over
// client_credentials) holds only the permissions its scopes name, and never
// the permission to grant roles: people are made operators by people.
export const ROLES = ['source-operator', 'service-operator', 'security-officer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'sources:read',
  'sources:write',
  'clients:read',
  'clients:write',
  'keys:read',
  'keys:write',
  'accounts:read',
  'accounts:write',
  'operators:read',
  'operators:write',
  'audit:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  // Onboards identity sources and keeps them running.
  'source-operator': ['sources:read', 'sources:write'],
  // Registers public services and manages their settings.
  'service-operator': ['clients:read', 'clients:write'],
  // Keys, accounts of citizens, operators and the trail: the sensitive acts.
  'security-officer': ['keys:read', 'keys:write', 'accounts:read', 'accounts:write', 'operators:read', 'operators:write', 'audit:read'],
  // Reads everything that is not a citizen's data, changes nothing.
  auditor: ['sources:read', 'clients:read', 'keys:read', 'operators:read', 'audit:read'],
});

/**
 * The admin API as a resource (RFC 8707): the audience of operators' access tokens
 * and of machine clients' client_credentials tokens. Here, beside the scopes, so
 * that the protocol engine can name it without loading the admin API.
 */
export const adminResource = (issuer: string) => `${issuer}/admin/api`;

/** The scope a machine client asks for to hold a permission: `admin:keys:write`. */
export const adminScope = (p: Permission) => `admin:${p}`;

/** Permissions a machine may hold: every one but granting roles. */
export const MACHINE_PERMISSIONS: readonly Permission[] = PERMISSIONS.filter((p) => p !== 'operators:write');
export const ADMIN_SCOPES: readonly string[] = MACHINE_PERMISSIONS.map(adminScope);

export type Principal =
  | { kind: 'operator'; accountId: string; roles: readonly Role[] }
  | { kind: 'machine'; clientId: string; scopes: readonly string[] };

export function permissionsOf(p: Principal): Set<Permission> {
  if (p.kind === 'operator') return new Set(p.roles.flatMap((r) => ROLE_PERMISSIONS[r]));
  return new Set(MACHINE_PERMISSIONS.filter((perm) => p.scopes.includes(adminScope(perm))));
}

export const allows = (p: Principal, permission: Permission): boolean => permissionsOf(p).has(permission);

/** Who the audit trail names: `operator:<account>` or `client:<client id>`. */
export const actorOf = (p: Principal): string => (p.kind === 'operator' ? `operator:${p.accountId}` : `client:${p.clientId}`);

export type RoleChangeRefusal = 'not-allowed' | 'self' | 'machine';

/**
 * Whether `by` may grant or revoke a role of `accountId`: only a security officer,
 * only a person, and never on their own account (two people are needed to make
 * someone more powerful, or to take a colleague's role away).
 */
export function mayChangeRoles(by: Principal, accountId: string): { ok: true } | { ok: false; reason: RoleChangeRefusal } {
  if (by.kind === 'machine') return { ok: false, reason: 'machine' };
  if (!allows(by, 'operators:write')) return { ok: false, reason: 'not-allowed' };
  if (by.accountId === accountId) return { ok: false, reason: 'self' };
  return { ok: true };
}
