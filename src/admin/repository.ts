// SQL for operators and their roles.
import type { Queryable } from '../storage/index.js';
import type { Role } from './roles.js';

export interface RoleRow {
  accountId: string;
  role: Role;
  grantedBy: string;
  grantedAt: Date;
  reason: string;
}

export async function rolesOf(db: Queryable, accountId: string): Promise<Role[]> {
  const { rows } = await db.query<{ role: Role }>('SELECT role FROM operator_roles WHERE account_id = $1 ORDER BY role', [accountId]);
  return rows.map((r) => r.role);
}

export async function listRoles(db: Queryable): Promise<RoleRow[]> {
  const { rows } = await db.query<{ account_id: string; role: Role; granted_by: string; granted_at: Date | string; reason: string }>(
    'SELECT account_id, role, granted_by, granted_at, reason FROM operator_roles ORDER BY account_id, role',
  );
  return rows.map((r) => ({ accountId: r.account_id, role: r.role, grantedBy: r.granted_by, grantedAt: new Date(r.granted_at), reason: r.reason }));
}

/** false when the account already holds the role. */
export async function insertRole(tx: Queryable, r: { accountId: string; role: Role; grantedBy: string; reason: string }): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO operator_roles (account_id, role, granted_by, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, role) DO NOTHING`,
    [r.accountId, r.role, r.grantedBy, r.reason],
  );
  return res.rowCount === 1;
}

export async function deleteRole(tx: Queryable, accountId: string, role: Role): Promise<boolean> {
  return (await tx.query('DELETE FROM operator_roles WHERE account_id = $1 AND role = $2', [accountId, role])).rowCount === 1;
}

/** Serialises bootstraps and role changes, so "the first security officer" is decided once, and so is whether the caller is still an officer. */
export async function lockRoles(tx: Queryable): Promise<void> {
  await tx.query('LOCK TABLE operator_roles IN SHARE ROW EXCLUSIVE MODE');
}

export async function countRole(db: Queryable, role: Role): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM operator_roles WHERE role = $1', [role]);
  return rows[0]?.n ?? 0;
}

export async function accountExists(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM accounts WHERE id = $1', [accountId])).rows.length === 1;
}
