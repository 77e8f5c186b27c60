-- The log. One row a record; `body` is the record's canonical JSON, the bytes its
-- hash covers (less the hash member). The other columns are indexes into it.
-- Appends hold a transaction-scoped advisory lock from before they read the head
-- until they commit, so positions are handed out and committed in one order (S3, S8).
CREATE TABLE events (
    position     BIGINT PRIMARY KEY CHECK (position >= 1),  -- store-wide, gapless (S3)
    stream       TEXT   NOT NULL,
    version      BIGINT NOT NULL CHECK (version >= 1),
    event_id     TEXT   NOT NULL UNIQUE,                    -- idempotent re-appends (S5)
    type         TEXT   NOT NULL,
    recorded_us  BIGINT NOT NULL,                           -- microseconds since the epoch (S7)
    hash         TEXT   NOT NULL,
    body         BYTEA  NOT NULL,
    UNIQUE (stream, version)                                -- one writer wins a version (S2, S4)
);
-- "As of a time" reads find their last position without a scan.
CREATE INDEX events_recorded_us ON events (recorded_us);
