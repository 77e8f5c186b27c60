"""A SQLite store's file made ready: WAL journal mode, and the schema's migrations."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from ledger.clock import Clock
from ledger.errors import StoreError
from ledger.store.migrations import MIGRATIONS_TABLE, load_migrations

WAL_WAIT_S = 30
"""How long another process's hold on the file may keep WAL mode from being set."""


def set_wal(db: sqlite3.Connection, path: Path) -> None:
    """Put the file in WAL mode, waiting while another connection holds it."""
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() != "wal":
            raise StoreError(f"SQLite refused WAL mode (got {mode!r}) at {path}")
        return


def migrate(db: sqlite3.Connection, clock: Clock) -> None:
    """Apply the shipped migrations the file lacks, in one transaction."""
    migrations = load_migrations("sqlite")
    if applied(db) >= migrations[-1].version:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = applied(db)
        for migration in migrations:
            if migration.version <= done:
                continue
            for statement in _statements(migration.sql):
                db.execute(statement)
            db.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, clock.now().isoformat()),
            )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def applied(db: sqlite3.Connection) -> int:
    """The last migration applied to the file (0: none)."""
    try:
        row = db.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0] or 0)


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside our DDL strings)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
