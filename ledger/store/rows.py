"""The row a SQL backend stores for a record: the body plus the columns it indexes."""

from __future__ import annotations

from ledger.codec import micros
from ledger.records import Record

EventRow = tuple[int, str, int, str, str, int, str, bytes]
COLUMNS = "position, stream, version, event_id, type, recorded_us, hash, body"
"""The ``events`` table's columns in ``EventRow`` order."""


def event_row(record: Record, raw: bytes) -> EventRow:
    """``record``'s row: its stored bytes and the columns read without decoding them."""
    return (
        record.position,
        record.stream,
        record.version,
        record.event_id,
        record.type,
        micros(record.recorded_at),
        record.hash,
        raw,
    )
