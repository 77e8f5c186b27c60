"""Statistics, audit trails and payout over HTTP (``claims stats|audit|payout``)."""

from __future__ import annotations

import httpx

from tests.http.conftest import problem_of


def work(client: httpx.Client, task: str, session: str) -> None:
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": session})
    client.post(f"/api/tasks/{task}/release", json={"sessionId": session, "reason": "completed"})


def test_audit_trail_of_a_task(client: httpx.Client, task: str, session: str) -> None:
    """The audit trail lists a task's claim and release in log order, as of a position."""
    work(client, task, session)
    body = client.get("/api/analytics/audit", params={"taskId": task}).json()
    types = [entry["type"] for entry in body["entries"]]
    assert types.index("claimed") < types.index("released")
    assert body["position"] >= 1


def test_stats_by_session(client: httpx.Client, task: str, session: str) -> None:
    """Statistics by session count the session's completed claim."""
    work(client, task, session)
    body = client.get("/api/analytics/stats", params={"sessionId": session}).json()
    assert body["total"]["claims"] == 1
    assert body["by"] == "session"


def test_payout_credits_the_worker(client: httpx.Client, task: str, session: str) -> None:
    """Payout attribution gives the only worker of a finished task its whole share."""
    work(client, task, session)
    body = client.get("/api/analytics/payout", params={"taskId": task}).json()
    [paid] = body["tasks"]
    assert [share["sessionId"] for share in paid["workers"]] == [session]


def test_audit_needs_a_subject(client: httpx.Client) -> None:
    """An audit without a task, session or agent type is 400 VALIDATION_ERROR."""
    problem_of(client.get("/api/analytics/audit"), 400, "VALIDATION_ERROR")


def test_audit_of_unknown_task(client: httpx.Client) -> None:
    """The audit of a task the ledger never saw is 404 TASK_NOT_FOUND."""
    answer = client.get("/api/analytics/audit", params={"taskId": "never-seen"})
    problem_of(answer, 404, "TASK_NOT_FOUND")
