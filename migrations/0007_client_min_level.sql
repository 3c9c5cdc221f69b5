-- Per-service assurance policy and API, set by the service's operator (nixa
-- clients add|update --min-level, --api-resource). Columns rather than keys in
-- `metadata`: the level is checked by the database, and an API belongs to one
-- service only — a second service registering the same resource indicator could
-- obtain access tokens that the first service's API accepts.
-- (0006 is the passkeys migration, on another branch.)
ALTER TABLE clients
  ADD COLUMN min_level text CHECK (min_level IN ('low', 'substantial', 'high')),
  ADD COLUMN api_resource text;
CREATE UNIQUE INDEX clients_api_resource ON clients (api_resource) WHERE api_resource IS NOT NULL;
