// Operators and their roles: the first security officer, named on the server by
// their national ID number; afterwards roles granted and taken away by security
// officers through the admin API, never on their own account. Each change is
// written with its audit event, both or neither.
import { accountIdByNationalId, checkNationalId, maskNationalId, type AccountsContext } from '../accounts/index.js';
import { appendAudit, checkReason } from '../audit/index.js';
import { ForbiddenError, InvalidInputError, NotFoundError, StateError } from '../errors/index.js';
import type { Database, Queryable } from '../storage/index.js';
import * as repo from './repository.js';
import { actorOf, mayChangeRoles, ROLES, type Principal, type Role } from './roles.js';

export interface Operator {
  accountId: string;
  roles: { role: Role; grantedBy: string; grantedAt: string; reason: string }[];
}

export function checkRole(input: unknown, field = 'role'): Role {
  if (!(ROLES as readonly unknown[]).includes(input)) throw new InvalidInputError(field, `one of ${ROLES.join(', ')}`);
  return input as Role;
}

export async function listOperators(db: Queryable): Promise<Operator[]> {
  const byAccount = new Map<string, Operator>();
  for (const r of await repo.listRoles(db)) {
    const o = byAccount.get(r.accountId) ?? { accountId: r.accountId, roles: [] };
    o.roles.push({ role: r.role, grantedBy: r.grantedBy, grantedAt: r.grantedAt.toISOString(), reason: r.reason });
    byAccount.set(r.accountId, o);
  }
  return [...byAccount.values()];
}

/**
 * `nixa operators bootstrap`: makes the person with this national ID number (who
 * must have signed in once) the first security officer. Refused once any
 * security officer exists: from then on roles are granted in the console.
 */
export async function bootstrapSecurityOfficer(
  accounts: AccountsContext,
  input: { nationalId: string; reason: string; actor: string },
): Promise<{ accountId: string }> {
  const nationalId = String(input.nationalId ?? '').trim();
  const check = checkNationalId(nationalId, {});
  if (!check.ok) throw new InvalidInputError('--national-id', `a 12-digit personal identification number (${check.message})`);
  const reason = checkReason(input.reason, '--reason');
  const accountId = await accountIdByNationalId(accounts, nationalId);
  if (!accountId) {
    throw new StateError(`no account has the ID number ${maskNationalId(nationalId)}: the person must sign in once through an identity source first`);
  }
  return accounts.db.transaction(async (tx) => {
    await repo.lockRoles(tx);
    if ((await repo.countRole(tx, 'security-officer')) > 0) {
      throw new StateError('a security officer already exists: further roles are granted by a security officer in the console or the admin API');
    }
    await repo.insertRole(tx, { accountId, role: 'security-officer', grantedBy: input.actor, reason });
    await appendAudit(tx, {
      event: 'OPERATOR_ROLE_GRANTED',
      actor: input.actor,
      subject: accountId,
      reason,
      details: { role: 'security-officer', bootstrap: true, nationalId: maskNationalId(nationalId) },
    });
    return { accountId };
  });
}

function refuseUnlessAllowed(by: Principal, accountId: string): void {
  const may = mayChangeRoles(by, accountId);
  if (may.ok) return;
  throw new ForbiddenError(
    may.reason === 'self'
      ? 'nobody can grant or take away a role on their own account'
      : may.reason === 'machine'
        ? 'roles are granted by people (a security officer), not by machine clients'
        : 'only a security officer can grant or take away roles',
  );
}

export async function grantRole(db: Database, by: Principal, input: { accountId: string; role: unknown; reason: unknown }): Promise<Operator> {
  refuseUnlessAllowed(by, input.accountId);
  const role = checkRole(input.role);
  const reason = checkReason(input.reason);
  await db.transaction(async (tx) => {
    if (!(await repo.accountExists(tx, input.accountId))) throw new NotFoundError('account', input.accountId);
    await repo.lockRoles(tx);
    await stillSecurityOfficer(tx, by);
    if (!(await repo.insertRole(tx, { accountId: input.accountId, role, grantedBy: actorOf(by), reason }))) {
      throw new StateError(`the account already holds the role ${role}`);
    }
    await appendAudit(tx, { event: 'OPERATOR_ROLE_GRANTED', actor: actorOf(by), subject: input.accountId, reason, details: { role } });
  });
  return operatorOf(db, input.accountId);
}

export async function revokeRole(db: Database, by: Principal, input: { accountId: string; role: unknown; reason: unknown }): Promise<Operator> {
  refuseUnlessAllowed(by, input.accountId);
  const role = checkRole(input.role);
  const reason = checkReason(input.reason);
  await db.transaction(async (tx) => {
    await repo.lockRoles(tx);
    await stillSecurityOfficer(tx, by);
    if (!(await repo.deleteRole(tx, input.accountId, role))) throw new NotFoundError(`role ${role} of account`, input.accountId);
    await appendAudit(tx, { event: 'OPERATOR_ROLE_REVOKED', actor: actorOf(by), subject: input.accountId, reason, details: { role } });
  });
  return operatorOf(db, input.accountId);
}

/**
 * The caller's roles were read before the lock: read them again under it, so that
 * two officers taking each other's role at the same moment cannot both succeed
 * and leave nobody able to grant roles.
 */
async function stillSecurityOfficer(tx: Queryable, by: Principal): Promise<void> {
  if (by.kind !== 'operator' || !(await repo.rolesOf(tx, by.accountId)).includes('security-officer')) {
    throw new ForbiddenError('only a security officer can grant or take away roles (yours was taken away meanwhile)');
  }
}

async function operatorOf(db: Queryable, accountId: string): Promise<Operator> {
  return (await listOperators(db)).find((o) => o.accountId === accountId) ?? { accountId, roles: [] };
}
