"""The SQL text of the SQLite store: its fixed statements and the ones built per size
of a batch (cached by size, so SQLite's statement cache sees the same text again)."""

from __future__ import annotations

import functools

from ledger.store.rows import COLUMNS, stream_sql

INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
STREAM = stream_sql("?")
HEAD_COLUMNS = (
    "position, hash, recorded_us, body,"
    " (SELECT p.hash FROM events p WHERE p.position = events.position - 1)"
)
"""The head row as ``checked_head`` takes it: with its predecessor's hash."""
HEAD = f"SELECT {HEAD_COLUMNS} FROM events ORDER BY position DESC LIMIT 1"
HEAD_ONLY = "SELECT position, hash, recorded_us FROM events ORDER BY position DESC LIMIT 1"


@functools.lru_cache(maxsize=64)
def probe_sql(ids: int) -> str:
    marks = ",".join("?" * ids)
    return (
        "SELECT"
        " (SELECT version FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1),"
        f" EXISTS (SELECT 1 FROM events WHERE event_id IN ({marks})),"
        f" {HEAD_COLUMNS}"
        " FROM events ORDER BY position DESC LIMIT 1"
    )


@functools.lru_cache(maxsize=256)
def group_probe_sql(streams: int, ids: int) -> str:
    """A row per stream: its name and version, whether any of the ids is stored, and
    the head row as ``checked_head`` takes it (NULLs in an empty log)."""
    names = ",".join(["(?)"] * streams)
    marks = ",".join("?" * ids)
    return (
        f"WITH named(stream) AS (VALUES {names}),"
        f" last(position, hash, recorded_us, body, before) AS ({HEAD})"
        " SELECT named.stream,"
        " (SELECT version FROM events WHERE stream = named.stream"
        " ORDER BY version DESC LIMIT 1),"
        f" EXISTS (SELECT 1 FROM events WHERE event_id IN ({marks})),"
        " last.position, last.hash, last.recorded_us, last.body, last.before"
        " FROM named LEFT JOIN last ON 1"
    )
