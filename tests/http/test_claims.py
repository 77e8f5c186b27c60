"""Seed 002's claim, heartbeat and release, claim-next and takeover, end to end."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.http.conftest import problem_of


def claim(client: httpx.Client, task: str, session: str, **extra: object) -> httpx.Response:
    return client.post(f"/api/tasks/{task}/claim", json={"sessionId": session, **extra})


def test_claim_answers_seed_002_body_with_fencing_token(client: httpx.Client, task: str) -> None:
    """A claim answers 200 with seed 002's claim, its fencing token and stream version."""
    answer = claim(client, task, "agent-a", ttlMs=600_000, agentType="autonomous")
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    assert body["claim"]["taskId"] == task
    assert body["claim"]["sessionId"] == "agent-a"
    assert body["claim"]["agentType"] == "autonomous"
    assert body["claim"]["ttlMs"] == 600_000
    assert body["claim"]["fencingToken"] == body["claim"]["version"] == 2
    assert {"claimedAt", "expiresAt"} <= body["claim"].keys()


def test_reclaim_by_holder_renews(client: httpx.Client, task: str) -> None:
    """The holder claiming again extends its lease and keeps its fencing token."""
    first = claim(client, task, "agent-a").json()["claim"]
    again = claim(client, task, "agent-a").json()["claim"]
    assert again["renewed"] is True
    assert again["fencingToken"] == first["fencingToken"]


def test_heartbeat_counts_and_extends(client: httpx.Client, task: str) -> None:
    """A heartbeat answers seed 002's expiresAt and heartbeatCount."""
    claim(client, task, "agent-a", ttlMs=60_000)
    answer = client.post(
        f"/api/tasks/{task}/claim/heartbeat", json={"sessionId": "agent-a", "extendMs": 120_000}
    )
    assert answer.status_code == 200
    assert answer.json()["claim"]["heartbeatCount"] == 1


def test_release_answers_reason_and_duration(client: httpx.Client, task: str) -> None:
    """A release answers seed 002's released body; completed marks the task done."""
    claim(client, task, "agent-a")
    answer = client.post(
        f"/api/tasks/{task}/release", json={"sessionId": "agent-a", "reason": "completed"}
    )
    assert answer.status_code == 200
    released = answer.json()["released"]
    assert (released["taskId"], released["reason"], released["status"]) == (
        task,
        "completed",
        "done",
    )
    assert released["claimDuration"] >= 0


def test_fencing_token_accepted_on_heartbeat(client: httpx.Client, task: str) -> None:
    """The claim's own fencing token is accepted on heartbeat."""
    token = claim(client, task, "agent-a").json()["claim"]["fencingToken"]
    answer = client.post(
        f"/api/tasks/{task}/claim/heartbeat", json={"sessionId": "agent-a", "fencingToken": token}
    )
    assert answer.status_code == 200


def test_stale_fencing_token_refused(client: httpx.Client, task: str) -> None:
    """A fencing token that is not the claim's is 409 STALE_FENCING_TOKEN."""
    token = claim(client, task, "agent-a").json()["claim"]["fencingToken"]
    answer = client.post(
        f"/api/tasks/{task}/release", json={"sessionId": "agent-a", "fencingToken": token + 7}
    )
    problem_of(answer, 409, "STALE_FENCING_TOKEN")


def test_takeover_after_expiry(client: httpx.Client, task: str) -> None:
    """Once a lease expired, another session takes it over without force."""
    claim(client, task, "agent-a", ttlMs=1)
    answer = client.post(f"/api/tasks/{task}/takeover", json={"sessionId": "agent-b"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["takeover"] == {"fromSession": "agent-a", "forced": False}
    assert body["claim"]["sessionId"] == "agent-b"


def test_forced_takeover_is_recorded(client: httpx.Client, task: str) -> None:
    """A forced takeover of a live claim with a reason succeeds and says it was forced."""
    claim(client, task, "agent-a")
    answer = client.post(
        f"/api/tasks/{task}/takeover",
        json={"sessionId": "agent-b", "force": True, "reason": "stuck", "forcedBy": "alice"},
    )
    assert answer.json()["takeover"] == {"fromSession": "agent-a", "forced": True}


def test_takeover_of_live_claim_without_force_conflicts(client: httpx.Client, task: str) -> None:
    """Without force, a live claim cannot be taken over: 409 with the holder."""
    claim(client, task, "agent-a")
    answer = client.post(f"/api/tasks/{task}/takeover", json={"sessionId": "agent-b"})
    assert problem_of(answer, 409, "TASK_ALREADY_CLAIMED")["claim"]["sessionId"] == "agent-a"


def test_forced_takeover_without_reason_is_refused(client: httpx.Client, task: str) -> None:
    """A forced takeover needs a reason: 400 VALIDATION_ERROR."""
    claim(client, task, "agent-a")
    answer = client.post(
        f"/api/tasks/{task}/takeover", json={"sessionId": "agent-b", "force": True}
    )
    problem_of(answer, 400, "VALIDATION_ERROR")


def test_claim_next_takes_best_roi(client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """claim-next claims the claimable task with the highest ROI."""
    best = fresh("best")
    client.post("/api/tasks", json={"taskId": best, "title": "Best", "roi": 1e9})
    answer = client.post("/api/tasks/claim-next", json={"sessionId": fresh("picker")})
    assert answer.status_code == 200
    assert answer.json()["claim"]["taskId"] == best


def test_task_ids_with_slashes_route(client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """A task id containing '/' is claimed through its path."""
    task_id = f"area/{fresh('slashed')}"
    client.post("/api/tasks", json={"taskId": task_id, "title": "Slashed"})
    answer = claim(client, task_id, "agent-a")
    assert answer.json()["claim"]["taskId"] == task_id


def test_a_retried_claim_with_its_request_id_is_answered_once(
    client: httpx.Client, task: str
) -> None:
    """The same requestId twice: the same claim, and no second event in the task's stream."""
    first = claim(client, task, "agent-a", requestId="req-1").json()["claim"]
    again = claim(client, task, "agent-a", requestId="req-1").json()["claim"]
    assert (again["fencingToken"], again["version"]) == (first["fencingToken"], first["version"])
    assert again["renewed"] is False


def test_release_without_reason_returns_the_task_to_the_backlog(
    client: httpx.Client, task: str
) -> None:
    """A release without a reason is released: the task is todo again, not done."""
    claim(client, task, "agent-a")
    answer = client.post(f"/api/tasks/{task}/release", json={"sessionId": "agent-a"})
    assert (answer.json()["released"]["reason"], answer.json()["released"]["status"]) == (
        "released",
        "todo",
    )
