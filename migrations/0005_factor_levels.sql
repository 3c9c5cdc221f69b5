-- The level of the session in which an authenticator app was enrolled. A factor
-- never vouches above it (the assurance policy's FactorUse.enrolledAt): an app
-- added after a low sign-in cannot later lift a session to substantial. Apps
-- enrolled before this column existed count as enrolled at low.
ALTER TABLE totp_factors
  ADD COLUMN enrolled_level text NOT NULL DEFAULT 'low'
    CHECK (enrolled_level IN ('low', 'substantial', 'high'));
