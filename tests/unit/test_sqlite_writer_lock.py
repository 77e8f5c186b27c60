"""SQLite writers take their turn through ``<file>-writer.lock``: a writer waits while
another process holds it, and past the busy timeout gets a clear error and stores nothing."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from ledger.errors import StoreError
from ledger.store.protocol import NO_STREAM
from ledger.store.sqlite import SqliteStore
from tests.conformance.helpers import notes


def _hold(path: Path) -> int:
    """Take the writer lock as another process's writer would."""
    fd = os.open(path.with_name(f"{path.name}-writer.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_an_append_waits_for_the_writer_lock_and_goes_on_when_it_is_free(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    store = SqliteStore(path)
    try:
        fd = _hold(path)
        released = threading.Event()

        def release() -> None:
            released.set()
            os.close(fd)

        timer = threading.Timer(0.2, release)
        timer.start()
        records = store.append("task-a", notes(1), expected_version=NO_STREAM)
        assert released.is_set()  # it went on only once the other writer let go
        assert [record.position for record in records] == [1]
        timer.join()
    finally:
        store.close()


def test_an_append_past_the_busy_timeout_is_a_store_error_and_stores_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    store = SqliteStore(path, busy_timeout_ms=100)
    fd = _hold(path)
    try:
        with pytest.raises(StoreError, match=r"SQLite append failed at .*held for more than"):
            store.append("task-a", notes(1), expected_version=NO_STREAM)
    finally:
        os.close(fd)
    try:
        assert store.head().position == 0
        assert store.append("task-a", notes(1), expected_version=NO_STREAM)[0].position == 1
    finally:
        store.close()


def test_a_store_in_a_read_only_folder_still_writes_through_sqlite_alone(
    tmp_path: Path,
) -> None:
    """No lock file can be made: SQLite's busy handler alone orders the writers."""
    path = tmp_path / "ledger.db"
    SqliteStore(path).close()
    lock = path.with_name(f"{path.name}-writer.lock")
    lock.mkdir()  # a folder where the lock file would be: it cannot be opened as a file
    store = SqliteStore(path)
    try:
        assert store.append("task-a", notes(1), expected_version=NO_STREAM)[0].position == 1
    finally:
        store.close()
