"""Group commit: appends from the threads of one process that arrive while a commit
is in flight share the next transaction and commit, and keep every invariant.

Runs on the backends with group commit (SQLite, PostgreSQL). Another connection
holds the write lock while the appends arrive, so the batch forms for certain,
never by timing: the first append waits on the lock, the rest queue behind it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ledger.clock import SystemClock
from ledger.errors import ConcurrencyConflict
from ledger.records import NewEvent, Record
from ledger.store.factory import open_store
from ledger.store.group import Outcome
from ledger.store.postgres import PostgresStore
from ledger.store.protocol import NO_STREAM
from ledger.store.sqlite import SqliteStore
from ledger.verify import verify_store
from tests.conformance.helpers import everything, notes, positions
from tests.conftest import BACKENDS, Backend

GROUPED = tuple(backend for backend in BACKENDS if backend.name in ("sqlite", "postgresql"))
GUARD_SECONDS = 60.0
"""How long to wait for the queue to form; a hang guard, never a speed check."""

Store = SqliteStore | PostgresStore
Answer = list[Record] | Exception


@pytest.fixture(params=GROUPED, ids=lambda backend: backend.name)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of a backend with group commit."""
    backend: Backend = request.param
    opened = open_store(backend.url_for(tmp_path), clock=SystemClock())  # decisions unchecked
    assert isinstance(opened, SqliteStore | PostgresStore)
    yield opened
    opened.close()


@contextlib.contextmanager
def _writes_held(store: Store) -> Iterator[None]:
    """Hold the store's write lock from another connection until the block ends."""
    if isinstance(store, SqliteStore):
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with psycopg.connect(store.options.conninfo) as conn, conn.transaction():
        table = sql.Identifier(store.options.schema, "events")
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        yield


def _batched(store: Store, appends: list[Callable[[], list[Record]]]) -> list[Answer]:
    """Run ``appends`` while the write lock is held elsewhere, release it once all but
    the one leading have queued, and return each one's records or error."""

    def run(append: Callable[[], list[Record]]) -> Answer:
        try:
            return append()
        except Exception as exc:  # a member's refusal is its answer
            return exc

    with ThreadPoolExecutor(len(appends)) as pool:
        futures: list[Future[Answer]] = []
        with _writes_held(store):
            futures = [pool.submit(run, append) for append in appends]
            _wait_for_queue(store, len(appends) - 1)
        return [future.result(GUARD_SECONDS) for future in futures]


def _wait_for_queue(store: Store, count: int) -> None:
    pause = threading.Event()
    for _ in range(int(GUARD_SECONDS * 1000)):
        if store.group.waiting >= count:
            return
        pause.wait(0.001)
    raise AssertionError("the appends never queued")


def _appender(store: Store, stream: str, first: int, expected: int) -> Callable[[], list[Record]]:
    return lambda: store.append(stream, notes(2, first=first), expected_version=expected)


def test_queued_appends_share_one_commit(store: Store) -> None:
    """Eight appends that arrive during a commit take two commits, not eight."""
    before = store.group.commits
    appends = [_appender(store, f"task-{n}", 10 * n, NO_STREAM) for n in range(8)]
    answers = _batched(store, appends)
    assert all(isinstance(answer, list) for answer in answers)
    assert store.group.commits - before == 2


def test_a_grouped_log_is_gapless_and_verifies(store: Store) -> None:
    """After a group commit positions run 1..n without gaps and the chain verifies (S3, S6)."""
    _batched(store, [_appender(store, f"task-{n}", 10 * n, NO_STREAM) for n in range(6)])
    assert positions(everything(store)) == list(range(1, 13))
    report = verify_store(store)
    assert report.ok, report.problem


def test_each_member_returns_the_records_stored_for_it(store: Store) -> None:
    """What a member's append returned is exactly what the log holds for it (S6)."""
    answers = _batched(store, [_appender(store, f"task-{n}", 10 * n, NO_STREAM) for n in range(4)])
    stored = {record.event_id: record for record in everything(store)}
    for answer in answers:
        assert isinstance(answer, list)
        assert all(stored[record.event_id] == record for record in answer)


def test_a_member_sees_the_members_before_it(store: Store) -> None:
    """Two members creating one stream in one batch: one stores, one conflicts (S4)."""
    appends = [
        _appender(store, "task-lead", 0, NO_STREAM),
        _appender(store, "task-same", 10, NO_STREAM),
        _appender(store, "task-same", 20, NO_STREAM),
        _appender(store, "task-other", 30, NO_STREAM),
    ]
    answers = _batched(store, appends)
    assert isinstance(answers[0], list)
    assert isinstance(answers[3], list)
    same = sorted(type(answer).__name__ for answer in answers[1:3])
    assert same == ["ConcurrencyConflict", "list"]
    assert store.stream_version("task-same") == 2


def test_a_refused_member_stores_nothing_and_the_rest_commit(store: Store) -> None:
    """A member at a wrong expected version is refused alone; the others are stored (S1)."""
    appends = [
        _appender(store, "task-lead", 0, NO_STREAM),
        _appender(store, "task-a", 10, 5),
        _appender(store, "task-b", 20, NO_STREAM),
    ]
    answers = _batched(store, appends)
    assert isinstance(answers[1], ConcurrencyConflict)
    assert store.stream_version("task-a") == 0
    assert store.stream_version("task-b") == 2


def test_a_replayed_member_returns_its_stored_records(store: Store) -> None:
    """A member re-appending stored ids in a batch gets the stored records (S5)."""
    batch = notes(2, first=0)
    stored = store.append("task-a", batch, expected_version=NO_STREAM)
    appends = [
        _appender(store, "task-lead", 50, NO_STREAM),
        lambda: store.append("task-a", batch, expected_version=NO_STREAM),
        _appender(store, "task-b", 20, NO_STREAM),
    ]
    answers = _batched(store, appends)
    assert answers[1] == stored
    assert store.stream_version("task-a") == 2


def test_members_repeating_each_others_ids_store_them_once(store: Store) -> None:
    """Two members of one batch with the same events (a retry racing its original):
    one stores them, the other is answered with the same stored records (S5)."""
    batch = notes(2, first=0)
    appends = [
        _appender(store, "task-lead", 50, NO_STREAM),
        lambda: store.append("task-a", batch, expected_version=NO_STREAM),
        lambda: store.append("task-a", batch, expected_version=NO_STREAM),
    ]
    answers = _batched(store, appends)
    assert answers[1] == answers[2]
    assert store.stream_version("task-a") == 2
    assert positions(everything(store)) == list(range(1, 5))


def _submitted(store: Store, stream: str, events: list[NewEvent]) -> Future[Outcome]:
    """``store.submit`` of a new stream, its answer handed to a future."""
    future: Future[Outcome] = Future()
    store.submit(stream, events, expected_version=NO_STREAM, told=future.set_result)
    return future


def test_submitted_appends_share_a_commit_and_keep_the_invariants(store: Store) -> None:
    """Appends submitted while the write lock is held elsewhere are answered through
    their callbacks once committed, together (the committer's first batch takes what was
    queued when it started, the second the rest), gapless and verifiable (S3, S6)."""
    before = store.group.commits
    with _writes_held(store):
        futures = [_submitted(store, f"task-{n}", notes(2, first=10 * n)) for n in range(5)]
        futures.append(_submitted(store, "task-0", notes(1, first=99)))
    answers = [future.result(GUARD_SECONDS) for future in futures]
    assert isinstance(answers[-1], ConcurrencyConflict)
    stored = {record.event_id: record for record in everything(store)}
    for answer in answers[:-1]:
        assert isinstance(answer, list)
        assert all(stored[record.event_id] == record for record in answer)
    assert positions(everything(store)) == list(range(1, 11))
    assert store.group.commits - before <= 2
    report = verify_store(store)
    assert report.ok, report.problem
