"""``Analytics.export``: whole tables to Parquet or CSV, refused paths named."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ledger.errors import InvalidInput
from projections.analytics import Analytics
from tests.analytics.helpers import fed
from tests.analytics.histories import Step, play


def _analytics() -> Analytics:
    store, _ = play([Step("claim", task="t0", session="s0", ms=60_000)])
    return fed(store)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_export_holds_every_row(tmp_path: Path, fmt: str) -> None:
    """The exported file reads back with as many rows as the table."""
    target = tmp_path / f"events.{fmt}"
    with _analytics() as analytics:
        written = analytics.export("events", target, fmt)  # type: ignore[arg-type]
        expected = analytics.con.execute("SELECT count(*) FROM events").fetchone()
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    with duckdb.connect() as con:
        found = con.execute(f"SELECT count(*) FROM {reader}('{target}')").fetchone()
    assert (written,) == expected == found


def test_an_unknown_table_is_refused(tmp_path: Path) -> None:
    """Only the four analytics tables can be exported."""
    with _analytics() as analytics, pytest.raises(InvalidInput, match="unknown table"):
        analytics.export("meta", tmp_path / "meta.csv", "csv")


def test_a_missing_directory_is_refused_with_its_name(tmp_path: Path) -> None:
    """A path whose directory does not exist is a VALIDATION_ERROR naming it."""
    target = tmp_path / "nowhere" / "events.csv"
    with _analytics() as analytics, pytest.raises(InvalidInput, match="no directory"):
        analytics.export("events", target, "csv")


def test_a_directory_is_not_a_file_to_write(tmp_path: Path) -> None:
    """Exporting onto an existing directory is refused."""
    with _analytics() as analytics, pytest.raises(InvalidInput, match="is a directory"):
        analytics.export("events", tmp_path, "parquet")


def test_a_file_the_system_will_not_create_is_refused() -> None:
    """A path in a directory that takes no new files (/proc) is a VALIDATION_ERROR
    naming the path, even for a user who may write anywhere else."""
    target = Path("/proc/claims-export.csv")
    with _analytics() as analytics, pytest.raises(InvalidInput, match="cannot write /proc"):
        analytics.export("events", target, "csv")


def test_the_cli_offers_every_analytics_table_for_export() -> None:
    """``claims export TABLE`` lists the tables without importing DuckDB; the list is
    the schema's."""
    from cli.commands.analytics import TABLE_NAMES
    from projections.analytics.schema import TABLES

    assert TABLE_NAMES == TABLES
