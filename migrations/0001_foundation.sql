-- Foundation: the provider's persisted artifacts, relying parties, signing and
-- cookie keys, and the audit trail.

-- Every model oidc-provider persists (Session, Interaction, Grant,
-- AuthorizationCode, AccessToken, RefreshToken, ClientCredentials,
-- PushedAuthorizationRequest, ReplayDetection, BackchannelAuthenticationRequest, ...).
-- Secondary keys are columns so lookups and revocation are index scans.
CREATE TABLE oidc_payloads (
  model        text        NOT NULL,
  id           text        NOT NULL,
  payload      jsonb       NOT NULL,
  grant_id     text,
  user_code    text,
  uid          text,
  expires_at   timestamptz,
  consumed_at  timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_payloads_grant_id ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE UNIQUE INDEX oidc_payloads_uid ON oidc_payloads (model, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX oidc_payloads_user_code ON oidc_payloads (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_payloads_expires_at ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- Relying parties. `metadata` is oidc-provider client metadata; a confidential
-- client's secret is stored only as an argon2 hash.
CREATE TABLE clients (
  client_id    text        PRIMARY KEY,
  name         text        NOT NULL,
  metadata     jsonb       NOT NULL,
  secret_hash  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  disabled_at  timestamptz,
  version      integer     NOT NULL DEFAULT 1
);

-- Signing keys ('sig') and cookie keys ('cookie'). Private parts are AES-256-GCM
-- envelopes under the master key; a revoked key's private part is destroyed.
CREATE TABLE keys (
  kid            text        PRIMARY KEY,
  use            text        NOT NULL CHECK (use IN ('sig', 'cookie')),
  alg            text        NOT NULL,
  state          text        NOT NULL CHECK (state IN ('next', 'active', 'retired', 'revoked')),
  public_jwk     jsonb,
  private_enc    bytea,
  created_at     timestamptz NOT NULL DEFAULT now(),
  activated_at   timestamptz,
  retired_at     timestamptz,
  delete_after   timestamptz,
  revoked_at     timestamptz,
  revoked_reason text,
  CHECK (state = 'revoked' OR private_enc IS NOT NULL),
  CHECK (state <> 'retired' OR delete_after IS NOT NULL)
);
-- At most one signing and one waiting key per (use, alg), whatever the race.
CREATE UNIQUE INDEX keys_one_active ON keys (use, alg) WHERE state = 'active';
CREATE UNIQUE INDEX keys_one_next ON keys (use, alg) WHERE state = 'next';

-- Accounts. The federation issue adds identity attributes and linked sources.
CREATE TABLE accounts (
  id          text        PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

-- Audit trail: append-only, each event chained to the previous by hash.
CREATE TABLE audit_events (
  seq         bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  event       text        NOT NULL,
  actor       text        NOT NULL,
  subject     text,
  details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  prev_hash   text        NOT NULL,
  hash        text        NOT NULL
);
