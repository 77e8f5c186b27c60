"""Bad input through the CLI: its code, its exit status, and the log unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Claims


def _head(claims: Claims) -> int:
    position = claims.json("verify").body["headPosition"]
    assert isinstance(position, int)
    return position


@pytest.fixture
def held(claims: Claims) -> Claims:
    """Task t1 claimed by s1, task free registered, task done completed."""
    steps = [["task", "add", task, "--title", task] for task in ("t1", "free", "done")]
    steps += [
        ["claim", "t1", "--session", "s1"],
        ["claim", "done", "--session", "s1"],
        ["release", "done", "--session", "s1", "--reason", "completed"],
    ]
    for step in steps:
        done = claims.json(*step)
        assert done.code == 0, (step, done.stdout, done.stderr)
    return claims


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["claim", "nope", "--session", "s1"], 4, "TASK_NOT_FOUND"),
        (["heartbeat", "t1", "--session", "ghost"], 5, "SESSION_NOT_FOUND"),
        (["release", "free", "--session", "s1"], 6, "TASK_NOT_CLAIMED"),
        (["claim", "done", "--session", "s2"], 7, "TASK_NOT_CLAIMABLE"),
        (["release", "t1", "--session", "done-agent"], 5, "SESSION_NOT_FOUND"),
        (["claim", "t1", "--session", "s2", "--ttl", "5s"], 14, "INVALID_TTL"),
        (["claim", "t1", "--session", "s2", "--ttl", "3h"], 14, "INVALID_TTL"),
        (["claim", "free", "--session", "s2", "--metadata", "[1]"], 13, "VALIDATION_ERROR"),
        (["claim", "bad id", "--session", "s2"], 13, "VALIDATION_ERROR"),
        (["heartbeat", "t1", "--session", "s1", "--token", "1"], 10, "STALE_FENCING_TOKEN"),
        (["task", "add", "t1", "--title", "again"], 11, "TASK_ALREADY_EXISTS"),
        (["current-task", "ghost"], 5, "SESSION_NOT_FOUND"),
    ],
)
def test_error_code_exit_status_and_unchanged_log(
    held: Claims, args: list[str], code: int, error: str
) -> None:
    """Each refusal prints one JSON error body, exits with its code, writes nothing."""
    before = _head(held)
    result = held.json(*args)
    assert (result.code, result.body["success"], result.body["error"]) == (code, False, error)
    assert _head(held) == before


def test_non_owner_heartbeat_is_not_claim_owner(held: Claims) -> None:
    """A known session that does not hold the claim gets NOT_CLAIM_OWNER (exit 8)."""
    held.json("task", "add", "other", "--title", "other")
    held.json("claim", "other", "--session", "s2")
    result = held.json("heartbeat", "t1", "--session", "s2")
    assert (result.code, result.body["error"]) == (8, "NOT_CLAIM_OWNER")


def test_expired_claim_refuses_heartbeat(held: Claims) -> None:
    """After its TTL a heartbeat is CLAIM_EXPIRED (exit 9) and nothing is written."""
    short = {"CLAIMS_MIN_TTL": "100"}
    held.json("claim", "free", "--session", "s2", "--ttl", "150ms", env=short)
    before = _head(held)
    import time

    time.sleep(0.3)
    result = held.json("heartbeat", "free", "--session", "s2", env=short)
    assert (result.code, result.body["error"]) == (9, "CLAIM_EXPIRED")
    assert _head(held) == before


def test_missing_session_is_a_usage_error(held: Claims) -> None:
    """Without --session or CLAIMS_SESSION a claim is a usage error: exit 2."""
    result = held("claim", "free")
    assert result.code == 2
    assert "CLAIMS_SESSION" in result.stderr


def test_bad_duration_is_a_usage_error(held: Claims) -> None:
    """A duration that does not parse is a usage error naming the accepted forms."""
    result = held("claim", "free", "--session", "s1", "--ttl", "soon")
    assert result.code == 2
    assert "90s" in result.stderr


def test_malformed_tasks_json_writes_nothing(held: Claims, tmp_path: Path) -> None:
    """A tasks.json with one bad task is refused whole, naming where it is wrong."""
    path = tmp_path / "bad.json"
    path.write_text('{"tasks": [{"id": "ok", "title": "fine"}, {"id": "x"}]}')
    before = _head(held)
    result = held.json("task", "import", str(path))
    assert (result.code, result.body["error"]) == (13, "VALIDATION_ERROR")
    assert "tasks[1]" in result.body["message"]
    assert _head(held) == before


def test_invalid_json_file_is_refused(held: Claims, tmp_path: Path) -> None:
    """A file that is not JSON is a VALIDATION_ERROR, not a traceback."""
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    result = held.json("task", "import", str(path))
    assert (result.code, result.body["error"]) == (13, "VALIDATION_ERROR")
    assert "Traceback" not in result.stderr


def test_unknown_store_scheme_is_reported(tmp_path: Path) -> None:
    """An unsupported store URL exits 24 with INVALID_STORE_URL."""
    cli = Claims(tmp_path, "mysql://nowhere/db")
    result = cli.json("in-flight")
    assert (result.code, result.body["error"]) == (24, "INVALID_STORE_URL")
