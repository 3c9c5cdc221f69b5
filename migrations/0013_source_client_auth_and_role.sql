-- Sources may take nixa's client secret in the request body (client_secret_post):
-- some (LemonLDAP 2.16) do not URL-decode the Basic header RFC 6749 §2.3.1 asks
-- for, so a client id with "-" fails there. Both secret methods need the secret.
ALTER TABLE identity_sources DROP CONSTRAINT identity_sources_auth_method_check;
ALTER TABLE identity_sources ADD CONSTRAINT identity_sources_auth_method_check
  CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt'));
ALTER TABLE identity_sources DROP CONSTRAINT identity_sources_check;
ALTER TABLE identity_sources ADD CONSTRAINT identity_sources_secret_check
  CHECK (auth_method = 'private_key_jwt' OR client_secret_enc IS NOT NULL);

-- An identity source vouches for the national ID number, which links accounts; a
-- step-up-only source does not, and only raises the level of an account it is
-- already linked to. A source registered before this that vouches for no number
-- could never sign anyone in for the first time: it becomes step-up-only, so the
-- chooser stops offering it to citizens it would refuse.
ALTER TABLE identity_sources ADD COLUMN role text NOT NULL DEFAULT 'identity' CHECK (role IN ('identity', 'step-up-only'));
UPDATE identity_sources SET role = 'step-up-only' WHERE NOT ('national_id' = ANY (authoritative_for));
