"""The claim intervals the dashboard's timeline draws and the cost import attributes with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from application.bootstrap import wire
from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.config import ClaimConfig
from ledger.store.memory import MemoryStore
from ledger.terms import LeaseTerms
from projections.timeline import claim_intervals, timeline

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MINUTE = 60_000


@pytest.fixture
def service() -> Iterator[ClaimService]:
    """A service on the memory store with tasks a, b and c, on a frozen clock."""
    clock = FrozenClock(START)
    store = MemoryStore(clock=clock)
    ledger = wire(store, clock=clock, config=ClaimConfig(), host="test")
    for task in ("a", "b", "c"):
        ledger.service.register_task(RegisterTask(task_id=task, title=task))
    yield ledger.service
    store.close()


def _advance(service: ClaimService, minutes: float) -> None:
    clock = service.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(minutes=minutes)


def test_each_way_a_claim_ends_is_its_outcome(service: ClaimService) -> None:
    """Released, completed, expired (recorded by the sweep) and orphaned claims."""
    service.claim("a", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
    service.claim("b", Claim(session_id="s2", terms=LeaseTerms(ttl_ms=2 * MINUTE)))
    service.claim("c", Claim(session_id="s3", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
    _advance(service, 1)
    service.heartbeat("a", Beat(session_id="s1"))
    service.release("a", Release(session_id="s1", reason="handoff"))
    service.end_session("s3")
    _advance(service, 5)
    service.sweep()
    service.claim("a", Claim(session_id="s2", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
    service.release("a", Release(session_id="s2", reason="completed"))
    bars = claim_intervals(service.store.read_all())
    ends = [(bar.task_id, bar.session_id, bar.outcome, bar.reason) for bar in bars]
    assert ends == [
        ("a", "s1", "released", "handoff"),
        ("b", "s2", "expired", None),
        ("c", "s3", "orphaned", "session_ended"),
        ("a", "s2", "completed", "completed"),
    ]
    assert bars[0].heartbeats == [START + timedelta(minutes=1)]
    assert bars[1].end == START + timedelta(minutes=2)


def test_a_claim_held_as_of_a_position_is_open(service: ClaimService) -> None:
    """Until a position inside a claim, the claim is held and ends at that record's time."""
    service.claim("a", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
    held_at = service.store.head_position()
    _advance(service, 3)
    service.release("a", Release(session_id="s1", reason="completed"))
    then = timeline(service.store, now=service.clock.now(), last=held_at)
    assert [(bar.outcome, bar.end) for bar in then.intervals] == [("held", None)]
    assert (then.position, then.end) == (held_at, START)


def test_past_the_limit_each_lane_is_buckets_of_busy_time(service: ClaimService) -> None:
    """Two claims over a 4-minute span in 4 buckets: busy shares, and how the claims
    ending in each bucket ended (an end on a boundary falls in the later bucket)."""
    service.claim("a", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
    _advance(service, 2)
    service.release("a", Release(session_id="s1", reason="handoff"))
    _advance(service, 1)
    service.claim("b", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
    _advance(service, 1)
    service.release("b", Release(session_id="s1", reason="completed"))
    answer = timeline(service.store, now=service.clock.now(), limit=1, buckets=4)
    assert (answer.aggregated, answer.intervals) == (True, [])
    assert answer.lanes[0].busy == [1.0, 1.0, 0.0, 1.0]
    assert answer.lanes[0].ended == [None, None, "released", "completed"]
