-- A source may vouch for the minor children of whom the person is the legal
-- representative (nixa issue 14 §4: a parent acts for a child): wards_claim names
-- the claim carrying them, each element read with the source's claim_mapping.
-- Who is whose child decides who may act for whom, so only an identity source
-- that proved the person at level high may say it (also checked in
-- src/sources/schema.ts, with the reason; here so no write path can bypass it).
ALTER TABLE identity_sources ADD COLUMN wards_claim text;
ALTER TABLE identity_sources ADD CONSTRAINT identity_sources_wards_check
  CHECK (wards_claim IS NULL OR (role = 'identity' AND proofing_level = 'high'));
