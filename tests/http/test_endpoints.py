"""The endpoints around the claims: tasks, sessions, views, cleanup, health, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.http.conftest import problem_of


def claim(client: httpx.Client, task: str, session: str, **extra: object) -> httpx.Response:
    return client.post(f"/api/tasks/{task}/claim", json={"sessionId": session, **extra})


def test_register_task_answers_201(client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """POST /api/tasks answers 201 with the task as registered."""
    task_id = fresh("new")
    answer = client.post(
        "/api/tasks",
        json={"taskId": task_id, "title": "New", "priority": "high", "roi": 4.5, "phase": "test"},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["result"] == "created"
    assert (body["task"]["taskId"], body["task"]["priority"], body["task"]["roi"]) == (
        task_id,
        "high",
        4.5,
    )


def test_list_tasks_filters_by_status(client: httpx.Client, task: str) -> None:
    """GET /api/tasks?status=todo lists only todo tasks, the new one among them."""
    body = client.get("/api/tasks", params={"status": "todo"}).json()
    assert task in {t["taskId"] for t in body["tasks"]}
    assert {t["status"] for t in body["tasks"]} == {"todo"}
    assert body["total"] == len(body["tasks"])


def test_get_task_shows_claim(client: httpx.Client, task: str) -> None:
    """GET /api/tasks/{id} shows the task with its current claim."""
    claim(client, task, "agent-a")
    body = client.get(f"/api/tasks/{task}").json()
    assert body["task"]["claim"]["sessionId"] == "agent-a"


def test_import_tasks_json(client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """POST /api/tasks/import registers a seed 002 tasks.json and skips known ids."""
    ids = [fresh("imported") for _ in range(3)]
    tasks = {"tasks": [{"id": i, "title": i, "status": "pending"} for i in ids]}
    first = client.post("/api/tasks/import", json=tasks).json()
    again = client.post("/api/tasks/import", json=tasks).json()
    assert (first["added"], again["existing"]) == (ids, ids)


def test_import_refuses_bad_tasks_json(client: httpx.Client) -> None:
    """A tasks.json without titles is 400 VALIDATION_ERROR and adds nothing."""
    answer = client.post("/api/tasks/import", json=[{"id": "x-without-title"}])
    problem_of(answer, 400, "VALIDATION_ERROR")


def test_status_change_by_holder(client: httpx.Client, task: str) -> None:
    """The holder moves its task to blocked; its claim ends with it."""
    claim(client, task, "agent-a")
    answer = client.post(
        f"/api/tasks/{task}/status",
        json={"status": "blocked", "sessionId": "agent-a", "reason": "waiting"},
    )
    assert (answer.json()["task"]["status"], answer.json()["task"]["claim"]) == ("blocked", None)


def test_in_flight_summary(client: httpx.Client, task: str, session: str) -> None:
    """GET /api/tasks/in-flight?sessionId= lists the session's claims with health and summary."""
    claim(client, task, session)
    body = client.get("/api/tasks/in-flight", params={"sessionId": session}).json()
    assert [entry["taskId"] for entry in body["inFlight"]] == [task]
    assert body["inFlight"][0]["claim"]["healthStatus"] == "healthy"
    assert body["summary"] == {"total": 1, "bySession": {session: 1}}


def test_in_flight_include_expired(client: httpx.Client, task: str, session: str) -> None:
    """An expired, unswept claim shows only with includeExpired, marked expired."""
    claim(client, task, session, ttlMs=1)
    hidden = client.get("/api/tasks/in-flight", params={"sessionId": session}).json()
    shown = client.get(
        "/api/tasks/in-flight", params={"sessionId": session, "includeExpired": "true"}
    ).json()
    assert hidden["inFlight"] == []
    assert shown["inFlight"][0]["claim"]["healthStatus"] == "expired"


def test_current_task(client: httpx.Client, task: str, session: str) -> None:
    """GET /api/sessions/{id}/current-task shows seed 002's currentTask with remainingMs."""
    claim(client, task, session)
    body = client.get(f"/api/sessions/{session}/current-task").json()
    assert body["sessionId"] == session
    assert body["currentTask"]["taskId"] == task
    assert body["currentTask"]["claim"]["remainingMs"] > 0


def test_current_task_none(client: httpx.Client, session: str) -> None:
    """A session holding nothing has currentTask null."""
    body = client.get(f"/api/sessions/{session}/current-task").json()
    assert body == {"sessionId": session, "currentTask": None}


def test_session_history(client: httpx.Client, task: str, session: str) -> None:
    """GET /api/sessions/{id}/history lists claims newest first with reasons."""
    claim(client, task, session)
    client.post(f"/api/tasks/{task}/release", json={"sessionId": session, "reason": "abandoned"})
    body = client.get(f"/api/sessions/{session}/history").json()
    assert [(e["taskId"], e["releaseReason"]) for e in body["claimHistory"]] == [
        (task, "abandoned")
    ]


def test_session_start_registers_process(client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """POST /api/sessions records agent type, pid and host."""
    session_id = fresh("agent")
    body = client.post(
        "/api/sessions",
        json={"sessionId": session_id, "agentType": "autonomous", "pid": 4242, "host": "box-1"},
    ).json()
    assert (body["session"]["agentType"], body["session"]["pid"], body["session"]["host"]) == (
        "autonomous",
        4242,
        "box-1",
    )


def test_session_end_orphans_claims(client: httpx.Client, task: str, session: str) -> None:
    """Ending a session orphans the claims it holds."""
    claim(client, task, session)
    body = client.post(f"/api/sessions/{session}/end", json={"reason": "done"}).json()
    assert (body["session"]["active"], body["orphaned"]) == (False, [task])


def test_sessions_list_cards(client: httpx.Client, task: str, session: str) -> None:
    """GET /api/sessions shows each session's current task and claim count."""
    claim(client, task, session)
    cards = {card["sessionId"]: card for card in client.get("/api/sessions").json()["sessions"]}
    assert (cards[session]["currentTaskId"], cards[session]["claims"]) == (task, 1)


def test_cleanup_records_expiry(client: httpx.Client, task: str) -> None:
    """POST /api/tasks/claims/cleanup records the expiry of a lapsed lease."""
    claim(client, task, "agent-a", ttlMs=1)
    body = client.post("/api/tasks/claims/cleanup").json()
    assert task in body["expired"]
    assert body["success"] is True


def test_stats(client: httpx.Client, task: str, session: str) -> None:
    """GET /api/tasks/claims/stats counts claims by session and health."""
    claim(client, task, session)
    body = client.get("/api/tasks/claims/stats").json()
    assert body["bySession"][session] == 1
    assert body["byHealth"]["healthy"] >= 1


def test_board_carries_position(client: httpx.Client, task: str) -> None:
    """GET /api/board shows every task with its health, as of a position."""
    body = client.get("/api/board").json()
    assert task in {t["taskId"] for t in body["tasks"]}
    assert body["position"] >= 1
    assert body["config"]["minTtl"] == 1


def test_healthz(client: httpx.Client) -> None:
    """GET /healthz answers ok."""
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_names_store(client: httpx.Client, task: str) -> None:
    """GET /readyz answers the store's head position and URL."""
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["store"].startswith("sqlite://")


def test_openapi_lists_seed_002_endpoints(client: httpx.Client) -> None:
    """The OpenAPI document has seed 002's seven endpoints with their methods."""
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        ("/api/tasks/{taskId}/claim", "post"),
        ("/api/tasks/{taskId}/release", "post"),
        ("/api/tasks/{taskId}/claim/heartbeat", "post"),
        ("/api/tasks/in-flight", "get"),
        ("/api/sessions/{sessionId}/current-task", "get"),
        ("/api/tasks/claims/cleanup", "post"),
        ("/api/tasks/claims/stats", "get"),
    } <= {(path, method) for path, ops in paths.items() for method in ops}


def test_openapi_documents_problems_not_422(client: httpx.Client) -> None:
    """Errors are documented as problem+json, and no operation documents a 422."""
    paths = client.get("/openapi.json").json()["paths"]
    claim_op = paths["/api/tasks/{taskId}/claim"]["post"]["responses"]
    assert "422" not in claim_op
    assert "application/problem+json" in claim_op["409"]["content"]


def test_dashboard_page_served(client: httpx.Client) -> None:
    """GET / serves the dashboard page, with no external script or style."""
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "EventSource" in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
