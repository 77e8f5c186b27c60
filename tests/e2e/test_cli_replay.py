"""``claims replay``: timelines of a task, a session or the whole log, with state after each."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Claims
from tests.e2e.timeline import at, cli_over_timeline

ENTRY_KEYS = {
    "position",
    "recordedAt",
    "occurredAt",
    "stream",
    "version",
    "type",
    "actor",
    "summary",
    "event",
    "state",
    "after",
}


@pytest.fixture(scope="module", params=["sqlite", "jsonl"])
def claims(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Claims:
    """The CLI over the timeline, written once per backend (replay only reads)."""
    backend: str = request.param
    return cli_over_timeline(backend, tmp_path_factory.mktemp(f"replay-{backend}"))


def _timeline(claims: Claims, *args: str) -> list[dict[str, Any]]:
    result = claims.json("replay", *args)
    assert result.code == 0, result.stderr
    assert result.body["count"] == len(result.body["timeline"])
    entries: list[dict[str, Any]] = result.body["timeline"]
    return entries


def _positions(entries: list[dict[str, Any]]) -> list[int]:
    return [entry["position"] for entry in entries]


def test_whole_log_replays_every_record_in_order(claims: Claims) -> None:
    """Without filters, replay lists every position from 1 to the head."""
    assert _positions(_timeline(claims)) == list(range(1, 11))


def test_json_entry_has_the_documented_shape(claims: Claims) -> None:
    """Each entry carries position, times, stream, version, type, actor, event and state."""
    entry = _timeline(claims)[3]
    assert set(entry) == ENTRY_KEYS
    assert (entry["position"], entry["stream"], entry["version"]) == (4, "task-a", 2)
    assert (entry["type"], entry["actor"]) == ("claimed", "s1")
    assert entry["recordedAt"] == entry["occurredAt"] == "2026-01-01T12:00:00.000Z"
    assert entry["event"]["type"] == "claimed"
    assert entry["event"]["session_id"] == "s1"


def test_task_replay_shows_only_its_stream(claims: Claims) -> None:
    """``--task a`` lists the records of task a's stream and nothing else."""
    entries = _timeline(claims, "--task", "a")
    assert _positions(entries) == [1, 4, 5, 8, 9]
    assert {entry["stream"] for entry in entries} == {"task-a"}


def test_task_replay_shows_the_state_after_each_event(claims: Claims) -> None:
    """Each entry's state is the task after that record: claimed, beaten, released, done."""
    states = [entry["state"] for entry in _timeline(claims, "--task", "a")]
    assert [state["status"] for state in states] == [
        "todo",
        "in_progress",
        "in_progress",
        "todo",
        "done",
    ]
    assert states[2]["claim"]["heartbeatCount"] == 1
    assert states[2]["claim"]["sessionId"] == "s1"
    assert states[3]["claim"] is None


def test_session_replay_shows_what_the_session_did(claims: Claims) -> None:
    """``--session s2`` lists s2's start and its claim, nothing of s1."""
    entries = _timeline(claims, "--session", "s2")
    assert [(entry["position"], entry["type"]) for entry in entries] == [
        (6, "session_started"),
        (7, "claimed"),
    ]


def test_from_and_until_by_position_are_inclusive(claims: Claims) -> None:
    """``--from 4 --until 7`` lists positions 4 to 7."""
    assert _positions(_timeline(claims, "--from", "4", "--until", "7")) == [4, 5, 6, 7]


def test_from_and_until_by_time_select_the_records_written_then(claims: Claims) -> None:
    """``--from 12:01 --until 12:04`` lists the records written in those minutes."""
    entries = _timeline(claims, "--from", at(1), "--until", at(4))
    assert _positions(entries) == [5, 6, 7, 8, 9]


def test_time_window_with_a_task_keeps_the_state_folded_from_the_start(claims: Claims) -> None:
    """A window that starts mid-stream still shows the state folded from the first record."""
    entries = _timeline(claims, "--task", "a", "--from", at(1), "--until", at(2))
    assert _positions(entries) == [5]
    assert entries[0]["state"]["claim"]["claimedAt"] == "2026-01-01T12:00:00.000Z"


def test_human_replay_prints_a_table(claims: Claims) -> None:
    """Without ``--json``, replay prints one table row per record under its headers."""
    result = claims("replay", "--task", "b")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["POS", "RECORDED", "AT", "TYPE"]
    assert [line.split()[0] for line in lines[1:] if line.strip()[:1].isdigit()] == ["2", "7"]


def test_malformed_moment_is_a_usage_error(claims: Claims) -> None:
    """``--from yesterday`` exits 2 naming the accepted forms."""
    result = claims.json("replay", "--from", "yesterday")
    assert result.code == 2
    assert result.body["error"] == "USAGE_ERROR"
