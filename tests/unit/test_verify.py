"""``verify_store`` names the first stored record that breaks an invariant, and where it is."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger.clock import FrozenClock
from ledger.codec import seal
from ledger.events import Released, TaskRegistered
from ledger.records import GENESIS_HASH, NewEvent
from ledger.store.jsonl import JsonlStore
from ledger.store.protocol import ANY, EventStore
from ledger.store.sqlite import SqliteStore
from ledger.verify import VerifyReport, verify_store

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _event(number: int) -> NewEvent:
    return NewEvent(
        data=TaskRegistered(task_id=f"t{number}", title=f"task number {number}"),
        occurred_at=NOW,
        actor="tester",
    )


def _fill(store: EventStore, count: int = 4) -> None:
    for number in range(count):
        store.append(f"task-{number % 2}", [_event(number)], expected_version=ANY)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _offset_of_line(path: Path, number: int) -> int:
    return sum(len(line) for line in _lines(path)[: number - 1])


def _rewrite(path: Path, lines: Sequence[bytes]) -> JsonlStore:
    """The store over a file holding exactly ``lines``."""
    path.write_bytes(b"".join(lines))
    return JsonlStore(path)


@pytest.fixture
def jsonl_path(tmp_path: Path) -> Path:
    """A JSONL log of four good records, closed."""
    path = tmp_path / "ledger.jsonl"
    store = JsonlStore(path, clock=FrozenClock(NOW))
    _fill(store)
    store.close()
    return path


def test_a_good_log_verifies_on_every_backend(store: EventStore) -> None:
    """A log written by the store verifies: every record checked, head as the store says."""
    _fill(store)

    report = verify_store(store)

    assert (report.ok, report.checked, report.problem) == (True, 4, None)
    assert (report.head_position, report.head_hash) == (4, store.head().hash)


def test_an_empty_log_verifies(store: EventStore) -> None:
    """An empty log is a good log with nothing checked."""
    report = verify_store(store)

    assert (report.ok, report.checked, report.head_hash) == (True, 0, GENESIS_HASH)


def test_a_changed_byte_is_named_by_line_and_position(jsonl_path: Path) -> None:
    """A title edited in line 2 fails verification at position 2, naming the line's byte."""
    lines = _lines(jsonl_path)
    lines[1] = lines[1].replace(b"task number 1", b"task number 7")

    report = verify_store(_rewrite(jsonl_path, lines))

    assert report.ok is False
    assert report.problem is not None
    assert report.problem.position == 2
    assert report.problem.where == f"line 2 (byte {_offset_of_line(jsonl_path, 2)})"
    assert "hash" in report.problem.message
    assert report.checked == 1


def test_a_renamed_field_that_decodes_to_the_same_record_is_caught(jsonl_path: Path) -> None:
    """A renamed defaulted member (the line decodes to an equal record) breaks the hash."""
    lines = _lines(jsonl_path)
    lines[2] = lines[2].replace(b'"priority":', b'"priorita":')

    report = verify_store(_rewrite(jsonl_path, lines))

    assert report.problem is not None
    assert (report.ok, report.problem.position) == (False, 3)


def test_a_changed_hash_is_caught(jsonl_path: Path) -> None:
    """A line whose own hash member was edited fails at its position."""
    lines = _lines(jsonl_path)
    lines[3] = lines[3][:-4] + (b"0" if lines[3][-4:-3] != b"0" else b"1") + lines[3][-3:]

    report = verify_store(_rewrite(jsonl_path, lines))

    assert report.problem is not None
    assert (report.ok, report.problem.position) == (False, 4)


def test_a_deleted_line_is_named_by_the_position_that_is_missing(jsonl_path: Path) -> None:
    """With line 2 deleted, verification fails at position 2: line 2 now holds position 3."""
    lines = _lines(jsonl_path)
    del lines[1]

    report = verify_store(_rewrite(jsonl_path, lines))

    assert report.problem is not None
    assert (report.ok, report.problem.position) == (False, 2)
    assert report.problem.where.startswith("line 2 ")
    assert "holds position 3; expected 2" in report.problem.message


def test_swapped_lines_are_caught(jsonl_path: Path) -> None:
    """Lines 2 and 3 swapped fail at position 2."""
    lines = _lines(jsonl_path)
    lines[1], lines[2] = lines[2], lines[1]

    report = verify_store(_rewrite(jsonl_path, lines))

    assert report.problem is not None
    assert (report.ok, report.problem.position) == (False, 2)


def test_a_line_that_does_not_decode_is_named(jsonl_path: Path) -> None:
    """A line cut short (but ending in a newline) does not decode and is named."""
    lines = _lines(jsonl_path)
    lines[2] = lines[2][:40] + b"\n"

    report = verify_store(_rewrite(jsonl_path, lines))

    assert report.problem is not None
    assert (report.ok, report.problem.position) == (False, 3)
    assert "does not decode" in report.problem.message


def test_a_torn_tail_is_a_notice_not_a_failure(jsonl_path: Path) -> None:
    """A last line without its newline is an unacknowledged append: ok, with a notice."""
    lines = _lines(jsonl_path)
    torn = lines[3][:57]

    report = verify_store(_rewrite(jsonl_path, [*lines[:3], torn]))

    assert (report.ok, report.checked, report.head_position) == (True, 3, 3)
    assert len(report.notices) == 1
    assert "torn tail" in report.notices[0]
    assert f"byte {_offset_of_line(jsonl_path, 4)}" in report.notices[0]


# --- hand-made chains: each breaks one invariant and keeps every hash right ---------


def _chain(
    *specs: tuple[str, int, NewEvent, datetime], prev: str = GENESIS_HASH, start: int = 1
) -> list[bytes]:
    """Lines for records sealed as given: (stream, version, event, recorded_at)."""
    lines = []
    for position, (stream, version, new, recorded_at) in enumerate(specs, start=start):
        record, stored = seal(
            new,
            position=position,
            stream=stream,
            version=version,
            recorded_at=recorded_at,
            prev_hash=prev,
        )
        lines.append(stored + b"\n")
        prev = record.hash
    return lines


def _rehashed(record: dict[str, Any]) -> bytes:
    """A stored line for a hand-edited record, its hash recomputed over its new bytes."""
    record.pop("hash")
    body = msgspec.json.encode(record)
    return body[:-1] + b',"hash":"' + hashlib.sha256(body).hexdigest().encode() + b'"}\n'


def test_recorded_at_going_back_is_caught(tmp_path: Path) -> None:
    """A correctly hashed record recorded before the one ahead of it fails verification."""
    lines = _chain(
        ("task-a", 1, _event(0), NOW),
        ("task-a", 2, _event(1), NOW - timedelta(seconds=1)),
    )

    report = verify_store(_rewrite(tmp_path / "l.jsonl", lines))

    assert report.problem is not None
    assert (report.problem.position, report.problem.message) == (2, "recorded_at goes back in time")


def test_a_version_gap_is_caught(tmp_path: Path) -> None:
    """A stream jumping from version 1 to version 3 fails at the jump."""
    lines = _chain(("task-a", 1, _event(0), NOW), ("task-a", 3, _event(1), NOW))

    report = verify_store(_rewrite(tmp_path / "l.jsonl", lines))

    assert report.problem is not None
    assert report.problem.position == 2
    assert "holds version 3 of stream 'task-a'; expected 2" in report.problem.message


def test_a_broken_link_is_caught(tmp_path: Path) -> None:
    """A record whose prev_hash is not the hash before it fails, though its own hash is right."""
    first = _chain(("task-a", 1, _event(0), NOW))
    second = _chain(("task-b", 1, _event(1), NOW), prev="a" * 64, start=2)

    report = verify_store(_rewrite(tmp_path / "l.jsonl", first + second))

    assert report.problem is not None
    assert report.problem.position == 2
    assert "prev_hash" in report.problem.message


def test_a_type_that_does_not_match_the_data_is_caught(tmp_path: Path) -> None:
    """A record whose type member names another event than its data fails."""
    [line] = _chain(("task-a", 1, _event(0), NOW))
    record = msgspec.json.decode(line)
    record["type"] = "released"
    line = _rehashed(record)

    report = verify_store(_rewrite(tmp_path / "l.jsonl", [line]))

    assert report.problem is not None
    assert "type 'released' does not match its data" in report.problem.message


def test_a_record_of_an_older_schema_still_verifies(tmp_path: Path) -> None:
    """A record stored before a defaulted field existed (no "phase" member) verifies."""
    [line] = _chain(("task-a", 1, _event(0), NOW))
    record = msgspec.json.decode(line)
    del record["data"]["phase"]
    old = _rehashed(record)

    report = verify_store(_rewrite(tmp_path / "l.jsonl", [old]))

    assert (report.ok, report.checked) == (True, 1)


def test_released_records_verify(tmp_path: Path) -> None:
    """A hand-made chain of two event types verifies when nothing is broken."""
    released = NewEvent(
        data=Released(task_id="t0", session_id="s", fencing_token=2, reason="completed"),
        occurred_at=NOW,
        actor="s",
    )
    lines = _chain(("task-a", 1, _event(0), NOW), ("task-a", 2, released, NOW))

    assert verify_store(_rewrite(tmp_path / "l.jsonl", lines)).ok


# --- SQLite: the indexed columns must agree with the body -----------------------------


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A SQLite log of four good records, closed."""
    path = tmp_path / "ledger.db"
    store = SqliteStore(path, clock=FrozenClock(NOW))
    _fill(store)
    store.close()
    return path


def _sql(path: Path, statement: str) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(statement)
    db.close()


def _verify_sqlite(path: Path) -> VerifyReport:
    store = SqliteStore(path)
    try:
        return verify_store(store)
    finally:
        store.close()


def test_an_edited_sqlite_body_is_named_by_its_row(sqlite_path: Path) -> None:
    """A body edited in the row at position 3 fails verification there."""
    _sql(
        sqlite_path,
        "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'task number 2',"
        " 'task number 9') AS BLOB) WHERE position = 3",
    )

    report = _verify_sqlite(sqlite_path)

    assert report.problem is not None
    assert (report.problem.position, report.problem.where) == (3, "row with position 3")


def test_a_sqlite_row_indexed_under_another_stream_is_caught(sqlite_path: Path) -> None:
    """A row whose stream column disagrees with its body fails verification."""
    _sql(sqlite_path, "UPDATE events SET stream = 'task-x' WHERE position = 2")

    report = _verify_sqlite(sqlite_path)

    assert report.problem is not None
    assert report.problem.position == 2
    assert "is indexed as 'task-x'" in report.problem.message


def test_a_deleted_sqlite_row_is_named_by_the_missing_position(sqlite_path: Path) -> None:
    """With the row at position 2 deleted, verification fails at position 2."""
    _sql(sqlite_path, "DELETE FROM events WHERE position = 2")

    report = _verify_sqlite(sqlite_path)

    assert report.problem is not None
    assert report.problem.position == 2
    assert "holds position 3; expected 2" in report.problem.message
