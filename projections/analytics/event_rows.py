"""The ``events`` rows of a batch, made by DuckDB from the records' own JSON.

The feeder writes the batch's records into a file of its own: the very lines the
long walk read them from where a helper process sent them (``hashed_walk.Page``),
else the records encoded again in one call (``msgspec``'s ``encode_lines``, no
Python step per record; the same bytes: the store's canonical encoding). DuckDB's
``read_json`` spreads each record's event over the typed columns with the query
below. The spreading is
``EventRow.of``'s, column for column: that function stays the definition (the tests
hold this query to it on any record, ``tests/analytics/test_event_rows.py``), and
this is how the feed computes it (docs/adr/0022-events-spread-by-duckdb.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import msgspec

from ledger.records import Record

_encoder = msgspec.json.Encoder()

_DATA = (
    "STRUCT("
    "task_id VARCHAR, session_id VARCHAR, to_session VARCHAR, from_session VARCHAR,"
    " fencing_token BIGINT, previous_token BIGINT, reason VARCHAR, handoff_reason VARCHAR,"
    " forced BOOLEAN, forced_by VARCHAR, extend_ms BIGINT, ttl_ms BIGINT,"
    " expires_at TIMESTAMPTZ, expired_at TIMESTAMPTZ, agent_type VARCHAR, tier VARCHAR,"
    " status VARCHAR, previous VARCHAR, title VARCHAR, priority VARCHAR, roi DOUBLE,"
    " fingerprint VARCHAR, phase VARCHAR, host VARCHAR, pid BIGINT, scope VARCHAR[],"
    " constraints VARCHAR[], metadata JSON)"
)
"""Every event field the ``events`` columns take, by name (a field an event does not
have reads as NULL)."""

_COLUMNS = {
    "position": "BIGINT",
    "stream": "VARCHAR",
    "version": "BIGINT",
    "event_id": "VARCHAR",
    "type": "VARCHAR",
    "schema_version": "INTEGER",
    "occurred_at": "TIMESTAMPTZ",
    "recorded_at": "TIMESTAMPTZ",
    "actor": "VARCHAR",
    "correlation_id": "VARCHAR",
    "causation_id": "VARCHAR",
    "data": _DATA,
    "hash": "VARCHAR",
}

_LEASES = "('heartbeat', 'claimed', 'taken_over', 'released', 'orphaned', 'expired')"
_HOLDERS = "('claimed', 'taken_over')"
_SESSIONS = (
    "('heartbeat', 'claimed', 'released', 'orphaned', 'expired', 'session_started',"
    " 'session_ended')"
)
_NAMED = (
    "('heartbeat', 'claimed', 'taken_over', 'released', 'orphaned', 'expired',"
    " 'task_registered', 'task_status_changed', 'session_started', 'session_ended')"
)
"""The types ``EventRow.of`` spreads by name; any other keeps only its fingerprint."""

_SELECT = f"""
SELECT position, stream, version, event_id, type, schema_version, occurred_at,
    recorded_at, actor, correlation_id, causation_id, hash,
    data.task_id,
    CASE WHEN type = 'taken_over' THEN data.to_session
        WHEN type IN {_SESSIONS} THEN data.session_id END,
    CASE WHEN type IN {_LEASES} THEN data.fencing_token END,
    CASE WHEN type = 'taken_over' THEN data.previous_token END,
    CASE WHEN type = 'taken_over' THEN data.from_session END,
    CASE WHEN type = 'taken_over' THEN data.handoff_reason
        WHEN type IN ('released', 'orphaned', 'task_status_changed', 'session_ended')
        THEN data.reason END,
    CASE WHEN type = 'taken_over' THEN data.forced END,
    CASE WHEN type = 'taken_over' THEN data.forced_by END,
    CASE WHEN type = 'heartbeat' THEN data.extend_ms
        WHEN type IN {_HOLDERS} THEN data.ttl_ms END,
    CASE WHEN type = 'expired' THEN data.expired_at
        WHEN type IN ('heartbeat', 'claimed', 'taken_over') THEN data.expires_at END,
    CASE WHEN type IN ('claimed', 'taken_over', 'session_started') THEN data.agent_type END,
    CASE WHEN type IN ('claimed', 'taken_over', 'session_started') THEN data.tier END,
    CASE WHEN type IN ('task_registered', 'task_status_changed') THEN data.status END,
    CASE WHEN type = 'task_status_changed' THEN data.previous END,
    CASE WHEN type = 'task_registered' THEN data.title END,
    CASE WHEN type = 'task_registered' THEN data.priority END,
    CASE WHEN type = 'task_registered' THEN data.roi END,
    CASE WHEN type = 'task_registered' OR type NOT IN {_NAMED} THEN data.fingerprint END,
    CASE WHEN type = 'task_registered' THEN data.phase END,
    CASE WHEN type = 'session_started' THEN data.host END,
    CASE WHEN type = 'session_started' THEN data.pid END,
    CASE WHEN type IN {_HOLDERS} THEN data.scope END,
    CASE WHEN type IN {_HOLDERS} THEN data.constraints END,
    CASE WHEN type IN {_HOLDERS} THEN data.metadata END
FROM read_json(?, format = 'newline_delimited', columns = {_COLUMNS!r})
"""
"""The ``events`` rows of a records file, in the table's column order."""


def write_records(records: Sequence[Record], path: Path) -> int:
    """Encode ``records`` into ``path``, one JSON object a line; returns how many."""
    path.write_bytes(encode_records(records))
    return len(records)


def encode_records(records: Sequence[Record]) -> bytes:
    """``records`` as lines of JSON, each ended: the store's own encoding of them."""
    return _encoder.encode_lines(records)


def write_lines(parts: Iterable[bytes], path: Path) -> None:
    """Write records' lines (``encode_records``, or a walk's stored lines) into ``path``."""
    with path.open("wb") as out:
        out.writelines(parts)


def insert_events(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Insert the ``events`` rows of the records in ``path`` (``write_records``)."""
    con.execute(f"INSERT INTO events {_SELECT}", [str(path)])
