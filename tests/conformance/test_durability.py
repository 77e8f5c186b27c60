"""One log, many handles: reopening (S9) and several store instances on one file.

These run on the shared backends only (``Backend.shared``): a memory store's log
lives inside its one instance, which the last test here pins down.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.clock import FrozenClock
from ledger.errors import ConcurrencyConflict
from ledger.store.factory import open_store
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from tests.conformance.helpers import everything, notes, positions, versions
from tests.conftest import START


def _filled(url: str, clock: FrozenClock) -> EventStore:
    store = open_store(url, clock=clock)
    store.append("task-a", notes(3), expected_version=NO_STREAM)
    store.append("task-b", notes(2, first=3), expected_version=NO_STREAM)
    return store


def test_reopening_sees_every_record(shared_store_url: str, clock: FrozenClock) -> None:
    """S9: a store closed and opened again reads back every record it acknowledged."""
    first = _filled(shared_store_url, clock)
    written = everything(first)
    first.close()

    again = open_store(shared_store_url, clock=clock)

    assert everything(again) == written
    again.close()


def test_reopening_restores_the_head_and_stream_versions(
    shared_store_url: str, clock: FrozenClock
) -> None:
    """S9: a reopened store has the same head and the same stream versions."""
    first = _filled(shared_store_url, clock)
    head = first.head()
    first.close()

    again = open_store(shared_store_url, clock=clock)

    assert again.head() == head
    assert (again.stream_version("task-a"), again.stream_version("task-b")) == (3, 2)
    again.close()


def test_appends_after_reopening_continue_the_log(
    shared_store_url: str, clock: FrozenClock
) -> None:
    """S2, S3, S6, S9: after a reopen, positions, versions and the chain carry on."""
    first = _filled(shared_store_url, clock)
    last_hash = first.head().hash
    first.close()
    again = open_store(shared_store_url, clock=clock)

    [record] = again.append("task-a", notes(1, first=9), expected_version=3)

    assert (record.position, record.version, record.prev_hash) == (6, 4, last_hash)
    again.close()


def test_the_url_a_store_reports_opens_the_same_log(
    shared_store_url: str, clock: FrozenClock
) -> None:
    """S9: open_store(store.url) opens the log the store was opened on."""
    first = _filled(shared_store_url, clock)

    again = open_store(first.url, clock=clock)

    assert everything(again) == everything(first)
    first.close()
    again.close()


def test_a_second_handle_sees_appends_through_the_first(
    shared_store_url: str, clock: FrozenClock
) -> None:
    """S8: a store opened before another handle appended reads those records at once."""
    reader = open_store(shared_store_url, clock=clock)
    writer = _filled(shared_store_url, clock)

    assert positions(everything(reader)) == [1, 2, 3, 4, 5]
    assert (reader.head(), reader.stream_version("task-a")) == (writer.head(), 3)
    reader.close()
    writer.close()


def test_a_second_handle_checks_versions_against_the_first_ones_appends(
    shared_store_url: str, clock: FrozenClock
) -> None:
    """S4: an append through one handle is seen by another handle's expected-version check."""
    late = open_store(shared_store_url, clock=clock)
    late.head()
    writer = _filled(shared_store_url, clock)
    last_hash = writer.head().hash

    with pytest.raises(ConcurrencyConflict):
        late.append("task-a", notes(1, first=9), expected_version=NO_STREAM)

    [record] = late.append("task-a", notes(1, first=10), expected_version=3)
    assert (record.position, record.version, record.prev_hash) == (6, 4, last_hash)
    late.close()
    writer.close()


def test_writers_with_clocks_behind_keep_recorded_at_in_order(shared_store_url: str) -> None:
    """S7: a writer whose clock is an hour behind stamps the last recorded time, not its own."""
    ahead = open_store(shared_store_url, clock=FrozenClock(START))
    behind = open_store(shared_store_url, clock=FrozenClock(START - timedelta(hours=1)))
    ahead.append("task-a", notes(1), expected_version=NO_STREAM)

    [record] = behind.append("task-b", notes(1, first=1), expected_version=NO_STREAM)

    assert record.recorded_at == START
    assert versions(everything(ahead)) == [1, 1]
    ahead.close()
    behind.close()


def test_a_memory_store_is_a_log_of_its_own() -> None:
    """Why memory sits out reopen and process tests: a second memory: store sees nothing."""
    first = open_store("memory:")
    first.append("task-a", notes(2), expected_version=ANY)

    second = open_store("memory:")

    assert (first.head_position(), second.head_position()) == (2, 0)
