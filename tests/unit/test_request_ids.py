"""Idempotent claims: a retry with the same request id is answered, not decided again."""

from __future__ import annotations

from application.service import ClaimService
from ledger.commands import Claim, Release
from ledger.errors import TaskAlreadyClaimed
from ledger.events import Claimed
from tests.unit.service_helpers import new_service, refused, register


def _claims(service: ClaimService) -> list[Claimed]:
    records = service.store.read_all()
    return [record.data for record in records if isinstance(record.data, Claimed)]


def test_the_same_request_id_twice_gives_one_claim_event() -> None:
    """Two claims with one request id: one decision, one event, the same answer."""
    service, _ = new_service()
    register(service, "t1")
    command = Claim(session_id="s1", request_id="req-1")
    first = service.claim("t1", command)
    head = service.store.head_position()
    second = service.claim("t1", command)
    assert (second.lease, second.renewed, second.records) == (first.lease, False, [])
    assert service.store.head_position() == head
    assert len(_claims(service)) == 1


def test_a_claim_event_records_its_request_id() -> None:
    """The stored claim carries the request id, so any process can answer a retry."""
    service, _ = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1", request_id="req-1"))
    assert [event.request_id for event in _claims(service)] == ["req-1"]


def test_another_request_id_by_the_holder_renews() -> None:
    """A new request id from the holder is a new decision: the lease is renewed."""
    service, _ = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1", request_id="req-1"))
    again = service.claim("t1", Claim(session_id="s1", request_id="req-2"))
    assert again.renewed


def test_another_session_with_the_same_request_id_is_refused() -> None:
    """A request id answers only the session that sent it."""
    service, _ = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1", request_id="req-1"))
    with refused(service, TaskAlreadyClaimed):
        service.claim("t1", Claim(session_id="s2", request_id="req-1"))


def test_a_retried_claim_next_answers_the_task_it_picked() -> None:
    """claim_next retried with its request id answers the same task, not the next one."""
    service, _ = new_service()
    register(service, "best", roi=9)
    register(service, "second", roi=1)
    command = Claim(session_id="s1", request_id="pick-1")
    first = service.claim_next(command)
    again = service.claim_next(command)
    assert (first.task.task_id, again.task.task_id, again.records) == ("best", "best", [])


def test_release_without_a_reason_returns_the_task_to_the_backlog() -> None:
    """The default release reason is released: the task is todo again, not done."""
    service, _ = new_service()
    register(service, "t1")
    service.claim("t1", Claim(session_id="s1"))
    result = service.release("t1", Release(session_id="s1"))
    assert (result.reason, result.task.status) == ("released", "todo")
