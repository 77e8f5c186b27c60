"""The sweeper and the end of a session: expiry, and orphaned claims of sessions that
ended, whose registered process is gone on this host, or that went silent too long."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from application.service import ClaimService
from ledger.commands import Beat
from ledger.events import Expired, Orphaned, SessionEnded, session_stream
from ledger.records import NewEvent
from tests.conftest import START
from tests.unit.service_helpers import MINUTE, advance, claim, new_service, register


@pytest.fixture
def service() -> ClaimService:
    """A service with tasks t1 and t2 registered."""
    service, _ = new_service()
    register(service, "t1")
    register(service, "t2")
    return service


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _orphaned(service: ClaimService) -> list[tuple[str, str, str]]:
    return service.sweep().orphaned


# --- expiry -----------------------------------------------------------------------------


def test_a_lapsed_lease_is_recorded_as_expired(service: ClaimService) -> None:
    """The sweeper writes Expired for a lease past its time, at the lease's expiry."""
    claim(service, "t1", "s1", ttl_ms=5 * MINUTE)
    advance(service, minutes=7)

    result = service.sweep()

    assert result.expired == ["t1"]
    [record] = result.records
    assert isinstance(record.data, Expired)
    assert record.data.expired_at == START + timedelta(minutes=5)
    assert service.task("t1").lease is None


def test_a_live_healthy_claim_is_left_alone(service: ClaimService) -> None:
    """A sweep over a live claim heard from recently writes nothing."""
    claim(service, "t1", "s1")
    advance(service, minutes=9)
    head = service.store.head()

    result = service.sweep()

    assert (result.expired, result.orphaned, service.store.head()) == ([], [], head)


def test_a_second_sweep_writes_nothing(service: ClaimService) -> None:
    """Sweeping twice at the same time records each expiry once."""
    claim(service, "t1", "s1", ttl_ms=MINUTE)
    claim(service, "t2", "s2", ttl_ms=MINUTE)
    advance(service, minutes=2)
    assert sorted(service.sweep().expired) == ["t1", "t2"]
    head = service.store.head()

    assert (service.sweep().records, service.store.head()) == ([], head)


# --- orphans ----------------------------------------------------------------------------


def test_a_claim_of_an_ended_session_is_orphaned(service: ClaimService) -> None:
    """A live claim whose session ended (the end recorded, the orphaning not) is orphaned."""
    claim(service, "t1", "s1")
    ended = NewEvent(data=SessionEnded(session_id="s1"), occurred_at=START, actor="s1")
    service.store.append(session_stream("s1"), [ended], expected_version=1)

    assert _orphaned(service) == [("t1", "s1", "session_ended")]
    assert service.task("t1").lease is None


def test_a_claim_of_a_dead_registered_process_is_orphaned(
    service: ClaimService, dead_pid: int
) -> None:
    """A session registered with a pid on this host whose process is gone is orphaned."""
    service.start_session("agent", pid=dead_pid)
    claim(service, "t1", "agent")

    assert _orphaned(service) == [("t1", "agent", "process_gone")]


def test_a_claim_of_a_live_registered_process_is_kept(service: ClaimService) -> None:
    """A session whose registered process still runs keeps its claim."""
    service.start_session("agent", pid=os.getpid())
    claim(service, "t1", "agent")

    assert _orphaned(service) == []


def test_a_dead_pid_registered_on_another_host_is_no_evidence(
    service: ClaimService, dead_pid: int
) -> None:
    """A pid only means something on the host it was registered from."""
    service.start_session("agent", pid=dead_pid, host="elsewhere")
    claim(service, "t1", "agent")

    assert _orphaned(service) == []


def test_a_session_started_by_a_short_command_has_no_pid_to_check(service: ClaimService) -> None:
    """A claim that started its own session (a CLI call) is not orphaned when that call exits."""
    claim(service, "t1", "cli-session")

    assert (_orphaned(service), service.session("cli-session").pid) == ([], None)


def test_a_claim_silent_longer_than_the_orphan_threshold_is_orphaned(
    service: ClaimService,
) -> None:
    """A live claim with no heartbeat for over 10 minutes is orphaned (heartbeat_timeout)."""
    claim(service, "t1", "s1", ttl_ms=60 * MINUTE)
    advance(service, minutes=10, ms=1)

    assert _orphaned(service) == [("t1", "s1", "heartbeat_timeout")]


def test_a_claim_silent_exactly_the_orphan_threshold_is_kept(service: ClaimService) -> None:
    """Exactly 10 minutes of silence is not yet orphaned."""
    claim(service, "t1", "s1", ttl_ms=60 * MINUTE)
    advance(service, minutes=10)

    assert _orphaned(service) == []


def test_a_heartbeat_restarts_the_silence(service: ClaimService) -> None:
    """A heartbeat 8 minutes in keeps a claim from being orphaned 8 minutes later."""
    claim(service, "t1", "s1", ttl_ms=60 * MINUTE)
    advance(service, minutes=8)
    service.heartbeat("t1", Beat(session_id="s1"))
    advance(service, minutes=8)

    assert _orphaned(service) == []


def test_an_orphaned_task_is_claimable_again(service: ClaimService) -> None:
    """After orphaning and its lock-delay, another session claims the task with a grown
    token."""
    first = claim(service, "t1", "s1", ttl_ms=60 * MINUTE)
    advance(service, minutes=11)
    service.sweep()
    advance(service, ms=service.config.lock_delay)

    again = claim(service, "t1", "s2")

    assert again.lease.fencing_token > first.lease.fencing_token


# --- ending a session -------------------------------------------------------------------


def test_ending_a_session_orphans_its_claims(service: ClaimService) -> None:
    """end_session records the end and orphans every claim the session holds."""
    claim(service, "t1", "s1")
    claim(service, "t2", "s1")

    state, orphaned = service.end_session("s1")

    assert (state.ended, sorted(orphaned)) == (True, ["t1", "t2"])
    for task_id in ("t1", "t2"):
        [last] = service.store.read_stream(f"task-{task_id}", after_version=2)
        assert isinstance(last.data, Orphaned)
        assert last.data.reason == "session_ended"


def test_ending_a_session_leaves_other_sessions_claims(service: ClaimService) -> None:
    """end_session of s1 does not touch s2's claim."""
    claim(service, "t1", "s1")
    held = claim(service, "t2", "s2")

    service.end_session("s1")

    assert service.task("t2").lease == held.lease


def test_ending_a_session_without_claims_only_records_the_end(service: ClaimService) -> None:
    """end_session of a session holding nothing writes one SessionEnded."""
    service.start_session("idle")
    head = service.store.head_position()

    state, orphaned = service.end_session("idle")

    assert (state.ended, orphaned, service.store.head_position()) == (True, [], head + 1)
