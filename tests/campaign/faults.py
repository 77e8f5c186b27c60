"""The faults the campaign injects, and how they are injected inside an agent process.

Process faults (``kill-*``) are the orchestrator's: it sends SIGKILL. The others are
armed by an agent before one operation, from its seeded plan, and fire at most once.
An append fault whose operation wrote nothing (a claim refused before the store) stays
armed over the writer's next operations until one writes, so every one planned fires
(about three in five found no write, and a run could end with a kind never fired):

- ``io-error-append`` / ``disk-full-append``: the store's next write or commit fails
  with EIO / ENOSPC. How depends on the backend (``tests.campaign.backends``): JSONL's
  ``os.write`` / ``os.fsync`` on the log's descriptor (a disk-full write first writes
  part of the batch, as a real one does), SQLite's connection answering the commit
  with the driver's "disk I/O error" / "database or disk is full".
- ``io-error-snapshot``: the ``fsync`` of a projection snapshot being saved fails (EIO).
- ``disk-full-snapshot``: the kernel's file-size limit (``RLIMIT_FSIZE``) is lowered
  below the snapshot's size while it is written, so ``write(2)`` itself fails (EFBIG).
- ``clock-skew`` / ``clock-jump``: writers' clocks differ by seconds to minutes, and
  one steps back (``tests.campaign.clocks``). On the embedded stores, where the host's
  clock decides (held to the log's head).
- ``faketime-ahead`` / ``faketime-behind`` (PostgreSQL, the orchestrator's): a writer or
  the sweeper runs under libfaketime (``faketime -f +1h`` / ``-10m``), its whole process
  an hour ahead or ten minutes behind; the server's clock must decide regardless.
- ``pg-restart`` / ``pg-kill-connections`` (PostgreSQL, the orchestrator's): the server
  is restarted (fast shutdown: every connection cut, in-flight transactions rolled
  back), or every backend of the campaign is ended with ``pg_terminate_backend``.
  On PostgreSQL the append faults are the server's own errors: the insert went in,
  then the transaction fails with ``DiskFull`` / ``IoError`` before ``COMMIT``.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

FaultKind = Literal[
    "kill-writer",
    "kill-sweeper",
    "kill-server",
    "io-error-append",
    "disk-full-append",
    "io-error-snapshot",
    "disk-full-snapshot",
    "clock-skew",
    "clock-jump",
    "pg-restart",
    "pg-kill-connections",
    "faketime-ahead",
    "faketime-behind",
]
PROCESS_FAULTS: tuple[FaultKind, ...] = ("kill-writer", "kill-sweeper", "kill-server")
APPEND_FAULTS: tuple[FaultKind, ...] = ("io-error-append", "disk-full-append")
SNAPSHOT_FAULTS: tuple[FaultKind, ...] = ("io-error-snapshot", "disk-full-snapshot")
CLOCK_FAULTS: tuple[FaultKind, ...] = ("clock-skew", "clock-jump")
SERVER_FAULTS: tuple[FaultKind, ...] = ("pg-restart", "pg-kill-connections")
FAKETIME_FAULTS: tuple[FaultKind, ...] = ("faketime-ahead", "faketime-behind")
FAKETIME_OFFSETS: dict[FaultKind, str] = {"faketime-ahead": "+1h", "faketime-behind": "-10m"}
"""``faketime -f`` offsets: an hour ahead, ten minutes behind (issue 13)."""
SNAPSHOT_FOLDER_MARK = ".projections"
"""Snapshot files live in ``<ledger>.projections/`` (``projections.runner``)."""


class Injector:
    """One agent's armed fault: set before an operation, fired at most once in it."""

    def __init__(self) -> None:
        self.armed: FaultKind | None = None
        self.fired: list[FaultKind] = []

    def arm(self, kind: FaultKind | None) -> None:
        self.armed = kind
        self.fired = []

    def take(self, kind: FaultKind) -> bool:
        """True (once) when ``kind`` is armed: the caller fails this I/O now."""
        if self.armed != kind:
            return False
        self.armed = None
        self.fired.append(kind)
        return True


# --- append faults, per backend -------------------------------------------------------


def install_jsonl_faults(store: Any, injector: Injector) -> None:
    """Fail the JSONL store's own ``write``/``fsync`` calls when armed (other files pass)."""
    real_write = os.write
    real_fsync = os.fsync
    log_fd: int = store._fd

    def write(fd: int, data: Any) -> int:
        if fd == log_fd and injector.take("disk-full-append"):
            part = bytes(data)[: max(1, len(data) // 2)]
            real_write(fd, part)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if fd == log_fd and injector.take("io-error-append"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_write(fd, data)

    def fsync(fd: Any) -> None:
        if fd == log_fd and injector.take("io-error-append"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    os.write = write
    os.fsync = fsync


class FaultyConnection:
    """A ``sqlite3.Connection`` whose commit fails when armed, as the driver reports a
    failed write of the journal: "disk I/O error" or "database or disk is full". A commit
    is a ``COMMIT``, or an insert outside a transaction (the guarded append, ADR 0016),
    which commits itself."""

    def __init__(self, connection: sqlite3.Connection, injector: Injector) -> None:
        self._connection = connection
        self._injector = injector

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        if sql == "COMMIT" or (
            sql.startswith("INSERT INTO events") and not self._connection.in_transaction
        ):
            if self._injector.take("io-error-append"):
                raise sqlite3.OperationalError("disk I/O error")
            if self._injector.take("disk-full-append"):
                raise sqlite3.OperationalError("database or disk is full")
        return self._connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self._connection.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    def close(self) -> None:
        self._connection.close()


def install_sqlite_faults(store: Any, injector: Injector) -> None:
    """Put the SQLite store's connection behind ``FaultyConnection``."""
    store._db = FaultyConnection(store._db, injector)


def install_postgres_faults(store: Any, injector: Injector) -> None:
    """Fail a PostgreSQL append's statement after its rows are inserted (by the append
    function), before it commits, as the server does when its disk is full or a write
    fails: the store reports ``STORE_ERROR`` and the group's transaction stores nothing."""
    import psycopg.errors

    from ledger.store.postgres import PostgresStore

    real_execute = PostgresStore._execute_append

    def execute(conn: Any, arguments: Any) -> list[tuple[Any, ...]]:
        with conn.transaction():  # the statement's own transaction, rolled back by a failure
            rows = real_execute(conn, arguments)
            if injector.take("disk-full-append"):
                raise psycopg.errors.DiskFull("could not extend file: No space left on device")
            if injector.take("io-error-append"):
                raise psycopg.errors.IoError("could not write to file: Input/output error")
            return rows

    PostgresStore._execute_append = staticmethod(execute)  # type: ignore[method-assign]


# --- snapshot faults, the same on every backend -----------------------------------------


def install_snapshot_faults(injector: Injector) -> None:
    """Fail the ``fsync`` of a snapshot file when ``io-error-snapshot`` is armed."""
    real_fsync = os.fsync

    def fsync(fd: Any) -> None:
        if _is_snapshot(fd) and injector.take("io-error-snapshot"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    os.fsync = fsync


@contextmanager
def file_size_limit(injector: Injector, limit_bytes: int = 64) -> Iterator[None]:
    """While armed with ``disk-full-snapshot``, no file may grow past ``limit_bytes``
    (a snapshot header alone is longer): the kernel fails the write with EFBIG."""
    if injector.armed != "disk-full-snapshot":
        yield
        return
    injector.take("disk-full-snapshot")
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def _is_snapshot(fd: Any) -> bool:
    try:
        return SNAPSHOT_FOLDER_MARK in os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return False


AppendFaultInstaller = Callable[[Any, Injector], None]
