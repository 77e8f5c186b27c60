"""Waiting for the log to grow (``wait_for_head``): live readers wake when another
handle (another process, another host) appends, and give up at their timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ledger.store.protocol import NO_STREAM, EventStore
from tests.conformance.helpers import notes


def test_a_waiter_wakes_when_another_handle_appends(
    store: EventStore, open_another: Callable[[], EventStore]
) -> None:
    """The head a waiter gets back is past the one it waited on."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)
    writer = open_another()
    timer = threading.Timer(
        0.2, lambda: writer.append("task-b", notes(2, first=1), expected_version=NO_STREAM)
    )
    timer.start()
    try:
        head = store.wait_for_head(1, timeout=30)
    finally:
        timer.join()

    assert head == 3


def test_a_waiter_returns_at_once_when_the_head_is_already_past(store: EventStore) -> None:
    store.append("task-a", notes(2), expected_version=NO_STREAM)

    assert store.wait_for_head(0, timeout=30) == 2


def test_a_waiter_gives_up_at_its_timeout_with_the_head_unchanged(store: EventStore) -> None:
    store.append("task-a", notes(1), expected_version=NO_STREAM)
    started = time.monotonic()

    head = store.wait_for_head(1, timeout=0.2)

    assert head == 1
    assert time.monotonic() - started >= 0.2
