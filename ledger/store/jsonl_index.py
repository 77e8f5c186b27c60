"""The JSONL store's persistent index: a cache beside the log, ``<log>.idx``.

The file holds a base and a journal. The base (a magic line, a JSON header, then
flat arrays: the byte offset of every line, every stream's positions, the sorted id
keys, and the stream names) is written whole to a temporary file and renamed over
the old one. The journal follows it: one JSON line per append, written by the
writer after its append is durable, under the log's exclusive lock.

Both end in a ``Tail``: how many records and bytes of the log they cover, the hash
and time of the last one, and the log's size, modification and change times and
inode just after it was written. The store trusts the index only as far as the log
still matches that tail (see ``JsonlStore``); anything else is rebuilt from the
log, which stays the only source of truth. A base whose checksum fails, or a
journal line that does not decode or does not continue the one before, ends what
is loaded: the store reads the rest from the log and writes a fresh base.
"""

from __future__ import annotations

import os
import sys
import threading
import zlib
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec

from ledger.notices import logger
from ledger.store.jsonl_lookup import MAX_POSITION, IdTable, StreamTable

MAGIC: Final = f"claims-jsonl-index 1 {sys.byteorder}\n".encode()
JOURNAL_LIMIT: Final = 4096
"""Journal lines past which the next open writes a fresh base."""


class LogStamp(msgspec.Struct, frozen=True, array_like=True):
    """The log file as ``fstat`` saw it: any write, truncation or replacement changes it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, fd: int) -> LogStamp:
        stat = os.fstat(fd)
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


class Tail(msgspec.Struct, frozen=True, array_like=True):
    """How far the index reaches into the log, and the log as it was then."""

    count: int
    end: int
    hash: str
    recorded_at: datetime | None
    stamp: LogStamp


class _Header(msgspec.Struct, frozen=True):
    tail: Tail
    streams: int
    names_bytes: int
    checksum: int


class JournalEntry(msgspec.Struct, frozen=True, array_like=True):
    """One append: its first position, and the offset, stream and id of each record."""

    first: int
    offsets: list[int]
    streams: list[str]
    ids: list[str]
    tail: Tail


_header_decoder = msgspec.json.Decoder(_Header)
_entry_decoder = msgspec.json.Decoder(JournalEntry)
_encoder = msgspec.json.Encoder()


@dataclass
class Loaded:
    """What an index file held, ready for the store to adopt."""

    offsets: array[int]
    streams: StreamTable
    ids: IdTable
    tail: Tail
    journal: int
    """Journal lines applied."""
    complete: bool
    """Every journal line was applied (none was torn, garbled or out of sequence)."""


def index_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".idx")


def load(path: Path) -> Loaded | None:
    """The index at ``path``, or ``None`` (and why, logged) when it is missing or unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger(__name__).info("cannot read the JSONL index %s: %s", path, exc)
        return None
    loaded = _base(data)
    if loaded is None:
        logger(__name__).warning(
            "the JSONL index %s is not usable; rebuilding it from the log", path
        )
        return None
    return loaded


def _base(data: bytes) -> Loaded | None:
    if not data.startswith(MAGIC):
        return None
    newline = data.find(b"\n", len(MAGIC))
    try:
        header = _header_decoder.decode(data[len(MAGIC) : newline])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    count = header.tail.count
    sizes = (8 * count, 8 * (header.streams + 1), 8 * count, 8 * count, header.names_bytes)
    start = newline + 1
    view = memoryview(data)
    parts: list[memoryview] = []
    for size in sizes:
        parts.append(view[start : start + size])
        start += size
    if len(parts[-1]) != sizes[-1] or _checksum(parts) != header.checksum:
        return None
    offsets, starts, grouped, keys = (
        _array(code, part) for code, part in zip("qqqQ", parts, strict=False)
    )
    try:
        names = msgspec.json.decode(parts[4], type=list[str])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(names) != header.streams:
        return None
    loaded = Loaded(
        offsets, StreamTable(names, starts, grouped), IdTable(keys), header.tail, 0, True
    )
    _apply_journal(loaded, data[start:])
    return loaded


def _array(code: str, raw: memoryview) -> array[int]:
    found = array(code)
    found.frombytes(raw)
    return found


def _checksum(parts: list[memoryview] | list[bytes]) -> int:
    value = 0
    for part in parts:
        value = zlib.crc32(part, value)
    return value


def _apply_journal(loaded: Loaded, journal: bytes) -> None:
    lines = journal.split(b"\n")
    loaded.complete = lines.pop() == b""  # a line without its newline is torn
    for line in lines:
        try:
            entry = _entry_decoder.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            loaded.complete = False
            return
        if entry.first != loaded.tail.count + 1 or not _consistent(entry):
            loaded.complete = False
            return
        for index, offset in enumerate(entry.offsets):
            position = entry.first + index
            loaded.offsets.append(offset)
            loaded.streams.add(entry.streams[index], position)
            loaded.ids.add(entry.ids[index], position)
        loaded.tail = entry.tail
        loaded.journal += 1


def _consistent(entry: JournalEntry) -> bool:
    records = len(entry.offsets)
    return (
        records > 0
        and len(entry.streams) == records == len(entry.ids)
        and entry.tail.count == entry.first + records - 1
    )


def write_base(
    path: Path, offsets: array[int], streams: StreamTable, ids: IdTable, tail: Tail
) -> None:
    """Write a fresh base with an empty journal, atomically; a failure is logged, not
    raised (the index is a cache)."""
    if tail.count > MAX_POSITION:
        logger(__name__).info("the JSONL log has more records than its index can hold; not indexed")
        return
    names, starts, grouped = streams.export()
    names_raw = _encoder.encode(names)
    parts = [offsets.tobytes(), starts.tobytes(), grouped.tobytes(), ids.export().tobytes()]
    parts.append(names_raw)
    header = _Header(tail, len(names), len(names_raw), _checksum(parts))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(MAGIC + _encoder.encode(header) + b"\n")
            for part in parts:
                handle.write(part)
        temporary.replace(path)
    except OSError as exc:
        logger(__name__).info("cannot write the JSONL index %s: %s", path, exc)
        temporary.unlink(missing_ok=True)


def append_entry(path: Path, entry: JournalEntry) -> None:
    """Add one append to the journal with one ``write``, if the index exists; a
    failure is logged, not raised (the next open reads that append from the log)."""
    line = _encoder.encode(entry) + b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        return
    except OSError as exc:
        logger(__name__).info("cannot open the JSONL index %s: %s", path, exc)
        return
    try:
        os.write(fd, line)
    except OSError as exc:
        logger(__name__).info("cannot add to the JSONL index %s: %s", path, exc)
    finally:
        os.close(fd)
