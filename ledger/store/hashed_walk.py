"""A long walk of the log with its hashing done by a second process.

Every record a store hands out is checked as it is read (``ledger.store.checked``):
its bytes decode, it holds its position, the sha256 of its stored bytes is its
``hash``, and its ``prev_hash`` is the hash of the record before it. In CPython the
sha256 of a record (about 600 bytes) costs as much as decoding it, and ``hashlib``
keeps the GIL for inputs that small, so no thread can take it off the reader.

``walk`` is ``store.read_all`` for the long walks (a rebuild of the projections, the
analytics feed): when at least ``PARALLEL_FROM`` records are to be read, it starts a
helper process that opens the same store from its URL (sent on its stdin), reads the same rows
(``ChainSource.chain_rows``), checks each row's shape (its position, bytes with a
hash member and no newline, the indexed hash beside them) and computes its sha256,
and sends the bytes it hashed, a page at a time, with their digests. This process
decodes those very bytes (never a second read of the file, which could have changed
in between), checks that each record holds its position, that its ``hash`` is the
digest of its bytes and that it chains to the record before it, and yields it. The
checks are those of ``sound_record``, split between the two processes.

The helper only ever makes the walk faster; it never decides what a record is.
Anything unexpected (a row or a page that fails a check, the helper failing to
start, dying or reaching the end) hands the walk back to ``store.read_all`` from
the last record yielded, which reads, checks and reports exactly as without the
helper: a corrupt record is ``CorruptLog`` naming the same position either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import struct
import sys
from collections.abc import Generator, Iterable, Iterator
from hashlib import sha256
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple

import msgspec

from ledger.codec import HASH_MEMBER, HASH_SUFFIX_LEN
from ledger.records import GENESIS_HASH, Record
from ledger.store.protocol import ChainSource, EventStore

PARALLEL_FROM: Final = 100_000
"""Records a walk must have ahead of it before a helper process pays for its start
(a spawned interpreter: about 0.1 to 0.3 s, the time a walk of 30k to 50k takes)."""

DIGEST_SIZE: Final = 32
"""Bytes of a sha256 digest as the helper sends it (the reader compares its hex)."""
PIPE_BYTES: Final = 1 << 20
"""The pipe's capacity asked for (Linux allows a megabyte to any process by default)."""
PAGE_RECORDS: Final = 4096
"""Records the helper sends at once (about 2.5 MB); it works one page ahead."""

if TYPE_CHECKING:
    import subprocess

_HEADER: Final = struct.Struct("!BII")
"""A message of the helper: its kind, the size of its bytes, the size of its digests."""
ANCHOR, PAGE, LAST = 1, 2, 3
"""Kinds: the hash the first record chains to; a page of records; the last page (the
end of the rows, or a row that failed a check: the reader goes on alone from there)."""

_decode_lines = msgspec.json.Decoder(Record).decode_lines


class Page(NamedTuple):
    """Records of a walk, in order, with their stored lines when a helper sent them:
    ``lines`` holds exactly the bytes the records were decoded from and hashed by, one
    record a line, each line ended (``None`` for what ``store.read_all`` read)."""

    records: Iterable[Record]
    lines: bytes | None


class _Request(msgspec.Struct, frozen=True):
    """What the helper is to walk, as it reads it from its stdin."""

    url: str
    after: int
    until: int | None
    page: int


def walk(
    store: EventStore,
    *,
    after: int = 0,
    until: int | None = None,
    parallel_from: int | None = None,
    page: int | None = None,
) -> Iterator[Record]:
    """The checked records after ``after`` up to ``until`` (or the head), as
    ``store.read_all`` gives them; hashed by a helper process when the walk is long.
    (No Python frame is resumed per record: the pages are chained in C.)"""
    pages = walk_pages(store, after=after, until=until, parallel_from=parallel_from, page=page)
    return itertools.chain.from_iterable(map(_records, pages))


def walk_pages(
    store: EventStore,
    *,
    after: int = 0,
    until: int | None = None,
    parallel_from: int | None = None,
    page: int | None = None,
) -> Iterator[Page]:
    """``walk`` a page at a time: the records the helper's pages gave, with their lines,
    then ``store.read_all`` from the last of them on."""
    after = max(after, 0)
    least = PARALLEL_FROM if parallel_from is None else parallel_from
    if isinstance(store, ChainSource) and _long(store, after, until, least):
        size = PAGE_RECORDS if page is None else page
        after = yield from hashed_pages(store, after=after, until=until, page=size)
    yield Page(store.read_all(after=after, until=until), None)


def hashed_pages(
    store: ChainSource, *, after: int, until: int | None, page: int = PAGE_RECORDS
) -> Generator[Page, None, int]:
    """The records after ``after`` that a helper process hashed and this one checked,
    page by page, up to the first that fails a check or the end of the helper's walk;
    returns the position of the last one (``after`` when the helper could not start)."""
    helper = _Helper.start(store.url, after, until, page)
    if helper is None:
        return after
    try:
        return (yield from helper.pages(after))
    finally:
        helper.stop()


_records = itemgetter(0)
"""A ``Page``'s records (``map`` over pages with no Python frame a page)."""


def _long(store: EventStore, after: int, until: int | None, parallel_from: int) -> bool:
    last = store.head_position() if until is None else until
    return last - after >= parallel_from


class _Helper:
    """The helper process (``python -m ledger.store.hashed_walk``) and its pipe."""

    def __init__(self, process: subprocess.Popen[bytes], pages: IO[bytes]) -> None:
        self._process = process
        self._pages = pages

    @classmethod
    def start(cls, url: str, after: int, until: int | None, page: int) -> _Helper | None:
        """The helper, started; ``None`` if it could not be (the walk reads alone)."""
        import subprocess  # not on a hook's path: only a long walk starts a helper

        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
        command = [sys.executable, "-m", __spec__.name if __spec__ else "ledger.store.hashed_walk"]
        # the store's URL (it may hold a password) goes through the helper's stdin,
        # never its command line, which every user of the host can read
        request = _Request(url=url, after=after, until=until, page=page)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
        except OSError:
            return None
        assert process.stdin is not None
        try:
            process.stdin.write(msgspec.json.encode(request))
            process.stdin.close()
        except OSError:
            process.kill()
            process.wait()
            return None
        assert process.stdout is not None
        _widen(process.stdout)
        return cls(process, process.stdout)

    def pages(self, after: int) -> Generator[Page, None, int]:
        """Yield the records of the helper's pages while they pass every check (with
        the page's lines when all of it passed); return the position of the last one
        yielded."""
        anchor = self._receive()
        if anchor is None or anchor[0] != ANCHOR or len(anchor[1]) != 64:
            return after
        prev, expected = anchor[1].decode("ascii", "replace"), after + 1
        while True:
            page = self._receive()
            if page is None:
                return expected - 1
            kind, blob, digests = page
            good = sound_page(blob, digests, expected, prev)
            whole = DIGEST_SIZE * len(good) == len(digests)
            if good:
                yield Page(good, blob + b"\n" if whole else None)
                prev = good[-1].hash
                expected += len(good)
            if kind != PAGE or not whole:
                return expected - 1

    def stop(self) -> None:
        """End the helper (it may be blocked sending a page nobody will read)."""
        self._pages.close()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()

    def _receive(self) -> tuple[int, bytes, bytes] | None:
        """The next message, or ``None`` if the helper ended without one."""
        try:
            head = self._pages.read(_HEADER.size)
            if len(head) != _HEADER.size:
                return None
            kind, blob_size, digests_size = _HEADER.unpack(head)
            blob = self._pages.read(blob_size)
            digests = self._pages.read(digests_size)
        except (OSError, ValueError):
            return None
        if len(blob) != blob_size or len(digests) != digests_size:
            return None
        return kind, blob, digests


def _widen(pipe: IO[bytes]) -> None:
    """Let the pipe hold a megabyte (Linux; 64 KiB by default), so that a page
    crosses it in a few large copies instead of many small ones."""
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if resize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), resize, PIPE_BYTES)


def sound_page(blob: bytes, digests: bytes, expected: int, prev: str) -> list[Record]:
    """The records of a page, up to the first that fails a check: each holds the
    next position, has the digest of its stored bytes as its ``hash``, and chains to
    the one before it (the first to ``prev``). A page that does not decode whole, or
    into as many records as it has digests, gives none."""
    try:
        records = _decode_lines(blob)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return []
    if DIGEST_SIZE * len(records) != len(digests):
        return []
    text = digests.hex()
    positions = list(range(expected, expected + len(records)))
    if (
        "".join([record.hash for record in records]) == text
        and [record.position for record in records] == positions
        and "".join([record.prev_hash for record in records]) == prev + text[:-64]
    ):
        return records
    for index, record in enumerate(records):
        digest = text[64 * index : 64 * index + 64]
        if record.hash != digest or record.position != positions[index] or record.prev_hash != prev:
            return records[:index]
        prev = record.hash
    return records


def hash_rows(url: str, after: int, until: int | None, page: int, out: IO[bytes]) -> None:
    """The helper process: send the anchor's hash, then pages of rows that pass the
    checks a row's bytes allow without decoding them, with their sha256 digests; stop
    at the end or at the first row that fails (the reader takes over from there).
    Any error ends the helper quietly: the reader reads on alone."""
    from ledger.store.factory import open_store

    try:
        store = open_store(url)
    except BaseException:
        return
    try:
        if not isinstance(store, ChainSource):
            return
        rows = iter(store.chain_rows(after=after, until=until))
        anchor = GENESIS_HASH if after == 0 else _anchor_hash(next(rows, None), after)
        if anchor is None:
            return
        _send(out, ANCHOR, anchor.encode("ascii"), b"")
        expected = after + 1
        while True:
            bodies: list[bytes] = []
            digests: list[bytes] = []
            stopped = _hash_page(itertools.islice(rows, page), expected, bodies, digests)
            expected += len(bodies)
            last = stopped or len(bodies) < page
            blob = b"\n".join(bodies)
            _send(out, LAST if last else PAGE, blob, b"".join(digests))
            if last:
                return
    except BaseException:
        return
    finally:
        store.close()


def _send(out: IO[bytes], kind: int, blob: bytes, digests: bytes) -> None:
    out.write(_HEADER.pack(kind, len(blob), len(digests)))
    out.write(blob)
    out.write(digests)
    out.flush()


def _anchor_hash(row: Any, after: int) -> str | None:
    """The hash the first record must chain to: the anchor row's indexed hash."""
    if row is None or row[0] != after or not isinstance(row[1], str) or len(row[1]) != 64:
        return None
    return str(row[1]) if str(row[1]).isascii() else None


def _hash_page(
    rows: Iterator[Any], expected: int, bodies: list[bytes], digests: list[bytes]
) -> bool:
    """Hash the rows into ``bodies`` and ``digests`` (sha256, 32 bytes each) up to
    the first that fails; ``True`` if one failed (or could not be read)."""
    columns: list[object] = []
    stopped = False
    try:
        for position, column, body in rows:
            if position != expected or type(body) is not bytes or b"\n" in body:
                stopped = True
                break
            start = len(body) - HASH_SUFFIX_LEN
            if start < 0 or not (body.startswith(HASH_MEMBER, start) and body.endswith(b'"}')):
                stopped = True
                break
            digest = sha256(body[:start])
            digest.update(b"}")
            bodies.append(body)
            digests.append(digest.digest())
            columns.append(column)
            expected += 1
    except Exception:
        stopped = True
    indexed = _indexed_agree(columns, digests)
    if indexed < len(bodies):
        del bodies[indexed:], digests[indexed:]
        return True
    return stopped


def _indexed_agree(columns: list[object], digests: list[bytes]) -> int:
    """How many rows from the first have an indexed hash (where the store keeps one
    beside the bytes) equal to their digest; compared a page at once."""
    if columns.count(None) == len(columns):  # a store without the column: JSONL
        return len(columns)
    with contextlib.suppress(TypeError):  # a column that is no text
        if "".join(columns) == b"".join(digests).hex():  # type: ignore[arg-type]
            return len(columns)
    for index, (column, digest) in enumerate(zip(columns, digests, strict=True)):
        if column is not None and column != digest.hex():
            return index
    return len(columns)


def main() -> None:
    """``python -m ledger.store.hashed_walk`` with its ``_Request`` (JSON) on stdin: the
    helper, writing its messages on stdout."""
    request = msgspec.json.decode(sys.stdin.buffer.read(), type=_Request)
    hash_rows(request.url, request.after, request.until, request.page, sys.stdout.buffer)


if __name__ == "__main__":
    main()
