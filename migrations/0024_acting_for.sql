-- Persons acting for persons (issue 14 §4): which grant acts for whom. A grant of
-- oidc-provider belongs to the person who signed in (the actor); this row says
-- whom its tokens represent (their `sub`) and on what grounds, so that every use
-- of a token can check that the grounds still hold (a child not yet 14, an
-- authorisation not revoked). `claims`: what the actor agreed to share of the
-- represented person in that sign-in (never the actor's own standing consent).
CREATE TABLE acting_for (
  grant_id            text        PRIMARY KEY,
  client_id           text        NOT NULL,
  actor_account       text        NOT NULL REFERENCES accounts (id),
  represented_account text        NOT NULL REFERENCES accounts (id),
  relation            text        NOT NULL CHECK (relation IN ('guardian', 'helper')),
  delegation_id       text,
  claims              text[]      NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((relation = 'helper') = (delegation_id IS NOT NULL)),
  CHECK (actor_account <> represented_account)
);
CREATE INDEX acting_for_delegation ON acting_for (delegation_id) WHERE delegation_id IS NOT NULL;
CREATE INDEX acting_for_represented ON acting_for (represented_account);
