-- A citizen's phone as their approver (issue 13): the phone is bound to the
-- account by a passkey created on it with user verification, and approves
-- sign-ins started on another screen (a QR code on a computer, later CIBA).

-- One row per bound phone. The passkey is an ordinary row of `passkeys` (it is
-- listed and used like any other); removing it unbinds the phone, and removing
-- the binding removes the passkey (phone/bound-phones.ts does both in one
-- transaction). bound_level is the level of the session that bound it: approval
-- from the phone never vouches above it (the assurance policy's bound_phone row).
CREATE TABLE bound_phones (
  id            text        PRIMARY KEY,
  account_id    text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  passkey_id    text        NOT NULL UNIQUE REFERENCES passkeys (id) ON DELETE CASCADE,
  -- The citizen's name for it, shown on /account ("Điện thoại của Lan").
  name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  bound_level   text        NOT NULL CHECK (bound_level IN ('low', 'substantial', 'high')),
  created_at    timestamptz NOT NULL,
  last_used_at  timestamptz
);
CREATE INDEX bound_phones_account ON bound_phones (account_id);

-- A sign-in waiting for the phone: one started on another screen (kind qr: a QR
-- code on a computer), or a service's backchannel request (kind ciba: a counter
-- or call centre, OpenID Connect CIBA), which names the citizen and so only
-- their own phones may open it. Lives minutes, so it
-- leaves the WAL like the rest of the protocol's short-lived state (0015): a
-- database crash only asks the citizen to scan again.
--   handle_hash  SHA-256 of the one-time handle in the QR code and short link
--                (the handle itself is never stored)
--   interaction  the oidc-provider interaction on the computer that waits
--   number       the two digits both screens show
--   state        pending → claimed (a bound phone opened it) → matched (the
--                citizen picked the number the computer shows) → approved;
--                denied (reason: the citizen refused, a wrong number, a second
--                phone scanned it, another account's phone, a level the phone
--                cannot give) or expired from any of those; finished once the
--                computer went on with an approval
--   claimed_by   the bound phone that opened it
CREATE UNLOGGED TABLE cross_device_requests (
  handle_hash   text        PRIMARY KEY,
  kind          text        NOT NULL DEFAULT 'qr' CHECK (kind IN ('qr', 'ciba')),
  -- qr: the computer's sign-in; ciba: oidc-provider's backchannel request.
  interaction   text,
  auth_req_id   text        UNIQUE,
  client_id     text        NOT NULL,
  -- qr only: the two digits both screens show (a CIBA request shows its binding message instead).
  number        smallint    CHECK (number BETWEEN 10 AND 99),
  -- What the phone shows: the computer's coarse browser, the level asked, the
  -- account already signed in on the computer (a step-up), the attributes.
  details       jsonb       NOT NULL,
  state         text        NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'claimed', 'matched', 'approved', 'denied', 'expired', 'finished')),
  reason        text,
  claimed_by    text,
  account_id    text,
  level         text        CHECK (level IN ('low', 'substantial', 'high')),
  amr           text[],
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  decided_at    timestamptz,
  CHECK ((kind = 'qr' AND interaction IS NOT NULL AND number IS NOT NULL) OR (kind = 'ciba' AND auth_req_id IS NOT NULL AND account_id IS NOT NULL))
);
CREATE INDEX cross_device_requests_interaction ON cross_device_requests (interaction);
CREATE INDEX cross_device_requests_expires_at ON cross_device_requests (expires_at);
-- A phone opening nixa lists its account's pending backchannel requests.
CREATE INDEX cross_device_requests_pending_ciba ON cross_device_requests (account_id) WHERE kind = 'ciba';
