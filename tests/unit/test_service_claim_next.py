"""ROI auto-pick: ``claim_next`` takes the best claimable task and never starts a
duplicate of work already in progress (seed 000's fingerprint de-duplication)."""

from __future__ import annotations

import pytest

from application.service import ClaimService
from ledger.commands import Claim, Release
from ledger.errors import InvalidTtl, NoTaskAvailable
from ledger.terms import LeaseTerms
from tests.unit.service_helpers import MINUTE, advance, claim, new_service, refused, register


@pytest.fixture
def service() -> ClaimService:
    """A fresh service with an empty backlog."""
    service, _ = new_service()
    return service


def _next(service: ClaimService, session_id: str = "picker") -> str:
    return service.claim_next(Claim(session_id=session_id)).task.task_id


def test_the_highest_roi_is_claimed_first(service: ClaimService) -> None:
    """Of three todo tasks, the one with the highest ROI is claimed."""
    register(service, "low", roi=1.0)
    register(service, "high", roi=9.0)
    register(service, "mid", roi=5.0)

    assert _next(service) == "high"


def test_priority_breaks_a_tie_on_roi(service: ClaimService) -> None:
    """With equal ROI, critical beats high beats medium beats low."""
    register(service, "medium", roi=3.0, priority="medium")
    register(service, "critical", roi=3.0, priority="critical")
    register(service, "high", roi=3.0, priority="high")

    assert _next(service) == "critical"


def test_registration_order_breaks_a_tie_on_roi_and_priority(service: ClaimService) -> None:
    """With equal ROI and priority, the task registered first is claimed."""
    register(service, "first", roi=3.0)
    register(service, "second", roi=3.0)

    assert _next(service) == "first"


def test_roi_outranks_priority(service: ClaimService) -> None:
    """A low-priority task with a higher ROI beats a critical one with a lower ROI."""
    register(service, "critical", roi=1.0, priority="critical")
    register(service, "low", roi=2.0, priority="low")

    assert _next(service) == "low"


def test_successive_picks_walk_down_the_ranking(service: ClaimService) -> None:
    """Three sessions picking in turn get the tasks in ROI order."""
    for task_id, roi in [("c", 1.0), ("a", 3.0), ("b", 2.0)]:
        register(service, task_id, roi=roi)

    assert [_next(service, session) for session in ("s1", "s2", "s3")] == ["a", "b", "c"]


def test_a_held_fingerprint_is_skipped(service: ClaimService) -> None:
    """task_already_active: a task whose fingerprint a live claim holds is not picked."""
    register(service, "running", roi=1.0, fingerprint="fp-lint")
    register(service, "duplicate", roi=9.0, fingerprint="fp-lint")
    register(service, "other", roi=5.0, fingerprint="fp-docs")
    claim(service, "running", "s1")

    assert _next(service) == "other"


def test_a_fingerprint_whose_claim_lapsed_is_free_again(service: ClaimService) -> None:
    """Once the claim holding a fingerprint lapses, its duplicates can be picked."""
    register(service, "running", roi=1.0, fingerprint="fp-lint")
    register(service, "duplicate", roi=9.0, fingerprint="fp-lint")
    claim(service, "running", "s1", ttl_ms=MINUTE)
    advance(service, minutes=1)

    assert _next(service) == "duplicate"


def test_a_fingerprint_released_is_free_again(service: ClaimService) -> None:
    """After the holder releases, the fingerprint no longer blocks its duplicates."""
    register(service, "running", roi=1.0, fingerprint="fp-lint")
    register(service, "duplicate", roi=9.0, fingerprint="fp-lint")
    claim(service, "running", "s1")
    service.release("running", Release(session_id="s1", reason="completed"))

    assert _next(service) == "duplicate"


def test_held_and_finished_tasks_are_skipped(service: ClaimService) -> None:
    """Claimed, done, dropped and blocked tasks are passed over for a lower-ROI todo task."""
    register(service, "held", roi=9.0)
    register(service, "done", roi=8.0, status="done")
    register(service, "dropped", roi=7.0, status="dropped")
    register(service, "blocked", roi=6.0, status="blocked")
    register(service, "todo", roi=1.0)
    claim(service, "held", "s1")

    assert _next(service) == "todo"


def test_a_lapsed_claim_is_picked_up(service: ClaimService) -> None:
    """A task whose claim lapsed is claimable by claim_next, with a grown token."""
    register(service, "t1", roi=1.0)
    first = claim(service, "t1", "s1", ttl_ms=MINUTE)
    advance(service, minutes=2)

    result = service.claim_next(Claim(session_id="s2"))

    assert (result.task.task_id, result.lease.session_id) == ("t1", "s2")
    assert result.lease.fencing_token > first.lease.fencing_token


def test_an_empty_backlog_is_no_task_available(service: ClaimService) -> None:
    """NO_TASK_AVAILABLE: nothing to claim; nothing is written, not even the session."""
    register(service, "held", roi=9.0)
    claim(service, "held", "s1")

    with refused(service, NoTaskAvailable):
        service.claim_next(Claim(session_id="newcomer"))


def test_a_ttl_out_of_range_is_refused_before_picking(service: ClaimService) -> None:
    """INVALID_TTL: claim_next checks the TTL and writes nothing."""
    register(service, "t1", roi=1.0)

    with refused(service, InvalidTtl):
        service.claim_next(Claim(session_id="newcomer", terms=LeaseTerms(ttl_ms=121 * MINUTE)))
