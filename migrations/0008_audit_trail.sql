-- The tamper-evident audit trail (issue 5, item 4): audit_events becomes a table
-- partitioned by month, refusing UPDATE, DELETE and TRUNCATE; the chain's head
-- lives in one row (the lock appends take, instead of scanning for the last
-- event); signed checkpoints get their own append-only table. Existing rows move
-- across with their hashes untouched, so the chain verifies across this migration.

ALTER TABLE audit_events RENAME TO audit_events_legacy;
ALTER INDEX audit_events_pkey RENAME TO audit_events_legacy_pkey;

-- seq is assigned under the head's row lock, so it has no gaps; `at` only ever
-- grows with seq (see appendAudit), so each month's partition holds one
-- contiguous range of seq and retention can drop whole partitions.
-- hash_version 1: rows written before this migration (hash over the JavaScript
-- key order of details, which jsonb does not keep); 2: canonical JSON with seq.
CREATE TABLE audit_events (
  seq           bigint      NOT NULL,
  at            timestamptz NOT NULL,
  event         text        NOT NULL,
  actor         text        NOT NULL,
  subject       text,
  reason        text,
  details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  prev_hash     text        NOT NULL,
  hash          text        NOT NULL,
  hash_version  smallint    NOT NULL DEFAULT 2 CHECK (hash_version IN (1, 2)),
  PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_event ON audit_events (event, seq);

-- One row: the last event's seq, hash and time, and where the partitions end.
CREATE TABLE audit_chain_head (
  id                boolean     PRIMARY KEY DEFAULT true CHECK (id),
  seq               bigint      NOT NULL,
  hash              text        NOT NULL,
  at                timestamptz,
  partitions_until  timestamptz NOT NULL
);

-- A signed statement "the trail's event <seq> has hash <hash>". The public key
-- is kept with it because retired signing keys are deleted from `keys` after
-- their tokens expire, and a checkpoint must stay checkable for years.
CREATE TABLE audit_checkpoints (
  id          bigint      PRIMARY KEY,
  created_at  timestamptz NOT NULL,
  seq         bigint      NOT NULL,
  hash        text        NOT NULL,
  kid         text        NOT NULL,
  public_jwk  jsonb       NOT NULL,
  jws         text        NOT NULL
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
-- The head is updated by every append but never deleted.
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Creates the month partitions (UTC) up to and including the month of `upto`.
-- SECURITY DEFINER: the application role may create partitions without owning
-- the table (see README, "The database role"). TRUNCATE triggers are not
-- inherited, so each partition gets its own.
CREATE FUNCTION audit_ensure_partitions(upto timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  start timestamptz;
  stop timestamptz;
  part text;
  made integer := 0;
  -- The schema nixa's tables live in (its search_path is fixed below); names are qualified with it.
  sch text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'audit_events'::regclass);
BEGIN
  -- Most calls find nothing to do: answer without waiting for the head's lock.
  IF (SELECT partitions_until FROM audit_chain_head) > upto THEN
    RETURN 0;
  END IF;
  SELECT partitions_until INTO start FROM audit_chain_head FOR UPDATE;
  WHILE start <= upto LOOP
    stop := ((start AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    part := 'audit_events_' || to_char(start AT TIME ZONE 'UTC', 'YYYY"m"MM');
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.audit_events FOR VALUES FROM (%L) TO (%L)', sch, part, sch, start, stop);
    EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_refuse_change()', sch, part, sch);
    start := stop;
    made := made + 1;
  END LOOP;
  UPDATE audit_chain_head SET partitions_until = start;
  RETURN made;
END $$;
-- A SECURITY DEFINER function must not resolve names through the caller's search_path.
DO $$ BEGIN
  EXECUTE format('ALTER FUNCTION audit_ensure_partitions(timestamptz) SET search_path = pg_catalog, %I', current_schema());
END $$;

INSERT INTO audit_chain_head (seq, hash, at, partitions_until)
SELECT coalesce(max(seq), 0),
       coalesce((SELECT hash FROM audit_events_legacy ORDER BY seq DESC LIMIT 1), repeat('0', 64)),
       max(at),
       date_trunc('month', coalesce(min(at), now()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
FROM audit_events_legacy;

SELECT audit_ensure_partitions(greatest(now(), (SELECT max(at) FROM audit_events_legacy)) + interval '1 month');

INSERT INTO audit_events (seq, at, event, actor, subject, details, prev_hash, hash, hash_version)
SELECT seq, at, event, actor, subject, details, prev_hash, hash, 1 FROM audit_events_legacy ORDER BY seq;

DROP TABLE audit_events_legacy;
