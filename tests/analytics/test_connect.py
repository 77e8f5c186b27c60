"""Opening the analytics file: a creation that fails (a full disk) leaves nothing
behind that could break the next update."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from projections.analytics import connect as connect_module
from projections.analytics.connect import connect


def test_a_failed_creation_removes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When preparing a new file fails, the file it created is gone afterwards."""
    path = tmp_path / "ledger.db.analytics.duckdb"

    def full_disk(con: duckdb.DuckDBPyConnection) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(connect_module, "_prepare", full_disk)
    with pytest.raises(OSError, match="No space left"):
        connect(str(path))
    assert not path.exists()


def test_an_empty_file_is_replaced_by_a_database(tmp_path: Path) -> None:
    """A 0-byte file (left by a creation that failed) opens as a fresh database."""
    path = tmp_path / "ledger.db.analytics.duckdb"
    path.write_bytes(b"")
    con = connect(str(path))
    try:
        assert con.execute("SELECT count(*) FROM checkpoint").fetchone() == (0,)
    finally:
        con.close()
    assert path.stat().st_size > 0


def test_a_failure_on_an_existing_file_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An analytics file that was there before a failed open is left in place."""
    path = tmp_path / "ledger.db.analytics.duckdb"
    connect(str(path)).close()

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(connect_module, "_prepare", broken)
    with pytest.raises(OSError, match="Input/output"):
        connect(str(path))
    assert path.exists()
