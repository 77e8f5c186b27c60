"""Batches are all-or-nothing (S1), and event ids make re-appends idempotent (S5)."""

from __future__ import annotations

import msgspec
import pytest

from ledger.errors import DuplicateEventId, InvalidInput
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from tests.conformance.helpers import everything, note, notes, positions, versions


def test_a_batch_takes_consecutive_versions_and_positions(store: EventStore) -> None:
    """S1, S2, S3: a batch of four is stored whole, as consecutive versions and positions."""
    store.append("task-b", notes(1), expected_version=NO_STREAM)

    batch = store.append("task-a", notes(4, first=1), expected_version=NO_STREAM)

    assert (versions(batch), positions(batch)) == ([1, 2, 3, 4], [2, 3, 4, 5])


def test_an_empty_batch_is_refused(store: EventStore) -> None:
    """S1: an append needs at least one event."""
    with pytest.raises(InvalidInput):
        store.append("task-a", [], expected_version=ANY)


@pytest.mark.parametrize("stream", ["", "x" * 201])
def test_a_stream_name_outside_1_to_200_characters_is_refused(
    store: EventStore, stream: str
) -> None:
    """S1: a stream needs a name of 1 to 200 characters; nothing is written otherwise."""
    with pytest.raises(InvalidInput):
        store.append(stream, notes(1), expected_version=ANY)

    assert store.head_position() == 0


def test_a_bad_event_id_inside_a_batch_writes_none_of_it(store: EventStore) -> None:
    """S1: a batch whose third event has an empty id stores none of its events."""
    batch = [*notes(2), msgspec.structs.replace(note(2), event_id=""), note(3)]

    with pytest.raises(InvalidInput):
        store.append("task-a", batch, expected_version=NO_STREAM)

    assert store.head_position() == 0


def test_a_batch_repeating_an_event_id_writes_none_of_it(store: EventStore) -> None:
    """S1, S5: a batch that holds one event id twice raises DuplicateEventId, stores nothing."""
    first = note(0)
    twin = msgspec.structs.replace(note(1), event_id=first.event_id)

    with pytest.raises(DuplicateEventId):
        store.append("task-a", [first, note(2), twin], expected_version=NO_STREAM)

    assert store.head_position() == 0


def test_a_batch_reusing_a_stored_event_id_writes_none_of_it(store: EventStore) -> None:
    """S1, S5: a batch of new events plus one already stored raises and stores nothing."""
    [stored] = store.append("task-a", notes(1), expected_version=NO_STREAM)
    reused = msgspec.structs.replace(note(9), event_id=stored.event_id)

    with pytest.raises(DuplicateEventId) as caught:
        store.append("task-a", [*notes(2, first=1), reused], expected_version=1)

    assert caught.value.context["position"] == 1
    assert everything(store) == [stored]


def test_re_appending_a_stored_batch_returns_the_stored_records(store: EventStore) -> None:
    """S5: re-appending the same events returns the records already stored."""
    batch = notes(3)
    stored = store.append("task-a", batch, expected_version=NO_STREAM)

    assert store.append("task-a", batch, expected_version=NO_STREAM) == stored


def test_re_appending_a_stored_batch_writes_nothing(store: EventStore) -> None:
    """S5: a re-append leaves the log, the head and the stream version as they were."""
    batch = notes(3)
    store.append("task-a", batch, expected_version=NO_STREAM)
    store.append("task-b", notes(1, first=3), expected_version=NO_STREAM)
    before, head = everything(store), store.head()

    store.append("task-a", batch, expected_version=ANY)

    assert (everything(store), store.head(), store.stream_version("task-a")) == (before, head, 3)


def test_a_retry_after_the_stream_moved_still_returns_the_stored_records(
    store: EventStore,
) -> None:
    """S5: a retry after a lost acknowledgement gets the stored records, not a conflict."""
    batch = notes(2)
    stored = store.append("task-a", batch, expected_version=NO_STREAM)
    store.append("task-a", notes(1, first=2), expected_version=2)

    assert store.append("task-a", batch, expected_version=NO_STREAM) == stored


def test_re_appending_part_of_a_stored_batch_in_order_returns_that_part(
    store: EventStore,
) -> None:
    """S5: the last two events of a stored batch, re-appended in order, return their records."""
    batch = notes(3)
    stored = store.append("task-a", batch, expected_version=NO_STREAM)

    assert store.append("task-a", batch[1:], expected_version=ANY) == stored[1:]
    assert store.head_position() == 3


def test_a_stored_event_id_in_another_stream_raises(store: EventStore) -> None:
    """S5: an event id stored in one stream cannot be appended to another; nothing is written."""
    batch = notes(1)
    store.append("task-a", batch, expected_version=NO_STREAM)

    with pytest.raises(DuplicateEventId) as caught:
        store.append("task-b", batch, expected_version=NO_STREAM)

    assert caught.value.context["event_id"] == batch[0].event_id
    assert (store.head_position(), store.stream_version("task-b")) == (1, 0)


def test_stored_event_ids_in_another_order_raise(store: EventStore) -> None:
    """S5: the events of a stored batch re-appended in reverse order raise DuplicateEventId."""
    batch = notes(2)
    store.append("task-a", batch, expected_version=NO_STREAM)

    with pytest.raises(DuplicateEventId):
        store.append("task-a", batch[::-1], expected_version=ANY)

    assert store.head_position() == 2


def test_stored_event_ids_with_a_gap_between_them_raise(store: EventStore) -> None:
    """S5: versions 1 and 3 of a stream, re-appended as one batch, are not a replay."""
    batch = notes(3)
    store.append("task-a", batch, expected_version=NO_STREAM)

    with pytest.raises(DuplicateEventId):
        store.append("task-a", [batch[0], batch[2]], expected_version=ANY)

    assert store.head_position() == 3
