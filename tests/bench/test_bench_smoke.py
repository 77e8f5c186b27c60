"""``python -m bench --size smoke`` runs every section and prints every row.

Benchmarks print figures and never assert speed: this checks only that the
harness completes and that each row of the report is there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = (
    "ledger, SQLite FULL",
    "ledger, JSONL (fsync)",
    "bare sqlite3, plain table, FULL",
    "bare sqlite3, events table, FULL",
    "bare JSONL, flock+write+fsync",
    "eventsourcing, SQLite recorder",
    "eventsourcing, aggregate cache on",
    "ledger, memory store (no I/O)",
    "ledger, SQLite NORMAL",
    "bare sqlite3, plain table, NORMAL",
    "COMMIT: WAL frames written, then fdatasync at FULL",
    "the service in Python (fold, rules, ids, results)",
    "total (wall clock)",
    "claim+release, a fresh task (10-record stream)",
    "claim+release, hot task, warm service",
    "claim+release, hot task, fresh service",
    "claim+release, fresh process, new task",
    "claim+release, fresh process, hot task",
    "claim+release, fresh process, hot task, no snapshot",
    "claims heartbeat, fresh process, new task",
    "claims heartbeat, fresh process, hot task",
    "claims heartbeat, fresh process, hot task / new task:",
    "python -c pass",
    'python -c "import application.service"',
    "library heartbeat, fresh process",
    "claims heartbeat (CLI)",
    "1 writer(s): ledger SQLite FULL",
    "4 writer(s): ledger SQLite FULL",
)


@pytest.mark.slow
def test_smoke_run_prints_every_row(tmp_path: Path) -> None:
    """The smoke size completes with exit 0 and prints every contender, case and target."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMS_")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "smoke", "--dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    missing = [row for row in ROWS if row not in done.stdout]
    assert missing == [], done.stdout
