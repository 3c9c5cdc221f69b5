// The roles and permissions as built, and who may change roles: pure policy.
import { ADMIN_SCOPES, ROLE_PERMISSIONS, allows, mayChangeRoles, permissionsOf, type Principal } from '../../src/admin/index.js';

const officer: Principal = { kind: 'operator', accountId: 'a-officer', roles: ['security-officer'] };
const services: Principal = { kind: 'operator', accountId: 'a-services', roles: ['service-operator'] };
const both: Principal = { kind: 'operator', accountId: 'a-both', roles: ['source-operator', 'auditor'] };
const robot: Principal = { kind: 'machine', clientId: 'ci-bot', scopes: ['admin:keys:read', 'openid', 'admin:operators:write'] };

describe('operator roles', () => {
  it('states the roles and their permissions as built', () => {
    expect(ROLE_PERMISSIONS).toEqual({
      'source-operator': ['sources:read', 'sources:write'],
      'service-operator': ['clients:read', 'clients:write'],
      'security-officer': ['keys:read', 'keys:write', 'accounts:read', 'accounts:write', 'operators:read', 'operators:write', 'audit:read'],
      auditor: ['sources:read', 'clients:read', 'keys:read', 'operators:read', 'audit:read'],
    });
  });

  it.each<[string, Principal, string, boolean]>([
    ['a service operator cannot touch keys', services, 'keys:write', false],
    ['a service operator cannot even read keys', services, 'keys:read', false],
    ['a service operator registers services', services, 'clients:write', true],
    ['a security officer rotates keys', officer, 'keys:write', true],
    ['a security officer does not onboard sources', officer, 'sources:write', false],
    ['roles add up: source operator and auditor reads keys', both, 'keys:read', true],
    ['an auditor changes nothing', both, 'clients:write', false],
    ['nobody but a security officer reads citizens’ accounts', both, 'accounts:read', false],
    ['a machine holds what its scopes name', robot, 'keys:read', true],
    ['and nothing else', robot, 'keys:write', false],
    ['a machine never manages roles, whatever its scopes say', robot, 'operators:write', false],
  ])('%s', (_, p, permission, expected) => {
    expect(allows(p, permission as never)).toBe(expected);
  });

  it('gives an operator without a role nothing', () => {
    expect(permissionsOf({ kind: 'operator', accountId: 'x', roles: [] }).size).toBe(0);
  });

  it('offers no admin scope for granting roles', () => {
    expect(ADMIN_SCOPES).not.toContain('admin:operators:write');
    expect(ADMIN_SCOPES).toContain('admin:keys:write');
  });

  it('lets only a security officer change roles, never on their own account, never a machine', () => {
    expect(mayChangeRoles(officer, 'a-services')).toEqual({ ok: true });
    expect(mayChangeRoles(officer, 'a-officer')).toEqual({ ok: false, reason: 'self' });
    expect(mayChangeRoles(services, 'a-both')).toEqual({ ok: false, reason: 'not-allowed' });
    expect(mayChangeRoles(services, 'a-services')).toEqual({ ok: false, reason: 'not-allowed' });
    expect(mayChangeRoles(robot, 'a-both')).toEqual({ ok: false, reason: 'machine' });
  });
});
