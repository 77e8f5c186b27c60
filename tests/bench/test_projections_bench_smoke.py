"""``python -m bench.projections --size smoke`` runs and prints every row.

Figures only: this checks that the harness completes, that every contender, restart,
memory and breakdown row is there, and that the JSON file holds the same figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = (
    "bare decode loop (floor)",
    "checked read (walk, every check, no fold)",
    "ceiling on",
    "ledger rebuild, four projections",
    "eventsourcing read into domain events",
    "restart at the head",
    "open with the index",
    "peak RSS MB",
    "fold: Board.apply, all four (with dispatch)",
)


@pytest.mark.slow
def test_projections_smoke_run_prints_every_row(tmp_path: Path) -> None:
    """The smoke size exits 0, prints every row and writes the figures as JSON."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMS_")}
    figures = tmp_path / "figures.json"
    options = ["--size", "smoke", "--dir", str(tmp_path), "--json", str(figures)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.projections", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [row for row in ROWS if row not in done.stdout] == [], done.stdout
    assert len(json.loads(figures.read_text())["rates"]) == 7
