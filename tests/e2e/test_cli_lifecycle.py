"""The whole claim lifecycle through the ``claims`` entry point, with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Claims


def _add(claims: Claims, task: str, *extra: str) -> None:
    assert claims.json("task", "add", task, "--title", f"Task {task}", *extra).code == 0


def test_claim_returns_seed_body_with_fencing_token(claims: Claims) -> None:
    """A claim answers seed 002's body plus the fencing token and stream version."""
    _add(claims, "t1")
    result = claims.json("claim", "t1", "--session", "s1", "--ttl", "10m")
    assert result.code == 0
    claim = result.body["claim"]
    assert result.body["success"] is True
    assert (claim["taskId"], claim["sessionId"], claim["fencingToken"]) == ("t1", "s1", 2)
    assert claim["ttlMs"] == 600_000
    assert claim["version"] == 2
    assert claim["claimedAt"].endswith("Z")


def test_second_session_gets_exit_3_and_the_holder(claims: Claims) -> None:
    """A claim on a held task exits 3 with TASK_ALREADY_CLAIMED naming the holder."""
    _add(claims, "t1")
    claims.json("claim", "t1", "--session", "s1")
    result = claims.json("claim", "t1", "--session", "s2")
    assert result.code == 3
    assert result.body["success"] is False
    assert result.body["error"] == "TASK_ALREADY_CLAIMED"
    assert result.body["claim"]["sessionId"] == "s1"
    assert 0 < result.body["claim"]["remainingMs"] <= 1_800_000


def test_heartbeat_counts_and_extends(claims: Claims) -> None:
    """Each heartbeat by the holder extends the lease and counts."""
    _add(claims, "t1")
    first = claims.json("claim", "t1", "--session", "s1").body["claim"]["expiresAt"]
    claims.json("heartbeat", "t1", "--session", "s1")
    result = claims.json("heartbeat", "t1", "--session", "s1", "--extend", "1h")
    assert result.code == 0
    assert result.body["claim"]["heartbeatCount"] == 2
    assert result.body["claim"]["expiresAt"] > first


def test_release_completed_marks_task_done(claims: Claims) -> None:
    """Releasing with reason completed answers claimDuration and moves the task to done."""
    _add(claims, "t1")
    claims.json("claim", "t1", "--session", "s1")
    result = claims.json("release", "t1", "--session", "s1", "--reason", "completed")
    assert result.code == 0
    assert result.body["released"]["reason"] == "completed"
    assert result.body["released"]["claimDuration"] >= 0
    assert claims.json("task", "show", "t1").body["status"] == "done"


def test_claim_of_done_task_is_not_claimable(claims: Claims) -> None:
    """A done task cannot be claimed again: exit 7, TASK_NOT_CLAIMABLE."""
    _add(claims, "t1")
    claims.json("claim", "t1", "--session", "s1")
    claims.json("release", "t1", "--session", "s1", "--reason", "completed")
    result = claims.json("claim", "t1", "--session", "s2")
    assert (result.code, result.body["error"]) == (7, "TASK_NOT_CLAIMABLE")


def test_forced_takeover_records_reason_and_forcer(claims: Claims) -> None:
    """A forced takeover needs a reason and answers the previous holder."""
    _add(claims, "t1")
    claims.json("claim", "t1", "--session", "s1")
    refused = claims.json("takeover", "t1", "--session", "s2")
    assert (refused.code, refused.body["error"]) == (3, "TASK_ALREADY_CLAIMED")
    no_reason = claims.json("takeover", "t1", "--session", "s2", "--force")
    assert (no_reason.code, no_reason.body["error"]) == (13, "VALIDATION_ERROR")
    result = claims.json(
        "takeover", "t1", "--session", "s2", "--force", "--reason", "stuck", "--by", "alice"
    )
    assert result.code == 0
    assert result.body["takeover"] == {"fromSession": "s1", "forced": True}
    assert result.body["claim"]["fencingToken"] == 3
    lost = claims.json("heartbeat", "t1", "--session", "s1")
    assert (lost.code, lost.body["error"]) == (8, "NOT_CLAIM_OWNER")


def test_next_picks_best_roi_and_skips_active_fingerprint(claims: Claims) -> None:
    """claims next takes the highest ROI and skips a task whose fingerprint is active."""
    _add(claims, "low", "--roi", "1")
    _add(claims, "best", "--roi", "9", "--fingerprint", "fp")
    _add(claims, "dup", "--roi", "8", "--fingerprint", "fp")
    first = claims.json("next", "--session", "a").body["claim"]["taskId"]
    second = claims.json("next", "--session", "b").body["claim"]["taskId"]
    empty = claims.json("next", "--session", "c")
    assert (first, second) == ("best", "low")
    assert (empty.code, empty.body["error"]) == (12, "NO_TASK_AVAILABLE")


def test_in_flight_and_current_task_bodies(claims: Claims) -> None:
    """in-flight lists claims with health and a summary; current-task names the task."""
    _add(claims, "t1")
    _add(claims, "t2")
    claims.json("claim", "t1", "--session", "s1")
    claims.json("claim", "t2", "--session", "s1")
    flight = claims.json("in-flight").body
    assert flight["summary"] == {"total": 2, "bySession": {"s1": 2}}
    assert {item["claim"]["healthStatus"] for item in flight["inFlight"]} == {"healthy"}
    current = claims.json("current-task", "s1").body
    assert current["currentTask"]["taskId"] == "t2"


def test_session_history_lists_claims_newest_first(claims: Claims) -> None:
    """session history shows each claim with its release reason, newest first."""
    _add(claims, "t1")
    _add(claims, "t2")
    claims.json("claim", "t1", "--session", "s1")
    claims.json("release", "t1", "--session", "s1", "--reason", "abandoned")
    claims.json("claim", "t2", "--session", "s1")
    body = claims.json("session", "history", "s1").body
    assert [entry["taskId"] for entry in body["claimHistory"]] == ["t2", "t1"]
    assert body["claimHistory"][1]["releaseReason"] == "abandoned"
    assert body["currentTaskId"] == "t2"


def test_session_end_orphans_its_claims(claims: Claims) -> None:
    """Ending a session orphans the claims it holds."""
    _add(claims, "t1")
    claims.json("claim", "t1", "--session", "s1")
    result = claims.json("session", "end", "s1")
    assert result.body["orphaned"] == ["t1"]
    assert claims.json("in-flight").body["summary"]["total"] == 0


def test_import_tasks_json_in_seed_shape(claims: Claims, tmp_path: Path) -> None:
    """task import reads seed 002's tasks.json and skips ids already present."""
    backlog = {
        "tasks": [
            {"id": "a", "title": "A", "status": "ready", "priority": "high", "claim": None},
            {"id": "b", "title": "B", "status": "completed", "phase": "test"},
        ]
    }
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(backlog))
    first = claims.json("task", "import", str(path)).body
    again = claims.json("task", "import", str(path)).body
    assert (first["added"], again["existing"]) == (["a", "b"], ["a", "b"])
    listed = {task["taskId"]: task["status"] for task in claims.json("task", "list").body["tasks"]}
    assert listed == {"a": "todo", "b": "done"}


def test_verify_reports_ok_with_head(claims: Claims) -> None:
    """verify checks every record and reports the head position and hash."""
    _add(claims, "t1")
    claims.json("claim", "t1", "--session", "s1")
    body = claims.json("verify").body
    assert body["success"] is True
    assert body["checked"] == body["headPosition"] == 3
    assert len(body["headHash"]) == 64
