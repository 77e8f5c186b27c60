"""The JSONL store: one record a line, in one file, for one host.

Writers take an exclusive ``flock`` on the file, catch their in-memory index up
with whatever other processes appended, write the whole batch with one
``write(2)`` and ``fsync`` before returning. Readers take a shared lock while they
read new bytes, so they never see half a batch.

Every record says how many more records of its append follow it (``more``). A
tail after the last whole batch (a line without its newline, or lines of a batch
whose last record never arrived) was being written when its writer died: it was
never acknowledged (acknowledgement comes after the whole batch and the fsync).
The next writer cuts it away and logs where; readers ignore it. Any other line
that does not decode, breaks the position or version sequence, the hash chain or
a batch, is corruption: every operation refuses with ``CorruptLog`` naming the
line and byte offset.

Opening indexes only what the persistent index beside the log
(``ledger.store.jsonl_index``) does not already cover: the index is trusted up to
its tail when the log still holds that tail's last line where the index says,
and rebuilt from the log when it does not.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import threading
from array import array
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import msgspec

from ledger.clock import Clock, SystemClock
from ledger.codec import decode_stored
from ledger.errors import CorruptLog, InvalidInput, StoreError
from ledger.notices import logger
from ledger.records import NewEvent, Record
from ledger.store.batch import (
    EMPTY_HEAD,
    check_continues,
    check_expected,
    replayed_batch,
    seal_batch,
    validate_batch,
)
from ledger.store.checked import checked_chain, checked_record, link_before
from ledger.store.file_lock import Flock
from ledger.store.jsonl_index import (
    JOURNAL_LIMIT,
    JournalEntry,
    LogStamp,
    Tail,
    append_entry,
    index_path,
    load,
    write_base,
)
from ledger.store.jsonl_lines import line_chunks, line_hash, read_lines
from ledger.store.jsonl_lookup import IdTable, StreamTable
from ledger.store.protocol import Head, RawEntry, head_at
from ledger.store.waiting import poll_head


class _IndexEntry(msgspec.Struct, gc=False):
    position: int
    stream: str
    version: int
    event_id: str
    recorded_at: datetime
    more: int
    prev_hash: str
    hash: str


_index_decoder = msgspec.json.Decoder(_IndexEntry)


class TornTail(msgspec.Struct, frozen=True):
    """An unacknowledged, unfinished append (a partial line, or the first lines of a
    batch whose end never arrived) that a writer cut away."""

    offset: int
    length: int


class JsonlStore:
    """An event store in one append-only JSONL file."""

    def __init__(self, path: str | Path, *, clock: Clock | None = None) -> None:
        self._path = Path(path)
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self.repairs: list[TornTail] = []
        self._path.parent.mkdir(parents=True, exist_ok=True)
        created = not self._path.exists()
        try:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open JSONL store at {self._path}: {exc}") from exc
        if created:
            _fsync_dir(self._path.parent)
        self._index_path = index_path(self._path)
        self._offsets = array("q")  # byte offset of the line at each position - 1
        self._streams = StreamTable()
        self._ids = IdTable()
        self._end = 0  # bytes of complete lines indexed so far
        self._head = EMPTY_HEAD
        self._opened = False  # the persistent index was read (or found unusable)
        self._base_due: tuple[bool, int] | None = None  # (must write, records it held)

    @property
    def url(self) -> str:
        return f"jsonl://{self._path.resolve()}"

    @property
    def path(self) -> Path:
        return self._path

    # --- writing ---------------------------------------------------------------

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int
    ) -> list[Record]:
        validate_batch(stream, events, expected_version)
        with self._lock, Flock(self._fd, fcntl.LOCK_EX):
            self._catch_up(writer=True)
            self._check_head()
            replay = replayed_batch(stream, events, [self._by_id(e.event_id) for e in events])
            if replay is not None:
                return replay
            current = self._streams.count(stream)
            check_expected(stream, expected_version, current)
            sealed = seal_batch(
                stream, events, current_version=current, head=self._head, now=self._clock.now()
            )
            self._write_sealed(sealed)
        return [record for record, _ in sealed]

    def copy_in(self, records: Sequence[tuple[Record, bytes]]) -> None:
        """Store records sealed elsewhere, byte for byte, after the head (``claims import``).
        The chunk must end with a whole batch, or readers would take it for a torn one."""
        if not records:
            return
        if records[-1][0].more:
            raise InvalidInput("a copied chunk must end at the end of an append")
        with self._lock, Flock(self._fd, fcntl.LOCK_EX):
            self._catch_up(writer=True)
            self._check_head()
            check_continues(self._head, records)
            self._write_sealed(records)

    def _write_sealed(self, sealed: Sequence[tuple[Record, bytes]]) -> None:
        """Write sealed records as one durable write and index them (write lock held)."""
        payload = b"".join(raw + b"\n" for _, raw in sealed)
        self._write_durably(payload)
        offset = self._end
        for record, raw in sealed:
            self._index(record.position, record.stream, record.event_id, offset)
            offset += len(raw) + 1
        self._end = offset
        last = sealed[-1][0]
        self._head = head_at(last)
        first = sealed[0][0].position
        entry = JournalEntry(
            first=first,
            offsets=list(self._offsets[first - 1 :]),
            streams=[record.stream for record, _ in sealed],
            ids=[record.event_id for record, _ in sealed],
            tail=self._tail(),
        )
        append_entry(self._index_path, entry)

    def _write_durably(self, payload: bytes) -> None:
        start = self._end
        try:
            view = memoryview(payload)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as exc:
            self._undo_partial_write(start)
            raise StoreError(f"JSONL append failed at {self._path}: {exc}") from exc

    def _undo_partial_write(self, start: int) -> None:
        """Remove what a failed write left, so the batch is all-or-nothing (S1)."""
        try:
            os.ftruncate(self._fd, start)
            os.fsync(self._fd)
        except OSError:
            logger(__name__).exception(
                "could not cut a failed write back to byte %d of %s", start, self._path
            )

    # --- reading ---------------------------------------------------------------

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        with self._lock:
            self._refresh()
            positions = self._streams.positions(stream, after_version)
        return [self._read_checked(position) for position in positions]

    def read_all(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Record]:
        after = max(after, 0)
        records = checked_chain(
            self.chain_rows(after=after, until=until), after=after, where=self._where
        )
        if until_time is None:
            yield from records
            return
        for record in records:
            if record.recorded_at > until_time:
                return
            yield record

    def chain_rows(
        self, *, after: int = 0, until: int | None = None
    ) -> Iterator[tuple[int, str | None, bytes]]:
        """The rows ``read_all`` checks, unchecked (``ChainSource``): each line with
        its position, the anchor at ``after`` first (with the hash it holds)."""
        with self._lock:
            self._refresh()
            count = len(self._offsets)
            after = max(after, 0)
            last = count if until is None else min(until, count)
            if after >= last:
                return iter(())
            start = self._offsets[after - 1] if after else 0
            stop = self._offsets[last] if last < count else self._end
        lines = itertools.chain.from_iterable(line_chunks(self._fd, start, stop))
        rows: Iterator[tuple[int, str | None, bytes]] = zip(
            itertools.count(after + 1), itertools.repeat(None), lines
        )
        if after:
            anchor = next(lines, b"")
            rows = itertools.chain([(after, line_hash(anchor), anchor)], rows)
        return rows

    def position_at(self, when: datetime) -> int:
        """Binary search over the index: ``recorded_at`` never decreases (S7)."""
        with self._lock:
            self._refresh()
            low, high = 0, len(self._offsets)
            while low < high:
                middle = (low + high) // 2
                offset, length = self._span(middle + 1)
                entry = _index_decoder.decode(os.pread(self._fd, length, offset))
                if entry.recorded_at <= when:
                    low = middle + 1
                else:
                    high = middle
            return low

    def stream_version(self, stream: str) -> int:
        with self._lock:
            self._refresh()
            return self._streams.count(stream)

    def head(self) -> Head:
        with self._lock:
            self._refresh()
            return self._head

    def head_position(self) -> int:
        return self.head().position

    def wait_for_head(self, after: int, timeout: float) -> int:
        return poll_head(self.head_position, after, timeout)

    def raw_entries(self) -> Iterator[RawEntry]:
        """Every line as stored, numbered from 1 with its byte offset; a torn tail last."""
        with self._lock, Flock(self._fd, fcntl.LOCK_SH):
            size = os.fstat(self._fd).st_size
        for number, (line, offset, complete) in enumerate(read_lines(self._fd, 0, size), start=1):
            where = f"line {number} (byte {offset})"
            if complete:
                yield RawEntry(where=where, body=line)
            else:
                yield RawEntry(where=f"{where}, no newline: torn tail", body=line, torn=True)

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)

    # --- the index ---------------------------------------------------------------

    def _refresh(self) -> None:
        with Flock(self._fd, fcntl.LOCK_SH):
            self._catch_up(writer=False)

    def _catch_up(self, *, writer: bool) -> None:
        """Index whole batches past ``self._end``; a writer cuts an unfinished one.

        A batch is whole when its last record (``more == 0``) ends with a newline.
        Anything after the last whole batch was being written when its writer died:
        a partial line, or complete lines of a batch whose end never arrived. It was
        never acknowledged, so readers ignore it and the next writer cuts it (S1).
        """
        if not self._opened:
            self._open_index()
        size = os.fstat(self._fd).st_size
        if size < self._end:
            raise CorruptLog(
                f"{self._path} shrank from {self._end} to {size} bytes",
                offset=size,
                position=len(self._offsets),
            )
        batch: list[tuple[_IndexEntry, int]] = []
        for line, offset, complete in read_lines(self._fd, self._end, size):
            if not complete:
                break
            entry = self._checked_entry(line, offset, batch)
            batch.append((entry, offset))
            if entry.more == 0:
                for item, item_offset in batch:
                    self._index(item.position, item.stream, item.event_id, item_offset)
                self._head = Head(
                    position=entry.position, hash=entry.hash, recorded_at=entry.recorded_at
                )
                self._end = offset + len(line) + 1
                batch = []
        if writer and size > self._end:
            self._cut_torn_tail(self._end, size)
        if self._base_due is not None:
            self._save_index(*self._base_due)

    def _open_index(self) -> None:
        """Adopt the persistent index as far as the log still matches it (lock held)."""
        self._opened = True
        loaded = load(self._index_path)
        stamp = LogStamp.of(self._fd)
        if loaded is None or not self._matches(loaded.tail, stamp, loaded.offsets):
            if loaded is not None:
                logger(__name__).warning(
                    "the JSONL index %s does not match its log: rebuilt", self._index_path
                )
            self._base_due = (True, 0)
            return
        tail = loaded.tail
        self._offsets, self._streams, self._ids = loaded.offsets, loaded.streams, loaded.ids
        self._end = tail.end
        if tail.count:
            self._head = Head(position=tail.count, hash=tail.hash, recorded_at=tail.recorded_at)
        self._base_due = (not loaded.complete or loaded.journal > JOURNAL_LIMIT, tail.count)

    def _matches(self, tail: Tail, stamp: LogStamp, offsets: array[int]) -> bool:
        """Whether the log still holds the index's last line where the index says: the
        log is unchanged since, or only grew, and that line has the tail's position and
        hash."""
        if stamp != tail.stamp and (stamp.size <= tail.end or stamp.inode != tail.stamp.inode):
            return False
        if tail.count != len(offsets):
            return False
        if tail.count == 0:
            return tail.end == 0
        start = offsets[-1]
        raw = os.pread(self._fd, tail.end - start, start)
        before = os.pread(self._fd, 1, start - 1) if start else b"\n"
        if before != b"\n" or not raw.endswith(b"\n"):
            return False
        try:
            entry = _index_decoder.decode(raw[:-1])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return False
        return entry.position == tail.count and entry.hash == tail.hash and entry.more == 0

    def _save_index(self, due: bool, loaded: int) -> None:
        """After the first catch-up: write a fresh base when the index was missing,
        unusable, incomplete or long, or the log held records it did not (lock held)."""
        self._base_due = None
        if due or len(self._offsets) > loaded:
            write_base(self._index_path, self._offsets, self._streams, self._ids, self._tail())

    def _tail(self) -> Tail:
        head = self._head
        stamp = LogStamp.of(self._fd)
        return Tail(len(self._offsets), self._end, head.hash, head.recorded_at, stamp)

    def _checked_entry(
        self, line: bytes, offset: int, batch: list[tuple[_IndexEntry, int]]
    ) -> _IndexEntry:
        """Decode a line and check it continues the log: position, version, chain, batch."""
        number = len(self._offsets) + len(batch) + 1
        try:
            entry = _index_decoder.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self._corrupt(number, offset, f"does not decode: {exc}") from exc
        previous = batch[-1][0] if batch else None
        version = self._streams.count(entry.stream) + 1
        version += sum(1 for item, _ in batch if item.stream == entry.stream)
        prev_hash = previous.hash if previous else self._head.hash
        if entry.position != number or entry.version != version:
            raise self._corrupt(
                number,
                offset,
                f"holds position {entry.position} version {entry.version} of"
                f" {entry.stream!r}; expected position {number} version {version}",
            )
        if entry.prev_hash != prev_hash:
            raise self._corrupt(number, offset, "does not chain to the line before it")
        if previous is not None and (
            entry.stream != previous.stream or entry.more != previous.more - 1
        ):
            raise self._corrupt(number, offset, "breaks off the batch before it")
        return entry

    def _corrupt(self, number: int, offset: int, message: str) -> CorruptLog:
        return CorruptLog(
            f"line {number} at byte {offset} of {self._path} {message}",
            line=number,
            offset=offset,
            position=number,
        )

    def _index(self, position: int, stream: str, event_id: str, offset: int) -> None:
        self._offsets.append(offset)
        self._streams.add(stream, position)
        self._ids.add(event_id, position)

    def _cut_torn_tail(self, offset: int, size: int) -> None:
        os.ftruncate(self._fd, offset)
        os.fsync(self._fd)
        self.repairs.append(TornTail(offset=offset, length=size - offset))
        logger(__name__).warning(
            "cut %d bytes of an unacknowledged, unfinished append at byte %d of %s",
            size - offset,
            offset,
            self._path,
        )

    def _span(self, position: int) -> tuple[int, int]:
        start = self._offsets[position - 1]
        stop = self._offsets[position] if position < len(self._offsets) else self._end
        return start, stop - start - 1

    def _by_id(self, event_id: str) -> Record | None:
        for position in self._ids.candidates(event_id):
            record = self._read_record(position)
            if record.event_id == event_id:
                return record
        return None

    def _check_head(self) -> None:
        """The last record matches its hash and chains to the one before it: an
        append never seals onto a broken link (write lock held)."""
        if self._head.position:
            self._read_checked(self._head.position)

    def _read_checked(self, position: int) -> Record:
        """The record at ``position``, checked against its hash and the hash of the
        line before it, read together in one ``pread``."""
        start = self._offsets[position - 2] if position > 1 else self._offsets[0]
        offset, length = self._span(position)
        raw = os.pread(self._fd, offset + length - start, start)
        before = line_hash(raw[: offset - start - 1]) if position > 1 else None
        return checked_record(
            raw[offset - start :],
            position=position,
            where=self._where,
            prev_hash=link_before(position, before) or "",
        )

    def _read_record(self, position: int) -> Record:
        offset, length = self._span(position)
        raw = os.pread(self._fd, length, offset)
        return decode_stored(raw, position=position, where=self._where)

    def _where(self, position: int) -> str:
        offset = self._offsets[position - 1] if position <= len(self._offsets) else self._end
        return f"line {position} (byte {offset}) of {self._path}"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
