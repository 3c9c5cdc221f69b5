-- What a citizen controls of their own account (issue 12, sections 3–4).

-- Sources the citizen blocked for their account ("my SIM was swapped away"): a
-- sign-in through one of them is refused in the linking transaction, before
-- anything is written. One row per (account, source); unblocking deletes it, and
-- both acts are in the audit trail (SOURCE_BLOCKED_BY_CITIZEN / _UNBLOCKED_).
CREATE TABLE account_blocked_sources (
  account_id  text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  source_id   text        NOT NULL,
  blocked_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, source_id)
);

-- preferred_source: the source the chooser offers first (the browser remembers
-- it too, in a cookie, since the chooser runs before nixa knows who is there).
-- notices_seen_seq: the citizen's notices are derived from the audit trail
-- (my-account/notices.ts); this is how far they have been shown. Accounts that
-- exist now start at the trail's head, so an upgrade does not replay history.
ALTER TABLE accounts
  ADD COLUMN preferred_source text,
  ADD COLUMN notices_seen_seq bigint NOT NULL DEFAULT 0;
UPDATE accounts SET notices_seen_seq = coalesce((SELECT seq FROM audit_chain_head), 0);
