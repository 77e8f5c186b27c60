"""``python -m bench.http_api --size smoke`` completes and reports every row.

It prints figures and never asserts a speed: this checks only the harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_http_bench_smoke_reports_every_row(tmp_path: Path) -> None:
    """API and library rows at 1, 8 and 32 clients and both durabilities, paced and SSE."""
    out = tmp_path / "http.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.http_api", "--size", "smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    rows = {(row["path"], row["clients"]) for row in figures["rows"]}
    expected = {
        (f"{path}, {mode}", n)
        for path in ("HTTP", "library")
        for mode in ("FULL", "NORMAL")
        for n in (1, 8, 32)
    }
    assert rows == expected
    assert figures["paced"]["cycles"] > 0
    assert figures["sse"]["deliveries"] == figures["sse"]["clients"] * figures["sse"]["events"]
    assert "SSE: " in done.stdout
