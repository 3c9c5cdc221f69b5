-- Signing out at the source. How each source is told (see README, "Signing out"):
--   post  the source's ID token as id_token_hint, by POST (never in a URL)
--   hint  client_id and logout_hint (the source's session id) by GET; the source asks itself
--   link  the source does not send the browser back: nixa finishes and offers a link
-- 'hint' by default: it works whatever the source's cookies; 'post' needs the
-- source's session cookie on a cross-site POST (SameSite=None).
ALTER TABLE identity_sources
  ADD COLUMN logout text NOT NULL DEFAULT 'hint' CHECK (logout IN ('post', 'hint', 'link'));

-- The source's ID token is kept (encrypted) only for sources signed out by POST;
-- for the others the source's session id (its "sid", no personal data) is enough.
ALTER TABLE upstream_sessions
  ALTER COLUMN id_token_enc DROP NOT NULL,
  ADD COLUMN source_sid text;

-- Every source is 'hint' now, so no session needs its source's ID token any more:
-- keeping the ones stored before this migration would break the rule above.
UPDATE upstream_sessions SET id_token_enc = NULL;
