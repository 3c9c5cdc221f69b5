-- A citizen authorises another citizen (a helper) to act for them at named
-- services until a date (issue 14 §4), from /account. The helper is named by the
-- national ID number the grantor typed, kept only as its peppered hash (the
-- index key accounts use, src/accounts/national-id.ts): the helper may have no
-- nixa account yet, and the table never holds the number itself. The masked
-- number is what the grantor's page shows. Revoking sets revoked_at at once;
-- rows are never deleted, so both pages and the audit trail agree on the past.
CREATE TABLE delegations (
  id                uuid        PRIMARY KEY,
  grantor_id        text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  helper_hash       text        NOT NULL,
  helper_masked     text        NOT NULL,
  clients           text[]      NOT NULL CHECK (cardinality(clients) > 0),
  valid_until       date        NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  revoked_at        timestamptz,
  revoked_by        text        CHECK (revoked_by IN ('grantor', 'helper')),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

-- "Given by me" on the grantor's page, newest first.
CREATE INDEX delegations_by_grantor ON delegations (grantor_id, created_at DESC);
-- "Asked of me" on the helper's page and at the helper's sign-in: those in force.
CREATE INDEX delegations_for_helper ON delegations (helper_hash, valid_until) WHERE revoked_at IS NULL;
