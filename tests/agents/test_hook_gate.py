"""The hook's gate: a PostToolUse with nothing due ends before the ledger is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.hook_gate import settled
from cli.work_tree import beat_stamp, record_path
from tests.agents.conftest import Project
from tests.agents.payloads import claude

RECORD = {"sessionId": "s-1", "taskId": "t1", "fencingToken": 2, "store": "sqlite:///x.db"}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A working tree with a git directory and its claims folder."""
    (tmp_path / ".git" / "claims").mkdir(parents=True)
    return tmp_path


def _post(tree: Path, event: str = "PostToolUse") -> bytes:
    return json.dumps(claude(event, "s-1", tree)).encode()


def _record(tree: Path, **extra: object) -> None:
    record_path(tree / ".git" / "claims", "s-1").write_text(json.dumps({**RECORD, **extra}))


def test_holding_nothing_is_settled(tree: Path) -> None:
    """No record in the working tree: nothing to heartbeat."""
    assert settled(_post(tree), {})


def test_a_held_claim_without_a_beat_is_not_settled(tree: Path) -> None:
    """A recorded claim the hook never heartbeated goes to the full hook."""
    _record(tree)
    assert not settled(_post(tree), {})


def test_a_recent_beat_is_settled_until_the_interval_passes(tree: Path) -> None:
    """A heartbeat newer than the interval settles it; an older one does not."""
    _record(tree)
    stamp = beat_stamp(tree / ".git" / "claims", "s-1")
    stamp.touch()
    assert settled(_post(tree), {})
    old = time.time() - 20
    os.utime(stamp, (old, old))
    assert not settled(_post(tree), {})
    assert settled(_post(tree), {"CLAIMS_HOOK_INTERVAL": "60000"})


def test_interval_zero_heartbeats_every_call(tree: Path) -> None:
    """CLAIMS_HOOK_INTERVAL=0: every PostToolUse goes to the full hook."""
    _record(tree)
    beat_stamp(tree / ".git" / "claims", "s-1").touch()
    assert not settled(_post(tree), {"CLAIMS_HOOK_INTERVAL": "0"})


def test_a_loss_already_told_is_settled(tree: Path) -> None:
    """Once the loss was told, PostToolUse stays quiet (the guard keeps refusing)."""
    _record(tree, lost="NOT_CLAIM_OWNER")
    assert settled(_post(tree), {})


@pytest.mark.parametrize("event", ["Stop", "SessionStart", "SessionEnd", "Other"])
def test_other_events_always_go_to_the_full_hook(tree: Path, event: str) -> None:
    """Only PostToolUse is ever settled by the gate."""
    assert not settled(_post(tree, event), {})


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"hook_event_name": "PostToolUse"}'])
def test_garbage_goes_to_the_full_hook(raw: bytes) -> None:
    """What the gate cannot read is the full hook's to refuse, with its notice."""
    assert not settled(raw, {})


def test_the_gate_imports_no_ledger_and_no_msgspec(tree: Path) -> None:
    """A settled PostToolUse imports neither msgspec nor any ledger module."""
    probe = (
        "import sys; from cli.hook_gate import settled;"
        f" assert settled({_post(tree)!r}, {{}});"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('msgspec', 'ledger', 'application', 'projections', 'click')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_two_quick_tool_calls_make_one_heartbeat(project: Project) -> None:
    """Within the interval the second PostToolUse writes nothing; with 0 it heartbeats."""
    project.json("claim", "t1", "--session", "s-1")
    payload = claude("PostToolUse", "s-1", project.cwd)
    assert project.hook(payload).code == 0
    before = project.log_types()
    assert project.hook(payload).code == 0
    assert project.log_types() == before
    assert project.hook(payload, CLAIMS_HOOK_INTERVAL="0").code == 0
    assert project.log_types() == [*before, "heartbeat"]
