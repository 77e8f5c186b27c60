"""The lock-delay (ADR 0017): after a lease ends without a release, no claim succeeds
for ``lock_delay`` ms; a forced takeover is itself the next claim."""

from __future__ import annotations

import pytest

from application.service import ClaimService
from application.testing import memory_service
from ledger.commands import Claim, Release, Takeover
from ledger.config import ClaimConfig, load_config
from ledger.errors import InvalidInput, TaskLockDelayed
from ledger.events import Claimed, TakenOver
from tests.conftest import START
from tests.unit.service_helpers import MINUTE, advance, claim, new_service, refused, register

DELAY = ClaimConfig().lock_delay


@pytest.fixture
def service() -> ClaimService:
    """A service with task t1 claimed by s1 for one minute, at the default settings."""
    service, _ = new_service()
    register(service, "t1")
    register(service, "t2")
    claim(service, "t1", "s1", ttl_ms=MINUTE)
    return service


def test_the_default_lock_delay_is_fifteen_seconds() -> None:
    """Like Consul's: 15,000 ms."""
    assert DELAY == 15_000


def test_the_lock_delay_is_read_from_claims_lock_delay() -> None:
    """CLAIMS_LOCK_DELAY sets it, in milliseconds; 0 turns it off."""
    assert load_config({"CLAIMS_LOCK_DELAY": "0"}).lock_delay == 0


def test_a_negative_lock_delay_is_refused() -> None:
    """VALIDATION_ERROR names CLAIMS_LOCK_DELAY."""
    with pytest.raises(InvalidInput, match="CLAIMS_LOCK_DELAY"):
        load_config({"CLAIMS_LOCK_DELAY": "-1"})


def test_a_claim_at_the_expiry_instant_waits_the_whole_delay(service: ClaimService) -> None:
    """TASK_LOCK_DELAYED with retryAfterMs equal to the delay, and nothing written."""
    advance(service, minutes=1)

    with refused(service, TaskLockDelayed) as caught:
        claim(service, "t1", "s2")

    assert caught.value.context["retryAfterMs"] == DELAY
    assert caught.value.context["endedBy"] == "expired"


def test_a_claim_once_the_delay_passed_succeeds(service: ClaimService) -> None:
    """At expiry plus the delay the lapsed lease is recorded expired and s2 claims."""
    advance(service, minutes=1, ms=DELAY)

    result = claim(service, "t1", "s2")

    assert result.lease.session_id == "s2"


def test_the_delay_counts_from_the_lease_end_not_the_sweep(service: ClaimService) -> None:
    """A sweep that records the expiry late does not lengthen the delay."""
    advance(service, minutes=1, ms=DELAY - 1)
    service.sweep()
    advance(service, ms=1)

    assert claim(service, "t1", "s2").lease.session_id == "s2"


def test_the_former_holder_waits_too(service: ClaimService) -> None:
    """The delay holds for every session, the one whose lease lapsed included."""
    advance(service, minutes=1)

    with refused(service, TaskLockDelayed):
        claim(service, "t1", "s1")


def test_an_orphaned_claim_starts_the_delay(service: ClaimService) -> None:
    """After `session end` orphans the claim, a claim waits the delay (endedBy orphaned)."""
    service.end_session("s1")

    with refused(service, TaskLockDelayed) as caught:
        claim(service, "t1", "s2")

    assert caught.value.context["endedBy"] == "orphaned"


def test_a_claim_after_an_orphaning_and_the_delay_succeeds(service: ClaimService) -> None:
    """Once the delay passed since the orphaning, s2 claims."""
    service.end_session("s1")
    advance(service, ms=DELAY)

    assert claim(service, "t1", "s2").lease.session_id == "s2"


def test_a_release_frees_the_task_at_once(service: ClaimService) -> None:
    """A released task has no delay: the holder said it stopped."""
    service.release("t1", Release(session_id="s1"))

    assert claim(service, "t1", "s2").lease.session_id == "s2"


def test_an_unforced_takeover_inside_the_delay_is_refused(service: ClaimService) -> None:
    """Taking over a lapsed lease is a claim: TASK_LOCK_DELAYED."""
    advance(service, minutes=1)

    with refused(service, TaskLockDelayed):
        service.takeover("t1", Takeover(session_id="s2"))


def test_a_forced_takeover_inside_the_delay_is_the_next_claim(service: ClaimService) -> None:
    """With force and a reason it goes through, recorded as forced, by whom."""
    advance(service, minutes=1)

    result = service.takeover("t1", Takeover(session_id="s2", force=True, reason="stuck"))

    taken = result.records[-1].data
    assert isinstance(taken, TakenOver)
    assert (taken.forced, taken.forced_by, taken.handoff_reason) == (True, "s2", "stuck")


def test_a_forced_takeover_inside_the_delay_needs_a_reason(service: ClaimService) -> None:
    """VALIDATION_ERROR: forcing past the delay is recorded with why."""
    advance(service, minutes=1)

    with refused(service, InvalidInput):
        service.takeover("t1", Takeover(session_id="s2", force=True))


def test_claim_next_skips_a_task_in_its_delay(service: ClaimService) -> None:
    """The auto-pick takes another task instead of failing."""
    advance(service, minutes=1)

    result = service.claim_next(Claim(session_id="s2"))

    assert result.task.task_id == "t2"
    assert isinstance(result.records[-1].data, Claimed)


def test_no_delay_when_it_is_zero() -> None:
    """With lock_delay 0 a lapsed lease is free at its expiry instant."""
    service, clock = memory_service(start=START, config=ClaimConfig(lock_delay=0))
    register(service, "t1")
    claim(service, "t1", "s1", ttl_ms=MINUTE)
    clock.advance(minutes=1)

    assert claim(service, "t1", "s2").lease.session_id == "s2"
