"""Every error of seed 002's table, and bad input: its status, a problem body, the log unchanged."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.http.conftest import problem_of
from tests.http.server import Server


def claim(client: httpx.Client, task: str, session: str, **extra: object) -> httpx.Response:
    return client.post(f"/api/tasks/{task}/claim", json={"sessionId": session, **extra})


def test_task_not_found(client: httpx.Client, server: Server) -> None:
    """Claiming an unknown task is 404 TASK_NOT_FOUND and writes nothing."""
    head = server.head()
    problem_of(claim(client, "no-such-task", "agent-a"), 404, "TASK_NOT_FOUND")
    assert server.head() == head


def test_session_not_found(client: httpx.Client, server: Server) -> None:
    """The current task of an unknown session is 404 SESSION_NOT_FOUND."""
    head = server.head()
    problem_of(client.get("/api/sessions/nobody-here/current-task"), 404, "SESSION_NOT_FOUND")
    assert server.head() == head


def test_task_already_claimed_names_holder(client: httpx.Client, server: Server, task: str) -> None:
    """A claim on a held task is 409 TASK_ALREADY_CLAIMED with seed 002's claim member."""
    claim(client, task, "agent-a")
    head = server.head()
    body = problem_of(claim(client, task, "agent-b"), 409, "TASK_ALREADY_CLAIMED")
    assert body["claim"]["sessionId"] == "agent-a"
    assert {"claimedAt", "remainingMs"} <= body["claim"].keys()
    assert server.head() == head


def test_task_not_claimed(client: httpx.Client, server: Server, task: str, session: str) -> None:
    """Releasing a task nobody holds is 404 TASK_NOT_CLAIMED."""
    head = server.head()
    answer = client.post(f"/api/tasks/{task}/release", json={"sessionId": session})
    problem_of(answer, 404, "TASK_NOT_CLAIMED")
    assert server.head() == head


def test_task_not_claimable(
    client: httpx.Client, server: Server, fresh: Callable[[str], str]
) -> None:
    """Claiming a done task is 400 TASK_NOT_CLAIMABLE, naming the task's status."""
    task = fresh("done")
    client.post("/api/tasks", json={"taskId": task, "title": "Done", "status": "done"})
    head = server.head()
    body = problem_of(claim(client, task, "agent-a"), 400, "TASK_NOT_CLAIMABLE")
    assert body["taskStatus"] == "done"
    assert server.head() == head


def test_not_claim_owner(client: httpx.Client, server: Server, task: str, session: str) -> None:
    """A heartbeat by a session that does not hold the claim is 403 NOT_CLAIM_OWNER."""
    claim(client, task, "agent-a")
    head = server.head()
    answer = client.post(f"/api/tasks/{task}/claim/heartbeat", json={"sessionId": session})
    problem_of(answer, 403, "NOT_CLAIM_OWNER")
    assert server.head() == head


def test_claim_expired(client: httpx.Client, server: Server, task: str) -> None:
    """A heartbeat after the lease lapsed is 410 CLAIM_EXPIRED."""
    claim(client, task, "agent-a", ttlMs=1)
    head = server.head()
    answer = client.post(f"/api/tasks/{task}/claim/heartbeat", json={"sessionId": "agent-a"})
    problem_of(answer, 410, "CLAIM_EXPIRED")
    assert server.head() == head


def test_no_task_available(client: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> None:
    """claim-next on an empty backlog is 404 NO_TASK_AVAILABLE."""
    from tests.http.server import running

    with running(tmp_path_factory.mktemp("empty")) as empty, empty.client() as other:
        answer = other.post("/api/tasks/claim-next", json={"sessionId": "agent-a"})
        problem_of(answer, 404, "NO_TASK_AVAILABLE")
        assert empty.head() == 0


def test_task_already_exists(client: httpx.Client, server: Server, task: str) -> None:
    """Registering a taken id is 409 TASK_ALREADY_EXISTS."""
    head = server.head()
    answer = client.post("/api/tasks", json={"taskId": task, "title": "Again"})
    problem_of(answer, 409, "TASK_ALREADY_EXISTS")
    assert server.head() == head


def test_task_already_active(
    client: httpx.Client, server: Server, fresh: Callable[[str], str]
) -> None:
    """A task whose fingerprint unfinished work holds is 409 TASK_ALREADY_ACTIVE (seed 000)."""
    fingerprint = fresh("fp")
    first = fresh("first")
    client.post("/api/tasks", json={"taskId": first, "title": "One", "fingerprint": fingerprint})
    claim(client, first, "agent-a")
    head = server.head()
    answer = client.post(
        "/api/tasks", json={"taskId": fresh("dup"), "title": "Dup", "fingerprint": fingerprint}
    )
    body = problem_of(answer, 409, "TASK_ALREADY_ACTIVE")
    assert body["result"] == "task_already_active"
    assert body["activeTask"]["taskId"] == first
    assert body["holder"]["sessionId"] == "agent-a"
    assert server.head() == head


@pytest.mark.parametrize("ttl", [0, 7_200_001, 10**15])
def test_ttl_out_of_range(client: httpx.Client, server: Server, task: str, ttl: int) -> None:
    """A TTL outside the configured range is 400 INVALID_TTL with the allowed range."""
    head = server.head()
    body = problem_of(claim(client, task, "agent-a", ttlMs=ttl), 400, "INVALID_TTL")
    assert (body["minTtlMs"], body["maxTtlMs"]) == (1, 7_200_000)
    assert server.head() == head


def test_bad_json(client: httpx.Client, server: Server, task: str) -> None:
    """A body that is not JSON is 400 VALIDATION_ERROR saying so."""
    head = server.head()
    answer = client.post(
        f"/api/tasks/{task}/claim",
        content=b'{"sessionId": ',
        headers={"Content-Type": "application/json"},
    )
    body = problem_of(answer, 400, "VALIDATION_ERROR")
    assert "not valid JSON" in body["detail"]
    assert server.head() == head


def test_wrong_type(client: httpx.Client, server: Server, task: str) -> None:
    """A string where seed 002 has a number is 400 VALIDATION_ERROR naming the field."""
    head = server.head()
    body = problem_of(claim(client, task, "agent-a", ttlMs="30m"), 400, "VALIDATION_ERROR")
    assert [error["field"] for error in body["errors"]] == ["ttlMs"]
    assert server.head() == head


def test_missing_field(client: httpx.Client, server: Server, task: str) -> None:
    """A claim without sessionId is 400 VALIDATION_ERROR naming sessionId."""
    head = server.head()
    answer = client.post(f"/api/tasks/{task}/claim", json={"ttlMs": 60_000})
    body = problem_of(answer, 400, "VALIDATION_ERROR")
    assert [error["field"] for error in body["errors"]] == ["sessionId"]
    assert server.head() == head


def test_unknown_field(client: httpx.Client, server: Server, task: str) -> None:
    """A member seed 002 does not have (a typo) is refused, not ignored."""
    head = server.head()
    body = problem_of(claim(client, task, "agent-a", ttl=60_000), 400, "VALIDATION_ERROR")
    assert [error["field"] for error in body["errors"]] == ["ttl"]
    assert server.head() == head


def test_body_not_an_object(client: httpx.Client, server: Server, task: str) -> None:
    """A JSON array where an object belongs is 400 VALIDATION_ERROR."""
    head = server.head()
    answer = client.post(f"/api/tasks/{task}/claim", json=["agent-a"])
    problem_of(answer, 400, "VALIDATION_ERROR")
    assert server.head() == head


def test_bad_session_id(client: httpx.Client, server: Server, task: str) -> None:
    """A session id with spaces is 400 VALIDATION_ERROR from the ledger's id rules."""
    head = server.head()
    problem_of(claim(client, task, "agent a"), 400, "VALIDATION_ERROR")
    assert server.head() == head


def test_bad_query_parameter(client: httpx.Client) -> None:
    """A query parameter of the wrong type is 400 VALIDATION_ERROR naming it."""
    answer = client.get("/api/tasks/in-flight", params={"includeExpired": "perhaps"})
    body = problem_of(answer, 400, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "query.includeExpired"


def test_bad_last_event_id(client: httpx.Client) -> None:
    """A Last-Event-ID that is not a position is 400 VALIDATION_ERROR."""
    answer = client.get("/api/events", headers={"Last-Event-ID": "yesterday"})
    problem_of(answer, 400, "VALIDATION_ERROR")


def test_unknown_route(client: httpx.Client, server: Server) -> None:
    """An unknown path is 404 NOT_FOUND as a problem."""
    head = server.head()
    problem_of(client.post("/api/claims/everything", json={}), 404, "NOT_FOUND")
    assert server.head() == head


def test_wrong_method(client: httpx.Client) -> None:
    """A known path with the wrong method is 405 METHOD_NOT_ALLOWED with Allow."""
    answer = client.delete("/api/tasks")
    problem_of(answer, 405, "METHOD_NOT_ALLOWED")
    assert answer.headers["allow"]


def test_problem_type_is_described(client: httpx.Client, task: str) -> None:
    """A problem's type is a URL the server answers with the code's description."""
    body = claim(client, "missing-task", "agent-a").json()
    described = client.get(body["type"]).json()
    assert described == {
        "code": "TASK_NOT_FOUND",
        "title": "Task not found",
        "httpStatus": 404,
        "exitCode": 4,
    }
