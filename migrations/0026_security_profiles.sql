-- Per-service security profile (issue 15): 'standard' (OpenID Connect with PKCE, as
-- before) or 'fapi2' (FAPI 2.0 Security Profile: PAR, DPoP-bound tokens,
-- private_key_jwt, 60-second codes). A service at minimum level substantial or high
-- is fapi2 unless an operator kept it standard with a reason, kept here and in the
-- audit trail. (0025 is the HSM keys migration, on another branch.)
ALTER TABLE clients
  ADD COLUMN security_profile text NOT NULL DEFAULT 'standard' CHECK (security_profile IN ('standard', 'fapi2')),
  ADD COLUMN security_profile_reason text;

-- Services registered before profiles existed keep their integration: a service at
-- substantial or high stays standard, with this reason on record, until its operator
-- moves it to fapi2 (nixa clients update --security-profile fapi2).
UPDATE clients SET security_profile_reason = 'registered before security profiles existed; move it to fapi2'
  WHERE min_level IN ('substantial', 'high');

ALTER TABLE clients ADD CONSTRAINT clients_standard_needs_reason
  CHECK (security_profile = 'fapi2' OR min_level IS NULL OR min_level = 'low' OR coalesce(length(security_profile_reason), 0) > 0);
