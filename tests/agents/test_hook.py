"""``claims hook`` fed Claude Code's and Codex's payloads, event by event."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import Project
from tests.agents.payloads import claude, codex

Shape = Callable[[str, str, Path], dict[str, Any]]
SHAPES = pytest.mark.parametrize("shape", [claude, codex], ids=["claude", "codex"])


def _beats(project: Project, session: str = "s-1") -> int:
    body = project.json("current-task", session).body
    return int(
        project.json("task", "show", body["currentTask"]["taskId"]).body["claim"]["heartbeatCount"]
    )


@SHAPES
def test_session_start_starts_the_session_and_briefs_the_agent(
    project: Project, shape: Shape
) -> None:
    """SessionStart starts the session and prints what claims next would give it."""
    result = project.hook(shape("SessionStart", "s-1", project.cwd))
    assert result.code == 0
    assert "claims next` would give you t1" in result.stdout
    assert project.json("session", "history", "s-1").body["session"]["active"] is True


@SHAPES
def test_post_tool_use_heartbeats_the_recorded_claim(project: Project, shape: Shape) -> None:
    """After a claim in the working tree, PostToolUse adds one heartbeat."""
    project.json("claim", "t1", "--session", "s-1")
    result = project.hook(shape("PostToolUse", "s-1", project.cwd))
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    assert _beats(project) == 1


@SHAPES
def test_post_tool_use_holding_nothing_writes_nothing(project: Project, shape: Shape) -> None:
    """A session holding nothing: PostToolUse exits 0, silent, and the log is unchanged."""
    before = project.log_types()
    result = project.hook(shape("PostToolUse", "s-1", project.cwd))
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    assert project.log_types() == before


@SHAPES
def test_a_forced_takeover_exits_2_naming_the_holder(project: Project, shape: Shape) -> None:
    """After a forced takeover PostToolUse exits 2 with one line naming the new holder."""
    project.json("claim", "t1", "--session", "s-1")
    project.json("takeover", "t1", "--session", "s-2", "--force", "--reason", "stuck")
    result = project.hook(shape("PostToolUse", "s-1", project.cwd))
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "t1" in result.stderr
    assert "now held by s-2" in result.stderr


@SHAPES
def test_stop_keeps_the_claim_and_counts_as_a_heartbeat(project: Project, shape: Shape) -> None:
    """Stop (end of a turn) heartbeats; the claim stays."""
    project.json("claim", "t1", "--session", "s-1")
    assert project.hook(shape("Stop", "s-1", project.cwd)).code == 0
    assert _beats(project) == 1


def test_session_end_returns_the_task_to_the_backlog(project: Project) -> None:
    """SessionEnd releases the claim (not done), ends the session; t1 is claimable again."""
    project.json("claim", "t1", "--session", "s-1")
    assert project.hook(claude("SessionEnd", "s-1", project.cwd)).code == 0
    assert project.json("task", "show", "t1").body["status"] == "todo"
    assert project.json("session", "history", "s-1").body["session"]["active"] is False
    assert project.json("claim", "t1", "--session", "s-2").code == 0


def test_claims_session_overrides_the_payloads_session(project: Project) -> None:
    """With CLAIMS_SESSION set, the hook acts for that session, not the payload's."""
    project.json("claim", "t1", "--session", "agent-7")
    project.hook(claude("PostToolUse", "uuid-1", project.cwd), CLAIMS_SESSION="agent-7")
    assert _beats(project, "agent-7") == 1


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[]", b'{"hook_event_name": "PostToolUse"}', b'{"session_id": "s-1"}'],
    ids=["empty", "garbage", "array", "no-session", "no-event"],
)
def test_garbage_payloads_change_nothing_and_exit_0(project: Project, raw: bytes) -> None:
    """An empty or malformed payload: exit 0, a notice on stderr, nothing written."""
    project.json("claim", "t1", "--session", "s-1")
    before = project.log_types()
    result = project.hook(None, raw=raw)
    assert (result.code, result.stdout) == (0, "")
    assert result.stderr.startswith("claims hook:")
    assert project.log_types() == before


def test_an_unknown_event_changes_nothing_and_exits_0(project: Project) -> None:
    """An event the hook does not handle is ignored with a notice."""
    project.json("claim", "t1", "--session", "s-1")
    before = project.log_types()
    result = project.hook(claude("UserPromptSubmit", "s-1", project.cwd))
    assert (result.code, result.stdout) == (0, "")
    assert project.log_types() == before


def test_session_end_records_the_transcripts_tokens_on_the_claim(
    project: Project, tmp_path: Path
) -> None:
    """SessionEnd imports the transcript it names: its message's tokens land on t1's claim."""
    project.json("claim", "t1", "--session", "s-1")
    usage = {"input_tokens": 3, "output_tokens": 40, "cache_read_input_tokens": 1000}
    line = {
        "type": "assistant",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "message": {"id": "msg-1", "model": "claude-x", "role": "assistant", "usage": usage},
    }
    transcript = tmp_path / "transcript.jsonl"
    transcript.write_text(json.dumps(line) + "\n")
    payload = {**claude("SessionEnd", "s-1", project.cwd), "transcript_path": str(transcript)}
    assert project.hook(payload).code == 0
    assert project.hook({**payload, "hook_event_name": "Stop"}).code == 0
    used = [e for e in project.json("replay").body["timeline"] if e["type"] == "tokens_used"]
    assert len(used) == 1
    assert used[0]["event"]["task_id"] == "t1"
