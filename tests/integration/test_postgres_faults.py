"""PostgreSQL faults: a server restart under writers, a backend killed in the middle of
an append, a statement timeout, and connections that cannot be made.

These drive the real server of this machine kind (they restart it), and fail, not
skip, when it is not there.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import StoreTimeout, StoreUnavailable
from ledger.store.factory import open_store
from ledger.store.postgres import PostgresStore
from ledger.store.protocol import ANY, NO_STREAM
from ledger.verify import verify_store
from tests import pg_server
from tests.conformance.helpers import everything, notes
from tests.integration.harness import acknowledged, read_log, start_worker, verify_url

pytestmark = pytest.mark.slow

WRITERS = 4


def started_at() -> str:
    with pg_server.admin() as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def pg_store() -> Iterator[PostgresStore]:
    store = open_store(pg_server.fresh_url(options="application_name=claims-fault-test"))
    assert isinstance(store, PostgresStore)
    yield store
    store.close()


class AppendLock:
    """Hold the ledger's append lock from another session, so an append waits on it."""

    def __init__(self, store: PostgresStore) -> None:
        self._lock = store.append_lock
        self._conn_cm = pg_server.admin()

    def __enter__(self) -> AppendLock:
        self.conn = self._conn_cm.__enter__()
        self.conn.execute("SELECT pg_advisory_lock(%s, %s)", self._lock)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", self._lock)
        self._conn_cm.__exit__(None, None, None)

    def waiting_backends(self) -> list[int]:
        """Backends of the ledger blocked on the append lock."""
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'claims-fault-test'"
            " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
        ).fetchall()
        return [int(str(row[0])) for row in rows]


def _wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_an_append_whose_backend_is_killed_mid_append_is_retried_once(
    pg_store: PostgresStore,
) -> None:
    """pg_terminate_backend while the append waits inside its transaction: the append
    retries on a fresh connection and stores its events exactly once."""
    pg_store.append("task-a", notes(1), expected_version=NO_STREAM)
    batch = notes(2, first=1)
    result: list[object] = []
    with AppendLock(pg_store) as lock:
        writer = threading.Thread(
            target=lambda: result.append(pg_store.append("task-b", batch, expected_version=ANY))
        )
        writer.start()
        _wait_for(lambda: lock.waiting_backends(), "the append to wait on the lock")
        [pid] = lock.waiting_backends()
        lock.conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        _wait_for(lambda: pid not in lock.waiting_backends(), "the backend to go")
    writer.join(timeout=60)

    assert result, "the append did not return"
    records = everything(pg_store)
    assert [record.event_id for record in records[1:]] == [event.event_id for event in batch]
    assert [record.position for record in records] == [1, 2, 3]
    assert verify_store(pg_store).ok


def test_a_statement_timeout_is_reported_and_stores_nothing() -> None:
    """An append stuck past statement_timeout is cancelled with STORE_TIMEOUT."""
    store = open_store(
        pg_server.fresh_url(options="statement_timeout=300&application_name=claims-fault-test")
    )
    assert isinstance(store, PostgresStore)
    try:
        store.append("task-a", notes(1), expected_version=NO_STREAM)
        with AppendLock(store), pytest.raises(StoreTimeout) as caught:
            store.append("task-b", notes(1, first=1), expected_version=NO_STREAM)
        assert caught.value.code == "STORE_TIMEOUT"
        assert "300 ms" in caught.value.detail
        assert store.head_position() == 1
        store.append("task-b", notes(1, first=1), expected_version=NO_STREAM)
        assert store.head_position() == 2
    finally:
        store.close()


def test_a_store_keeps_working_after_the_server_restarts(pg_store: PostgresStore) -> None:
    """Pooled connections cut by a restart are replaced; the listener reconnects."""
    pg_store.append("task-a", notes(1), expected_version=NO_STREAM)
    assert pg_store.wait_for_head(0, 5) == 1
    pg_server.restart()

    pg_store.append("task-a", notes(1, first=1), expected_version=1)
    assert pg_store.head_position() == 2
    assert pg_store.wait_for_head(1, 10) == 2
    assert verify_store(pg_store).ok


def test_every_acknowledged_append_survives_a_restart_under_writers(tmp_path: Path) -> None:
    """Four writers append and acknowledge while the server restarts: nothing that
    was acknowledged is lost, nothing is stored twice, the log verifies."""
    url = pg_server.fresh_url(options="retry_for=60")
    stop = tmp_path / "stop"
    acks = [tmp_path / f"ack-{n}" for n in range(WRITERS)]
    errors = tmp_path / "stderr.log"
    with errors.open("wb") as stderr:
        procs = [
            start_worker(
                ["retrying-writer", url, f"writer-{n}", str(ack), str(stop)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            for n, ack in enumerate(acks)
        ]
        try:
            _wait_for(lambda: all(len(acknowledged(ack)) >= 20 for ack in acks), "writers to start")
            before_restart = started_at()
            acked_before = sum(len(acknowledged(ack)) for ack in acks)
            pg_server.restart()
            assert started_at() != before_restart
            _wait_for(
                lambda: sum(len(acknowledged(ack)) for ack in acks) >= acked_before + 100,
                "writers to go on after the restart",
                timeout=90,
            )
        finally:
            stop.touch()
            codes = [proc.wait(timeout=120) for proc in procs]
    assert codes == [0] * WRITERS, errors.read_text()

    stored = [record.event_id for record in read_log(url)]
    acked = [event_id for ack in acks for event_id in acknowledged(ack)]
    assert len(stored) == len(set(stored))
    assert set(acked) <= set(stored)
    assert verify_url(url).ok


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres@127.0.0.1:1/test?schema=x", "Connection refused"),
        ("postgresql://no_such_role@127.0.0.1:5432/test?schema=x", 'role "no_such_role"'),
        ("postgresql://postgres@127.0.0.1:5432/no_such_db?schema=x", "no_such_db"),
    ],
)
def test_a_connection_that_cannot_be_made_is_a_clear_error(url: str, says: str) -> None:
    """Unreachable, unknown role, unknown database: STORE_UNAVAILABLE naming the cause."""
    with pytest.raises(StoreUnavailable) as caught:
        open_store(url)
    assert says in caught.value.detail
    assert "cannot connect to PostgreSQL at postgresql://" in caught.value.detail


def test_a_password_never_shows_in_an_error() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        open_store("postgresql://someone:s3cret-pw@127.0.0.1:1/test")
    assert "s3cret-pw" not in caught.value.detail
    assert "someone:***@" in caught.value.detail


def test_a_server_error_that_keeps_the_session_is_reported_at_once(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk on the server (after the insert, before the statement commits) is
    STORE_ERROR at once, not retried as a lost connection, and stores nothing."""
    import psycopg.errors

    from ledger.errors import StoreError
    from ledger.store import postgres

    attempts: list[int] = []
    real_execute = postgres.PostgresStore._execute_append

    def full_disk(conn: Any, arguments: Any) -> list[tuple[Any, ...]]:
        attempts.append(len(attempts) + 1)
        with conn.transaction():  # the statement's own transaction
            real_execute(conn, arguments)  # the rows are inserted, then the write fails
            raise psycopg.errors.DiskFull("could not extend file: No space left on device")

    pg_store.append("task-a", notes(1), expected_version=NO_STREAM)
    monkeypatch.setattr(postgres.PostgresStore, "_execute_append", staticmethod(full_disk))
    with pytest.raises(StoreError) as caught:
        pg_store.append("task-a", notes(1, first=1), expected_version=1)
    monkeypatch.undo()

    assert caught.value.code == "STORE_ERROR"
    assert "No space left on device" in caught.value.detail
    assert attempts == [1]
    assert pg_store.head_position() == 1


LEFT_OPEN = """
import sys, threading
from ledger.store.factory import open_store
from ledger.store.protocol import ANY
from tests.conformance.helpers import notes
store = open_store(sys.argv[1])
for n in range(20):
    store.append("task-a", notes(1, first=n), expected_version=ANY)
waiter = threading.Thread(target=store.wait_for_head, args=(10**9, 30), daemon=True)
waiter.start()
# exits without store.close(): the pool is closed at exit, not collected during shutdown
"""


def test_a_process_that_never_closes_its_store_still_exits() -> None:
    """A library caller that forgets ``close`` (pool workers and a LISTEN thread still
    running) exits promptly and cleanly: the pool is closed at exit, not left to the
    collector, which could deadlock on its own queue's lock during shutdown."""
    url = pg_server.fresh_url()
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", LEFT_OPEN, url],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr.decode()) == (0, "")
