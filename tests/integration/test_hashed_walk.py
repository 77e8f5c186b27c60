"""The long walk with its hashing in a helper process (``ledger.store.hashed_walk``),
on every backend whose log another process can open: it yields exactly what
``read_all`` yields, the helper really does the hashing of a sound log, and an
edited, deleted or moved record is ``CorruptLog`` at the same position, with the same
message, as the store's own read."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger.errors import CorruptLog
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.store.hashed_walk import Page, hashed_pages, walk, walk_pages
from ledger.store.memory import MemoryStore
from ledger.store.protocol import ANY, ChainSource, EventStore
from tests import pg_server
from tests.conformance.helpers import note
from tests.integration.test_checked_reads import _delete, _edit, _pg_url

BACKENDS = ("sqlite", "jsonl", "postgresql")
RECORDS = 40
PAGE = 7
"""Records per page of the helper in these tests: several pages, the last one short."""


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """``RECORDS`` records over three streams."""
    url = {
        "sqlite": f"sqlite://{tmp_path / 'ledger.db'}",
        "jsonl": f"jsonl://{tmp_path / 'ledger.jsonl'}",
    }.get(request.param) or pg_server.fresh_url()
    opened = open_store(url)
    for number in range(RECORDS):
        opened.append("abc"[number % 3], [note(number)], expected_version=ANY)
    yield opened
    opened.close()


def _run(walker: Generator[Page, None, int]) -> tuple[list[Record], int]:
    """The records of the pages a generator yields, and the value it returns."""
    records: list[Record] = []
    while True:
        try:
            records.extend(next(walker).records)
        except StopIteration as stop:
            return records, int(stop.value)


def _fresh(store: EventStore) -> EventStore:
    return open_store(_pg_url(store) if store.url.startswith("postgres") else store.url)


def _error(read: Iterator[Record]) -> CorruptLog:
    with pytest.raises(CorruptLog) as caught:
        list(read)
    return caught.value


@pytest.mark.parametrize(("after", "until"), [(0, None), (0, 23), (5, None), (14, 30), (39, None)])
def test_the_walk_yields_what_read_all_yields(
    store: EventStore, after: int, until: int | None
) -> None:
    """From the start or an anchor, to the head or a bound, page by page."""
    expected = list(store.read_all(after=after, until=until))

    walked = list(walk(store, after=after, until=until, parallel_from=1, page=PAGE))

    assert walked == expected
    assert [record.position for record in walked] == list(range(after + 1, (until or RECORDS) + 1))


def test_the_helper_hashes_a_sound_log_to_its_end(store: EventStore) -> None:
    """Every record comes through the helper's pages: nothing is left to read_all."""
    assert isinstance(store, ChainSource)

    records, last = _run(hashed_pages(store, after=10, until=None, page=PAGE))

    assert last == RECORDS
    assert records == list(store.read_all(after=10))


def test_a_helpers_page_carries_the_very_lines_its_records_were_read_from(
    store: EventStore,
) -> None:
    """Each page the helper sent whole has its records' stored lines, in order, one a
    line (what the analytics feed hands to DuckDB instead of encoding the records
    again); the store's own read carries none."""
    pages = list(walk_pages(store, after=4, parallel_from=1, page=PAGE))
    helped, rest = pages[:-1], pages[-1]

    assert [len(list(page.records)) for page in helped] == [7, 7, 7, 7, 7, 1]
    for page in helped:
        assert page.lines is not None
        assert page.lines.endswith(b"\n")
        assert page.lines.splitlines() == [_stored_line(store, record) for record in page.records]
    assert rest.lines is None
    assert list(rest.records) == []


def _stored_line(store: EventStore, record: Record) -> bytes:
    """The record's line as the store keeps it (its raw row or JSONL line)."""
    if store.url.startswith("sqlite"):
        db = sqlite3.connect(store.url.removeprefix("sqlite://"))
        try:
            (body,) = db.execute(
                "SELECT body FROM events WHERE position = ?", (record.position,)
            ).fetchone()
        finally:
            db.close()
        return bytes(body)
    if store.url.startswith("jsonl"):
        lines = Path(store.url.removeprefix("jsonl://")).read_bytes().splitlines()
        return lines[record.position - 1]
    return msgspec.json.encode(record)


def test_a_short_walk_reads_alone(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below ``parallel_from`` records no helper starts."""
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # a helper would fail

    assert list(walk(store, parallel_from=RECORDS + 1)) == list(store.read_all())


def test_a_helper_that_cannot_start_leaves_the_walk_to_read_all(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No interpreter to start: the whole walk is the store's own read."""
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert isinstance(store, ChainSource)

    assert _run(hashed_pages(store, after=0, until=None)) == ([], 0)
    assert list(walk(store, parallel_from=1)) == list(store.read_all())


def test_a_store_no_other_process_can_open_reads_alone() -> None:
    """The memory store is not a ``ChainSource``: ``walk`` is ``read_all``."""
    memory = MemoryStore()
    for number in range(5):
        memory.append("a", [note(number)], expected_version=ANY)

    assert not isinstance(memory, ChainSource)
    assert list(walk(memory, parallel_from=1)) == list(memory.read_all())


def test_an_edited_record_stops_the_helper_before_it_and_read_all_names_it(
    store: EventStore,
) -> None:
    """Record 17 edited behind the store's back: the helper's pages stop at 16, and
    the walk fails as read_all does, at 17, with its message."""
    _edit(store, 17, b"event 16", b"event X!")
    reader = _fresh(store)
    assert isinstance(reader, ChainSource)
    try:
        records, last = _run(hashed_pages(reader, after=0, until=None, page=PAGE))
        assert last == 16
        assert [record.position for record in records] == list(range(1, 17))

        walked = _error(walk(reader, parallel_from=1, page=PAGE))
        direct = _error(reader.read_all())
    finally:
        reader.close()
    assert walked.context["position"] == direct.context["position"] == 17
    assert str(walked) == str(direct)


def test_a_deleted_record_is_reported_where_it_is_missing(store: EventStore) -> None:
    """Record 9 deleted: the walk fails as read_all does, at 9."""
    _delete(store, 9)
    reader = _fresh(store)
    try:
        walked = _error(walk(reader, parallel_from=1, page=PAGE))
        direct = _error(reader.read_all())
    finally:
        reader.close()
    assert walked.context["position"] == direct.context["position"] == 9
    assert str(walked) == str(direct)


def test_a_record_that_no_longer_decodes_is_reported_at_its_position(store: EventStore) -> None:
    """A page the reader cannot decode is left to read_all, which names the record."""
    _edit(store, 30, b'"position":30', b'"position":"x"')
    reader = _fresh(store)
    try:
        walked = _error(walk(reader, after=3, parallel_from=1, page=PAGE))
        direct = _error(reader.read_all(after=3))
    finally:
        reader.close()
    assert walked.context["position"] == direct.context["position"] == 30
    assert str(walked) == str(direct)


def test_a_walk_left_early_stops_its_helper(store: EventStore) -> None:
    """A reader that takes three records and goes leaves no helper behind (the test
    run turns a still-running child into an error)."""
    walker = walk(store, parallel_from=1, page=PAGE)
    first = [next(walker) for _ in range(3)]
    del walker

    assert [record.position for record in first] == [1, 2, 3]


def test_the_store_url_never_reaches_the_helpers_command_line(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL URL may hold a password, and any user of the host can read a
    process's command line: the URL goes through the helper's stdin."""
    commands: list[list[str]] = []
    popen = subprocess.Popen

    def spy(command: list[str], **options: Any) -> Any:
        commands.append(list(command))
        return popen(command, **options)

    monkeypatch.setattr(subprocess, "Popen", spy)
    assert isinstance(store, ChainSource)

    records, last = _run(hashed_pages(store, after=0, until=None, page=PAGE))

    assert last == RECORDS
    assert len(records) == RECORDS
    [command] = commands
    assert not any(store.url in part or "://" in part for part in command)
