-- Protocol state that lives minutes (interactions, authorization codes, access
-- tokens, pushed requests, replay records, upstream logins in flight) leaves the
-- WAL: losing it in a database crash only restarts the sign-ins in flight (the
-- citizen is asked to start again) and sends services to their refresh token.
-- Sessions, grants and refresh tokens stay in oidc_payloads, durable. A commit
-- that wrote only unlogged tables does not wait for the WAL to reach disk.
-- With NIXA_SHORT_LIVED_STORE=redis these tables stay empty.
CREATE UNLOGGED TABLE short_lived_payloads (
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
CREATE INDEX short_lived_payloads_grant_id ON short_lived_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE UNIQUE INDEX short_lived_payloads_uid ON short_lived_payloads (model, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX short_lived_payloads_user_code ON short_lived_payloads (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX short_lived_payloads_expires_at ON short_lived_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- What is in flight now moves across, so that an upgrade breaks no sign-in.
WITH moved AS (
  DELETE FROM oidc_payloads
  WHERE model IN ('Interaction', 'AuthorizationCode', 'AccessToken', 'ClientCredentials', 'PushedAuthorizationRequest',
                  'ReplayDetection', 'BackchannelAuthenticationRequest', 'DeviceCode')
  RETURNING *)
INSERT INTO short_lived_payloads SELECT * FROM moved;

ALTER TABLE upstream_logins SET UNLOGGED;
