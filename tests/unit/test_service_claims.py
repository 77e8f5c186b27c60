"""The service's claim lifecycle over a memory store: seed 002's error codes, leases,
fencing tokens and takeovers. Every refusal leaves the log's head where it was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.service import ClaimService
from ledger.commands import Beat, Claim, RegisterTask, Release, Takeover
from ledger.errors import (
    ClaimExpired,
    InvalidInput,
    InvalidTtl,
    NotClaimOwner,
    SessionNotFound,
    StaleFencingToken,
    TaskAlreadyClaimed,
    TaskAlreadyExists,
    TaskNotClaimable,
    TaskNotClaimed,
    TaskNotFound,
)
from ledger.events import (
    Claimed,
    Expired,
    Heartbeat,
    Released,
    TakenOver,
    TaskStatus,
    TaskStatusChanged,
)
from ledger.terms import LeaseTerms
from tests.conftest import START
from tests.unit.service_helpers import MINUTE, advance, claim, new_service, refused, register


@pytest.fixture
def service() -> ClaimService:
    """A service with task t1 registered and session s2 started."""
    service, _ = new_service()
    register(service, "t1")
    service.start_session("s2")
    return service


@pytest.fixture
def held(service: ClaimService) -> ClaimService:
    """The service with t1 claimed by s1 (fencing token 2, 30-minute lease)."""
    claim(service, "t1", "s1")
    return service


# --- TASK_NOT_FOUND, SESSION_NOT_FOUND, TASK_ALREADY_EXISTS ------------------------------


def test_claiming_an_unknown_task_is_task_not_found(service: ClaimService) -> None:
    """TASK_NOT_FOUND: a known session claiming a task nobody registered."""
    with refused(service, TaskNotFound) as caught:
        claim(service, "t9", "s2")

    assert caught.value.body()["error"] == "TASK_NOT_FOUND"


def test_a_new_session_claiming_an_unknown_task_starts_no_session(service: ClaimService) -> None:
    """TASK_NOT_FOUND from a session never seen before writes nothing, not even the session."""
    with refused(service, TaskNotFound):
        claim(service, "t9", "newcomer")


def test_heartbeat_by_an_unknown_session_is_session_not_found(held: ClaimService) -> None:
    """SESSION_NOT_FOUND: a session that was never started heartbeats someone's claim."""
    with refused(held, SessionNotFound) as caught:
        held.heartbeat("t1", Beat(session_id="ghost"))

    assert caught.value.context == {"sessionId": "ghost"}


def test_release_by_an_unknown_session_is_session_not_found(service: ClaimService) -> None:
    """SESSION_NOT_FOUND: a session that was never started releases an unclaimed task."""
    with refused(service, SessionNotFound):
        service.release("t1", Release(session_id="ghost"))


def test_ending_an_unknown_session_is_session_not_found(service: ClaimService) -> None:
    """SESSION_NOT_FOUND: only a started session can end."""
    with refused(service, SessionNotFound):
        service.end_session("ghost")


def test_registering_a_task_twice_is_task_already_exists(service: ClaimService) -> None:
    """TASK_ALREADY_EXISTS: a task id is registered once."""
    with refused(service, TaskAlreadyExists):
        register(service, "t1")


@pytest.mark.parametrize(
    "spec",
    [
        RegisterTask(task_id="t2", title="  "),
        RegisterTask(task_id="t2", title="T", priority="urgent"),
        RegisterTask(task_id="t2", title="T", status="in_progress"),
        RegisterTask(task_id="t2", title="T", roi=float("nan")),
        RegisterTask(task_id="bad id", title="T"),
    ],
    ids=["blank-title", "unknown-priority", "starts-in-progress", "nan-roi", "bad-id"],
)
def test_a_bad_registration_is_invalid_input(service: ClaimService, spec: RegisterTask) -> None:
    """VALIDATION_ERROR: a blank title, unknown priority, in_progress start, NaN ROI, bad id."""
    with refused(service, InvalidInput):
        service.register_task(spec)


# --- TASK_ALREADY_CLAIMED --------------------------------------------------------------


def test_a_claim_on_a_held_task_names_the_holder(held: ClaimService) -> None:
    """TASK_ALREADY_CLAIMED: seed 002's 409 body names the holder and the time remaining."""
    advance(held, minutes=10)

    with refused(held, TaskAlreadyClaimed) as caught:
        claim(held, "t1", "s2")

    body = caught.value.body()
    assert (body["success"], body["error"], caught.value.http_status) == (
        False,
        "TASK_ALREADY_CLAIMED",
        409,
    )
    assert (body["claim"]["sessionId"], body["claim"]["remainingMs"]) == ("s1", 20 * MINUTE)


def test_the_loser_of_a_claim_is_not_started_as_a_session_by_it(held: ClaimService) -> None:
    """A new session refused with TASK_ALREADY_CLAIMED leaves no session behind."""
    with refused(held, TaskAlreadyClaimed):
        claim(held, "t1", "newcomer")


# --- TASK_NOT_CLAIMED, TASK_NOT_CLAIMABLE, NOT_CLAIM_OWNER, CLAIM_EXPIRED -----------------


def test_heartbeat_on_an_unclaimed_task_is_task_not_claimed(service: ClaimService) -> None:
    """TASK_NOT_CLAIMED: a known session heartbeats a task nobody holds."""
    with refused(service, TaskNotClaimed):
        service.heartbeat("t1", Beat(session_id="s2"))


def test_release_of_an_unclaimed_task_is_task_not_claimed(service: ClaimService) -> None:
    """TASK_NOT_CLAIMED: a known session releases a task nobody holds."""
    with refused(service, TaskNotClaimed):
        service.release("t1", Release(session_id="s2"))


@pytest.mark.parametrize("status", ["done", "dropped", "blocked"])
def test_a_done_dropped_or_blocked_task_is_not_claimable(
    service: ClaimService, status: TaskStatus
) -> None:
    """TASK_NOT_CLAIMABLE: tasks registered done, dropped or blocked cannot be claimed."""
    register(service, "t2", status=status)

    with refused(service, TaskNotClaimable) as caught:
        claim(service, "t2", "s2")

    assert caught.value.context["taskStatus"] == status


def test_heartbeat_by_another_session_is_not_claim_owner(held: ClaimService) -> None:
    """NOT_CLAIM_OWNER: a known session heartbeats another session's claim."""
    with refused(held, NotClaimOwner) as caught:
        held.heartbeat("t1", Beat(session_id="s2"))

    assert caught.value.context["holder"] == "s1"


def test_release_by_another_session_is_not_claim_owner(held: ClaimService) -> None:
    """NOT_CLAIM_OWNER: a known session releases another session's claim."""
    with refused(held, NotClaimOwner):
        held.release("t1", Release(session_id="s2"))


def test_heartbeat_after_the_lease_lapsed_is_claim_expired(held: ClaimService) -> None:
    """CLAIM_EXPIRED: the holder heartbeats after its 30 minutes ran out (no sweep yet)."""
    advance(held, minutes=30)

    with refused(held, ClaimExpired) as caught:
        held.heartbeat("t1", Beat(session_id="s1"))

    assert caught.value.http_status == 410


def test_release_after_the_lease_lapsed_is_claim_expired(held: ClaimService) -> None:
    """CLAIM_EXPIRED: the holder releases after its lease ran out."""
    advance(held, minutes=31)

    with refused(held, ClaimExpired):
        held.release("t1", Release(session_id="s1"))


# --- INVALID_TTL, metadata, STALE_FENCING_TOKEN -----------------------------------------


@pytest.mark.parametrize("ttl", [MINUTE - 1, 120 * MINUTE + 1])
def test_a_claim_ttl_out_of_range_is_invalid_ttl(service: ClaimService, ttl: int) -> None:
    """INVALID_TTL: below the 1-minute minimum or above the 2-hour maximum."""
    with refused(service, InvalidTtl):
        claim(service, "t1", "newcomer", ttl_ms=ttl)


def test_a_heartbeat_extension_out_of_range_is_invalid_ttl(held: ClaimService) -> None:
    """INVALID_TTL: extendMs outside the range is refused for the holder too."""
    with refused(held, InvalidTtl):
        held.heartbeat("t1", Beat(session_id="s1", extend_ms=MINUTE - 1))


def test_metadata_above_the_limit_is_invalid_input(service: ClaimService) -> None:
    """VALIDATION_ERROR: claim metadata over max_metadata_bytes is refused."""
    metadata = {"notes": "x" * service.config.max_metadata_bytes}

    with refused(service, InvalidInput):
        service.claim("t1", Claim(session_id="s2", terms=LeaseTerms(metadata=metadata)))


def test_a_heartbeat_with_the_previous_claims_token_is_stale(held: ClaimService) -> None:
    """STALE_FENCING_TOKEN: s1's lease lapsed and s1 claimed again; its old token is refused."""
    advance(held, minutes=31)
    again = claim(held, "t1", "s1")

    with refused(held, StaleFencingToken) as caught:
        held.heartbeat("t1", Beat(session_id="s1", fencing_token=2))

    assert caught.value.context["fencingToken"] == again.lease.fencing_token == 4


# --- claims, re-claims and heartbeats ----------------------------------------------------


def test_a_claim_returns_the_lease_with_a_fencing_token(service: ClaimService) -> None:
    """A first claim on t1 (at version 1) gets fencing token 2 and a 30-minute lease."""
    result = claim(service, "t1", "s2")

    assert (result.lease.session_id, result.lease.fencing_token) == ("s2", 2)
    assert result.lease.expires_at == START + timedelta(minutes=30)
    assert (result.renewed, result.task.status) == (False, "in_progress")


def test_a_claim_starts_a_new_session_without_a_pid(service: ClaimService) -> None:
    """A claim by an unseen session starts it with no pid: a short CLI's pid is no evidence."""
    claim(service, "t1", "newcomer")

    state = service.session("newcomer")
    assert (state.started, state.pid) == (True, None)


def test_a_re_claim_by_the_holder_extends_and_keeps_the_token(held: ClaimService) -> None:
    """The holder claiming again renews: same token, later expiry, one Heartbeat written."""
    advance(held, minutes=20)

    result = claim(held, "t1", "s1")

    assert (result.renewed, result.lease.fencing_token) == (True, 2)
    assert result.lease.expires_at == START + timedelta(minutes=50)
    assert [type(record.data) for record in result.records] == [Heartbeat]


def test_a_heartbeat_moves_the_expiry_and_counts(held: ClaimService) -> None:
    """A heartbeat 10 minutes in extends the lease to 30 minutes from then."""
    advance(held, minutes=10)

    result = held.heartbeat("t1", Beat(session_id="s1", fencing_token=2))

    assert (result.lease.heartbeat_count, result.lease.fencing_token) == (1, 2)
    assert result.lease.expires_at == START + timedelta(minutes=40)


def test_a_claim_on_a_lapsed_lease_expires_and_claims_in_one_append(held: ClaimService) -> None:
    """Expired and Claimed are written together, consecutive, in one correlation."""
    advance(held, minutes=45)

    result = claim(held, "t1", "s2")

    expired, claimed = result.records
    assert (type(expired.data), type(claimed.data)) == (Expired, Claimed)
    assert (expired.position + 1, expired.version + 1) == (claimed.position, claimed.version)
    assert expired.correlation_id == claimed.correlation_id
    assert held.store.head_position() == claimed.position


def test_the_fencing_token_grows_with_each_new_claim(held: ClaimService) -> None:
    """A claim after a lapse gets a token above the lapsed claim's."""
    advance(held, minutes=45)

    result = claim(held, "t1", "s2")

    assert (result.lease.session_id, result.lease.fencing_token) == ("s2", 4)


# --- releases ------------------------------------------------------------------------------


def test_release_completed_moves_the_task_to_done(held: ClaimService) -> None:
    """Releasing with 'completed' writes Released and a status change; the task is done."""
    advance(held, minutes=12)

    result = held.release("t1", Release(session_id="s1", reason="completed"))

    assert [type(record.data) for record in result.records] == [Released, TaskStatusChanged]
    assert (result.task.status, result.task.lease) == ("done", None)
    assert result.claim_duration_ms == 12 * MINUTE


def test_a_done_task_cannot_be_claimed_again(held: ClaimService) -> None:
    """After release 'completed', a claim is TASK_NOT_CLAIMABLE."""
    held.release("t1", Release(session_id="s1", reason="completed"))

    with refused(held, TaskNotClaimable):
        claim(held, "t1", "s2")


def test_release_for_another_reason_returns_the_task_to_the_backlog(held: ClaimService) -> None:
    """Releasing with 'handoff' leaves the task todo and claimable by another session."""
    result = held.release("t1", Release(session_id="s1", reason="handoff"))

    assert (result.task.status, result.reason) == ("todo", "handoff")
    assert claim(held, "t1", "s2").lease.fencing_token == 4


# --- takeovers -----------------------------------------------------------------------------


def test_a_forced_takeover_without_a_reason_is_refused(held: ClaimService) -> None:
    """VALIDATION_ERROR: force needs a reason; the log is unchanged."""
    with refused(held, InvalidInput):
        held.takeover("t1", Takeover(session_id="s2", force=True))


def test_a_takeover_of_a_live_claim_without_force_is_task_already_claimed(
    held: ClaimService,
) -> None:
    """TASK_ALREADY_CLAIMED: a live claim is taken over only by force."""
    with refused(held, TaskAlreadyClaimed):
        held.takeover("t1", Takeover(session_id="s2", reason="please"))


def test_a_forced_takeover_records_forced_by(held: ClaimService) -> None:
    """A forced takeover with a reason moves the lease, recording who forced it and why."""
    result = held.takeover(
        "t1", Takeover(session_id="s2", force=True, reason="s1 is stuck", forced_by="ops-alice")
    )

    [record] = result.records
    assert isinstance(record.data, TakenOver)
    assert (record.data.forced, record.data.forced_by, record.actor) == (
        True,
        "ops-alice",
        "ops-alice",
    )
    assert (result.forced, result.from_session, result.lease.session_id) == (True, "s1", "s2")
    assert result.lease.fencing_token == 3


def test_after_a_takeover_the_old_holder_is_not_the_owner(held: ClaimService) -> None:
    """NOT_CLAIM_OWNER: the session whose claim was taken over can no longer heartbeat."""
    held.takeover("t1", Takeover(session_id="s2", force=True, reason="s1 is stuck"))

    with refused(held, NotClaimOwner):
        held.heartbeat("t1", Beat(session_id="s1", fencing_token=2))


def test_a_takeover_after_expiry_needs_no_force(held: ClaimService) -> None:
    """After the lease lapsed and its lock-delay passed, a takeover writes Expired and an
    unforced TakenOver."""
    advance(held, minutes=30, ms=held.config.lock_delay)

    result = held.takeover("t1", Takeover(session_id="s2"))

    expired, taken = (record.data for record in result.records)
    assert isinstance(expired, Expired)
    assert isinstance(taken, TakenOver)
    assert (taken.forced, taken.forced_by, taken.from_session) == (False, None, "s1")
    assert (result.forced, result.lease.fencing_token) == (False, 4)


def test_a_takeover_of_an_unclaimed_task_is_task_not_claimed(service: ClaimService) -> None:
    """TASK_NOT_CLAIMED: nothing to take over."""
    with refused(service, TaskNotClaimed):
        service.takeover("t1", Takeover(session_id="s2", force=True, reason="r"))
