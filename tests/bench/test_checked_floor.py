"""The floor under a rebuild and a feed (``bench.checked_floor``): what it counts and
how its ceiling is reckoned. No speed is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.analytics import build_log
from bench.checked_floor import Floor, ceiling, checked_read, duckdb_events, goal_rows
from ledger.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    build_log(tmp_path / "ledger.db", 1_200)
    return SqliteStore(tmp_path / "ledger.db")


def test_the_checked_read_walks_every_record_up_to_the_limit(store: SqliteStore) -> None:
    assert checked_read(store).records == 1_200
    assert checked_read(store, until=700).records == 700


def test_duckdb_stores_every_record_of_the_walk(store: SqliteStore) -> None:
    floor = duckdb_events(store, until=1_000)
    assert floor.records == 1_000
    assert floor.wall_s > 0


def test_the_ceiling_shares_the_summed_cpu_over_the_cores() -> None:
    walk = Floor("walk", 1_000, wall_s=1.0, cpu_s=0.004)  # 4 us a record
    duck = Floor("duck", 1_000, wall_s=1.0, cpu_s=0.001)  # 1 us a record
    assert ceiling(2, walk, duck) == pytest.approx(400_000)
    assert ceiling(1, walk) == pytest.approx(250_000)
    assert ceiling(2) == 0.0


def test_a_goal_beyond_the_ceiling_is_said_so() -> None:
    walk = Floor("walk", 1_000, wall_s=0.002, cpu_s=0.004)
    rows = goal_rows(300_000, 2, walk)
    assert rows[0].startswith("| walk | 500,000 events/s (4.00 CPU us a record)")
    assert rows[0].endswith("| 1.67 | goal within it |")
    assert rows[-1] == (
        "| ceiling of that work on 2 cores | 500,000 events/s | 300,000 events/s | 1.67"
        " | goal within it |"
    )
    assert goal_rows(600_000, 2, walk)[-1].endswith("| 0.83 | goal beyond it |")
