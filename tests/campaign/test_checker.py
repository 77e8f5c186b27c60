"""The campaign's checks fail on logs and side files that break the invariants, so a
clean campaign means something: each test writes one kind of breakage straight into
a memory store, past the service's rules."""

from __future__ import annotations

from datetime import timedelta

from ledger.clock import FrozenClock
from ledger.events import Claimed, Event, Expired, Heartbeat, Released
from ledger.records import NewEvent, Record
from ledger.store.memory import MemoryStore
from ledger.store.protocol import ANY
from tests.campaign.checker import (
    check_claims,
    check_lock_delay,
    check_reported_errors,
    check_server_time,
    check_sse,
    lost_acknowledgements,
)
from tests.campaign.journal import OK, UNEXPECTED, OpRecord
from tests.conftest import START

LATER = START + timedelta(minutes=5)


def _log(*events: Event, at: list[int] | None = None) -> list[Record]:
    """``events`` appended to task stream ``task-t``, each at START plus a minute offset."""
    clock = FrozenClock(START)
    store = MemoryStore(clock=clock)
    for n, event in enumerate(events):
        when = START + timedelta(minutes=(at or [0] * len(events))[n])
        clock.set(when)
        store.append(
            "task-t", [NewEvent(data=event, occurred_at=when, actor="test")], expected_version=ANY
        )
    return list(store.read_all())


def _claimed(session: str, token: int) -> Claimed:
    return Claimed(
        task_id="t", session_id=session, fencing_token=token, ttl_ms=60_000, expires_at=LATER
    )


def test_a_claim_over_a_live_claim_is_a_violation() -> None:
    found = check_claims(_log(_claimed("a", 1), _claimed("b", 2)))
    assert found == ["position 2 (claimed of t): claimed while a still held it"]


def test_a_fencing_token_that_does_not_grow_is_a_violation() -> None:
    released = Released(task_id="t", session_id="a", fencing_token=2, reason="handoff")
    found = check_claims(_log(_claimed("a", 2), released, _claimed("b", 2)))
    assert found == ["position 3 (claimed of t): fencing token 2 did not grow"]


def test_an_expiry_before_the_lease_ended_is_a_violation() -> None:
    expired = Expired(task_id="t", session_id="a", fencing_token=1, expired_at=LATER)
    found = check_claims(_log(_claimed("a", 1), expired, at=[0, 1]))
    assert len(found) == 2
    assert all("expired before its lease ended" in problem for problem in found)


def test_a_heartbeat_by_another_session_is_a_violation() -> None:
    beat = Heartbeat(
        task_id="t", session_id="b", fencing_token=1, extend_ms=60_000, expires_at=LATER
    )
    found = check_claims(_log(_claimed("a", 1), beat))
    assert found == ["position 2 (heartbeat of t): not the current claim's holder and token"]


def test_a_well_behaved_history_passes() -> None:
    released = Released(task_id="t", session_id="a", fencing_token=1, reason="handoff")
    expired = Expired(task_id="t", session_id="b", fencing_token=3, expired_at=LATER)
    history = _log(
        _claimed("a", 1), released, _claimed("b", 3), expired, _claimed("c", 5), at=[0, 1, 1, 6, 6]
    )
    assert check_claims(history) == []


def test_an_acknowledged_event_missing_from_the_log_is_lost() -> None:
    records = _log(_claimed("a", 1))
    acked = [
        OpRecord(agent="w0", op="claim", outcome=OK, ids=[records[0].event_id]),
        OpRecord(agent="w0", op="claim", outcome=OK, ids=["never-stored"]),
        OpRecord(agent="http", op="claim", outcome=OK, stream="task-t", version=2),
    ]
    assert lost_acknowledgements(records, acked) == [
        "w0 claim: event ids ['never-stored']",
        "http claim: task-t version 2",
    ]


def test_a_traceback_or_an_unclear_append_failure_is_a_violation() -> None:
    ops = [
        OpRecord(agent="w0", op="save", outcome=UNEXPECTED, detail="Traceback ..."),
        OpRecord(agent="w0", op="claim", outcome=OK, faults=["io-error-append"]),
        OpRecord(agent="w0", op="claim", outcome="STORE_ERROR", faults=["disk-full-append"]),
    ]
    assert len(check_reported_errors(ops)) == 2


def test_an_sse_client_that_skipped_or_repeated_a_position_is_a_violation() -> None:
    records = _log(
        _claimed("a", 1), Released(task_id="t", session_id="a", fencing_token=1, reason="x")
    )
    ids = [record.event_id for record in records]
    assert check_sse(records, [[(1, ids[0]), (2, ids[1])]]) == []
    assert len(check_sse(records, [[(1, ids[0]), (1, ids[0])], [(2, ids[1])], [(1, ids[1])]])) == 3


def test_a_claim_inside_the_lock_delay_is_a_violation() -> None:
    """A claim decided one minute after the expiry, with a delay of two, is reported."""
    expired = Expired(task_id="t", session_id="a", fencing_token=1, expired_at=LATER)
    log = _log(_claimed("a", 1), expired, _claimed("b", 3), at=[0, 5, 6])
    found = check_lock_delay(log, timedelta(minutes=2))
    assert [problem.split(":")[0] for problem in found] == ["position 3 (claimed of t)"]


def test_a_lease_granted_already_over_at_its_recording_is_a_violation() -> None:
    """A heartbeat recorded after the end it grants extends the lease into the past."""
    beat = Heartbeat(task_id="t", session_id="a", fencing_token=1, extend_ms=1, expires_at=START)
    found = check_server_time(_log(_claimed("a", 1), beat, at=[0, 1]))
    assert found == ["position 2 (heartbeat): grants a lease that ended before its recording"]
