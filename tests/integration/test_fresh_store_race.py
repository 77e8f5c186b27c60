"""Sixteen processes open a store file that does not exist yet, all at the same moment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ledger.events import TaskRegistered
from tests.integration.harness import finish, open_gate, read_log, start_worker, verify_url
from tests.integration.workers import RegisterOutcome

WORKERS = 16
TASK = "first-task"

pytestmark = pytest.mark.slow


def test_sixteen_processes_create_one_store_and_register_one_task(
    file_url: str, file_path: Path, barrier: Path, tmp_path: Path
) -> None:
    """Racing to create a new store, all 16 open it, one registers the task, 15 get
    TASK_ALREADY_EXISTS, and the log holds one registration and verifies."""
    assert not file_path.exists()
    names = [f"opener-{n:02d}" for n in range(WORKERS)]
    with (tmp_path / "stderr.log").open("wb") as stderr:
        procs = [
            start_worker(
                ["open-and-register", file_url, TASK, name, str(barrier)],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
            for name in names
        ]
        open_gate(barrier, names, procs)
        outcomes = [finish(proc, RegisterOutcome) for proc in procs]

    assert sum(outcome.registered for outcome in outcomes) == 1
    refused = [outcome.error_code for outcome in outcomes if not outcome.registered]
    assert refused == ["TASK_ALREADY_EXISTS"] * (WORKERS - 1)
    records = read_log(file_url)
    assert [type(record.data) for record in records] == [TaskRegistered]
    assert verify_url(file_url).ok
