"""Copy a whole ledger from one store to another, byte for byte.

Every record keeps its position, stream, version, event id, times and hash, so
the copy verifies exactly as the original does, on any backend (JSONL to
PostgreSQL and back). Each record is checked on the way (its hash covers its
bytes, its ``prev_hash`` is the hash before it): a corrupt source stops the copy
at the bad record with ``CorruptLog``, and nothing after it is written. The
target takes whole appends only, in chunks; an interrupted copy resumes where the
target's head is, once that head is the same record in the source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import msgspec

from ledger.codec import decode_record, stored_hash
from ledger.errors import CorruptLog, InvalidInput
from ledger.records import GENESIS_HASH, Record
from ledger.store.protocol import EventStore, RawEntry

CHUNK = 5000
"""Records per write to the target (rounded up to the end of an append)."""


class CopyReport(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    target: str
    copied: int
    """Records written to the target by this run."""
    skipped: int
    """Records the target already held (a resumed copy)."""
    unfinished: int = 0
    """Records of an append the source never finished (a JSONL writer killed
    mid-batch, never acknowledged): left out, as every reader of the source does."""
    position: int
    """The target's head position afterwards."""
    head_hash: str


def copy_log(
    source: EventStore,
    target: EventStore,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> CopyReport:
    """Copy every record of ``source`` that ``target`` does not hold yet."""
    if source.url == target.url and not source.url.startswith("memory"):
        raise InvalidInput("the source and the target are the same store", url=source.url)
    start = target.head()
    copied = 0
    pending: list[tuple[Record, bytes]] = []
    for record, raw in _checked(source.raw_entries()):
        if record.position <= start.position:
            if record.position == start.position and record.hash != start.hash:
                raise InvalidInput(
                    f"the target already holds a different log: its record at position"
                    f" {start.position} is not the source's",
                    position=start.position,
                )
            continue
        pending.append((record, raw))
        if len(pending) >= chunk and record.more == 0:
            target.copy_in(pending)
            copied += len(pending)
            pending = []
            if progress is not None:
                progress(copied)
    unfinished = 0
    while pending and pending[-1][0].more:
        pending.pop()
        unfinished += 1
    if pending:
        target.copy_in(pending)
        copied += len(pending)
        if progress is not None:
            progress(copied)
    end = target.head()
    if end.position < start.position:
        raise InvalidInput("the target's head moved back during the copy")
    return CopyReport(
        source=source.url,
        target=target.url,
        copied=copied,
        skipped=start.position,
        unfinished=unfinished,
        position=end.position,
        head_hash=end.hash,
    )


def _checked(entries: Iterator[RawEntry]) -> Iterator[tuple[Record, bytes]]:
    """Decode each stored record and check its hash, its place and its chain."""
    expected_position = 1
    prev = GENESIS_HASH
    for entry in entries:
        if entry.torn:
            continue
        try:
            record = decode_record(entry.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CorruptLog(
                f"the source's record at {entry.where} does not decode: {exc}",
                position=expected_position,
                where=entry.where,
            ) from exc
        problem = None
        if record.position != expected_position:
            problem = f"holds position {record.position} where {expected_position} belongs"
        elif stored_hash(entry.body) != record.hash:
            problem = "does not match its hash"
        elif record.prev_hash != prev:
            problem = "does not chain to the record before it"
        if problem is not None:
            raise CorruptLog(
                f"the source's record at {entry.where} {problem}; run `claims verify`",
                position=expected_position,
                where=entry.where,
            )
        yield record, entry.body
        expected_position += 1
        prev = record.hash
