"""What every backend does inside its write lock: check, de-duplicate, seal.

The backends differ in how they lock and persist; the rules of an append are
here once, so that they cannot drift apart.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from ledger.codec import seal
from ledger.errors import ConcurrencyConflict, DuplicateEventId, InvalidInput
from ledger.records import GENESIS_HASH, NewEvent, Record
from ledger.store.protocol import ANY, NO_STREAM, Head

MAX_ID_LENGTH = 200


def validate_batch(stream: str, events: Sequence[NewEvent], expected_version: int) -> None:
    """Refuse malformed appends before any lock is taken."""
    if not stream or len(stream) > MAX_ID_LENGTH:
        raise InvalidInput("stream name must be 1 to 200 characters", stream=stream)
    if not events:
        raise InvalidInput("an append needs at least one event", stream=stream)
    if expected_version < ANY:
        raise InvalidInput("expected_version must be ANY, NO_STREAM or a version >= 1")
    ids = [event.event_id for event in events]
    if len(set(ids)) != len(ids):
        raise DuplicateEventId("the batch repeats an event id", stream=stream)
    for event_id in ids:
        if not event_id or len(event_id) > MAX_ID_LENGTH:
            raise InvalidInput("event ids must be 1 to 200 characters", stream=stream)


def replayed_batch(
    stream: str, events: Sequence[NewEvent], stored: Sequence[Record | None]
) -> list[Record] | None:
    """Decide what already-stored ids mean (invariant S5).

    ``stored[i]`` is the record already holding ``events[i].event_id``, if any.
    Returns the stored records when the whole batch is a replay (same ids, stream,
    order and event data), ``None`` when no id is stored yet, and raises
    ``DuplicateEventId`` otherwise.
    """
    found = [record for record in stored if record is not None]
    if not found:
        return None
    complete = len(found) == len(events)
    same_stream = all(record.stream == stream for record in found)
    same_data = all(
        record is not None and record.data == event.data
        for record, event in zip(stored, events, strict=True)
    )
    consecutive = all(
        later.version == earlier.version + 1 for earlier, later in itertools.pairwise(found)
    )
    if complete and same_stream and consecutive and same_data:
        return found
    raise DuplicateEventId(
        "event id already stored elsewhere",
        stream=stream,
        event_id=found[0].event_id,
        position=found[0].position,
    )


def check_expected(stream: str, expected_version: int, current_version: int) -> None:
    """Raise ``ConcurrencyConflict`` unless the stream is where the caller expects."""
    if expected_version == ANY:
        return
    if expected_version == NO_STREAM and current_version == 0:
        return
    if expected_version == current_version:
        return
    raise ConcurrencyConflict(
        f"stream {stream!r} is at version {current_version}, expected {expected_version}",
        stream=stream,
        expected=expected_version,
        actual=current_version,
    )


def seal_batch(
    stream: str,
    events: Sequence[NewEvent],
    *,
    current_version: int,
    head: Head,
    now: datetime,
) -> list[tuple[Record, bytes]]:
    """Give each event its version, position, recorded-at time and chained hash."""
    recorded_at = now if head.recorded_at is None or now > head.recorded_at else head.recorded_at
    prev_hash = head.hash if head.position else GENESIS_HASH
    sealed: list[tuple[Record, bytes]] = []
    for offset, new in enumerate(events, start=1):
        record, stored = seal(
            new,
            position=head.position + offset,
            stream=stream,
            version=current_version + offset,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
            more=len(events) - offset,
        )
        sealed.append((record, stored))
        prev_hash = record.hash
    return sealed


EMPTY_HEAD = Head(position=0, hash=GENESIS_HASH, recorded_at=None)


def check_continues(head: Head, records: Sequence[tuple[Record, bytes]]) -> None:
    """Refuse a copied chunk unless it continues the log at ``head`` exactly: the
    next position, chained to the head's hash, each record to the one before."""
    expected_position = head.position + 1
    expected_prev = head.hash if head.position else GENESIS_HASH
    for record, _ in records:
        if record.position != expected_position or record.prev_hash != expected_prev:
            raise InvalidInput(
                f"record at position {record.position} does not continue this log"
                f" (expected position {expected_position} after hash {expected_prev[:12]}…)",
                position=record.position,
            )
        expected_position += 1
        expected_prev = record.hash
