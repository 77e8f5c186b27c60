"""The store port: a narrow Protocol every backend implements.

Store invariants (docs/store-invariants.md; the conformance suite cites them):

S1  ``append`` is all-or-nothing: every event of the batch is stored, or none.
S2  Stream versions start at 1 and have no gaps.
S3  Positions start at 1, are store-wide, strictly increasing and gapless.
S4  ``append`` checks ``expected_version`` and stores in one atomic step; a stream
    that moved raises ``ConcurrencyConflict`` and stores nothing.
S5  Re-appending a batch whose event ids are all stored, in that stream and order,
    returns the stored records and writes nothing; any other reuse of a stored
    event id raises ``DuplicateEventId``.
S6  Every record's ``hash`` covers its canonical encoding; ``prev_hash`` is the
    hash of the record before it (64 zeros for position 1).
S7  ``recorded_at`` never decreases with position, so "as of a time" is a prefix.
S8  A reader never sees part of a batch, and never skips a position that
    commits later.
S9  An append that returned is durable: it survives a crash of any process
    (and, in the default durability mode, a power loss).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final, Protocol, runtime_checkable

import msgspec

from ledger.records import NewEvent, Record

ANY: Final = -1
"""Expected version: append whatever the stream's version."""
NO_STREAM: Final = 0
"""Expected version: the stream must not exist yet."""


class RawEntry(msgspec.Struct, frozen=True, gc=False):
    """One stored record as bytes, with where it sits, for ``verify``."""

    where: str
    body: bytes
    position: int | None = None
    stream: str | None = None
    version: int | None = None
    torn: bool = False
    """A last line without its newline: an append that never completed."""
    event_id: str | None = None
    type: str | None = None
    hash: str | None = None
    recorded_at: datetime | None = None
    """Copies of the body's fields the backend keeps beside it and reads on its own
    (SQLite's columns), so that ``verify`` can check they still agree."""
    fault: str | None = None
    """What is wrong with the stored row itself (a column of the wrong type), found
    before its body could be read."""


class Head(msgspec.Struct, frozen=True, gc=False):
    """The last record of the log: its position, hash and recorded-at time."""

    position: int
    hash: str
    recorded_at: datetime | None


def head_at(record: Record) -> Head:
    """The head of a log whose last record is ``record``."""
    return Head(position=record.position, hash=record.hash, recorded_at=record.recorded_at)


@runtime_checkable
class ChainSource(Protocol):
    """A store whose walk by position another process can read on its own (from
    ``url``), as the rows ``read_all`` checks: ``(position, hash column or None,
    stored bytes)``, from the anchor row at ``after`` (when ``after`` is above 0) to
    ``until``, unchecked (``ledger.store.hashed_walk``)."""

    @property
    def url(self) -> str: ...

    def chain_rows(
        self, *, after: int = 0, until: int | None = None
    ) -> Iterator[Sequence[Any]]: ...


class EventStore(Protocol):
    """An append-only log of records, one stream per task or session."""

    @property
    def url(self) -> str: ...

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int
    ) -> list[Record]:
        """Append all of ``events`` to ``stream`` if it is at ``expected_version``."""
        ...

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        """The stream's records with a version above ``after_version``, oldest first."""
        ...

    def read_all(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Record]:
        """Records with ``after < position <= until`` and ``recorded_at <= until_time``."""
        ...

    def position_at(self, when: datetime) -> int:
        """The last position recorded at or before ``when`` (0 if none); by S7 the
        log up to it is exactly the log "as of" that time."""
        ...

    def stream_version(self, stream: str) -> int:
        """The stream's last version, 0 when it does not exist."""
        ...

    def head(self) -> Head:
        """Position, hash and time of the last record (position 0 when empty)."""
        ...

    def head_position(self) -> int: ...

    def wait_for_head(self, after: int, timeout: float) -> int:
        """Block until the head position passes ``after`` or ``timeout`` seconds
        pass; return the head position then. Live readers (the projection runner,
        the API's event stream) wait here instead of polling on their own:
        PostgreSQL wakes them by ``NOTIFY``, the embedded stores poll the head."""
        ...

    def raw_entries(self) -> Iterator[RawEntry]:
        """Every stored record as bytes, in storage order, for verification."""
        ...

    def copy_in(self, records: Sequence[tuple[Record, bytes]]) -> None:
        """Store records sealed by another store, byte for byte (``claims import``).

        The first must sit right after the head (next position, ``prev_hash`` equal
        to the head's hash) and each the one before it, or ``InvalidInput`` is
        raised and nothing is stored; positions, versions, event ids and hashes
        are kept, so the copy verifies as the original does.
        """
        ...

    def close(self) -> None: ...
