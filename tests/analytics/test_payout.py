"""Payout rules: shares sum to 1, takeovers split credit, expiry earns nothing."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings

from application.service import ClaimService
from application.testing import memory_service
from ledger.clock import FrozenClock
from ledger.commands import Beat, ChangeStatus, Claim, RegisterTask, Release, Takeover
from ledger.errors import InvalidInput
from ledger.terms import LeaseTerms
from projections.analytics import Weights
from projections.analytics.payout import TaskPayout
from tests.analytics.helpers import fed
from tests.analytics.histories import Step, finished_histories, play
from tests.conftest import START

MINUTE = 60_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finished_histories)
def test_shares_sum_to_one_per_finished_task(steps: list[Step]) -> None:
    """For every finished task with workers (each history finishes one at least), the
    workers' shares add up to 1."""
    store, _ = play(steps)
    with fed(store) as analytics:
        tasks = analytics.payout().tasks
    assert tasks
    for task in tasks:
        assert math.isclose(sum(worker.share for worker in task.workers), 1.0)


def _service() -> tuple[ClaimService, FrozenClock]:
    service, clock = memory_service(start=START)
    service.register_task(RegisterTask(task_id="t1", title="one"))
    return service, clock


def _forced_handover() -> tuple[ClaimService, FrozenClock]:
    """s1 works 8 minutes (heartbeats at 4 and 8); s2 forces a takeover at minute 10,
    works until minute 22 and completes."""
    service, clock = _service()
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=30 * MINUTE)))
    for _ in range(2):
        clock.advance(minutes=4)
        service.heartbeat("t1", Beat(session_id="s1"))
    clock.advance(minutes=2)
    service.takeover("t1", Takeover(session_id="s2", force=True, reason="stuck", forced_by="lead"))
    clock.advance(minutes=12)
    service.release("t1", Release(session_id="s2", reason="completed"))
    return service, clock


def _only_task(service: ClaimService) -> TaskPayout:
    with fed(service.store) as analytics:
        (task,) = analytics.payout(weights=Weights(time=1, completion=0)).tasks
    return task


def test_a_forced_takeover_ends_one_claim_and_starts_the_next_at_its_time() -> None:
    """The old holder's claim ends, and the new one starts, at the takeover's time."""
    service, _ = _forced_handover()
    with fed(service.store) as analytics:
        rows = analytics.con.execute(
            "SELECT session_id, iso(started_at), iso(ended_at), end_reason, end_forced"
            " FROM claim_intervals ORDER BY start_position"
        ).fetchall()
    takeover = "2026-01-01T12:10:00.000Z"
    assert rows == [
        ("s1", "2026-01-01T12:00:00.000Z", takeover, "taken_over", True),
        ("s2", takeover, "2026-01-01T12:22:00.000Z", "released", None),
    ]


def test_a_forced_takeover_splits_active_time_at_the_takeover() -> None:
    """Time before the takeover (to s1's last heartbeat) is s1's; after it, s2's."""
    service, _ = _forced_handover()
    shares = {worker.session_id: worker for worker in _only_task(service).workers}
    assert (shares["s1"].active_ms, shares["s2"].active_ms) == (8 * MINUTE, 12 * MINUTE)
    assert (shares["s1"].time_share, shares["s2"].time_share) == (0.4, 0.6)


def _expired_then_reclaimed() -> ClaimService:
    """s1 claims for 5 minutes, heartbeats at minute 2 (lease to minute 7) and goes
    silent; s2 claims at minute 20 and completes at minute 30."""
    service, clock = _service()
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=5 * MINUTE)))
    clock.advance(minutes=2)
    service.heartbeat("t1", Beat(session_id="s1"))
    clock.advance(minutes=18)
    service.claim("t1", Claim(session_id="s2", terms=LeaseTerms(ttl_ms=30 * MINUTE)))
    clock.advance(minutes=10)
    service.release("t1", Release(session_id="s2", reason="completed"))
    return service


def test_an_expired_claim_earns_no_time_after_its_last_heartbeat() -> None:
    """s1's claim lasted to its lease's expiry (7 min) but earns only to its last
    heartbeat (2 min); the 13 minutes nobody held the task earn nothing."""
    service = _expired_then_reclaimed()
    with fed(service.store) as analytics:
        rows = analytics.con.execute(
            "SELECT session_id, end_reason, claimed_ms, active_ms"
            " FROM claim_intervals ORDER BY start_position"
        ).fetchall()
    assert rows == [
        ("s1", "expired", 7 * MINUTE, 2 * MINUTE),
        ("s2", "released", *[10 * MINUTE] * 2),
    ]


def test_an_expired_claims_share_counts_only_heartbeat_backed_time() -> None:
    """In the payout, s1 has 2 of the 12 heartbeat-backed minutes."""
    shares = {
        worker.session_id: worker.time_share
        for worker in _only_task(_expired_then_reclaimed()).workers
    }
    assert shares == {"s1": 2 / 12, "s2": 10 / 12}


def test_completion_credit_goes_to_the_completer() -> None:
    """With weights 0.8 and 0.2, the completer gets the whole completion credit."""
    service, _ = _forced_handover()
    with fed(service.store) as analytics:
        (task,) = analytics.payout().tasks
    shares = {worker.session_id: worker for worker in task.workers}
    assert task.completed_by == "s2"
    assert (shares["s1"].completion_share, shares["s2"].completion_share) == (0.0, 1.0)
    assert math.isclose(shares["s1"].share, 0.8 * 0.4)
    assert math.isclose(shares["s2"].share, 0.8 * 0.6 + 0.2)


def test_done_without_a_holder_gives_completion_credit_by_time() -> None:
    """A task set to done after its claim ended has no completer: the completion
    credit follows the time shares, which are then the shares."""
    service, clock = _service()
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=30 * MINUTE)))
    clock.advance(minutes=3)
    service.release("t1", Release(session_id="s1", reason="paused"))
    service.set_status("t1", ChangeStatus(status="done"))
    with fed(service.store) as analytics:
        (task,) = analytics.payout().tasks
    assert task.completed_by is None
    assert [(w.session_id, w.completion_share, w.share) for w in task.workers] == [("s1", 1.0, 1.0)]


def test_a_finished_task_nobody_claimed_is_unattributed() -> None:
    """A task registered as done has no workers; it is listed apart."""
    service, _ = memory_service(start=START)
    service.register_task(RegisterTask(task_id="old", title="old", status="done"))
    with fed(service.store) as analytics:
        payout = analytics.payout()
    assert (payout.tasks, payout.unattributed) == ([], ["old"])


def test_weights_are_scaled_to_sum_to_one() -> None:
    """Weights 3 and 1 act as 0.75 and 0.25."""
    assert Weights(time=3, completion=1).scaled() == (0.75, 0.25)


@pytest.mark.parametrize(("time", "completion"), [(-1.0, 1.0), (0.0, 0.0), (math.inf, 1.0)])
def test_impossible_weights_are_refused(time: float, completion: float) -> None:
    """Negative, all-zero or infinite weights are a VALIDATION_ERROR."""
    with pytest.raises(InvalidInput, match="payout weights"):
        Weights(time=time, completion=completion).scaled()
