"""The row a SQL backend stores for a record: the body plus the columns it indexes,
and what the SQL backends read back from such rows."""

from __future__ import annotations

import abc
import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.codec import decode_stored, micros
from ledger.records import Record
from ledger.store.checked import checked_chain, checked_record, checked_stream, link_before
from ledger.store.protocol import Head, RawEntry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EventRow = tuple[int, str, int, str, str, int, str, bytes]
COLUMNS = "position, stream, version, event_id, type, recorded_us, hash, body"
"""The ``events`` table's columns in ``EventRow`` order."""
RAW_COLUMNS = "position, stream, version, event_id, type, hash, recorded_us, body"
"""The columns ``raw_entry`` takes, in its order."""
CHAIN_COLUMNS = "position, hash, body"
"""The columns a checked walk by position reads (``checked_rows``)."""
_STREAM_SQL = (
    "SELECT e.position, e.hash, e.body,"
    " (SELECT p.hash FROM events p WHERE p.position = e.position - 1)"
    " FROM events e WHERE e.stream = {mark} AND e.version > {mark} ORDER BY e.version"
)


def stream_sql(mark: str) -> str:
    """The query of a checked stream read: each row with its predecessor's hash in the log,
    ``mark`` being the driver's parameter mark."""
    return _STREAM_SQL.format(mark=mark)


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
    """A row of ``RAW_COLUMNS`` as ``verify`` reads it: the body and the columns beside it;
    a row whose columns hold the wrong types (text for the body, a NULL) has a ``fault``."""
    position, stream, version, event_id, type_, hash_, recorded_us, body = row
    fault = _column_fault(row)
    if fault is not None:
        number = position if isinstance(position, int) else None
        return RawEntry(where=row_where(position), body=b"", position=number, fault=fault)
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


_COLUMN_TYPES: tuple[tuple[str, type], ...] = (
    ("position", int),
    ("stream", str),
    ("version", int),
    ("event_id", str),
    ("type", str),
    ("hash", str),
    ("recorded_us", int),
    ("body", bytes),
)
"""``RAW_COLUMNS`` with the type each must hold."""
_MIN_MICROS = -62_135_596_800_000_000
"""0001-01-01T00:00:00Z: a time column before it is no datetime."""
_MAX_MICROS = 253_402_300_799_999_999
"""9999-12-31T23:59:59.999999Z: a time column past it is no datetime."""


def _column_fault(row: Sequence[Any]) -> str | None:
    for (name, kind), value in zip(_COLUMN_TYPES, row, strict=True):
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"its {name} column holds {type(value).__name__}, not {kind.__name__}"
    recorded_us = row[6]
    if not _MIN_MICROS <= recorded_us <= _MAX_MICROS:
        return f"its recorded_us column ({recorded_us}) is no time"
    return None


def head_of(position: int, digest: str, recorded_us: int) -> Head:
    """The head of the log from its last row's position, hash and time column."""
    return Head(position=position, hash=digest, recorded_at=from_micros(recorded_us))


def checked_head(
    position: int, digest: str, recorded_us: int, body: object, before: object
) -> Head:
    """The head of the log from its last row, once that row's body matches its hash
    and chains to the row before it: an append never seals onto a broken link."""
    checked_record(
        body,
        position=position,
        where=row_where,
        prev_hash=link_before(position, before) or "",
        hash_column=digest,
    )
    return head_of(position, digest, recorded_us)


class CheckedWalks(abc.ABC):
    """``read_all`` of a SQL store: the checked walk of its ``chain_rows``."""

    @abc.abstractmethod
    def chain_rows(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Sequence[Any]]:
        """The ``CHAIN_COLUMNS`` rows ``read_all`` checks, unchecked (``ChainSource``):
        from the anchor row at ``after`` to ``until`` (a position) and ``until_time``."""

    def read_all(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Record]:
        after = max(after, 0)
        yield from checked_rows(
            self.chain_rows(after=after, until=until, until_time=until_time), after
        )


def checked_rows(rows: Iterator[Sequence[Any]], after: int) -> Iterator[Record]:
    """The records of a walk of ``CHAIN_COLUMNS`` rows from the anchor at ``after``
    (each row exactly those three columns, taken as they come)."""
    return checked_chain(rows, after=after, where=row_where)


def checked_stream_rows(
    rows: Sequence[Sequence[Any]], stream: str, after_version: int
) -> list[Record]:
    """The records of a ``stream_sql`` read, checked."""
    return checked_stream(
        ((row[0], row[1], row[2], row[3]) for row in rows),
        stream=stream,
        after_version=after_version,
        where=row_where,
    )


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


def pages(
    fetch: Callable[[int], Sequence[Sequence[Any]]], after: int
) -> Iterator[Sequence[Sequence[Any]]]:
    """The pages of a walk by position: ``fetch(cursor)`` answers up to ``PAGE`` rows
    with a position (first column) above ``cursor``, in position order."""
    cursor = after
    while True:
        rows = fetch(cursor)
        yield rows
        if len(rows) < PAGE:
            return
        cursor = rows[-1][0]


def paged(fetch: Callable[[int], Sequence[Sequence[Any]]], after: int) -> Iterator[Sequence[Any]]:
    """Every row of a walk by position (``pages``), one by one, with no Python frame
    resumed per row."""
    return itertools.chain.from_iterable(pages(fetch, after))


def anchored_rows(
    fetch: Callable[[int], Sequence[Sequence[Any]]], after: int
) -> Iterator[Sequence[Any]]:
    """The ``CHAIN_COLUMNS`` rows of a walk by position after ``after``, unchecked:
    the walk starts at the row at ``after`` itself, the anchor the first record must
    chain to (``checked_rows`` checks them)."""
    return paged(fetch, max(after - 1, 0))


def read_limits(until: int | None, until_time: datetime | None) -> tuple[int, int]:
    """``read_all``'s bounds as column values: the last position and time column."""
    return (
        until if until is not None else (1 << 62),
        micros(until_time) if until_time is not None else (1 << 62),
    )
