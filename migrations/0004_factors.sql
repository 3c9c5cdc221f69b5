-- Second factors for step-up: authenticator apps (TOTP), recovery codes, and the
-- failed-attempt counters that every instance shares for brute-force protection.

-- An authenticator app. The secret is an AES-256-GCM envelope under the master
-- key, bound to the account and the factor id. A row is pending until the citizen
-- proves the app works with a first correct code; a pending row expires.
CREATE TABLE totp_factors (
  id                 text        PRIMARY KEY,
  account_id         text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- Shown in the citizen's factor list; never a full ID number.
  label              text        NOT NULL,
  secret_enc         bytea       NOT NULL,
  created_at         timestamptz NOT NULL,
  pending_expires_at timestamptz,
  confirmed_at       timestamptz,
  -- RFC 6238 time step of the last accepted code: that code, and every earlier
  -- one, is refused from then on.
  last_time_step     bigint,
  last_used_at       timestamptz,
  CHECK ((confirmed_at IS NULL) = (pending_expires_at IS NOT NULL))
);
-- One app per account, and at most one enrolment in progress.
CREATE UNIQUE INDEX totp_factors_one_confirmed ON totp_factors (account_id) WHERE confirmed_at IS NOT NULL;
CREATE UNIQUE INDEX totp_factors_one_pending ON totp_factors (account_id) WHERE confirmed_at IS NULL;
CREATE INDEX totp_factors_pending_expires_at ON totp_factors (pending_expires_at) WHERE pending_expires_at IS NOT NULL;

-- Single-use recovery codes, shown once, kept only as argon2id hashes. Issuing a
-- new set deletes the old one.
CREATE TABLE recovery_codes (
  id         text        PRIMARY KEY,
  account_id text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  code_hash  text        NOT NULL,
  issued_at  timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX recovery_codes_account_unused ON recovery_codes (account_id) WHERE used_at IS NULL;

-- Failed factor attempts per account and per client address. An address is
-- stored only as an HMAC under a key derived from the master key, never as is.
-- A row without a lock and without recent failures carries no information and
-- is purged.
CREATE TABLE factor_attempts (
  scope              text        NOT NULL CHECK (scope IN ('account', 'ip')),
  key                text        NOT NULL,
  -- Failures in the current window, which opened at window_started_at.
  failures           integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
  window_started_at  timestamptz,
  last_failure_at    timestamptz,
  -- The lock in force, or one that has expired and whose lifting is not yet recorded.
  locked_until       timestamptz,
  -- Consecutive locks, so that a repeat lock lasts longer; forgotten a while after the last one ends.
  lock_count         integer     NOT NULL DEFAULT 0 CHECK (lock_count >= 0),
  last_lock_ends_at  timestamptz,
  updated_at         timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX factor_attempts_updated_at ON factor_attempts (updated_at);
