"""Opening the analytics DuckDB file: one writer at a time, UTC, the schema in place.

DuckDB lets one process open a database file for writing; another process waits
here (up to ``wait_s``) rather than failing at once. Every connection works in UTC,
so days and printed times are UTC days and times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import duckdb

from ledger.errors import StoreError
from projections.analytics.schema import DDL, SCHEMA_VERSION, TABLES

MEMORY: Final = ":memory:"
ANALYTICS_SUFFIX: Final = ".analytics.duckdb"
WAIT_S: Final = 30.0
ISO_MACRO = "CREATE OR REPLACE TEMP MACRO iso(ts) AS strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')"
"""Times as every JSON body shows them: RFC 3339, UTC, milliseconds."""


def default_path(store_path: str | None) -> str:
    """The analytics file beside a ledger file (``<ledger>.analytics.duckdb``), or an
    in-memory database when the ledger has no file."""
    if not store_path:
        return MEMORY
    return str(Path(store_path)) + ANALYTICS_SUFFIX


def connect(path: str, *, wait_s: float = WAIT_S) -> duckdb.DuckDBPyConnection:
    """A read-write connection with the current schema (an outdated one is dropped:
    the feeder refills it from the ledger)."""
    created = path != MEMORY and _fresh(Path(path))
    try:
        con = _retrying(lambda: duckdb.connect(path), path, wait_s)
    except BaseException:
        _forget(path, created)
        raise
    try:
        _session(con)
        _prepare(con)
    except BaseException:
        con.close()
        _forget(path, created)
        raise
    return con


def second_connection(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to ``con``'s database, set up as ``connect`` sets one up (UTC,
    the ``iso`` macro), for another thread: its transactions are its own."""
    other = con.cursor()
    _session(other)
    return other


def _session(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(ISO_MACRO)


def _fresh(path: Path) -> bool:
    """Whether this connection creates the file. An empty file is what a creation
    that failed (a full disk) leaves: it holds no database, and is removed first so
    that it cannot break every later update."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size == 0:
        path.unlink()
        Path(f"{path}.wal").unlink(missing_ok=True)
    return not path.exists()


def _forget(path: str, created: bool) -> None:
    """Remove what a failed creation of the analytics file left behind."""
    if created:
        for leftover in (Path(path), Path(f"{path}.wal")):
            leftover.unlink(missing_ok=True)


def connect_read_only(path: str, *, wait_s: float = WAIT_S) -> duckdb.DuckDBPyConnection:
    """A connection that can neither write the database nor touch any other file,
    and cannot change those settings back."""
    config: dict[str, str | bool | int | float | list[str]] = {"enable_external_access": False}
    con = _retrying(lambda: duckdb.connect(path, read_only=True, config=config), path, wait_s)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(ISO_MACRO)
    con.execute("SET lock_configuration = true")
    return con


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every analytics table and create them again, empty."""
    for table in (*TABLES, "meta", "checkpoint"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    _create(con)


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        _create(con)
        return
    if row is None or row[0] != str(SCHEMA_VERSION):
        reset(con)


def _create(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)
    con.execute("DELETE FROM meta")
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _retrying(
    opener: Callable[[], duckdb.DuckDBPyConnection], path: str, wait_s: float
) -> duckdb.DuckDBPyConnection:
    """Open, retrying while another process holds the file's lock."""
    deadline = time.monotonic() + wait_s
    pause = 0.01
    while True:
        try:
            return opener()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise StoreError(f"cannot open the analytics store {path}: {exc}") from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
