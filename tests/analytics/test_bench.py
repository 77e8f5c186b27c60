"""The analytics benchmark's harness still runs (tiny sizes; no speed is asserted)."""

from __future__ import annotations

from pathlib import Path

from bench.analytics import build_log, goals, measure, table
from ledger.store.sqlite import SqliteStore
from ledger.verify import verify_store


def test_the_benchmark_runs_on_a_tiny_ledger(tmp_path: Path) -> None:
    """A 3,000-record run measures every row, and both sides agreed (or it would stop)."""
    figures = measure(tmp_path, 2_500, increment=500, say=lambda line: None)
    assert (figures.events, figures.increment) == (2_500, 500)
    assert figures.finished_tasks > 0
    assert "payout, per task and worker, streamed" in table(figures)
    assert "feed into DuckDB from empty" in goals(figures)
    assert (figures.walk.records, figures.duck.records) == (2_500, 2_500)
    assert "ceiling of that work on" in goals(figures)


def test_the_benchmark_ledger_verifies(tmp_path: Path) -> None:
    """The records it seals directly form a valid hash chain with gapless versions."""

    path = tmp_path / "ledger.db"
    build_log(path, 1_000)
    store = SqliteStore(path)
    try:
        report = verify_store(store)
    finally:
        store.close()
    assert report.problem is None
    assert report.checked == 1_000
