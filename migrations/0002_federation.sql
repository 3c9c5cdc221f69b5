-- Federation: identity sources (upstream OpenID providers) as data, accounts'
-- attributes with provenance, links between accounts and source subjects,
-- consents, and the state of upstream logins in flight.

CREATE TABLE identity_sources (
  id                     text        PRIMARY KEY,
  kind                   text        NOT NULL CHECK (kind IN ('citizen_id', 'telecom', 'bank', 'other')),
  name_vi                text        NOT NULL,
  name_en                text        NOT NULL,
  logo                   text,
  discovery_url          text        NOT NULL,
  client_id              text        NOT NULL,
  auth_method            text        NOT NULL CHECK (auth_method IN ('client_secret_basic', 'private_key_jwt')),
  -- AES-256-GCM envelope under the master key, bound to the source id.
  client_secret_enc      bytea,
  scopes                 text[]      NOT NULL,
  claim_mapping          jsonb       NOT NULL,
  authoritative_for      text[]      NOT NULL,
  proofing_level         text        NOT NULL CHECK (proofing_level IN ('low', 'substantial', 'high')),
  -- A fixed authentication level, or NULL to take it from the returned acr through acr_levels.
  auth_level             text        CHECK (auth_level IN ('low', 'substantial', 'high')),
  acr_levels             jsonb       NOT NULL DEFAULT '{}'::jsonb,
  max_auth_level         text        NOT NULL CHECK (max_auth_level IN ('low', 'substantial', 'high')),
  use_userinfo           boolean     NOT NULL DEFAULT false,
  timeout_ms             integer     NOT NULL DEFAULT 5000 CHECK (timeout_ms BETWEEN 100 AND 60000),
  enabled                boolean     NOT NULL DEFAULT true,
  maintenance            boolean     NOT NULL DEFAULT false,
  maintenance_message_vi text,
  maintenance_message_en text,
  health_status          text        NOT NULL DEFAULT 'unknown' CHECK (health_status IN ('unknown', 'ok', 'failing')),
  health_error           text,
  health_checked_at      timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  version                integer     NOT NULL DEFAULT 1,
  CHECK (auth_method <> 'client_secret_basic' OR client_secret_enc IS NOT NULL)
);

-- One account per person: the national ID number, as a keyed hash, is the key.
ALTER TABLE accounts ADD COLUMN national_id_hash text UNIQUE;

-- Each attribute with its provenance: which source, at what level, when.
CREATE TABLE account_attributes (
  account_id  text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name        text        NOT NULL,
  value       text        NOT NULL,
  source_id   text        NOT NULL,
  level       text        NOT NULL CHECK (level IN ('low', 'substantial', 'high')),
  verified_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, name)
);

-- Which source subject belongs to which account.
CREATE TABLE linked_identities (
  source_id     text        NOT NULL,
  subject       text        NOT NULL,
  account_id    text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  linked_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, subject),
  UNIQUE (account_id, source_id)
);

-- What a citizen agreed to share with a service.
CREATE TABLE consents (
  account_id text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  client_id  text        NOT NULL,
  claims     text[]      NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, client_id)
);

-- An upstream login in flight: single-use, short-lived, shared by all instances.
CREATE TABLE upstream_logins (
  state           text        PRIMARY KEY,
  interaction_uid text        NOT NULL,
  source_id       text        NOT NULL,
  nonce           text        NOT NULL,
  code_verifier   text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  consumed_at     timestamptz
);
CREATE INDEX upstream_logins_expires_at ON upstream_logins (expires_at);
