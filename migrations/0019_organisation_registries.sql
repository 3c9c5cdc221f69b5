-- Organisation registries as data, like identity sources: the HTTP APIs nixa asks
-- which organisations a person may act for (src/registries/contract.ts). nixa
-- authenticates to each with OAuth client_credentials at the token endpoint its
-- issuer's metadata names (RFC 8414).
CREATE TABLE organisation_registries (
  id                text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,40}$'),
  kind              text        NOT NULL CHECK (kind IN ('business')),
  name_vi           text        NOT NULL,
  name_en           text        NOT NULL,
  issuer            text        NOT NULL,
  api_url           text        NOT NULL,
  client_id         text        NOT NULL,
  auth_method       text        NOT NULL CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')),
  -- AES-256-GCM envelope under the master key, bound to the registry id ("registry:<id>").
  client_secret_enc bytea,
  timeout_ms        integer     NOT NULL DEFAULT 3000 CHECK (timeout_ms BETWEEN 100 AND 60000),
  enabled           boolean     NOT NULL DEFAULT false,
  health_status     text        NOT NULL DEFAULT 'unknown' CHECK (health_status IN ('unknown', 'ok', 'failing')),
  health_error      text,
  health_checked_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  version           integer     NOT NULL DEFAULT 1,
  -- A secret method needs the secret; private_key_jwt signs with nixa's own key and keeps none.
  CONSTRAINT organisation_registries_secret_check
    CHECK ((auth_method = 'private_key_jwt') = (client_secret_enc IS NULL))
);
