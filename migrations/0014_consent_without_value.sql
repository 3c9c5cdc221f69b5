-- A claim the consent page showed as "Chưa có (not on record)" was accepted for
-- no value: when the account gains one, the service must ask again. `claims`
-- now holds only what the citizen saw with a value; the others are kept apart.
ALTER TABLE consents ADD COLUMN claims_without_value text[] NOT NULL DEFAULT '{}';

-- Consents given before this column cannot say what the page showed. A claim
-- the account still has no value for cannot have been seen with one: it moves
-- apart (a claim on record today is assumed to have been shown). sub and
-- phone_number_verified are no attributes: they stay (the latter rides with the
-- phone number and is never asked about on its own).
UPDATE consents c SET
  claims_without_value = ARRAY(
    SELECT x FROM unnest(c.claims) AS x
    WHERE x NOT IN ('sub', 'phone_number_verified') AND NOT EXISTS (
      SELECT 1 FROM account_attributes a
      WHERE a.account_id = c.account_id
        AND a.name = CASE x WHEN 'name' THEN 'full_name' WHEN 'address' THEN 'permanent_address' ELSE x END)
    ORDER BY 1),
  claims = ARRAY(
    SELECT x FROM unnest(c.claims) AS x
    WHERE x IN ('sub', 'phone_number_verified') OR EXISTS (
      SELECT 1 FROM account_attributes a
      WHERE a.account_id = c.account_id
        AND a.name = CASE x WHEN 'name' THEN 'full_name' WHEN 'address' THEN 'permanent_address' ELSE x END)
    ORDER BY 1);
