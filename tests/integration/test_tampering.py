"""Logs edited on disk: ``verify_store`` names the first bad record, and a reopened JSONL
store refuses a log whose lines no longer follow one another, without touching the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from application.bootstrap import open_ledger
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.errors import CorruptLog
from ledger.store.factory import open_store
from ledger.verify import VerifyReport
from tests.integration.harness import url_for, verify_url

TASKS = 5
TARGET = 3
"""The line (and position) the tests tamper with: task ``t-2``'s registration."""


def _write_log(url: str) -> None:
    """Eight-odd records: five registrations, then a claim, a heartbeat and a release."""
    service = open_ledger(url).service
    for n in range(TASKS):
        service.register_task(RegisterTask(task_id=f"t-{n}", title=f"Task {n}"))
    claim = service.claim("t-0", Claim(session_id="s-1"))
    token = claim.lease.fencing_token
    service.heartbeat("t-0", Beat(session_id="s-1", fencing_token=token))
    service.release("t-0", Release(session_id="s-1", reason="handoff", fencing_token=token))
    service.store.close()


def _foreign_line(tmp_path: Path, position: int) -> bytes:
    """A well-formed record at ``position`` of another ledger."""
    url, path = url_for("jsonl", tmp_path / "elsewhere")
    service = open_ledger(url).service
    for n in range(position):
        service.register_task(RegisterTask(task_id=f"other-{n}", title=f"Other {n}"))
    service.store.close()
    return path.read_bytes().splitlines()[position - 1]


@pytest.fixture
def jsonl_log(tmp_path: Path) -> tuple[str, Path]:
    """A JSONL log whose records are all intact."""
    url, path = url_for("jsonl", tmp_path)
    _write_log(url)
    return url, path


@pytest.fixture
def sqlite_log(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite log whose records are all intact."""
    url, path = url_for("sqlite", tmp_path)
    _write_log(url)
    return url, path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _offset(lines: list[bytes], number: int) -> int:
    """The byte offset of line ``number`` (from 1)."""
    return sum(len(line) for line in lines[: number - 1])


def _names(report: VerifyReport, position: int, where: str) -> bool:
    problem = report.problem
    return problem is not None and problem.position == position and problem.where.startswith(where)


def _reopen_error(url: str) -> CorruptLog:
    """Open the store afresh and read its head; the error it must raise."""
    store = open_store(url)
    try:
        with pytest.raises(CorruptLog) as caught:
            store.head()
    finally:
        store.close()
    return caught.value


def _edit_title(line: bytes) -> bytes:
    return line.replace(b'"title":"Task 2"', b'"title":"Tusk 2"')


def _break_json(line: bytes) -> bytes:
    return line.replace(b'"title":', b'"title"=')


@pytest.mark.parametrize("edit", [_edit_title, _break_json], ids=["content", "syntax"])
def test_verify_names_the_line_of_a_jsonl_record_with_one_byte_changed(
    jsonl_log: tuple[str, Path], edit: Callable[[bytes], bytes]
) -> None:
    """One changed byte inside a JSONL record makes verify name that record's line and position."""
    url, path = jsonl_log
    lines = _lines(path)
    changed = edit(lines[TARGET - 1])
    assert len(changed) == len(lines[TARGET - 1])
    assert changed != lines[TARGET - 1]
    lines[TARGET - 1] = changed
    path.write_bytes(b"".join(lines))

    report = verify_url(url)

    assert not report.ok
    assert _names(report, TARGET, f"line {TARGET} (byte {_offset(lines, TARGET)})")
    assert report.checked == TARGET - 1


def test_verify_names_the_position_of_a_deleted_jsonl_line(jsonl_log: tuple[str, Path]) -> None:
    """A JSONL line removed from the middle makes verify name the missing position."""
    url, path = jsonl_log
    lines = _lines(path)
    del lines[TARGET - 1]
    path.write_bytes(b"".join(lines))

    report = verify_url(url)

    assert not report.ok
    assert _names(report, TARGET, f"line {TARGET} ")
    assert report.problem is not None
    assert "missing or moved" in report.problem.message


def test_verify_names_the_position_of_reordered_jsonl_lines(jsonl_log: tuple[str, Path]) -> None:
    """Two JSONL lines swapped make verify name the first position out of order."""
    url, path = jsonl_log
    lines = _lines(path)
    lines[TARGET - 1], lines[TARGET] = lines[TARGET], lines[TARGET - 1]
    path.write_bytes(b"".join(lines))

    report = verify_url(url)

    assert not report.ok
    assert _names(report, TARGET, f"line {TARGET} ")


@pytest.mark.parametrize("kind", ["record-of-another-ledger", "not-a-record"])
def test_verify_names_the_position_of_an_appended_foreign_line(
    jsonl_log: tuple[str, Path], tmp_path: Path, kind: str
) -> None:
    """A line appended by hand, even a well-formed record of another ledger, is named by verify."""
    url, path = jsonl_log
    lines = _lines(path)
    after = len(lines) + 1
    foreign = _foreign_line(tmp_path, after) if kind == "record-of-another-ledger" else b'{"a":1}'
    path.write_bytes(b"".join(lines) + foreign + b"\n")

    report = verify_url(url)

    assert not report.ok
    assert _names(report, after, f"line {after} (byte {_offset(lines, after)})")


@pytest.mark.parametrize("tamper", ["delete", "reorder"])
def test_reopened_jsonl_store_refuses_lines_out_of_sequence(
    jsonl_log: tuple[str, Path], tamper: str
) -> None:
    """A reopened JSONL store raises CorruptLog naming the first line out of sequence."""
    url, path = jsonl_log
    lines = _lines(path)
    if tamper == "delete":
        del lines[TARGET - 1]
    else:
        lines[TARGET - 1], lines[TARGET] = lines[TARGET], lines[TARGET - 1]
    path.write_bytes(b"".join(lines))

    error = _reopen_error(url)

    assert (error.context["line"], error.context["offset"]) == (TARGET, _offset(lines, TARGET))


def test_reopening_a_jsonl_store_with_a_garbage_middle_line_names_line_and_offset(
    jsonl_log: tuple[str, Path],
) -> None:
    """A garbage line in the middle of a JSONL log raises CorruptLog naming its line and byte."""
    url, path = jsonl_log
    lines = _lines(path)
    lines[TARGET - 1] = b"this is not a record\n"
    path.write_bytes(b"".join(lines))

    error = _reopen_error(url)

    offset = _offset(lines, TARGET)
    assert (error.context["line"], error.context["offset"]) == (TARGET, offset)
    assert f"line {TARGET} at byte {offset}" in str(error)


def test_a_garbage_middle_line_is_never_cut_or_rewritten(jsonl_log: tuple[str, Path]) -> None:
    """Reads, appends and verify over a garbage middle line leave the file's bytes alone."""
    url, path = jsonl_log
    lines = _lines(path)
    lines[TARGET - 1] = b"this is not a record\n"
    path.write_bytes(b"".join(lines))
    before = path.read_bytes()

    service = open_ledger(url).service
    with pytest.raises(CorruptLog):
        service.board()
    with pytest.raises(CorruptLog):
        service.register_task(RegisterTask(task_id="t-new", title="New"))
    with pytest.raises(CorruptLog):
        service.claim("t-1", Claim(session_id="s-2"))
    service.store.close()
    report = verify_url(url)

    assert path.read_bytes() == before
    assert _names(report, TARGET, f"line {TARGET} ")


def test_verify_names_the_position_of_a_sqlite_row_whose_body_was_updated(
    sqlite_log: tuple[str, Path],
) -> None:
    """A SQLite row body changed by one byte through sqlite3 makes verify name its position."""
    url, path = sqlite_log
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM events WHERE position = ?", (TARGET,)).fetchone()
        changed = _edit_title(bytes(body))
        assert len(changed) == len(body)
        assert changed != body
        db.execute("UPDATE events SET body = ? WHERE position = ?", (changed, TARGET))
    db.close()

    report = verify_url(url)

    assert not report.ok
    assert _names(report, TARGET, f"row with position {TARGET}")
    assert report.problem is not None
    assert "edited" in report.problem.message


def test_verify_names_the_position_of_a_deleted_sqlite_row(sqlite_log: tuple[str, Path]) -> None:
    """A SQLite row deleted through sqlite3 makes verify name the missing position."""
    url, path = sqlite_log
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events WHERE position = ?", (TARGET,))
    db.close()

    report = verify_url(url)

    assert not report.ok
    assert _names(report, TARGET, f"row with position {TARGET + 1}")


SQLITE_COLUMN_EDITS = {
    "recorded_us": "UPDATE events SET recorded_us = recorded_us + 3600000000 WHERE position = ?",
    "hash": "UPDATE events SET hash = 'ab' || substr(hash, 3) WHERE position = ?",
    "event_id": "UPDATE events SET event_id = 'forged-id' WHERE position = ?",
    "type": "UPDATE events SET type = 'claimed' WHERE position = ?",
}


@pytest.mark.parametrize("column", sorted(SQLITE_COLUMN_EDITS))
def test_verify_names_the_position_of_a_sqlite_row_whose_indexed_column_was_updated(
    sqlite_log: tuple[str, Path], column: str
) -> None:
    """An indexed SQLite column changed through sqlite3 makes verify name the row's position."""
    url, path = sqlite_log
    with sqlite3.connect(path) as db:
        assert db.execute(SQLITE_COLUMN_EDITS[column], (TARGET,)).rowcount == 1
    db.close()

    report = verify_url(url)

    assert not report.ok
    assert _names(report, TARGET, f"row with position {TARGET}")
    assert report.problem is not None
    assert "indexed" in report.problem.message
