"""The write-path benchmark runs at tiny size and prints every section and goal."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.bootstrap import open_ledger
from bench import write_path

pytestmark = pytest.mark.slow


def test_the_in_process_section_prints_rows_and_goals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--only inprocess --size smoke`` completes and names both of its goals."""
    assert write_path.main(["--size", "smoke", "--only", "inprocess"]) == 0
    printed = capsys.readouterr().out
    assert "bare sqlite3, durable one-row insert" in printed
    assert "in-process 16 writers" in printed


@pytest.mark.parametrize("seen", [True, False])
def test_cycles_run_on_tasks_registered_here_or_elsewhere(tmp_path: Path, seen: bool) -> None:
    """Whether the tasks were registered through the measuring ledger or through another
    one closed first, every writer's warm-up and cycles land: each task registered once,
    then claimed, heartbeaten and released."""
    url = f"sqlite://{tmp_path / 'cycles.db'}"
    row = write_path.threaded_cycles(url, "t", 2, 2, seen=seen)
    assert row.cycles_per_s > 0
    ledger = open_ledger(url)
    try:
        types = [record.type for record in ledger.store.read_all()]
    finally:
        ledger.close()
    assert types.count("task_registered") == 6
    for kind in ("claimed", "heartbeat", "released"):
        assert types.count(kind) == 6
