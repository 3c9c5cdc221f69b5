-- Account administration (issue 5, item 2): security officers suspend and
-- reinstate accounts. `version` lets an officer's change be refused when someone
-- else changed the account since they looked at it; it counts administrative
-- changes only (sign-ins do not move it). Suspending revokes the account's
-- sessions and grants, found by the accountId in their payload: the partial
-- index keeps that lookup an index scan without taxing token writes.
ALTER TABLE accounts ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE INDEX oidc_payloads_account ON oidc_payloads ((payload ->> 'accountId')) WHERE model IN ('Session', 'Grant');
