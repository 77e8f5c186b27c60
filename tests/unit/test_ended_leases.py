"""What a holder hears after its claim ended, and how a renewal sets the TTL."""

from __future__ import annotations

import pytest

from ledger.commands import Beat, Claim, Release, Takeover
from ledger.errors import ClaimExpired, DuplicateEventId, NotClaimOwner, TaskNotClaimed
from ledger.events import TaskRegistered
from ledger.records import NewEvent
from ledger.store.protocol import NO_STREAM
from ledger.terms import LeaseTerms
from tests.unit.service_helpers import MINUTE, new_service, register


def test_holder_hears_claim_expired_after_the_sweeper_recorded_it() -> None:
    """Once the sweeper wrote Expired, the old holder still gets CLAIM_EXPIRED, not 404."""
    service, clock = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=MINUTE)))
    clock.advance(ms=2 * MINUTE)
    service.sweep()
    with pytest.raises(ClaimExpired):
        service.heartbeat("t1", Beat(session_id="s1"))


def test_holder_that_released_hears_not_claimed() -> None:
    """A holder that released its own claim gets TASK_NOT_CLAIMED on a later release."""
    service, _ = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1"))
    service.release("t1", Release(session_id="s1", reason="abandoned"))
    with pytest.raises(TaskNotClaimed):
        service.release("t1", Release(session_id="s1", reason="abandoned"))


def test_holder_taken_over_hears_not_owner() -> None:
    """A holder whose claim was taken by force gets NOT_CLAIM_OWNER."""
    service, _ = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1"))
    service.takeover("t1", Takeover(session_id="s2", force=True, reason="stuck"))
    with pytest.raises(NotClaimOwner):
        service.heartbeat("t1", Beat(session_id="s1"))


def test_renewal_sets_the_ttl_later_heartbeats_use() -> None:
    """A re-claim with a longer TTL makes later plain heartbeats extend by that TTL."""
    service, clock = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=MINUTE)))
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=60 * MINUTE)))
    clock.advance(ms=1000)
    beat = service.heartbeat("t1", Beat(session_id="s1"))
    assert beat.lease.ttl_ms == 60 * MINUTE
    assert (beat.lease.expires_at - clock.now()).total_seconds() == 3600


def test_replay_with_other_content_is_a_duplicate_event_id() -> None:
    """Re-appending a stored event id with different data is refused (S5)."""
    service, clock = new_service()
    first = TaskRegistered(task_id="t1", title="one")
    new = NewEvent(data=first, occurred_at=clock.now(), actor="a", event_id="e1")
    service.store.append("task-t1", [new], expected_version=NO_STREAM)
    other = NewEvent(
        data=TaskRegistered(task_id="t1", title="two"),
        occurred_at=clock.now(),
        actor="a",
        event_id="e1",
    )
    with pytest.raises(DuplicateEventId):
        service.store.append("task-t1", [other], expected_version=NO_STREAM)
    assert service.store.head_position() == 1
