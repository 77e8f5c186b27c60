"""Optimistic concurrency: the expected version is checked in the same step as the write (S4)."""

from __future__ import annotations

import pytest

from ledger.errors import ConcurrencyConflict, InvalidInput
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from tests.conformance.helpers import everything, notes, versions


def test_the_exact_current_version_appends(store: EventStore) -> None:
    """S4: an append that expects the stream's current version succeeds."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)

    records = store.append("task-a", notes(1, first=2), expected_version=2)

    assert versions(records) == [3]


def test_a_version_behind_the_stream_conflicts(store: EventStore) -> None:
    """S4: expecting version 1 of a stream at version 2 raises ConcurrencyConflict."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)

    with pytest.raises(ConcurrencyConflict) as caught:
        store.append("task-a", notes(1, first=2), expected_version=1)

    assert caught.value.context == {"stream": "task-a", "expected": 1, "actual": 2}


def test_a_version_ahead_of_the_stream_conflicts(store: EventStore) -> None:
    """S4: expecting version 5 of a stream at version 2 raises ConcurrencyConflict."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)

    with pytest.raises(ConcurrencyConflict):
        store.append("task-a", notes(1, first=2), expected_version=5)


def test_a_conflict_writes_nothing(store: EventStore) -> None:
    """S1, S4: after a conflict the log, its head and the stream's version are unchanged."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    before, head = everything(store), store.head()

    with pytest.raises(ConcurrencyConflict):
        store.append("task-a", notes(3, first=2), expected_version=1)

    assert (everything(store), store.head(), store.stream_version("task-a")) == (before, head, 2)


def test_a_version_of_a_missing_stream_conflicts(store: EventStore) -> None:
    """S4: expecting version 1 of a stream that does not exist raises ConcurrencyConflict."""
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append("task-a", notes(1), expected_version=1)

    assert caught.value.context["actual"] == 0
    assert store.head_position() == 0


def test_no_stream_creates_a_new_stream(store: EventStore) -> None:
    """S4: NO_STREAM appends when the stream does not exist yet."""
    store.append("task-b", notes(1), expected_version=NO_STREAM)

    assert versions(store.append("task-a", notes(2, first=1), expected_version=NO_STREAM)) == [
        1,
        2,
    ]


def test_no_stream_on_an_existing_stream_conflicts(store: EventStore) -> None:
    """S4: NO_STREAM on a stream that exists raises ConcurrencyConflict and writes nothing."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)

    with pytest.raises(ConcurrencyConflict) as caught:
        store.append("task-a", notes(1, first=1), expected_version=NO_STREAM)

    assert caught.value.context == {"stream": "task-a", "expected": NO_STREAM, "actual": 1}
    assert store.head_position() == 1


def test_any_appends_to_a_new_stream(store: EventStore) -> None:
    """S4: ANY appends to a stream that does not exist."""
    assert versions(store.append("task-a", notes(1), expected_version=ANY)) == [1]


def test_any_appends_to_an_existing_stream(store: EventStore) -> None:
    """S4: ANY appends whatever version the stream is at."""
    store.append("task-a", notes(3), expected_version=NO_STREAM)

    assert versions(store.append("task-a", notes(1, first=3), expected_version=ANY)) == [4]


def test_an_expected_version_below_any_is_refused(store: EventStore) -> None:
    """S4: an expected version below ANY is invalid input, and nothing is written."""
    with pytest.raises(InvalidInput):
        store.append("task-a", notes(1), expected_version=-2)

    assert store.head_position() == 0


def test_a_conflict_on_one_stream_leaves_others_writable(store: EventStore) -> None:
    """S4: the expected version is per stream; a conflict on one does not block another."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)
    with pytest.raises(ConcurrencyConflict):
        store.append("task-a", notes(1, first=1), expected_version=NO_STREAM)

    [record] = store.append("task-b", notes(1, first=2), expected_version=NO_STREAM)

    assert (record.version, record.position) == (1, 2)
