-- Web Push to a citizen's bound phone (issue 13, CIBA): RFC 8030 delivery,
-- RFC 8291 message encryption, VAPID (RFC 8292). Push only wakes the phone; the
-- phone reads what waits for it from nixa, so a lost push costs a tap, not a sign-in.

-- The phone's PushSubscription, one per bound phone (a new one replaces the old:
-- the browser makes a new one when the old expires or is revoked).
--   secrets_enc    the endpoint URL and the auth secret, as JSON, encrypted with
--                  the master key (src/keys/cipher.ts; associated data
--                  "push-subscription:<bound_phone_id>"). The endpoint's path is a
--                  capability: whoever holds it, with our VAPID key, reaches the
--                  phone. The auth secret is what makes the phone accept a message
--                  as ours (RFC 8291 §3.2): with it and p256dh anyone could write
--                  a message the phone decrypts. A copy of the database therefore
--                  must not let anyone prompt citizens' phones.
--   push_service   the endpoint's origin only (https://fcm.googleapis.com): not
--                  secret (every subscription of that browser shares it), kept in
--                  clear for logs and for the VAPID audience.
--   p256dh         the phone's public key (base64url, 65 bytes decoded): public
--                  by nature, in clear.
--   expires_at     the browser's expirationTime, when it gives one (most give none).
--   failures       push attempts that failed since the last success (timeouts,
--                  5xx, 429); a 404 or 410 deletes the row instead (RFC 8030 §7.3).
CREATE TABLE push_subscriptions (
  id               text        PRIMARY KEY,
  bound_phone_id   text        NOT NULL UNIQUE REFERENCES bound_phones (id) ON DELETE CASCADE,
  push_service     text        NOT NULL,
  secrets_enc      bytea       NOT NULL,
  p256dh           text        NOT NULL,
  expires_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_success_at  timestamptz,
  last_failure_at  timestamptz,
  failures         integer     NOT NULL DEFAULT 0 CHECK (failures >= 0)
);

-- nixa's VAPID key pair (P-256), one for the whole deployment: every phone's
-- subscription is bound to its public key (the page's applicationServerKey), so it
-- is not rotated like signing keys (that would silently orphan every
-- subscription) nor published in JWKS, hence not a row of `keys`. Made on first
-- need; the single-row check and INSERT … ON CONFLICT DO NOTHING make two
-- instances starting at once end with one key.
--   public_key    uncompressed point, base64url (65 bytes decoded)
--   private_enc   the 32-byte private scalar (base64url) encrypted with the master
--                 key, associated data "push-vapid:<public_key>"
CREATE TABLE push_vapid_key (
  id           smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  public_key   text        NOT NULL,
  private_enc  bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
