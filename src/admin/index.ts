// Administration: operators and their roles, and the admin API (the console, next,
// is a relying party of nixa that calls the same API).
export { adminApi, ADMIN_API_PREFIX, matchRoute, ROUTES, type AdminDeps, type Route } from './api.js';
export { bootstrapSecurityOfficer, grantRole, listOperators, revokeRole, type Operator } from './operators.js';
export { CONSOLE_CLIENT_ID } from './principal.js';
export { ADMIN_SCOPES, ROLES, adminResource, ROLE_PERMISSIONS, actorOf, allows, mayChangeRoles, permissionsOf, type Permission, type Principal, type Role } from './roles.js';
