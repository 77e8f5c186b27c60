"""The row a SQL backend stores for a record: the body plus the columns it indexes,
and what the SQL backends read back from such rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.codec import decode_stored, micros
from ledger.records import Record
from ledger.store.protocol import Head, RawEntry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EventRow = tuple[int, str, int, str, str, int, str, bytes]
COLUMNS = "position, stream, version, event_id, type, recorded_us, hash, body"
"""The ``events`` table's columns in ``EventRow`` order."""
RAW_COLUMNS = "position, stream, version, event_id, type, hash, recorded_us, body"
"""The columns ``raw_entry`` takes, in its order."""


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


def raw_entry(row: Sequence[Any]) -> RawEntry:
    """A row of ``RAW_COLUMNS`` as ``verify`` reads it: the body and the columns beside it."""
    position, stream, version, event_id, type_, hash_, recorded_us, body = row
    return RawEntry(
        where=row_where(position),
        body=bytes(body),
        position=position,
        stream=stream,
        version=version,
        event_id=event_id,
        type=type_,
        hash=hash_,
        recorded_at=from_micros(recorded_us),
    )


def head_of(position: int, digest: str, recorded_us: int) -> Head:
    """The head of the log from its last row's position, hash and time column."""
    return Head(position=position, hash=digest, recorded_at=from_micros(recorded_us))


def decode_row(position: int, body: bytes) -> Record:
    """Decode a stored body; one that does not decode is ``CorruptLog`` naming its row."""
    return decode_stored(body, position=position, where=row_where)


def row_where(position: int) -> str:
    return f"row with position {position}"


def from_micros(recorded_us: int) -> datetime:
    """A time column (microseconds since the epoch) as a UTC datetime."""
    return _EPOCH + timedelta(microseconds=recorded_us)


PAGE = 5000
"""Rows a SQL backend reads per query when it walks the log by position."""


def paged(fetch: Callable[[int], Sequence[Sequence[Any]]], after: int) -> Iterator[Sequence[Any]]:
    """Every row of a walk by position: ``fetch(cursor)`` answers up to ``PAGE`` rows
    with a position (first column) above ``cursor``, in position order."""
    cursor = after
    while True:
        rows = fetch(cursor)
        yield from rows
        if len(rows) < PAGE:
            return
        cursor = rows[-1][0]


def read_limits(until: int | None, until_time: datetime | None) -> tuple[int, int]:
    """``read_all``'s bounds as column values: the last position and time column."""
    return (
        until if until is not None else (1 << 62),
        micros(until_time) if until_time is not None else (1 << 62),
    )
