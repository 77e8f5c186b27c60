"""The dashboard's history over HTTP: claim intervals, replay, the board as of a position,
and seed 002's session summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.http.conftest import problem_of


def _claim_takeover_release(client: httpx.Client, task: str, first: str, second: str) -> int:
    """A claim, a forced takeover and a release; the position just before the takeover."""
    assert client.post(f"/api/tasks/{task}/claim", json={"sessionId": first}).status_code == 200
    before = client.get("/api/board").json()["position"]
    taken = client.post(
        f"/api/tasks/{task}/takeover",
        json={"sessionId": second, "force": True, "reason": "stuck", "forcedBy": "lead"},
    )
    assert taken.status_code == 200, taken.text
    released = client.post(
        f"/api/tasks/{task}/release", json={"sessionId": second, "reason": "completed"}
    )
    assert released.status_code == 200, released.text
    position: int = before
    return position


def _intervals(client: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/timeline", params=query)
    assert answer.status_code == 200, answer.text
    intervals: list[dict[str, Any]] = answer.json()["intervals"]
    return intervals


def test_timeline_shows_both_holders_and_the_takeover(
    client: httpx.Client, task: str, fresh: Callable[[str], str]
) -> None:
    """A claim taken over by force and then completed is two bars with their outcomes."""
    first, second = fresh("holder"), fresh("taker")
    _claim_takeover_release(client, task, first, second)
    bars = _intervals(client, taskId=task)
    assert [(bar["sessionId"], bar["outcome"]) for bar in bars] == [
        (first, "taken_over"),
        (second, "completed"),
    ]
    assert (bars[0]["reason"], bars[0]["by"], bars[0]["toSession"]) == ("stuck", "lead", second)
    assert bars[0]["forced"] is True


def test_timeline_until_a_position_shows_the_claim_then_held(
    client: httpx.Client, task: str, fresh: Callable[[str], str]
) -> None:
    """As of the position before the takeover, the first holder's claim is still held."""
    first, second = fresh("holder"), fresh("taker")
    before = _claim_takeover_release(client, task, first, second)
    bars = _intervals(client, taskId=task, until=str(before))
    assert [(bar["sessionId"], bar["outcome"], bar["end"]) for bar in bars] == [
        (first, "held", None)
    ]


def test_board_as_of_a_position_shows_the_first_holder(
    client: httpx.Client, task: str, fresh: Callable[[str], str]
) -> None:
    """``/api/board?asOf=N`` is the board as it stood at position N."""
    first, second = fresh("holder"), fresh("taker")
    before = _claim_takeover_release(client, task, first, second)
    then = client.get("/api/board", params={"asOf": before}).json()
    shown = {entry["taskId"]: entry for entry in then["tasks"]}[task]
    assert then["position"] == before
    assert shown["claim"]["sessionId"] == first
    now = {entry["taskId"]: entry for entry in client.get("/api/board").json()["tasks"]}[task]
    assert (now["status"], now["claim"]) == ("done", None)


def test_as_of_that_is_neither_position_nor_time_is_a_validation_error(
    client: httpx.Client,
) -> None:
    """``asOf=yesterday`` is 400 VALIDATION_ERROR."""
    problem_of(client.get("/api/board", params={"asOf": "yesterday"}), 400, "VALIDATION_ERROR")


def test_replay_keeps_the_newest_records(client: httpx.Client, task: str) -> None:
    """``/api/replay?last=1`` is the newest record of the range with the state after it."""
    body = client.get("/api/replay", params={"taskId": task, "last": 1}).json()
    assert body["count"] == 1
    assert body["timeline"][0]["type"] == "task_registered"
    assert body["timeline"][0]["state"]["taskId"] == task


def test_session_summary_carries_the_current_task_and_its_health(
    client: httpx.Client, task: str, fresh: Callable[[str], str]
) -> None:
    """Seed 002's summary: each session's ``currentTaskId`` and its claim's health."""
    holder = fresh("summarised")
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": holder})
    body = client.get("/api/sessions/summary").json()
    card = {card["sessionId"]: card for card in body["sessions"]}[holder]
    assert (card["currentTaskId"], card["claimHealth"]) == (task, "healthy")
    assert card["currentTask"]["taskId"] == task
    assert body["summary"]["working"] >= 1


def test_many_claims_come_as_buckets(client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """Past ``limit`` claims the timeline aggregates each lane into buckets, no bars."""
    for _ in range(3):
        task = fresh("many")
        client.post("/api/tasks", json={"taskId": task, "title": "Many"})
        client.post(f"/api/tasks/{task}/claim", json={"sessionId": "bucketed"})
    body = client.get(
        "/api/timeline", params={"sessionId": "bucketed", "limit": 2, "buckets": 10}
    ).json()
    assert (body["aggregated"], body["intervals"], body["total"]) == (True, [], 3)
    assert all(len(lane["busy"]) == 10 for lane in body["lanes"])
