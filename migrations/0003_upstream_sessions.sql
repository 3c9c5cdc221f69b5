-- The citizen's session at the identity source they signed in with, so that
-- signing out of nixa can end it too. The source's ID token (sent back as
-- id_token_hint) is personal data: it is stored encrypted.
CREATE TABLE upstream_sessions (
  id           text        PRIMARY KEY,
  source_id    text        NOT NULL,
  id_token_enc bytea       NOT NULL,
  -- Where to send the browser after the source has signed the citizen out.
  continue_to  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX upstream_sessions_expires_at ON upstream_sessions (expires_at);
