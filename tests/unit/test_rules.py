"""The claim lifecycle as a pure function: ``rules.decide(state, command, now, config)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.commands import Beat, ChangeStatus, Claim, Command, Expire, Orphan, Release, Takeover
from ledger.config import ClaimConfig
from ledger.errors import (
    ClaimExpired,
    InvalidInput,
    InvalidTtl,
    NotClaimOwner,
    StaleFencingToken,
    TaskAlreadyClaimed,
    TaskNotClaimable,
    TaskNotClaimed,
    TaskNotFound,
)
from ledger.events import (
    Claimed,
    Event,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    TakenOver,
    TaskStatus,
    TaskStatusChanged,
)
from ledger.rules import decide
from ledger.state import Lease, TaskState
from ledger.terms import LeaseTerms

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MINUTE = 60_000
CONFIG = ClaimConfig(lock_delay=0)
"""The lock-delay has its own tests (test_lock_delay.py); here a lapsed lease is free at once."""


def _at(ms: int) -> datetime:
    return NOW + timedelta(milliseconds=ms)


def _lease(
    session: str = "s1", *, token: int = 2, expires_in: int = 30 * MINUTE, ttl: int = 30 * MINUTE
) -> Lease:
    return Lease(
        session_id=session,
        fencing_token=token,
        claimed_at=NOW - timedelta(minutes=1),
        expires_at=_at(expires_in),
        last_heartbeat=NOW - timedelta(minutes=1),
        heartbeat_count=0,
        ttl_ms=ttl,
        agent_type="cli",
        tier=None,
    )


def _task(
    *, status: TaskStatus = "todo", version: int = 1, lease: Lease | None = None
) -> TaskState:
    if lease is not None and status == "todo":
        status = "in_progress"
    return TaskState(task_id="t1", version=version, registered=True, status=status, lease=lease)


HELD = _task(version=2, lease=_lease())
LAPSED = _task(version=2, lease=_lease(expires_in=-1))


def _decide(state: TaskState, command: Command, now: datetime = NOW) -> list[Event]:
    return decide(state, command, now, CONFIG)


def _context(error: pytest.ExceptionInfo[Exception]) -> dict[str, Any]:
    value = error.value
    assert hasattr(value, "context")
    context: dict[str, Any] = value.context
    return context


# --- any command ---------------------------------------------------------------------

EVERY_COMMAND: list[Command] = [
    Claim(session_id="s1"),
    Beat(session_id="s1"),
    Release(session_id="s1"),
    Takeover(session_id="s1", force=True, reason="r"),
    ChangeStatus(status="done"),
    Expire(),
    Orphan(session_id="s1", reason="session_ended"),
]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda c: type(c).__name__)
def test_every_command_on_an_unregistered_task_is_task_not_found(command: Command) -> None:
    """TASK_NOT_FOUND: no command applies to a task that was never registered."""
    with pytest.raises(TaskNotFound) as caught:
        _decide(TaskState(task_id="t9"), command)

    assert _context(caught) == {"taskId": "t9"}


# --- claim -----------------------------------------------------------------------------


def test_a_claim_on_a_free_task_is_claimed_with_the_next_version_as_token() -> None:
    """A free task at version 4 is claimed with fencing token 5, the version it lands at."""
    [event] = _decide(_task(version=4), Claim(session_id="s1", terms=LeaseTerms(ttl_ms=5 * MINUTE)))

    assert isinstance(event, Claimed)
    assert (event.session_id, event.fencing_token, event.ttl_ms) == ("s1", 5, 5 * MINUTE)
    assert event.expires_at == _at(5 * MINUTE)


def test_a_claim_without_a_ttl_takes_the_default() -> None:
    """A claim that names no TTL gets the configured default of 30 minutes."""
    [event] = _decide(_task(), Claim(session_id="s1"))

    assert isinstance(event, Claimed)
    assert (event.ttl_ms, event.expires_at) == (30 * MINUTE, _at(30 * MINUTE))


def test_a_claim_carries_the_assignment_fields_of_seed_001() -> None:
    """Agent type, tier, scope, constraints and metadata go into the Claimed event."""
    command = Claim(
        session_id="s1",
        terms=LeaseTerms(
            agent_type="autonomous",
            tier="t2",
            scope=("src/",),
            constraints=("no-push",),
            metadata={"k": "v"},
        ),
    )

    [event] = _decide(_task(), command)

    assert isinstance(event, Claimed)
    assert (event.agent_type, event.tier, event.scope) == ("autonomous", "t2", ("src/",))
    assert (event.constraints, event.metadata) == (("no-push",), {"k": "v"})


@pytest.mark.parametrize("ttl", [MINUTE - 1, 120 * MINUTE + 1, 0, -MINUTE])
def test_a_ttl_outside_the_range_is_invalid_ttl(ttl: int) -> None:
    """INVALID_TTL: below 1 minute or above 2 hours, with the range in the body."""
    with pytest.raises(InvalidTtl) as caught:
        _decide(_task(), Claim(session_id="s1", terms=LeaseTerms(ttl_ms=ttl)))

    assert _context(caught) == {"minTtlMs": MINUTE, "maxTtlMs": 120 * MINUTE}


@pytest.mark.parametrize("ttl", [MINUTE, 120 * MINUTE])
def test_a_ttl_at_either_end_of_the_range_is_accepted(ttl: int) -> None:
    """Exactly 1 minute and exactly 2 hours are allowed."""
    [event] = _decide(_task(), Claim(session_id="s1", terms=LeaseTerms(ttl_ms=ttl)))

    assert isinstance(event, Claimed)
    assert event.ttl_ms == ttl


def test_a_claim_on_a_live_claim_of_another_session_names_the_holder() -> None:
    """TASK_ALREADY_CLAIMED carries seed 002's claim body: holder, since, remaining time."""
    with pytest.raises(TaskAlreadyClaimed) as caught:
        _decide(HELD, Claim(session_id="s2"))

    assert _context(caught)["claim"] == {
        "sessionId": "s1",
        "claimedAt": "2026-01-01T11:59:00.000Z",
        "expiresAt": "2026-01-01T12:30:00.000Z",
        "remainingMs": 30 * MINUTE,
        "fencingToken": 2,
    }


def test_a_re_claim_by_the_holder_extends_and_keeps_the_token() -> None:
    """The holder claiming again gets a Heartbeat with the same token and a new expiry."""
    [event] = _decide(
        HELD, Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * MINUTE)), _at(MINUTE)
    )

    assert isinstance(event, Heartbeat)
    assert (event.fencing_token, event.expires_at) == (2, _at(11 * MINUTE))


def test_a_claim_on_a_lapsed_lease_records_the_expiry_then_the_claim() -> None:
    """A claim on a lease past its expiry yields Expired and Claimed, in that order."""
    expired, claimed = _decide(LAPSED, Claim(session_id="s2"))

    assert isinstance(expired, Expired)
    assert isinstance(claimed, Claimed)
    assert (expired.session_id, expired.fencing_token, expired.expired_at) == ("s1", 2, _at(-1))
    assert (claimed.session_id, claimed.fencing_token) == ("s2", 4)


def test_a_lease_is_expired_at_its_expiry_instant() -> None:
    """At exactly expires_at the lease is over: another session can claim."""
    events = _decide(HELD, Claim(session_id="s2"), _at(30 * MINUTE))

    assert [type(event) for event in events] == [Expired, Claimed]


def test_a_lease_is_live_one_millisecond_before_its_expiry() -> None:
    """One millisecond before expires_at, another session's claim is refused."""
    with pytest.raises(TaskAlreadyClaimed):
        _decide(HELD, Claim(session_id="s2"), _at(30 * MINUTE - 1))


@pytest.mark.parametrize("status", ["done", "dropped", "blocked"])
def test_a_finished_or_blocked_task_is_not_claimable(status: TaskStatus) -> None:
    """TASK_NOT_CLAIMABLE: done, dropped and blocked tasks cannot be claimed."""
    with pytest.raises(TaskNotClaimable) as caught:
        _decide(_task(status=status), Claim(session_id="s1"))

    assert _context(caught) == {"taskId": "t1", "taskStatus": status}


def test_metadata_above_the_limit_is_invalid_input() -> None:
    """Metadata whose JSON is one byte over max_metadata_bytes is refused."""
    too_big = {"k": "x" * (CONFIG.max_metadata_bytes - 7)}

    with pytest.raises(InvalidInput, match="metadata is 8193 bytes"):
        _decide(_task(), Claim(session_id="s1", terms=LeaseTerms(metadata=too_big)))


def test_metadata_at_the_limit_is_accepted() -> None:
    """Metadata whose JSON is exactly max_metadata_bytes long is accepted."""
    at_limit = {"k": "x" * (CONFIG.max_metadata_bytes - 8)}

    [event] = _decide(_task(), Claim(session_id="s1", terms=LeaseTerms(metadata=at_limit)))

    assert isinstance(event, Claimed)


def test_metadata_that_is_not_json_is_invalid_input() -> None:
    """Metadata holding a value JSON cannot carry is refused, not crashed on."""
    with pytest.raises(InvalidInput, match="metadata must be a JSON object"):
        _decide(_task(), Claim(session_id="s1", terms=LeaseTerms(metadata={"k": object()})))


# --- heartbeat -------------------------------------------------------------------------


def test_a_heartbeat_extends_by_the_leases_ttl() -> None:
    """A heartbeat without extendMs extends by the lease's own TTL from now."""
    [event] = _decide(_task(lease=_lease(ttl=5 * MINUTE)), Beat(session_id="s1"), _at(MINUTE))

    assert isinstance(event, Heartbeat)
    assert (event.extend_ms, event.expires_at, event.fencing_token) == (
        5 * MINUTE,
        _at(6 * MINUTE),
        2,
    )


def test_a_heartbeat_extends_by_extend_ms() -> None:
    """extendMs sets the new expiry from now."""
    [event] = _decide(HELD, Beat(session_id="s1", extend_ms=2 * MINUTE))

    assert isinstance(event, Heartbeat)
    assert event.expires_at == _at(2 * MINUTE)


def test_a_heartbeat_with_the_current_token_is_accepted() -> None:
    """The holder's heartbeat naming the current fencing token is accepted."""
    [event] = _decide(HELD, Beat(session_id="s1", fencing_token=2))

    assert isinstance(event, Heartbeat)


def test_a_heartbeat_out_of_range_is_invalid_ttl() -> None:
    """INVALID_TTL: extendMs above the maximum TTL is refused."""
    with pytest.raises(InvalidTtl, match="extendMs"):
        _decide(HELD, Beat(session_id="s1", extend_ms=121 * MINUTE))


def test_a_heartbeat_on_an_unclaimed_task_is_task_not_claimed() -> None:
    """TASK_NOT_CLAIMED: there is no claim to extend."""
    with pytest.raises(TaskNotClaimed):
        _decide(_task(), Beat(session_id="s1"))


def test_a_heartbeat_by_another_session_is_not_claim_owner() -> None:
    """NOT_CLAIM_OWNER: only the holder heartbeats; the body names the holder."""
    with pytest.raises(NotClaimOwner) as caught:
        _decide(HELD, Beat(session_id="s2"))

    assert _context(caught) == {"taskId": "t1", "holder": "s1"}


def test_a_heartbeat_with_an_old_token_is_stale_fencing_token() -> None:
    """STALE_FENCING_TOKEN: a token other than the claim's is refused, naming the current one."""
    with pytest.raises(StaleFencingToken) as caught:
        _decide(_task(version=5, lease=_lease(token=5)), Beat(session_id="s1", fencing_token=2))

    assert _context(caught) == {"taskId": "t1", "fencingToken": 5}


def test_a_heartbeat_after_expiry_is_claim_expired() -> None:
    """CLAIM_EXPIRED: the holder cannot revive a lapsed lease by heartbeating."""
    with pytest.raises(ClaimExpired) as caught:
        _decide(LAPSED, Beat(session_id="s1"))

    assert _context(caught)["expiredAt"] == "2026-01-01T11:59:59.999Z"


# --- release ---------------------------------------------------------------------------


def test_release_completed_marks_the_task_done() -> None:
    """Releasing with reason 'completed' yields Released and a change of status to done."""
    released, changed = _decide(HELD, Release(session_id="s1", reason="completed"))

    assert isinstance(released, Released)
    assert isinstance(changed, TaskStatusChanged)
    assert (released.reason, released.fencing_token, changed.status) == ("completed", 2, "done")


def test_release_for_another_reason_leaves_the_status() -> None:
    """Releasing with another reason yields only Released, with the reason trimmed."""
    [released] = _decide(HELD, Release(session_id="s1", reason="  handing off  "))

    assert isinstance(released, Released)
    assert released.reason == "handing off"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_release_reason_must_be_1_to_500_characters(reason: str) -> None:
    """A blank or over-long reason is refused."""
    with pytest.raises(InvalidInput, match="reason"):
        _decide(HELD, Release(session_id="s1", reason=reason))


def test_a_release_by_another_session_is_not_claim_owner() -> None:
    """NOT_CLAIM_OWNER: only the holder releases."""
    with pytest.raises(NotClaimOwner):
        _decide(HELD, Release(session_id="s2"))


def test_a_release_after_expiry_is_claim_expired() -> None:
    """CLAIM_EXPIRED: a lapsed lease cannot be released by its former holder."""
    with pytest.raises(ClaimExpired):
        _decide(LAPSED, Release(session_id="s1"))


def test_a_release_with_a_stale_token_is_stale_fencing_token() -> None:
    """STALE_FENCING_TOKEN: release checks the token too."""
    with pytest.raises(StaleFencingToken):
        _decide(HELD, Release(session_id="s1", fencing_token=1))


# --- takeover --------------------------------------------------------------------------


def test_a_takeover_of_a_live_claim_without_force_names_the_holder() -> None:
    """TASK_ALREADY_CLAIMED: a live claim is taken over only by force."""
    with pytest.raises(TaskAlreadyClaimed):
        _decide(HELD, Takeover(session_id="s2", reason="need it"))


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_a_forced_takeover_needs_a_reason(reason: str | None) -> None:
    """A forced takeover without a reason is refused."""
    with pytest.raises(InvalidInput, match="needs a reason"):
        _decide(HELD, Takeover(session_id="s2", force=True, reason=reason))


def test_a_forced_takeover_records_who_forced_it() -> None:
    """A forced takeover yields TakenOver, forced, with forced_by and the handoff reason."""
    [event] = _decide(
        HELD, Takeover(session_id="s2", force=True, reason="agent hung", forced_by="ops")
    )

    assert isinstance(event, TakenOver)
    assert (event.from_session, event.to_session, event.forced) == ("s1", "s2", True)
    assert (event.forced_by, event.handoff_reason) == ("ops", "agent hung")
    assert (event.previous_token, event.fencing_token) == (2, 3)


def test_forced_by_defaults_to_the_new_holder() -> None:
    """A forced takeover that names no forcer records the session taking over."""
    [event] = _decide(HELD, Takeover(session_id="s2", force=True, reason="agent hung"))

    assert isinstance(event, TakenOver)
    assert event.forced_by == "s2"


def test_a_takeover_after_expiry_records_the_expiry_and_is_not_forced() -> None:
    """After expiry a takeover needs no force: Expired then TakenOver, forced_by empty."""
    expired, taken = _decide(LAPSED, Takeover(session_id="s2"))

    assert isinstance(expired, Expired)
    assert isinstance(taken, TakenOver)
    assert (taken.forced, taken.forced_by, taken.handoff_reason) == (False, None, "lease_expired")
    assert (taken.previous_token, taken.fencing_token) == (2, 4)


def test_a_takeover_of_an_unclaimed_task_is_task_not_claimed() -> None:
    """TASK_NOT_CLAIMED: there is nothing to take over; claim instead."""
    with pytest.raises(TaskNotClaimed):
        _decide(_task(), Takeover(session_id="s2", force=True, reason="r"))


def test_a_takeover_by_the_holder_extends_its_claim() -> None:
    """The holder taking over its own live claim just extends it, keeping the token."""
    [event] = _decide(HELD, Takeover(session_id="s1", terms=LeaseTerms(ttl_ms=5 * MINUTE)))

    assert isinstance(event, Heartbeat)
    assert (event.fencing_token, event.expires_at) == (2, _at(5 * MINUTE))


@pytest.mark.parametrize("status", ["done", "dropped", "blocked"])
def test_a_finished_task_cannot_be_taken_over(status: TaskStatus) -> None:
    """TASK_NOT_CLAIMABLE applies to takeovers too."""
    with pytest.raises(TaskNotClaimable):
        _decide(_task(status=status), Takeover(session_id="s2", force=True, reason="r"))


# --- status, expiry, orphaning ---------------------------------------------------------


def test_setting_the_current_status_is_a_no_op() -> None:
    """Changing a task to the status it has writes nothing."""
    assert _decide(_task(status="blocked"), ChangeStatus(status="blocked")) == []


def test_in_progress_is_reached_only_by_claiming() -> None:
    """A status change to in_progress is refused."""
    with pytest.raises(InvalidInput):
        _decide(_task(), ChangeStatus(status="in_progress"))


def test_only_the_holder_changes_a_claimed_tasks_status() -> None:
    """NOT_CLAIM_OWNER: another session cannot change a live-claimed task's status."""
    with pytest.raises(NotClaimOwner):
        _decide(HELD, ChangeStatus(status="blocked", session_id="s2"))


def test_the_holder_changing_status_releases_the_claim_first() -> None:
    """The holder blocking its task yields Released (reason 'blocked') then the change."""
    released, changed = _decide(HELD, ChangeStatus(status="blocked", session_id="s1"))

    assert isinstance(released, Released)
    assert isinstance(changed, TaskStatusChanged)
    assert (released.reason, changed.status, changed.previous) == ("blocked", "blocked", "todo")


def test_a_status_change_over_a_lapsed_claim_records_the_expiry() -> None:
    """Dropping a task whose claim lapsed yields Expired then the change of status."""
    events = _decide(LAPSED, ChangeStatus(status="dropped", reason="obsolete"))

    assert [type(event) for event in events] == [Expired, TaskStatusChanged]


def test_expire_on_a_live_claim_writes_nothing() -> None:
    """The sweeper's Expire leaves a live claim alone."""
    assert _decide(HELD, Expire()) == []


def test_expire_on_a_lapsed_claim_records_when_it_lapsed() -> None:
    """Expire on a lapsed claim yields Expired at the lease's own expiry time."""
    [event] = _decide(LAPSED, Expire(), _at(60 * MINUTE))

    assert isinstance(event, Expired)
    assert event.expired_at == _at(-1)


def test_orphan_of_the_holder_yields_orphaned_with_the_reason() -> None:
    """Orphan of the holding session ends the claim with the reason given."""
    [event] = _decide(HELD, Orphan(session_id="s1", reason="process_gone"))

    assert isinstance(event, Orphaned)
    assert (event.session_id, event.fencing_token, event.reason) == ("s1", 2, "process_gone")


def test_orphan_of_another_session_writes_nothing() -> None:
    """Orphan of a session that does not hold the claim leaves it alone."""
    assert _decide(HELD, Orphan(session_id="s2", reason="session_ended")) == []


def test_orphan_of_a_lapsed_claim_records_the_expiry_instead() -> None:
    """A lapsed claim of a dead session is recorded as expired, not orphaned."""
    [event] = _decide(LAPSED, Orphan(session_id="s1", reason="session_ended"))

    assert isinstance(event, Expired)


def test_a_silence_orphan_spares_a_claim_that_just_heartbeated() -> None:
    """An orphan for silence re-checks the state it appends to: a fresh heartbeat wins."""
    command = Orphan(session_id="s1", reason="heartbeat_timeout", min_silence_ms=10 * MINUTE)

    assert _decide(HELD, command) == []


def test_a_silence_orphan_ends_a_claim_silent_for_longer() -> None:
    """An orphan for silence ends a claim whose last heartbeat is older than the bound."""
    command = Orphan(session_id="s1", reason="heartbeat_timeout", min_silence_ms=30_000)
    [event] = _decide(HELD, command)

    assert isinstance(event, Orphaned)
    assert event.reason == "heartbeat_timeout"


def test_deeply_nested_metadata_is_a_validation_error() -> None:
    """Metadata nested past the encoder's depth is VALIDATION_ERROR, not a crash."""
    nested: dict[str, object] = {}
    for _ in range(100_000):
        nested = {"n": nested}
    with pytest.raises(InvalidInput, match="nested too deeply"):
        _decide(_task(), Claim(session_id="s1", terms=LeaseTerms(metadata=nested)))
