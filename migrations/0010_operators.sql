-- Operators are nixa accounts holding roles. A role is granted by a security
-- officer (never to themselves) or, for the first security officer, by the
-- `nixa operators bootstrap` command on the server; both are audited.
CREATE TABLE operator_roles (
  account_id  text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  role        text        NOT NULL CHECK (role IN ('source-operator', 'service-operator', 'security-officer', 'auditor')),
  granted_by  text        NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  reason      text        NOT NULL CHECK (length(reason) >= 10),
  PRIMARY KEY (account_id, role)
);
CREATE INDEX operator_roles_role ON operator_roles (role);
