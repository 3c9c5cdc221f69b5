-- The minor children each source last said a person is the legal representative of
-- (nixa issue 14 §4): replaced as a whole at every sign-in through that source, so a
-- child it no longer names is gone. A child is found by the keyed hash of their
-- national ID number, as accounts are; what the source said of them (number, name,
-- birthdate, gender) is kept only sealed (AES-256-GCM), bound to the guardian's
-- account, the source and the child's hash. The child's own account is made only
-- when a parent first acts for them (src/accounts/wards.ts).
CREATE TABLE account_wards (
  guardian_id            text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  source_id              text        NOT NULL,
  ward_national_id_hash  text        NOT NULL,
  ward_sealed            bytea       NOT NULL,
  asserted_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (guardian_id, source_id, ward_national_id_hash)
);
-- wardByAccount and the refresh re-check go from the child's account to the parent.
CREATE INDEX account_wards_ward ON account_wards (ward_national_id_hash);
