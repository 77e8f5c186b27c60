"""The feeder's write behind: one write at a time, in order, its error raised."""

from __future__ import annotations

import threading

import pytest

from projections.analytics.write_behind import WriteBehind


def test_writes_run_one_at_a_time_in_the_order_submitted() -> None:
    done: list[int] = []
    release = threading.Event()

    def first() -> None:
        release.wait()
        done.append(1)

    behind = WriteBehind()
    try:
        behind.submit(first)
        release.set()
        behind.submit(lambda: done.append(2))
        behind.wait()
        assert done == [1, 2]
    finally:
        behind.close()


def test_a_failed_write_is_raised_by_the_next_submit_and_the_write_after_it_never_runs() -> None:
    done: list[int] = []

    def fail() -> None:
        raise RuntimeError("disk full")

    behind = WriteBehind()
    try:
        behind.submit(fail)
        with pytest.raises(RuntimeError, match="disk full"):
            behind.submit(lambda: done.append(2))
        behind.wait()
        assert done == []
    finally:
        behind.close()


def test_close_waits_for_the_write_in_flight_whatever_its_outcome() -> None:
    done: list[int] = []
    release = threading.Event()

    def slow_failure() -> None:
        release.wait()
        done.append(1)
        raise RuntimeError("lost")

    behind = WriteBehind()
    behind.submit(slow_failure)
    release.set()
    behind.close()
    assert done == [1]
