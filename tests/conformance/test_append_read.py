"""Appending and reading back: versions (S2), positions (S3), the read API and the head."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.clock import FrozenClock
from ledger.records import GENESIS_HASH
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from tests.conformance.helpers import event_ids, everything, note, notes, positions, versions


def test_first_append_is_version_one_at_position_one(store: EventStore) -> None:
    """S2, S3: the first record of an empty store is version 1 of its stream at position 1."""
    [record] = store.append("task-a", [note(1)], expected_version=NO_STREAM)

    assert (record.stream, record.version, record.position) == ("task-a", 1, 1)


def test_versions_count_up_without_gaps_across_appends(store: EventStore) -> None:
    """S2: batches of 1, 3 and 2 events make versions 1 to 6 of the stream."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)
    store.append("task-a", notes(3, first=1), expected_version=1)
    store.append("task-a", notes(2, first=4), expected_version=4)

    assert versions(store.read_stream("task-a")) == [1, 2, 3, 4, 5, 6]


def test_each_stream_counts_its_own_versions(store: EventStore) -> None:
    """S2: interleaved appends to two streams give each stream its own versions 1, 2, 3."""
    for round_ in range(3):
        store.append("task-a", [note(round_)], expected_version=ANY)
        store.append("task-b", [note(10 + round_)], expected_version=ANY)

    assert versions(store.read_stream("task-a")) == [1, 2, 3]
    assert versions(store.read_stream("task-b")) == [1, 2, 3]


def test_positions_are_store_wide_and_gapless(store: EventStore) -> None:
    """S3: appends to three streams take positions 1 to n in the order they were made."""
    appended = []
    for number, stream in enumerate(["task-a", "task-b", "task-a", "session-c", "task-b"]):
        appended += store.append(stream, notes(2, first=2 * number), expected_version=ANY)

    assert positions(appended) == list(range(1, 11))
    assert positions(everything(store)) == list(range(1, 11))


def test_records_read_back_equal_the_records_append_returned(store: EventStore) -> None:
    """S3: read_stream and read_all return exactly the records that append returned."""
    first = store.append("task-a", notes(2), expected_version=NO_STREAM)
    second = store.append("task-b", notes(1, first=2), expected_version=NO_STREAM)

    assert store.read_stream("task-a") == first
    assert everything(store) == first + second


def test_a_record_keeps_what_the_caller_gave_it(store: EventStore) -> None:
    """S3: event id, data, actor, times and correlation survive the store unchanged."""
    new = note(7, actor="agent-7")
    [record] = store.append("task-a", [new], expected_version=NO_STREAM)
    [read] = store.read_stream("task-a")

    assert (read.event_id, read.data, read.actor) == (new.event_id, new.data, new.actor)
    assert (read.occurred_at, read.correlation_id) == (new.occurred_at, new.correlation_id)
    assert read.causation_id is None
    assert read.type == "task_registered"
    assert read == record


def test_read_stream_holds_only_its_own_stream(store: EventStore) -> None:
    """S2: read_stream returns the stream's records and none of another stream's."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    store.append("task-b", notes(3, first=2), expected_version=NO_STREAM)

    assert {record.stream for record in store.read_stream("task-b")} == {"task-b"}
    assert len(store.read_stream("task-b")) == 3


def test_read_stream_after_version_skips_earlier_versions(store: EventStore) -> None:
    """S2: read_stream(after_version=2) starts at version 3."""
    store.append("task-a", notes(5), expected_version=NO_STREAM)

    assert versions(store.read_stream("task-a", after_version=2)) == [3, 4, 5]


def test_read_stream_past_its_last_version_is_empty(store: EventStore) -> None:
    """S2: read_stream after the stream's last version returns nothing."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)

    assert store.read_stream("task-a", after_version=2) == []


def test_read_stream_of_an_unknown_stream_is_empty(store: EventStore) -> None:
    """S2: a stream nobody appended to reads as empty."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)

    assert store.read_stream("task-zzz") == []


def test_read_all_after_skips_positions_up_to_it(store: EventStore) -> None:
    """S3: read_all(after=4) starts at position 5."""
    store.append("task-a", notes(7), expected_version=NO_STREAM)

    assert positions(store.read_all(after=4)) == [5, 6, 7]


def test_read_all_until_stops_at_that_position(store: EventStore) -> None:
    """S3: read_all(until=3) ends at position 3, inclusive."""
    store.append("task-a", notes(7), expected_version=NO_STREAM)

    assert positions(store.read_all(until=3)) == [1, 2, 3]


def test_read_all_after_and_until_select_a_window(store: EventStore) -> None:
    """S3: read_all(after=2, until=5) returns positions 3, 4 and 5."""
    store.append("task-a", notes(7), expected_version=NO_STREAM)

    assert positions(store.read_all(after=2, until=5)) == [3, 4, 5]


def test_read_all_past_the_head_is_empty(store: EventStore) -> None:
    """S3: read_all after the last position returns nothing."""
    store.append("task-a", notes(3), expected_version=NO_STREAM)

    assert list(store.read_all(after=3)) == []
    assert list(store.read_all(after=10)) == []


def test_read_all_of_an_empty_store_is_empty(store: EventStore) -> None:
    """S3: an empty store reads as empty."""
    assert list(store.read_all()) == []


def test_read_all_until_time_returns_the_prefix_recorded_by_then(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: read_all(until_time=t) returns exactly the records recorded at or before t."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    middle = clock.advance(minutes=1)
    store.append("task-a", notes(2, first=2), expected_version=2)
    clock.advance(minutes=1)
    store.append("task-a", notes(2, first=4), expected_version=4)

    assert positions(store.read_all(until_time=middle)) == [1, 2, 3, 4]
    assert positions(store.read_all(until_time=middle - timedelta(microseconds=1))) == [1, 2]


def test_read_all_until_time_before_the_first_record_is_empty(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: nothing was recorded before the first record's time."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)

    assert list(store.read_all(until_time=clock.now() - timedelta(seconds=1))) == []


def test_read_all_combines_after_with_until_time(store: EventStore, clock: FrozenClock) -> None:
    """S3, S7: after and until_time together select the records between them."""
    store.append("task-a", notes(3), expected_version=NO_STREAM)
    middle = clock.advance(seconds=5)
    store.append("task-a", notes(3, first=3), expected_version=3)
    clock.advance(seconds=5)
    store.append("task-a", notes(3, first=6), expected_version=6)

    assert positions(store.read_all(after=2, until_time=middle)) == [3, 4, 5, 6]


def test_read_all_pages_through_a_long_log(store: EventStore, clock: FrozenClock) -> None:
    """S3: twelve thousand records in two batches read back gapless, in order, to the end."""
    first = store.append("task-a", notes(6000), expected_version=NO_STREAM)
    later = clock.advance(seconds=1)
    store.append("task-b", notes(6000, first=6000), expected_version=NO_STREAM)

    assert positions(store.read_all()) == list(range(1, 12_001))
    assert event_ids(store.read_all(until_time=later - timedelta(seconds=1))) == event_ids(first)
    assert positions(store.read_all(after=5999, until=6002)) == [6000, 6001, 6002]


def test_stream_version_of_an_unknown_stream_is_zero(store: EventStore) -> None:
    """S2: a stream that does not exist is at version 0."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)

    assert store.stream_version("task-b") == 0


def test_stream_version_is_the_last_version(store: EventStore) -> None:
    """S2: after batches of 2 and 3 events the stream is at version 5."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    store.append("task-b", notes(1, first=2), expected_version=NO_STREAM)
    store.append("task-a", notes(3, first=3), expected_version=2)

    assert store.stream_version("task-a") == 5


def test_head_of_an_empty_store_is_position_zero(store: EventStore) -> None:
    """S3, S6: the head of an empty store is position 0 with the genesis hash and no time."""
    head = store.head()

    assert (head.position, head.hash, head.recorded_at) == (0, GENESIS_HASH, None)
    assert store.head_position() == 0


def test_head_names_the_last_record(store: EventStore, clock: FrozenClock) -> None:
    """S3, S6, S7: head() gives the last record's position, hash and recorded-at time."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    clock.advance(minutes=3)
    *_, last = store.append("task-b", notes(2, first=2), expected_version=NO_STREAM)
    head = store.head()

    assert (head.position, head.hash, head.recorded_at) == (4, last.hash, last.recorded_at)


def test_head_position_follows_appends(store: EventStore) -> None:
    """S3: head_position() is the position of the last record after every append."""
    seen: list[int] = []
    for count in (1, 4, 2):
        store.append("task-a", notes(count, first=len(seen) * 10), expected_version=ANY)
        seen.append(store.head_position())

    assert seen == [1, 5, 7]


def test_read_stream_after_a_negative_version_reads_the_whole_stream(store: EventStore) -> None:
    """S2: every version is above -1, so after_version=-1 returns the whole stream."""
    store.append("task-a", notes(3), expected_version=NO_STREAM)

    assert versions(store.read_stream("task-a", after_version=-1)) == [1, 2, 3]


def test_read_all_after_a_negative_position_reads_from_the_start(store: EventStore) -> None:
    """S3: every position is above -1, so after=-1 returns the whole log."""
    store.append("task-a", notes(3), expected_version=NO_STREAM)

    assert positions(store.read_all(after=-1)) == [1, 2, 3]


@pytest.mark.parametrize("until", [0, -1, -5])
def test_read_all_until_a_position_below_one_is_empty(store: EventStore, until: int) -> None:
    """S3: no position is at or below 0, so until=0 or below returns nothing."""
    store.append("task-a", notes(3), expected_version=NO_STREAM)

    assert list(store.read_all(until=until)) == []
