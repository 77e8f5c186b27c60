"""The clock the composition root picks (ADR 0017): the host's clock held to the log's
head on the embedded stores, and the rules a PostgreSQL append checks a decision by."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.bootstrap import ledger_clock, wire
from ledger.clock import FrozenClock
from ledger.commands import RegisterTask
from ledger.errors import ClockAhead, ConcurrencyConflict
from ledger.events import Heartbeat, Released, TaskRegistered
from ledger.records import NewEvent
from ledger.store.log_clock import LogClock
from ledger.store.memory import MemoryStore
from ledger.store.rows import from_micros
from ledger.store.server_clock import (
    DECISION_WINDOW,
    READING_LASTS,
    READING_MARGIN_US,
    ServerReading,
    check_decided,
)
from tests.conftest import START

REGISTERED = TaskRegistered(task_id="t1", title="T")
RELEASED = Released(task_id="t1", session_id="s1", fencing_token=2, reason="released")


def _store_at(recorded: FrozenClock) -> MemoryStore:
    store = MemoryStore(clock=recorded)
    wire(store, clock=recorded).service.register_task(RegisterTask(task_id="t1", title="T"))
    return store


def test_the_log_clock_is_the_host_clock_when_ahead_of_the_head() -> None:
    """A host clock past the head's recorded_at is the ledger's time."""
    store = _store_at(FrozenClock(START))
    host = FrozenClock(START + timedelta(minutes=5))

    assert LogClock(host, store).now() == host.now()


def test_the_log_clock_never_runs_behind_the_head() -> None:
    """A host clock behind the head's recorded_at answers the head's time instead."""
    store = _store_at(FrozenClock(START))
    host = FrozenClock(START - timedelta(minutes=10))

    assert LogClock(host, store).now() == START


def test_an_embedded_store_gets_the_log_clock() -> None:
    """The composition root's default clock for a memory, SQLite or JSONL store."""
    assert isinstance(ledger_clock(MemoryStore()), LogClock)


def _event(data: Heartbeat | Released | TaskRegistered, decided_ms_before: int) -> NewEvent:
    return NewEvent(
        data=data, occurred_at=START - timedelta(milliseconds=decided_ms_before), actor="a"
    )


def test_a_decision_in_the_servers_future_is_clock_ahead() -> None:
    """CLOCK_AHEAD: decided one millisecond after the server's time."""
    with pytest.raises(ClockAhead):
        check_decided(_event(RELEASED, -1), START)


def test_a_decision_older_than_the_window_is_decided_again() -> None:
    """CONCURRENCY_CONFLICT (decision_outdated), so the writer loads and decides again."""
    stale = int(DECISION_WINDOW / timedelta(milliseconds=1)) + 1

    with pytest.raises(ConcurrencyConflict) as caught:
        check_decided(_event(RELEASED, stale), START)

    assert caught.value.context["reason"] == "decision_outdated"


def test_an_event_that_does_not_rest_on_the_time_is_not_judged() -> None:
    """A registration decided long ago (a copied record, a store-level append) passes."""
    check_decided(_event(REGISTERED, 10 * 60_000), START)


def test_a_lease_already_over_at_the_servers_time_is_refused() -> None:
    """A heartbeat whose new expiry is not after the server's time extends into the past."""
    beat = Heartbeat(task_id="t1", session_id="s1", fencing_token=2, extend_ms=1, expires_at=START)

    with pytest.raises(ConcurrencyConflict):
        check_decided(_event(beat, 0), START)


def test_a_fresh_decision_passes() -> None:
    """Decided within the window, granting a lease that ends later: accepted."""
    beat = Heartbeat(
        task_id="t1",
        session_id="s1",
        fencing_token=2,
        extend_ms=60_000,
        expires_at=START + timedelta(minutes=1),
    )

    check_decided(_event(beat, 10), START)


class _Monotonic:
    def __init__(self) -> None:
        self.at = 100.0

    def __call__(self) -> float:
        return self.at


def test_a_fresh_reading_answers_its_time_plus_what_passed_less_the_margin() -> None:
    tick = _Monotonic()
    reading = ServerReading(monotonic=tick)
    assert reading.now() is None  # nothing heard yet: read the server
    reading.note(1_000_000_000, arrived=100.0)
    tick.at = 100.125
    derived = reading.now()
    assert derived == from_micros(1_000_000_000 + 125_000 - READING_MARGIN_US)


def test_a_reading_never_answers_later_than_the_server_could_be() -> None:
    """The server read its clock before the answer arrived, so a time derived from
    it is at most the server's time at the moment it is asked for."""
    tick = _Monotonic()
    reading = ServerReading(monotonic=tick)
    server_us = 1_000_000_000
    reading.note(server_us, arrived=100.0 + 0.002)  # read at 100.0, arrived 2 ms later
    tick.at = 100.2
    derived = reading.now()
    assert derived is not None
    assert derived <= from_micros(server_us + 200_000)


def test_a_stale_reading_is_read_again() -> None:
    tick = _Monotonic()
    reading = ServerReading(monotonic=tick)
    reading.note(1_000_000_000, arrived=100.0)
    tick.at = 100.0 + READING_LASTS
    assert reading.now() is None
    tick.at = 99.0  # a reading from the future of this clock is not trusted
    assert reading.now() is None


def test_the_last_reading_noted_is_the_one_used() -> None:
    tick = _Monotonic()
    reading = ServerReading(monotonic=tick)
    reading.note(5_000_000_000, arrived=100.0)
    reading.note(2_000_000_000, arrived=100.0)
    assert reading.now() == from_micros(2_000_000_000 - READING_MARGIN_US)
