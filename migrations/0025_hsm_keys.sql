-- Signing keys held in a PKCS#11 token (issue 15 §3). Such a key is generated in
-- the token and never leaves it: the row keeps its public JWK and the handle
-- (CKA_LABEL, equal to CKA_ID) by which nixa finds it, and no private part.
-- Cookie keys are HMAC secrets nixa needs in memory: always software keys.
ALTER TABLE keys ADD COLUMN backend text NOT NULL DEFAULT 'software' CHECK (backend IN ('software', 'pkcs11'));
ALTER TABLE keys ADD COLUMN handle text;
-- The old rule (a live key has an encrypted private part) holds for software keys only.
ALTER TABLE keys DROP CONSTRAINT keys_check;
ALTER TABLE keys ADD CONSTRAINT keys_private_part CHECK (
  state = 'revoked'
  OR (backend = 'software' AND private_enc IS NOT NULL AND handle IS NULL)
  OR (backend = 'pkcs11' AND use = 'sig' AND private_enc IS NULL AND handle IS NOT NULL AND public_jwk IS NOT NULL)
);
