-- The log. One row a record; `body` is the record's canonical JSON, the bytes
-- its hash covers (less the hash member). The other columns are indexes into it.
CREATE TABLE events (
    position     INTEGER PRIMARY KEY,          -- store-wide, gapless (S3)
    stream       TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    event_id     TEXT    NOT NULL UNIQUE,      -- idempotent re-appends (S5)
    type         TEXT    NOT NULL,
    recorded_us  INTEGER NOT NULL,             -- microseconds since the epoch (S7)
    hash         TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    UNIQUE (stream, version)                   -- one writer wins a version (S2, S4)
);
