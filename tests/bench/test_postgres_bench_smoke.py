"""``python -m bench --only postgres --size smoke`` runs and prints every row.

Figures only: this checks that the harness completes against the PostgreSQL test
server, that every contender is there with each writer count, and that every
schema it made is dropped again; never a speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg_server import SERVER, admin

ROOT = Path(__file__).resolve().parents[2]
ROWS = (
    "ledger, PostgreSQL ",
    "ledger, SQLite FULL",
    "eventsourcing, PostgreSQL recorder",
    "ledger, PostgreSQL, synchronous_commit=off",
    "bare psycopg, one-row INSERT, autocommit",
    "SELECT 1 round trip",
)


def _run_bench(module: str, options: list[str]) -> tuple[int, str]:
    """Run ``python -m MODULE OPTIONS`` against the test server; its pid and stdout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMS_")}
    env["CLAIMS_BENCH_POSTGRES"] = SERVER
    with subprocess.Popen(
        [sys.executable, "-m", module, *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as run:
        stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    return run.pid, stdout


def _schemas_left(pid: int) -> list[tuple[object, ...]]:
    """Schemas the run with process id ``pid`` made and did not drop."""
    with admin() as conn:
        return conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
            (f"bench_{pid}_",),
        ).fetchall()


@pytest.mark.slow
def test_postgres_smoke_run_prints_every_row(tmp_path: Path) -> None:
    """The smoke size exits 0, prints every row, writes the figures and drops its schemas."""
    figures = tmp_path / "figures.json"
    options = ["--only", "postgres", "--size", "smoke", "--dir", str(tmp_path)]
    pid, stdout = _run_bench("bench", [*options, "--json", str(figures)])
    assert [row for row in ROWS if row not in stdout] == [], stdout
    rows = json.loads(figures.read_text())["postgres"]["throughput"]
    done = {(row["key"], row["writers"]) for row in rows if row["errors"] == 0}
    for key in ("ledger-postgres", "ledger-sqlite", "eventsourcing-postgres"):
        assert {(key, writers) for writers in (1, 4, 16)} <= done, rows
    assert _schemas_left(pid) == []


@pytest.mark.slow
def test_projections_smoke_run_reads_from_postgres(tmp_path: Path) -> None:
    """``python -m bench.projections --postgres`` adds PostgreSQL to every table and
    drops the schema it loaded."""
    figures = tmp_path / "figures.json"
    options = ["--size", "smoke", "--dir", str(tmp_path), "--json", str(figures), "--postgres"]
    pid, stdout = _run_bench("bench.projections", options)
    assert "read + decode, PostgreSQL store read_all" in stdout, stdout
    data = json.loads(figures.read_text())
    for table in ("rates", "restarts", "memory"):
        assert "postgresql" in {row["backend"] for row in data[table]}, data[table]
    assert _schemas_left(pid) == []


def test_append_plans_smoke_run_prints_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m bench.append_plans`` prints a row per step for both variants, the
    analysed steps last, and leaves no schema behind."""
    from bench import append_plans

    with admin() as conn:
        before = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
    assert append_plans.main(["--steps", "2", "--calls", "2", "--group", "3"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| 6",
        "| 12",
        "| 18 (analysed)",
        "| 24 (analysed)",
    ]
    with admin() as conn:
        after = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
    assert after == before
