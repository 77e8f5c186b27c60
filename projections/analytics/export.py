"""``claims export``: a whole analytics table to a Parquet or CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

import duckdb

from ledger.errors import InvalidInput
from projections.analytics.schema import ORDER_BY, TABLES

Format = Literal["parquet", "csv"]
FORMATS: Final = ("parquet", "csv")


def export(con: duckdb.DuckDBPyConnection, table: str, path: Path, fmt: Format) -> int:
    """Write ``table`` to ``path`` in a stable row order; returns the rows written.
    An unknown table or a path that cannot be written is ``InvalidInput``."""
    if table not in TABLES:
        raise InvalidInput(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; choose parquet or csv")
    target = path.expanduser().absolute()
    _check_writable(target)
    quoted = str(target).replace("'", "''")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    try:
        con.execute(
            f"COPY (SELECT * FROM {table} ORDER BY {ORDER_BY[table]}) TO '{quoted}' ({options})"
        )
    except duckdb.Error as exc:
        raise InvalidInput(f"cannot write {target}: {exc}", path=str(target)) from exc
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _check_writable(target: Path) -> None:
    """Refuse early, with the reason, what the database would refuse obscurely."""
    folder = target.parent
    if target.is_dir():
        raise InvalidInput(f"cannot write {target}: it is a directory", path=str(target))
    if not folder.is_dir():
        raise InvalidInput(f"cannot write {target}: no directory {folder}", path=str(target))
