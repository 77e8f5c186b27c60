"""``claims run TASK -- CMD``: hold a claim exactly while a command runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.e2e.conftest import Claims


def test_run_passes_claim_to_child_and_releases_completed(claims: Claims, tmp_path: Path) -> None:
    """The child sees its task, session and fencing token; exit 0 releases completed."""
    claims.json("task", "add", "t1", "--title", "t1")
    out = tmp_path / "env.txt"
    script = (
        "import os,sys; open(sys.argv[1],'w').write("
        "os.environ['CLAIMS_TASK']+' '+os.environ['CLAIMS_SESSION']+' '"
        "+os.environ['CLAIMS_FENCING_TOKEN'])"
    )
    result = claims(
        "run", "t1", "--session", "r1", "--json", "--", sys.executable, "-c", script, str(out)
    )
    assert result.code == 0
    assert out.read_text() == "t1 r1 2"
    assert result.body["released"]["reason"] == "completed"
    assert claims.json("task", "show", "t1").body["status"] == "done"


def test_run_exits_with_child_code_and_releases_failed(claims: Claims) -> None:
    """A failing child's exit code is run's exit code; the claim is released as failed."""
    claims.json("task", "add", "t1", "--title", "t1")
    result = claims("run", "t1", "--session", "r1", "--json", "--", sys.executable, "-c", "exit(7)")
    assert result.code == 7
    assert result.body["released"]["reason"] == "failed"
    assert claims.json("task", "show", "t1").body["status"] == "todo"


def test_run_refuses_a_held_task_without_starting_child(claims: Claims, tmp_path: Path) -> None:
    """If the claim is refused the command never starts and run exits 3."""
    claims.json("task", "add", "t1", "--title", "t1")
    claims.json("claim", "t1", "--session", "other")
    marker = tmp_path / "ran"
    result = claims.json(
        "run",
        "t1",
        "--session",
        "r1",
        "--",
        sys.executable,
        "-c",
        f"open({str(marker)!r},'w')",
    )
    assert result.code == 3
    assert not marker.exists()


def test_run_stops_child_when_lease_is_taken_over(claims: Claims) -> None:
    """A forced takeover ends the child at the next heartbeat; run exits NOT_CLAIM_OWNER."""
    import subprocess

    claims.json("task", "add", "t1", "--title", "t1")
    runner = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("claims")),
            "run",
            "t1",
            "--session",
            "r1",
            "--beat",
            "200ms",
            "--json",
            "--",
            sys.executable,
            "-c",
            "import time; time.sleep(60)",
        ],
        cwd=claims.cwd,
        env=claims.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while claims.json("in-flight").body["summary"]["total"] == 0:
        assert time.monotonic() < deadline, "run never claimed the task"
        time.sleep(0.1)
    taken = claims.json("takeover", "t1", "--session", "boss", "--force", "--reason", "reassigned")
    assert taken.code == 0
    out, _ = runner.communicate(timeout=30)
    assert runner.returncode == 8
    assert '"NOT_CLAIM_OWNER"' in out


def test_run_of_missing_command_exits_127(claims: Claims) -> None:
    """A command that cannot start exits 127 and releases the claim as failed."""
    claims.json("task", "add", "t1", "--title", "t1")
    result = claims("run", "t1", "--session", "r1", "--json", "--", "no-such-command-here")
    assert result.code == 127
    assert result.body["released"]["reason"] == "failed"


def test_run_leaves_no_process_registered_after_it_ends(claims: Claims) -> None:
    """When run ends, the session keeps no pid, so later claims are never orphaned by it."""
    claims.json("task", "add", "t1", "--title", "t1")
    claims.json("task", "add", "t2", "--title", "t2")
    claims("run", "t1", "--session", "r1", "--json", "--", sys.executable, "-c", "pass")
    claims.json("claim", "t2", "--session", "r1")
    swept = claims.json("sweep").body
    timeline = claims.json("replay", "--session", "r1").body["timeline"]
    starts = [entry["event"]["pid"] for entry in timeline if entry["type"] == "session_started"]
    assert starts[-1] is None
    assert swept["orphaned"] == []


def test_second_run_in_the_same_session_works(claims: Claims) -> None:
    """Two runs one after the other in one session both complete."""
    claims.json("task", "add", "t1", "--title", "t1")
    claims.json("task", "add", "t2", "--title", "t2")
    first = claims("run", "t1", "--session", "r1", "--json", "--", sys.executable, "-c", "pass")
    claims.json("sweep")
    second = claims("run", "t2", "--session", "r1", "--json", "--", sys.executable, "-c", "pass")
    assert (first.code, second.code) == (0, 0)
    assert second.body["released"]["reason"] == "completed"
