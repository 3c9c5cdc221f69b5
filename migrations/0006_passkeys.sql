-- Passkeys (WebAuthn credentials) for step-up, and the challenges nixa issued for
-- their ceremonies. A credential's public key is not secret, so it is stored as
-- is; what must not happen is a challenge being answered twice, or a counter
-- going backwards unnoticed.

CREATE TABLE passkeys (
  id               text        PRIMARY KEY,
  account_id       text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- The authenticator's credential id (base64url), unique across every account:
  -- an authenticator answering for two accounts would be a cloned or forged one.
  credential_id    text        NOT NULL UNIQUE,
  -- COSE_Key of the credential, as the authenticator gave it at registration.
  public_key       bytea       NOT NULL,
  -- The last signature counter seen; 0 for authenticators that keep none (synced passkeys).
  sign_count       bigint      NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports       text[]      NOT NULL DEFAULT '{}',
  -- The citizen's own name for it ("điện thoại của tôi"), shown in the list.
  name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  aaguid           text,
  device_type      text        NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up        boolean     NOT NULL,
  -- The level of the session that registered it: it never vouches above it.
  enrolled_level   text        NOT NULL CHECK (enrolled_level IN ('low', 'substantial', 'high')),
  created_at       timestamptz NOT NULL,
  last_used_at     timestamptz
);
CREATE INDEX passkeys_account ON passkeys (account_id);

-- One outstanding challenge per ceremony and per browser (a new request replaces
-- the old one). `binding` is a hash of what the challenge was issued to: the
-- sign-in (interaction) or the citizen's session; never the raw session id.
-- Answering deletes the row, so a challenge is used at most once.
CREATE TABLE webauthn_challenges (
  binding      text        NOT NULL,
  ceremony     text        NOT NULL CHECK (ceremony IN ('registration', 'authentication')),
  account_id   text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  challenge    text        NOT NULL,
  -- Whether the authenticator must verify the person (PIN or biometric) for this ceremony.
  user_verification text   NOT NULL CHECK (user_verification IN ('required', 'preferred')),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (binding, ceremony)
);
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);

-- The source login behind a browser's nixa session: which account it signed in
-- and the authentication level the source gave. A session stores only its acr
-- and amr, which after a step-up no longer say what the source login alone was
-- worth, and the policy's combinations depend on exactly that.
ALTER TABLE upstream_sessions
  ADD COLUMN account_id text,
  ADD COLUMN auth_level text CHECK (auth_level IN ('low', 'substantial', 'high'));
