"""Events to append in conformance tests; the store does not care what they say."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ledger.events import TaskRegistered
from ledger.records import NewEvent, Record
from ledger.store.protocol import EventStore

OCCURRED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def note(number: int, *, actor: str = "tester") -> NewEvent:
    """A small event whose title tells which one it is."""
    return NewEvent(
        data=TaskRegistered(task_id=f"t{number}", title=f"event {number}"),
        occurred_at=OCCURRED_AT,
        actor=actor,
        correlation_id=f"corr-{number}",
    )


def notes(count: int, *, first: int = 0) -> list[NewEvent]:
    """``count`` distinct events, numbered from ``first``."""
    return [note(number) for number in range(first, first + count)]


def everything(store: EventStore) -> list[Record]:
    """The whole log, oldest first."""
    return list(store.read_all())


def positions(records: Iterable[Record]) -> list[int]:
    return [record.position for record in records]


def versions(records: Iterable[Record]) -> list[int]:
    return [record.version for record in records]


def event_ids(records: Iterable[Record]) -> list[str]:
    return [record.event_id for record in records]
