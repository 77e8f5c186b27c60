"""The SQLite head answered from the WAL-index header while nothing has committed.

``SqliteStore.head`` runs no statement while the header is the one it last saw the
head with (``ledger.store.sqlite_wal_index``). These tests hold it to the head as a
query reads it after every kind of write: its own, another handle's on the same file,
another process's, a writer that is not the ledger at all, a checkpoint; and show
that the shortcut is taken when nothing changed.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.clock import FrozenClock
from ledger.store.batch import EMPTY_HEAD
from ledger.store.protocol import ANY, Head
from ledger.store.rows import head_of
from ledger.store.sqlite import SqliteStore
from ledger.store.sqlite_sql import HEAD_ONLY
from ledger.store.sqlite_wal_index import WalIndex, commits_between
from tests.conformance.helpers import notes
from tests.conftest import START


def _queried(path: Path) -> Head:
    """The head as a fresh connection's query reads it."""
    with sqlite3.connect(path) as db:
        row = db.execute(HEAD_ONLY).fetchone()
    return EMPTY_HEAD if row is None else head_of(*row)


class _NoReads:
    """Stands in for the reader connection: any statement fails the test."""

    def execute(self, *_: object) -> object:
        raise AssertionError("head() ran a statement")


DMS_BYTE = 128
"""The byte of the ``-shm`` file on which every SQLite connection in WAL mode holds a
shared lock (SQLite's unix VFS: ``UNIX_SHM_DMS``); a process that can lock it
exclusively takes itself for the file's first user and truncates the file."""

_PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "try:\n"
    "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(sys.argv[2]))\n"
    "except OSError:\n"
    "    print('held')\n"
    "else:\n"
    "    print('free')\n"
)


def _dms_lock(shm: Path) -> str:
    """Whether another process finds SQLite's lock on the ``-shm`` file held."""
    probe = [sys.executable, "-c", _PROBE, str(shm), str(DMS_BYTE)]
    return subprocess.run(probe, check=True, capture_output=True, text=True).stdout.strip()


def test_the_marker_leaves_sqlite_s_locks_in_place(tmp_path: Path) -> None:
    """POSIX drops all of a process's locks on a file when any descriptor of it is
    closed: the marker's descriptors stay open, so the store's connections keep the
    lock that stops another process from truncating the file under them."""
    path = tmp_path / "locks.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    store.append("task-a", notes(2), expected_version=ANY)
    shm = Path(f"{path}-shm")
    assert _dms_lock(shm) == "held"
    other = SqliteStore(path, clock=FrozenClock(START))
    other.head()
    other.close()
    assert store.head() == _queried(path)
    assert _dms_lock(shm) == "held"
    store.close()


def test_a_marker_moves_with_each_commit_and_with_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    wal = WalIndex(path)
    first = wal.marker()
    assert first is not None
    store.append("task-a", notes(2), expected_version=ANY)
    store.append("task-a", notes(1, first=2), expected_version=ANY)
    second = wal.marker()
    assert second is not None
    assert commits_between(first, second) == 2
    store.read_all()
    store.head()
    assert wal.marker() == second
    wal.close()
    store.close()


def test_no_marker_without_a_shared_memory_file(tmp_path: Path) -> None:
    """A file with no ``-shm`` beside it gives no marker: its reader reads the file."""
    wal = WalIndex(tmp_path / "absent.db")
    assert wal.marker() is None
    wal.close()


def test_the_head_after_its_own_commit_needs_no_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "own.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    records = store.append("task-a", notes(3), expected_version=ANY)
    monkeypatch.setattr(store, "_on_reader", _NoReads)
    assert store.head() == Head(records[-1].position, records[-1].hash, records[-1].recorded_at)
    assert store.head() == _queried(path)
    store.close()


def test_a_read_head_is_reused_until_the_next_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reuse.db"
    writer = SqliteStore(path, clock=FrozenClock(START))
    reader = SqliteStore(path, clock=FrozenClock(START))
    writer.append("task-a", notes(2), expected_version=ANY)
    assert reader.head() == _queried(path)
    with monkeypatch.context() as patched:
        patched.setattr(reader, "_on_reader", _NoReads)
        assert reader.head() == _queried(path)
    writer.append("task-b", notes(1, first=2), expected_version=ANY)
    assert reader.head() == _queried(path)
    assert reader.head().position == 3
    writer.close()
    reader.close()


def test_another_process_commit_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "procs.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    store.append("task-a", notes(2), expected_version=ANY)
    assert store.head().position == 2
    script = (
        "import sys\n"
        "from ledger.store.sqlite import SqliteStore\n"
        "from ledger.store.protocol import ANY\n"
        "from tests.conformance.helpers import notes\n"
        "s = SqliteStore(sys.argv[1])\n"
        "s.append('task-b', notes(3, first=2), expected_version=ANY)\n"
        "s.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, cwd=Path.cwd())
    assert store.head() == _queried(path)
    assert store.head().position == 5
    store.close()


def _copy_last_row(path: Path) -> None:
    """A writer that is not the ledger (no group commit, no writer lock) adds a row."""
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO events (position, stream, version, event_id, type, recorded_us,"
            " hash, body) SELECT position + 1, stream, version + 1, event_id || '-x', type,"
            " recorded_us + 1, 'f' || substr(hash, 2), body FROM events"
            " ORDER BY position DESC LIMIT 1"
        )


def test_a_writer_that_is_not_the_ledger_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "foreign.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    store.append("task-a", notes(2), expected_version=ANY)
    store.head()
    _copy_last_row(path)
    assert store.head() == _queried(path)
    assert store.head().position == 3
    store.close()


def test_a_commit_landing_right_after_its_own_is_not_taken_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer commits between this store's commit and its look at the header:
    two transactions went by, so the store does not take its own last row for the
    head, and reads it."""
    path = tmp_path / "between.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    store.append("task-a", notes(2), expected_version=ANY)
    own = store._committed_group

    def then_another(requests: Any) -> Any:
        outcomes = own(requests)
        _copy_last_row(path)
        return outcomes

    monkeypatch.setattr(store, "_committed_group", then_another)
    store.append("task-a", notes(1, first=2), expected_version=ANY)
    assert store.head() == _queried(path)
    assert store.head().position == 4
    store.close()


def test_a_checkpoint_that_truncates_the_wal_keeps_the_head(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.db"
    store = SqliteStore(path, clock=FrozenClock(START))
    store.append("task-a", notes(4), expected_version=ANY)
    before = store.head()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.head() == before == _queried(path)
    store.append("task-a", notes(1, first=4), expected_version=ANY)
    assert store.head() == _queried(path)
    store.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["mine", "other", "head", "other-head"]), max_size=30))
def test_the_head_is_the_queried_head_after_any_interleaving(
    tmp_path_factory: pytest.TempPathFactory, steps: list[str]
) -> None:
    """Two handles on one file append and read in any order: each handle's head is,
    every time, the head a query reads."""
    path = tmp_path_factory.mktemp("mix") / "mix.db"
    mine = SqliteStore(path, clock=FrozenClock(START))
    other = SqliteStore(path, clock=FrozenClock(START))
    number = 0
    for step in steps:
        if step in ("mine", "other"):
            store = mine if step == "mine" else other
            store.append(f"task-{step}", notes(1, first=number), expected_version=ANY)
            number += 1
        truth = _queried(path)
        assert mine.head() == truth
        if step == "other-head":
            assert other.head() == truth
    mine.close()
    other.close()
