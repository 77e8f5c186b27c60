"""PostgreSQL's append in one round trip: the server seals byte for byte what
``ledger.codec.seal`` would, and stamps records with its own clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from ledger.clock import FrozenClock, SystemClock
from ledger.store.factory import open_store
from ledger.store.group import AppendRequest
from ledger.store.migrations import load_migrations
from ledger.store.postgres import PostgresStore
from ledger.store.postgres_append import APPEND_SQL, call_arguments
from ledger.store.protocol import NO_STREAM
from ledger.verify import verify_store
from tests import pg_server
from tests.conformance.helpers import everything, notes


def _open(clock: FrozenClock | SystemClock) -> PostgresStore:
    store = open_store(pg_server.fresh_url(), clock=clock)
    assert isinstance(store, PostgresStore)
    return store


@pytest.fixture
def server_clocked() -> Iterator[PostgresStore]:
    """A store on the system clock: its appends take the server's time."""
    store = _open(SystemClock())
    yield store
    store.close()


def _server_now(store: PostgresStore) -> datetime:
    with psycopg.connect(store.options.conninfo) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    stamp: datetime = row[0]
    return stamp.astimezone(UTC)


def test_records_are_stamped_by_the_server_clock(server_clocked: PostgresStore) -> None:
    """``recorded_at`` lies between two readings of the server's clock around the append."""
    before = _server_now(server_clocked)
    records = server_clocked.append("task-a", notes(1), expected_version=NO_STREAM)
    after = _server_now(server_clocked)
    assert before <= records[0].recorded_at <= after


def test_server_sealed_records_read_back_as_returned(server_clocked: PostgresStore) -> None:
    """What the append returned is what the log holds, and the chain verifies (S6)."""
    written = server_clocked.append("task-a", notes(3), expected_version=NO_STREAM)
    written += server_clocked.append("task-b", notes(2, first=5), expected_version=NO_STREAM)
    assert everything(server_clocked) == written
    report = verify_store(server_clocked)
    assert report.ok, report.problem


def test_a_time_with_microseconds_is_sealed_as_the_codec_writes_it() -> None:
    """A recorded-at with a fraction of a second is stored in the codec's spelling."""
    store = _open(FrozenClock(datetime(2026, 1, 1, 12, 0, 0, 120, tzinfo=UTC)))
    try:
        written = store.append("task-a", notes(1), expected_version=NO_STREAM)
        assert everything(store) == written
        assert verify_store(store).ok
    finally:
        store.close()


def test_a_schema_written_by_the_migration_2_append_upgrades_and_links_on() -> None:
    """A ledger appended through migration 2's ``append_events`` (which answered no
    linked head) opens under migrations 3 and 4, and the next append links to its head
    and checks it on the server: the chain verifies across the upgrade."""
    url = pg_server.fresh_url(options="migrate=false")
    schema = url.rsplit("schema=", 1)[1].split("&", 1)[0]
    older = [m for m in load_migrations("postgres") if m.version <= 2]
    with psycopg.connect(pg_server.SERVER, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(
            "CREATE TABLE schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in older:
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations VALUES (%s, %s, 'by hand')",
                (migration.version, migration.name),
            )
        old_call = APPEND_SQL.replace(", %s::bigint[], %s::bigint[])", ")")
        requests = [AppendRequest("task-a", notes(2), NO_STREAM)]
        arguments = call_arguments(requests, (1, 1), "claims_test", None, decisions=False)
        rows = conn.execute(old_call, arguments[:-2]).fetchall()
    assert [row[0] for row in rows] == ["ok"]

    store = open_store(url.replace("migrate=false", "migrate=true"))
    try:
        assert isinstance(store, PostgresStore)
        store.append("task-b", notes(1, first=5), expected_version=NO_STREAM)
        records = everything(store)
        assert [record.position for record in records] == [1, 2, 3]
        assert records[2].prev_hash == records[1].hash
        report = verify_store(store)
        assert report.ok, report.problem
    finally:
        store.close()


def test_a_member_whose_decision_the_server_no_longer_bears_out_is_refused_alone() -> None:
    """In one group, a heartbeat decided two seconds before the server's time (past the
    decision window) is a conflict to decide again and stores nothing; a heartbeat
    decided in the future is CLOCK_AHEAD; the fresh member between them is stored."""
    from datetime import timedelta

    from ledger.errors import ClockAhead, ConcurrencyConflict
    from ledger.events import Heartbeat
    from ledger.records import NewEvent

    store = open_store(pg_server.fresh_url())
    assert isinstance(store, PostgresStore)
    try:
        now = _server_now(store)

        def beat(task: str, decided: datetime) -> AppendRequest:
            data = Heartbeat(
                task_id=task,
                session_id="s1",
                fencing_token=1,
                extend_ms=60_000,
                expires_at=decided + timedelta(minutes=1),
            )
            return AppendRequest(
                f"task-{task}", [NewEvent(data=data, occurred_at=decided, actor="a")], NO_STREAM
            )

        late, fresh, ahead = store._commit_group(
            [
                beat("late", now - timedelta(seconds=2)),
                beat("fresh", now),
                beat("ahead", now + timedelta(minutes=5)),
            ]
        )
        assert isinstance(late, ConcurrencyConflict)
        assert late.context["reason"] == "decision_outdated"
        assert isinstance(ahead, ClockAhead)
        assert isinstance(fresh, list)
        assert [record.stream for record in everything(store)] == ["task-fresh"]
        assert verify_store(store).ok
    finally:
        store.close()


def _sequential_scans_of_events(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """Sequential scans of the ledger's ``events`` table so far, this connection's included."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT seq_scan FROM pg_stat_user_tables WHERE relid = 'events'::regclass"
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_appends_to_a_new_ledger_never_scan_the_whole_log(server_clocked: PostgresStore) -> None:
    """The function's lookups (event ids, a stream's version, the head) go through their
    indexes from the first append on, whatever the table's statistics: PL/pgSQL keeps a
    generic plan made while the table was tiny, and a sequential scan planned then would
    read the whole log on every member of every group until autovacuum analysed it."""
    store = server_clocked
    lock = store.append_lock
    with psycopg.connect(store.options.conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('search_path', %s, false)", (store.options.schema,))
        before = _sequential_scans_of_events(conn)
        for call in range(40):  # past the plan cache's five custom plans, over many pages
            group = [
                AppendRequest(f"task-{call}-{member}", notes(1, first=16 * call + member), 0)
                for member in range(16)
            ]
            arguments = call_arguments(group, lock, store.channel, None, decisions=False)
            rows = PostgresStore._execute_append(conn, arguments)
            assert [row[0] for row in rows] == ["ok"] * 16
        assert _sequential_scans_of_events(conn) == before
    assert store.head().position == 40 * 16
