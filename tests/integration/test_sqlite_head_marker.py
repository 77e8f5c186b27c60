"""The SQLite head and stream reads answered from the WAL-index header while nothing
has committed.

``SqliteStore.head`` runs no statement while the header is the one it last saw the
head with (``ledger.store.sqlite_wal_index``), and ``read_stream`` answers "nothing
new" without one while the stream is known to stand at the version asked about
(``ledger.store.stream_versions``). These tests hold both to what a query reads after
every kind of write: its own, another handle's on the same file, another process's, a
writer that is not the ledger at all, a replayed append, a checkpoint; and show that
the shortcut is taken when nothing changed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.clock import FrozenClock
from ledger.store import sqlite_wal_index
from ledger.store.batch import EMPTY_HEAD
from ledger.store.group import AppendRequest
from ledger.store.protocol import ANY, Head
from ledger.store.rows import head_of
from ledger.store.sqlite import SqliteStore
from ledger.store.sqlite_known import Known
from ledger.store.sqlite_sql import HEAD_ONLY
from ledger.store.sqlite_wal_index import WalIndex, commits_between
from tests.conformance.helpers import notes
from tests.conftest import START

Opener = Callable[[Path], SqliteStore]


@pytest.fixture
def opened() -> Iterator[Opener]:
    """Opens stores on a frozen clock and closes them all after the test."""
    stores: list[SqliteStore] = []

    def opener(path: Path) -> SqliteStore:
        store = SqliteStore(path, clock=FrozenClock(START))
        stores.append(store)
        return store

    yield opener
    for store in stores:
        store.close()


def _queried_stream(path: Path, stream: str, after: int) -> list[int]:
    """The positions of ``stream``'s records after ``after``, as a fresh query reads them."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT position FROM events WHERE stream = ? AND version > ? ORDER BY version",
            (stream, after),
        ).fetchall()
    return [position for (position,) in rows]


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


def test_the_marker_leaves_sqlite_s_locks_in_place(tmp_path: Path, opened: Opener) -> None:
    """POSIX drops all of a process's locks on a file when any descriptor of it is
    closed: the marker's descriptors stay open, so the store's connections keep the
    lock that stops another process from truncating the file under them."""
    path = tmp_path / "locks.db"
    store = opened(path)
    store.append("task-a", notes(2), expected_version=ANY)
    shm = Path(f"{path}-shm")
    assert _dms_lock(shm) == "held"
    other = opened(path)
    other.head()
    other.close()
    assert store.head() == _queried(path)
    assert _dms_lock(shm) == "held"


def test_a_store_opened_through_a_link_maps_the_file_sqlite_uses(
    tmp_path: Path, opened: Opener
) -> None:
    """SQLite names the ``-shm`` file after the linked-to file; a stale ``-shm`` beside
    the link (a header that looks valid but never moves) is never taken for it."""
    real, link = tmp_path / "real.db", tmp_path / "link.db"
    other = opened(real)
    other.append("task-a", notes(1), expected_version=ANY)
    Path(f"{link}-shm").write_bytes(Path(f"{real}-shm").read_bytes())
    link.symlink_to(real)
    store = opened(link)
    assert store.head().position == 1
    other.append("task-a", notes(1, first=1), expected_version=ANY)
    assert store.head() == _queried(real)
    assert store.head().position == 2


def test_a_mapping_that_does_not_move_with_its_commits_is_dropped(
    tmp_path: Path, opened: Opener
) -> None:
    """Were the file mapped not SQLite's, the store's own commit would leave its header
    as it was: the store then stops trusting it and reads the file."""
    path = tmp_path / "unmoved.db"
    store = opened(path)
    stale = tmp_path / "stale-shm"
    stale.write_bytes(Path(f"{path}-shm").read_bytes()[:96] + bytes(32768))
    store._known = Known(WalIndex(stale.with_name("stale")))  # maps "stale-shm"
    assert store._known.marker() is not None
    store.append("task-a", notes(1), expected_version=ANY)
    assert store._known.marker() is None
    other = opened(path)
    other.append("task-a", notes(1, first=1), expected_version=ANY)
    assert store.head() == _queried(path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_child_forked_while_the_registry_is_locked_can_open_a_store(tmp_path: Path) -> None:
    """Another thread may hold the mapping registry's lock at a fork: the child still
    opens a store (it would otherwise wait for ever), and it is given up after 10 s."""
    path = tmp_path / "forked.db"
    with sqlite_wal_index._registry_lock:
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                signal.alarm(10)
                store = SqliteStore(path, clock=FrozenClock(START))
                store.append("task-a", notes(1), expected_version=ANY)
                store.close()
                code = 0
            finally:
                os._exit(code)  # never back into the parent's test run
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _queried(path).position == 1


def test_a_marker_moves_with_each_commit_and_with_nothing_else(
    tmp_path: Path, opened: Opener
) -> None:
    path = tmp_path / "m.db"
    store = opened(path)
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


def test_no_marker_without_a_shared_memory_file(tmp_path: Path) -> None:
    """A file with no ``-shm`` beside it gives no marker: its reader reads the file."""
    wal = WalIndex(tmp_path / "absent.db")
    assert wal.marker() is None
    wal.close()


def test_the_head_after_its_own_commit_needs_no_statement(
    tmp_path: Path, opened: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "own.db"
    store = opened(path)
    records = store.append("task-a", notes(3), expected_version=ANY)
    monkeypatch.setattr(store, "_on_reader", _NoReads)
    assert store.head() == Head(records[-1].position, records[-1].hash, records[-1].recorded_at)
    assert store.head() == _queried(path)


def test_a_read_head_is_reused_until_the_next_commit(
    tmp_path: Path, opened: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reuse.db"
    writer = opened(path)
    reader = opened(path)
    writer.append("task-a", notes(2), expected_version=ANY)
    assert reader.head() == _queried(path)
    with monkeypatch.context() as patched:
        patched.setattr(reader, "_on_reader", _NoReads)
        assert reader.head() == _queried(path)
    writer.append("task-b", notes(1, first=2), expected_version=ANY)
    assert reader.head() == _queried(path)
    assert reader.head().position == 3


def test_another_process_commit_is_seen_at_once(tmp_path: Path, opened: Opener) -> None:
    path = tmp_path / "procs.db"
    store = opened(path)
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


def _copy_last_row(path: Path) -> None:
    """A writer that is not the ledger (no group commit, no writer lock) adds a row."""
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO events (position, stream, version, event_id, type, recorded_us,"
            " hash, body) SELECT position + 1, stream, version + 1, event_id || '-x', type,"
            " recorded_us + 1, 'f' || substr(hash, 2), body FROM events"
            " ORDER BY position DESC LIMIT 1"
        )


def test_a_writer_that_is_not_the_ledger_is_seen(tmp_path: Path, opened: Opener) -> None:
    path = tmp_path / "foreign.db"
    store = opened(path)
    store.append("task-a", notes(2), expected_version=ANY)
    store.head()
    _copy_last_row(path)
    assert store.head() == _queried(path)
    assert store.head().position == 3


def test_a_commit_landing_right_after_its_own_is_not_taken_for_it(
    tmp_path: Path, opened: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer commits between this store's commit and its look at the header:
    two transactions went by, so the store does not take its own last row for the
    head, and reads it."""
    path = tmp_path / "between.db"
    store = opened(path)
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


def test_a_checkpoint_that_truncates_the_wal_keeps_the_head(tmp_path: Path, opened: Opener) -> None:
    path = tmp_path / "ckpt.db"
    store = opened(path)
    store.append("task-a", notes(4), expected_version=ANY)
    before = store.head()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.head() == before == _queried(path)
    store.append("task-a", notes(1, first=4), expected_version=ANY)
    assert store.head() == _queried(path)


def test_nothing_new_after_its_own_append_needs_no_statement(
    tmp_path: Path, opened: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stream.db"
    store = opened(path)
    store.append("task-b", notes(1), expected_version=ANY)
    records = store.append("task-a", notes(2, first=1), expected_version=ANY)
    with monkeypatch.context() as patched:
        patched.setattr(store, "_on_reader", _NoReads)
        assert store.read_stream("task-a", after_version=records[-1].version) == []
        assert store.read_stream("task-b", after_version=1) == []
    assert [r.position for r in store.read_stream("task-a", after_version=1)] == [3]


def test_a_stream_another_handle_wrote_is_read_again(tmp_path: Path, opened: Opener) -> None:
    path = tmp_path / "streams.db"
    mine = opened(path)
    other = opened(path)
    mine.append("task-a", notes(2), expected_version=ANY)
    assert mine.read_stream("task-a", after_version=2) == []
    other.append("task-a", notes(1, first=2), expected_version=ANY)
    assert [r.position for r in mine.read_stream("task-a", after_version=2)] == [3]
    assert mine.read_stream("task-a", after_version=3) == []


def test_a_replayed_append_does_not_set_its_stream_back(tmp_path: Path, opened: Opener) -> None:
    """An append sent again (same event ids) is answered with the records it stored
    the first time; the stream stands at its latest version, not at theirs."""
    path = tmp_path / "replay.db"
    store = opened(path)
    first = notes(1)
    store.append("task-a", first, expected_version=0)
    store.append("task-a", notes(2, first=1), expected_version=1)
    replayed = store.append("task-a", first, expected_version=0)
    assert [r.version for r in replayed] == [1]
    assert [r.position for r in store.read_stream("task-a", after_version=1)] == [2, 3]


def test_a_replay_committed_beside_a_new_append_does_not_set_its_stream_back(
    tmp_path: Path,
    opened: Opener,
) -> None:
    """One commit holding a replayed member and a member that writes: only the
    written stream's version is taken from it."""
    path = tmp_path / "replay-group.db"
    store = opened(path)
    first = notes(1)
    store.append("task-a", first, expected_version=0)
    store.append("task-a", notes(2, first=1), expected_version=1)
    outcomes = store._commit_group(
        [AppendRequest("task-a", first, 0), AppendRequest("task-b", notes(1, first=3), 0)]
    )
    assert [[r.version for r in o] for o in outcomes if isinstance(o, list)] == [[1], [1]]
    assert [r.position for r in store.read_stream("task-a", after_version=1)] == [2, 3]
    assert store.read_stream("task-b", after_version=1) == []


def test_what_was_known_before_another_handle_wrote_is_forgotten(
    tmp_path: Path, opened: Opener
) -> None:
    """A stream known at one moment, written by another handle, then a commit of this
    store's own on another stream: the stream is read again, not taken as known."""
    path = tmp_path / "forgotten.db"
    mine = opened(path)
    other = opened(path)
    mine.append("task-a", notes(1), expected_version=ANY)
    assert mine.read_stream("task-a", after_version=1) == []
    other.append("task-a", notes(1, first=1), expected_version=ANY)
    mine.append("task-b", notes(1, first=2), expected_version=ANY)
    assert [r.position for r in mine.read_stream("task-a", after_version=1)] == [2]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["mine", "other", "head", "other-head"]),
            st.sampled_from(["task-mine", "task-other", "task-both"]),
            st.integers(0, 6),
        ),
        max_size=30,
    )
)
def test_head_and_streams_are_what_a_query_reads_after_any_interleaving(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, str, int]]
) -> None:
    """Two handles on one file append and read in any order: each handle's head, and
    any stream after any version, are every time what a query reads."""
    path = tmp_path_factory.mktemp("mix") / "mix.db"
    mine = SqliteStore(path, clock=FrozenClock(START))
    other = SqliteStore(path, clock=FrozenClock(START))
    number = 0
    for step, stream, after in steps:
        if step in ("mine", "other"):
            store = mine if step == "mine" else other
            target = stream if stream == "task-both" else f"task-{step}"
            store.append(target, notes(1, first=number), expected_version=ANY)
            number += 1
        truth = _queried(path)
        assert mine.head() == truth
        read = [r.position for r in mine.read_stream(stream, after_version=after)]
        assert read == _queried_stream(path, stream, after)
        if step == "other-head":
            assert other.head() == truth
    mine.close()
    other.close()
