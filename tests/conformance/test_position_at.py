"""``position_at``: the last position recorded by a time, so that "as of" is a prefix (S7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.clock import FrozenClock
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from tests.conformance.helpers import notes

TICK = timedelta(microseconds=1)


def _three_times(store: EventStore, clock: FrozenClock) -> None:
    """Positions 1-2 at the start, 3-5 a minute later, 6 two minutes later."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    clock.advance(minutes=1)
    store.append("task-b", notes(3, first=2), expected_version=NO_STREAM)
    clock.advance(minutes=1)
    store.append("task-a", notes(1, first=5), expected_version=2)


def test_an_empty_store_is_at_position_zero_at_any_time(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: nothing was recorded in an empty store, so every time maps to position 0."""
    assert store.position_at(clock.now()) == 0


def test_a_time_before_the_first_record_is_position_zero(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: before the first record's time, nothing was recorded."""
    start = clock.now()
    _three_times(store, clock)

    assert store.position_at(start - TICK) == 0


@pytest.mark.parametrize(("minutes", "expected"), [(0, 2), (1, 5), (2, 6), (60, 6)])
def test_a_time_maps_to_the_last_position_recorded_by_then(
    store: EventStore, clock: FrozenClock, minutes: int, expected: int
) -> None:
    """S7: at a record's exact time, that record and all before it count."""
    start = clock.now()
    _three_times(store, clock)

    assert store.position_at(start + timedelta(minutes=minutes)) == expected


def test_a_time_between_records_maps_to_the_earlier_one(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: one microsecond before the second group, only the first group counts."""
    start = clock.now()
    _three_times(store, clock)

    assert store.position_at(start + timedelta(minutes=1) - TICK) == 2


def test_records_stamped_while_the_clock_was_back_count_at_the_last_time(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: records clamped to the last recorded time belong to that time."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)
    stamped = clock.now()
    clock.advance(minutes=-10)
    store.append("task-a", notes(2, first=1), expected_version=ANY)

    assert store.position_at(stamped) == 3
    assert store.position_at(clock.now()) == 0


def test_position_at_agrees_with_read_all_until_time(store: EventStore, clock: FrozenClock) -> None:
    """S7: read_all(until_time=t) returns exactly positions 1 to position_at(t)."""
    start = clock.now()
    _three_times(store, clock)

    for offset in range(-1, 4):
        when = start + timedelta(seconds=59 * offset)
        read = [record.position for record in store.read_all(until_time=when)]
        assert read == list(range(1, store.position_at(when) + 1))
