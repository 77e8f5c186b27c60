"""A SQLite store whose last commit is still the head writes the next append in one
guarded statement; whenever the log is not as it left it (another writer, an edited row,
a stale version, a stored id) nothing is written by that statement and the append is
decided as before, probe first."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.errors import ConcurrencyConflict, CorruptLog
from ledger.store.protocol import NO_STREAM
from ledger.store.sqlite import SqliteStore
from ledger.store.sqlite_guarded import GUARDED_ROWS
from ledger.verify import verify_store
from tests.conformance.helpers import everything, notes, positions


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(path)
    yield opened
    opened.close()


class Statements:
    """The statements a store's writer connection runs, as SQLite traces them."""

    def __init__(self, store: SqliteStore) -> None:
        self.seen: list[str] = []
        store._db.set_trace_callback(self.seen.append)

    def since(self, mark: int) -> list[str]:
        return self.seen[mark:]


def _guarded(statements: list[str]) -> bool:
    """One statement and no explicit transaction: the guarded insert."""
    return len(statements) == 1 and statements[0].startswith("INSERT INTO events")


def test_a_writer_whose_commit_is_the_head_appends_in_one_statement(store: SqliteStore) -> None:
    trace = Statements(store)
    store.append("s-a", notes(1), expected_version=NO_STREAM)
    store.append("s-a", notes(1, first=1), expected_version=1)
    mark = len(trace.seen)
    records = store.append("s-b", notes(2, first=2), expected_version=NO_STREAM)
    assert _guarded(trace.since(mark))
    assert positions(records) == [3, 4]
    assert [record.version for record in records] == [1, 2]
    assert records[0].prev_hash == everything(store)[1].hash
    assert verify_store(store).ok


def test_another_writer_in_between_makes_the_next_append_go_probe_first(
    store: SqliteStore, path: Path
) -> None:
    store.append("s-a", notes(1), expected_version=NO_STREAM)
    store.append("s-a", notes(1, first=1), expected_version=1)
    other = SqliteStore(path)
    try:
        other.append("s-b", notes(1, first=2), expected_version=NO_STREAM)
    finally:
        other.close()
    trace = Statements(store)
    records = store.append("s-a", notes(1, first=3), expected_version=2)
    assert trace.seen[0].startswith("INSERT INTO events")  # tried, stored nothing
    assert trace.seen[1] == "BEGIN IMMEDIATE"
    assert positions(records) == [4]
    log = everything(store)
    assert records[0].prev_hash == log[2].hash
    assert verify_store(store).ok
    mark = len(trace.seen)
    store.append("s-a", notes(1, first=4), expected_version=3)
    assert _guarded(trace.since(mark))  # its own commit is the head again


def test_a_stale_version_is_refused_with_nothing_stored_and_the_next_append_goes_on(
    store: SqliteStore,
) -> None:
    store.append("s-a", notes(1), expected_version=NO_STREAM)
    store.append("s-a", notes(1, first=1), expected_version=1)
    with pytest.raises(ConcurrencyConflict):
        store.append("s-a", notes(1, first=2), expected_version=1)
    assert store.head().position == 2
    assert positions(store.append("s-a", notes(1, first=3), expected_version=2)) == [3]


def test_a_replayed_append_answers_the_stored_records_and_stores_nothing(
    store: SqliteStore,
) -> None:
    store.append("s-a", notes(1), expected_version=NO_STREAM)
    events = notes(1, first=1)
    first = store.append("s-a", events, expected_version=1)
    again = store.append("s-a", events, expected_version=1)
    assert again == first
    assert store.head().position == 2


def _edit(path: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute(sql, args)
    finally:
        db.close()


def test_an_edited_head_body_stops_the_next_append_with_its_position(
    store: SqliteStore, path: Path
) -> None:
    store.append("s-a", notes(1), expected_version=NO_STREAM)
    store.append("s-a", notes(1, first=1), expected_version=1)
    body = everything(store)[1]
    _edit(
        path,
        "UPDATE events SET body = replace(body, CAST(? AS BLOB), CAST(? AS BLOB))"
        " WHERE position = 2",
        body.actor,
        body.actor.upper() + "x",
    )
    with pytest.raises(CorruptLog) as refused:
        store.append("s-a", notes(1, first=2), expected_version=2)
    assert refused.value.context["position"] == 2
    assert _rows(path) == 2


def test_an_edited_hash_before_the_head_stops_the_next_append(
    store: SqliteStore, path: Path
) -> None:
    for number in range(3):
        store.append("s-a", notes(1, first=number), expected_version=number or NO_STREAM)
    _edit(path, "UPDATE events SET hash = ? WHERE position = 2", "0" * 64)
    with pytest.raises(CorruptLog):
        store.append("s-a", notes(1, first=3), expected_version=3)
    assert _rows(path) == 3


def test_a_group_larger_than_one_statement_takes_is_written_probe_first(
    store: SqliteStore,
) -> None:
    store.append("s-a", notes(1), expected_version=NO_STREAM)
    store.append("s-a", notes(1, first=1), expected_version=1)
    trace = Statements(store)
    records = store.append("s-b", notes(GUARDED_ROWS + 1, first=2), expected_version=NO_STREAM)
    assert trace.seen[0] == "BEGIN IMMEDIATE"
    assert positions(records) == list(range(3, GUARDED_ROWS + 4))
    assert verify_store(store).ok


def _rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        db.close()
