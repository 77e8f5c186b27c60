"""``--as-of POSITION|TIME`` on in-flight, current-task, task list and session history.

The history is ``tests.e2e.timeline``'s: by the wall clock the CLI runs on, every
lease in it has long expired, so whatever shows live was live as of the moment asked.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Claims
from tests.e2e.timeline import MINUTE, at, cli_over_timeline


@pytest.fixture(scope="module", params=["sqlite", "jsonl"])
def claims(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Claims:
    """The CLI over the timeline, written once per backend (these commands only read)."""
    backend: str = request.param
    return cli_over_timeline(backend, tmp_path_factory.mktemp(f"as-of-{backend}"))


def _body(claims: Claims, *args: str) -> Any:
    result = claims.json(*args)
    assert result.code == 0, result.stdout + result.stderr
    return result.body


def _holders(body: Any) -> list[tuple[str, str, str]]:
    return [
        (item["taskId"], item["claim"]["sessionId"], item["claim"]["healthStatus"])
        for item in body["inFlight"]
    ]


def test_in_flight_now_is_empty_once_every_lease_lapsed(claims: Claims) -> None:
    """Without ``--as-of``, nothing is in flight: both leases expired long ago."""
    assert _holders(_body(claims, "in-flight")) == []


def test_in_flight_as_of_a_time_shows_the_lease_live_then(claims: Claims) -> None:
    """As of 12:05, b's lease (12:02 to 12:07) is live, with two minutes left."""
    body = _body(claims, "in-flight", "--as-of", at(5))
    assert _holders(body) == [("b", "s2", "healthy")]
    assert body["inFlight"][0]["claim"]["remainingMs"] == 2 * MINUTE
    assert (body["asOf"], body["position"]) == ("2026-01-01T12:05:00.000Z", 9)


def test_in_flight_as_of_a_time_reports_health_then(claims: Claims) -> None:
    """As of 12:06:30, b has thirty seconds left: expiring."""
    body = _body(claims, "in-flight", "--as-of", at(6, 30))
    assert _holders(body) == [("b", "s2", "expiring")]


def test_in_flight_as_of_a_time_after_expiry_shows_it_expired(claims: Claims) -> None:
    """As of 12:08, b's lease is past its expiry: only ``--include-expired`` lists it."""
    assert _holders(_body(claims, "in-flight", "--as-of", at(8))) == []
    body = _body(claims, "in-flight", "--as-of", at(8), "--include-expired")
    assert _holders(body) == [("b", "s2", "expired")]


def test_in_flight_as_of_a_position_stands_at_that_record(claims: Claims) -> None:
    """As of position 4 (a claimed at 12:00), a is held by s1 with its full ten minutes."""
    body = _body(claims, "in-flight", "--as-of", "4")
    assert _holders(body) == [("a", "s1", "healthy")]
    assert body["inFlight"][0]["claim"]["remainingMs"] == 10 * MINUTE
    assert (body["asOf"], body["position"]) == ("2026-01-01T12:00:00.000Z", 4)


def test_current_task_as_of_a_time(claims: Claims) -> None:
    """As of 12:05, s2's current task is b; by the wall clock it has none."""
    then = _body(claims, "current-task", "s2", "--as-of", at(5))
    assert then["currentTask"]["taskId"] == "b"
    assert then["currentTask"]["claim"]["remainingMs"] == 2 * MINUTE
    assert claims.json("current-task", "s2").body["currentTask"] is None


def test_current_task_as_of_a_position(claims: Claims) -> None:
    """As of position 5 (the heartbeat), s1's current task is a, extended to 12:11."""
    body = _body(claims, "current-task", "s1", "--as-of", "5")
    assert body["currentTask"]["taskId"] == "a"
    assert body["currentTask"]["claim"]["expiresAt"] == "2026-01-01T12:11:00.000Z"


def test_task_list_as_of_a_position_shows_only_tasks_registered_by_then(claims: Claims) -> None:
    """As of position 1, the board holds task a alone, still todo."""
    body = _body(claims, "task", "list", "--as-of", "1")
    assert [(t["taskId"], t["status"]) for t in body["tasks"]] == [("a", "todo")]


def test_task_list_as_of_a_time_shows_statuses_then(claims: Claims) -> None:
    """As of 12:03 both tasks are in progress; by now a is done and c exists."""
    then = _body(claims, "task", "list", "--as-of", at(3))
    assert [(t["taskId"], t["status"]) for t in then["tasks"]] == [
        ("a", "in_progress"),
        ("b", "in_progress"),
    ]
    now = claims.json("task", "list").body
    assert [(t["taskId"], t["status"]) for t in now["tasks"]] == [
        ("a", "done"),
        ("b", "in_progress"),
        ("c", "todo"),
    ]


def test_session_history_as_of_a_time_shows_the_open_claim(claims: Claims) -> None:
    """As of 12:03, s1 still holds a: no release yet, three minutes claimed."""
    body = _body(claims, "session", "history", "s1", "--as-of", at(3))
    assert body["currentTaskId"] == "a"
    (entry,) = body["claimHistory"]
    assert (entry["taskId"], entry["releasedAt"], entry["releaseReason"]) == ("a", None, None)
    assert entry["duration"] == 3 * MINUTE


def test_session_history_now_shows_the_release(claims: Claims) -> None:
    """By now, s1's claim of a ended at 12:04, completed, after four minutes."""
    body = _body(claims, "session", "history", "s1")
    (entry,) = body["claimHistory"]
    assert (entry["releasedAt"], entry["releaseReason"]) == (
        "2026-01-01T12:04:00.000Z",
        "completed",
    )
    assert entry["duration"] == 4 * MINUTE
    assert body["currentTaskId"] is None


def test_session_history_after_expiry_has_no_current_task(claims: Claims) -> None:
    """As of 12:08, b's lease (to 12:07) has lapsed: s2 has no current task, as in current-task."""
    assert _body(claims, "current-task", "s2", "--as-of", at(8))["currentTask"] is None
    assert _body(claims, "session", "history", "s2", "--as-of", at(8))["currentTaskId"] is None


def test_session_history_as_of_a_position(claims: Claims) -> None:
    """As of position 5 (12:01), s1's claim of a has lasted one minute."""
    body = _body(claims, "session", "history", "s1", "--as-of", "5")
    assert [e["duration"] for e in body["claimHistory"]] == [MINUTE]


def test_session_history_before_the_session_existed(claims: Claims) -> None:
    """As of position 5, s2 had not started: SESSION_NOT_FOUND, exit 5."""
    result = claims.json("session", "history", "s2", "--as-of", "5")
    assert (result.code, result.body["error"]) == (5, "SESSION_NOT_FOUND")


def test_human_in_flight_as_of_lists_the_holder(claims: Claims) -> None:
    """Without ``--json``, in-flight as of 12:05 prints b's row and the summary."""
    result = claims("in-flight", "--as-of", at(5))
    assert result.code == 0
    assert "b" in result.stdout.split()
    assert result.stdout.strip().endswith("1 in flight (s2: 1)")
