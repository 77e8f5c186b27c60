"""The SQLite store's driver errors as the ledger's: a damaged file is ``LOG_CORRUPT``,
any other failure of the driver or the writer lock a ``STORE_ERROR`` naming the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledger.errors import CorruptLog, StoreError
from ledger.store.file_lock import LockTimeout


class DriverErrors:
    """Translate sqlite3 errors into ``StoreError`` at one boundary."""

    def __init__(self, action: str, path: Path) -> None:
        self._action = action
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, sqlite3.Error) and damaged(exc):
            raise damaged_file(self._path, exc) from exc
        if isinstance(exc, (sqlite3.Error, LockTimeout)):
            raise StoreError(f"SQLite {self._action} failed at {self._path}: {exc}") from exc


_MISSING = ("no such table", "no such column")
"""A migrated store that answers these had its tables dropped or altered by hand."""


def damaged(exc: sqlite3.Error) -> bool:
    """The file itself is damaged (not a database, malformed) or its tables were
    dropped or altered: corruption, not a passing failure of the store."""
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).startswith(_MISSING)
    return type(exc) is sqlite3.DatabaseError


def damaged_file(path: Path, exc: sqlite3.Error) -> CorruptLog:
    return CorruptLog(
        f"the SQLite ledger at {path} is damaged ({exc}): its log cannot be read from"
        " position 1; run `claims verify`",
        position=1,
        where=str(path),
    )
