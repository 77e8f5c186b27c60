"""No output overwrites the ledger, its side files, its snapshots or its analytics
file: ``export`` (a table or the ledger) and ``--analytics`` refuse such a path with
VALIDATION_ERROR (exit 13), compared by real path and inode, and write nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import Claims


@pytest.fixture
def cli(tmp_path: Path) -> Claims:
    """A SQLite ledger of two tasks, with its analytics file and snapshots in place."""
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    for task in ("a", "b"):
        assert claims.json("task", "add", task, "--title", task).code == 0
    assert claims.json("stats").code == 0
    assert claims.json("projections", "rebuild").code == 0
    return claims


def _refused(cli: Claims, *args: str) -> None:
    """The command exits 13 and the ledger still verifies with both tasks."""
    before = (cli.cwd / "ledger.db").read_bytes()
    result = cli.json(*args)
    assert (result.code, result.body["error"]) == (13, "VALIDATION_ERROR")
    assert "refusing to write" in result.body["message"]
    assert (cli.cwd / "ledger.db").read_bytes() == before
    assert cli.json("verify").body["checked"] == 2


def test_export_csv_onto_the_ledger_is_refused(cli: Claims) -> None:
    """`export events --format csv -o ledger.db` is refused and the ledger kept."""
    _refused(cli, "export", "events", "--format", "csv", "-o", "ledger.db")


def test_export_onto_a_hard_link_of_the_ledger_is_refused(cli: Claims) -> None:
    """A hard link to the ledger is the same inode: refused."""
    os.link(cli.cwd / "ledger.db", cli.cwd / "other.db")
    _refused(cli, "export", "events", "-o", "other.db")


def test_export_onto_a_symlink_of_the_ledger_is_refused(cli: Claims) -> None:
    """A symbolic link to the ledger resolves to it: refused."""
    (cli.cwd / "link.csv").symlink_to(cli.cwd / "ledger.db")
    _refused(cli, "export", "events", "--format", "csv", "-o", "link.csv")


def test_export_onto_the_wal_file_is_refused(cli: Claims) -> None:
    """SQLite's side files belong to the ledger too."""
    _refused(cli, "export", "events", "-o", "ledger.db-wal")


def test_export_onto_the_analytics_file_is_refused(cli: Claims) -> None:
    """The analytics file being read is not a place to write the export."""
    _refused(cli, "export", "events", "-o", "ledger.db.analytics.duckdb")


def test_export_into_the_snapshot_folder_writes_nothing(cli: Claims) -> None:
    """A path inside the snapshot folder is refused, and no file appears there."""
    target = cli.cwd / "ledger.db.projections" / "out.csv"
    _refused(cli, "export", "events", "--format", "csv", "-o", str(target))
    assert not target.exists()


def test_export_ledger_onto_itself_by_another_spelling_is_refused(cli: Claims) -> None:
    """`export ledger -o ./ledger.db` names the source by another path: refused."""
    _refused(cli, "export", "ledger", "-o", f"sqlite://{cli.cwd}/./ledger.db")


def test_analytics_path_of_the_ledger_is_refused(cli: Claims) -> None:
    """`--analytics ledger.db` would write DuckDB pages into the ledger: refused."""
    _refused(cli, "sql", "SELECT 1", "--analytics", "ledger.db")
