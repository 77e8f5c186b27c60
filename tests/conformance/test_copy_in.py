"""Copying a ledger into a store (``copy_in`` and ``copy_log``): byte for byte,
only after the head, whole appends only, and nothing stored when refused."""

from __future__ import annotations

import pytest

from ledger.clock import FrozenClock
from ledger.errors import CorruptLog, InvalidInput
from ledger.records import Record
from ledger.store.copy import copy_log
from ledger.store.memory import MemoryStore
from ledger.store.protocol import NO_STREAM, EventStore
from ledger.verify import verify_store
from tests.conformance.helpers import everything, notes


def _source(clock: FrozenClock) -> MemoryStore:
    """A log of single appends and batches over several streams."""
    source = MemoryStore(clock=clock)
    source.append("task-a", notes(2), expected_version=NO_STREAM)
    source.append("task-b", notes(3, first=2), expected_version=NO_STREAM)
    source.append("task-a", notes(1, first=5), expected_version=2)
    source.append("session-c", notes(4, first=6), expected_version=NO_STREAM)
    return source


def test_a_copy_keeps_every_byte_position_version_and_hash(
    store: EventStore, clock: FrozenClock
) -> None:
    """The copy reads back as the source and stores the same bytes; verify passes."""
    source = _source(clock)

    report = copy_log(source, store, chunk=3)

    assert report.copied == 10
    assert everything(store) == everything(source)
    assert [entry.body for entry in store.raw_entries()] == [
        entry.body for entry in source.raw_entries()
    ]
    assert store.head() == source.head()
    assert store.stream_version("task-a") == 3
    assert verify_store(store).ok


def test_a_resumed_copy_writes_only_what_is_missing(store: EventStore, clock: FrozenClock) -> None:
    """A target holding a prefix of the source gets the rest, nothing twice."""
    source = _source(clock)
    store.copy_in([(record, raw) for record, raw in _sealed(source)[:5]])

    report = copy_log(source, store)

    assert (report.skipped, report.copied) == (5, 5)
    assert everything(store) == everything(source)


def test_a_chunk_that_does_not_follow_the_head_is_refused(
    store: EventStore, clock: FrozenClock
) -> None:
    """Skipping a position, or a chain that does not meet the head, stores nothing."""
    sealed = _sealed(_source(clock))
    store.copy_in(sealed[:2])

    with pytest.raises(InvalidInput):
        store.copy_in(sealed[3:5])
    assert store.head_position() == 2

    other = MemoryStore(clock=clock)
    other.append("task-z", notes(3, first=50), expected_version=NO_STREAM)
    with pytest.raises(InvalidInput):
        store.copy_in(_sealed(other)[2:3])
    assert store.head_position() == 2


def test_a_target_holding_another_log_is_refused(store: EventStore, clock: FrozenClock) -> None:
    """copy_log never appends one ledger's history after another's."""
    store.append("task-z", notes(2, first=50), expected_version=NO_STREAM)
    before = everything(store)

    with pytest.raises(InvalidInput, match="different log"):
        copy_log(_source(clock), store)
    assert everything(store) == before


def test_a_tampered_source_stops_the_copy_at_the_bad_record(
    store: EventStore, clock: FrozenClock
) -> None:
    """The copy names the record whose bytes do not match its hash and writes nothing after it."""
    source = _source(clock)
    entries = list(source.raw_entries())
    bad = entries[6].body.replace(b"event 6", b"event X")
    tampered = MemoryStore(clock=clock)
    tampered._stored = [entry.body for entry in entries[:6]] + [bad]

    with pytest.raises(CorruptLog) as caught:
        copy_log(tampered, store)
    assert caught.value.context["position"] == 7
    assert store.head_position() < 7


def _sealed(store: MemoryStore) -> list[tuple[Record, bytes]]:
    return list(zip(everything(store), [e.body for e in store.raw_entries()], strict=True))
