"""The JSONL store's persistent index (``<log>.idx``): a cache that opening trusts only
as far as the log still matches it, rebuilt from the log whenever it does not."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec
import pytest

from ledger.errors import CorruptLog
from ledger.records import Record
from ledger.store import jsonl
from ledger.store.jsonl import JsonlStore
from ledger.store.jsonl_index import index_path, load
from tests.conformance import workers
from tests.conformance.helpers import notes

STREAMS = ("task-a", "task-b", "session-c")


class View(msgspec.Struct, frozen=True):
    """Everything a reader can ask a store, to compare two opens."""

    log: list[Record]
    streams: dict[str, list[Record]]
    versions: dict[str, int]
    head: tuple[int, str]


def _view(path: Path) -> View:
    store = JsonlStore(path)
    try:
        return View(
            log=list(store.read_all()),
            streams={stream: store.read_stream(stream) for stream in STREAMS},
            versions={stream: store.stream_version(stream) for stream in STREAMS},
            head=(store.head().position, store.head().hash),
        )
    finally:
        store.close()


def _write(path: Path, rounds: int, *, first: int = 0) -> None:
    """``rounds`` appends of one to three records to each stream, in one store."""
    store = JsonlStore(path)
    for number in range(rounds):
        for index, stream in enumerate(STREAMS):
            start = first + 10 * (3 * number + index)
            store.append(
                stream,
                notes(1 + (number + index) % 3, first=start),
                expected_version=store.stream_version(stream),
            )
    store.close()


def _without_index(path: Path) -> View:
    index_path(path).unlink(missing_ok=True)
    return _view(path)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.jsonl"
    _write(path, 5)
    return path


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The line numbers the store read from the log to index them, as it reads them."""
    seen: list[int] = []
    checked = JsonlStore._checked_entry

    def counting(self: JsonlStore, line: bytes, offset: int, batch: list[object]) -> object:
        seen.append(offset)
        return checked(self, line, offset, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(JsonlStore, "_checked_entry", counting)
    return seen


def test_opening_writes_an_index_covering_the_whole_log(log_path: Path) -> None:
    """After an open the index beside the log covers every record up to the head."""
    view = _view(log_path)

    loaded = load(index_path(log_path))

    assert loaded is not None
    assert (loaded.tail.count, loaded.tail.hash) == view.head


def test_open_with_the_index_equals_open_without(log_path: Path) -> None:
    """Every read answers the same with the index as after indexing the log from scratch."""
    assert _view(log_path) == _without_index(log_path)


def test_an_open_with_a_current_index_reads_no_line_to_index(
    log_path: Path, scanned: list[int]
) -> None:
    """When the index matches the log, opening indexes nothing from the log."""
    _view(log_path)
    scanned.clear()

    _view(log_path)

    assert scanned == []


def test_appends_from_another_store_are_in_the_index(log_path: Path, scanned: list[int]) -> None:
    """Appends made after the index was written reach it, so the next open reads no line."""
    _write(log_path, 2, first=1000)
    scanned.clear()

    view = _view(log_path)

    assert scanned == []
    assert view == _without_index(log_path)


def test_a_stale_index_is_caught_up_from_the_log_tail(
    log_path: Path, scanned: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records the index missed (their writer died before indexing them) are read from the
    log's tail only, and a fresh index then covers them."""
    before = _view(log_path).head[0]
    with monkeypatch.context() as patched:
        patched.setattr(jsonl, "append_entry", lambda *_: None)
        _write(log_path, 2, first=1000)
    scanned.clear()

    view = _view(log_path)

    assert len(scanned) == view.head[0] - before
    assert view == _without_index(log_path)
    loaded = load(index_path(log_path))
    assert loaded is not None
    assert loaded.tail.count == view.head[0]


@pytest.mark.parametrize("where", [0, 30, -9, -1])
def test_a_corrupt_index_is_rebuilt(log_path: Path, where: int) -> None:
    """A byte changed anywhere in the index makes the next open rebuild it from the log."""
    expected = _view(log_path)
    index = index_path(log_path)
    data = bytearray(index.read_bytes())
    data[where] ^= 0x55
    index.write_bytes(bytes(data))

    assert _view(log_path) == expected
    loaded = load(index_path(log_path))
    assert loaded is not None
    assert loaded.complete


def test_an_index_of_another_log_is_rebuilt(log_path: Path, tmp_path: Path) -> None:
    """An index copied from another ledger does not match this log and is rebuilt."""
    other = tmp_path / "other" / "ledger.jsonl"
    _write(other, 7, first=5000)
    _view(other)
    expected = _without_index(log_path)
    index_path(log_path).write_bytes(index_path(other).read_bytes())

    assert _view(log_path) == expected


def test_an_index_that_outgrew_its_log_is_rebuilt(log_path: Path) -> None:
    """An index covering more than the log holds (the log was replaced by a shorter one)
    is rebuilt, and the shorter log reads as it is."""
    lines = log_path.read_bytes().splitlines(keepends=True)
    _view(log_path)
    log_path.write_bytes(b"".join(lines[:3]))  # three whole appends

    view = _view(log_path)

    assert [record.position for record in view.log] == [1, 2, 3]


def test_a_torn_journal_line_is_ignored_and_rewritten(log_path: Path) -> None:
    """A journal line without its newline (its writer died mid-write) ends what the index
    gives; the rest comes from the log, and the next open writes a whole index."""
    expected = _view(log_path)
    with index_path(log_path).open("ab") as index:
        index.write(b"[99,[1,2")

    assert _view(log_path) == expected
    loaded = load(index_path(log_path))
    assert loaded is not None
    assert loaded.complete
    assert loaded.journal == 0


def test_a_torn_log_tail_is_still_skipped_by_readers_and_cut_by_writers(log_path: Path) -> None:
    """With an index beside it, a half-written line at the log's end is ignored by readers
    and cut by the next writer, as without one."""
    expected = _view(log_path)
    with log_path.open("ab") as log:
        log.write(b'{"position":')

    assert _view(log_path) == expected
    store = JsonlStore(log_path)
    store.append("task-a", notes(1, first=9000), expected_version=expected.versions["task-a"])
    store.close()
    assert len(_view(log_path).log) == len(expected.log) + 1
    assert _view(log_path) == _without_index(log_path)


def test_a_garbage_line_under_a_matching_index_is_reported_when_read(log_path: Path) -> None:
    """The index never hides a corrupt log: a line garbled in place (same length, the log's
    tail intact) is a CorruptLog naming it when a reader reaches it."""
    _view(log_path)
    data = log_path.read_bytes()
    start = data.index(b"\n") + 1
    log_path.write_bytes(data[:start] + b"x" * 10 + data[start + 10 :])

    store = JsonlStore(log_path)
    with pytest.raises(CorruptLog) as caught:
        list(store.read_all())
    store.close()

    assert caught.value.context["position"] == 2


def test_processes_appending_at_once_leave_an_index_equal_to_the_log(tmp_path: Path) -> None:
    """Four processes racing appends keep the index whole: the next open reads no line from
    the log and answers as a fresh index would."""
    path = tmp_path / "ledger.jsonl"
    JsonlStore(path).close()
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(4, mp_context=context) as pool:
        gate = manager.Barrier(4)
        url = f"jsonl://{path}"
        futures = [pool.submit(workers.write_many, url, 25, n, gate) for n in range(4)]
        for future in futures:
            future.result(timeout=120)

    loaded = load(index_path(path))
    store = JsonlStore(path)
    records = list(store.read_all())
    store.close()
    assert loaded is not None
    assert loaded.complete
    assert loaded.tail.count == len(records) == 4 * (25 + 12 + 25)
    index_path(path).unlink()
    store = JsonlStore(path)
    assert list(store.read_all()) == records
    store.close()
