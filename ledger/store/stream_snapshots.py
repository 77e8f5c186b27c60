"""Per-stream snapshots: one stream's folded state at a version, kept beside the log.

A snapshot is a cache, never the truth. It names the stream, the version it was
folded up to, the ``hash`` of the stream's record at that version and the shape
of the state it holds (``schema``). The loader trusts it only when the log still
has a record of that hash at that version (so a truncated, replaced or re-hashed
log is noticed: it folds from the start instead), and only when its ``schema`` is
the code's; then it reads only the records after it.

Storage: one small file per stream in a folder beside a file store
(``ledger.db.streams/``) or in this host's cache for a server store (the same
place as the projection snapshots, ``ledger.store.local``); in memory otherwise.
A file is written to a temporary name and renamed into place without an fsync:
a lost or torn file is only a missing snapshot, and a write never waits on a
writer of the log (a table in the log's database would take its write lock).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol

import msgspec

from ledger.store.local import local_base

FORMAT = "claims-stream/1"


class StreamSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A stream's folded state (``state``, encoded) after the record at ``version``."""

    format: str = FORMAT
    stream: str
    version: int
    hash: str
    """The ``hash`` of the stream's record at ``version``."""
    schema: str
    """The state's shape tag (``application.stream_cache``); another shape is ignored."""
    state: bytes


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(StreamSnapshot)


class StreamSnapshots(Protocol):
    """Where a store's per-stream snapshots are kept."""

    def load(self, stream: str) -> StreamSnapshot | None:
        """The stream's snapshot, ``None`` when there is none or it cannot be read."""
        ...

    def save(self, snapshot: StreamSnapshot) -> None:
        """Keep ``snapshot`` in place of the stream's last one; ``OSError`` when it cannot."""
        ...


class MemoryStreamSnapshots:
    """Snapshots in a dict, for the memory store and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, bytes] = {}

    def load(self, stream: str) -> StreamSnapshot | None:
        with self._lock:
            raw = self._kept.get(stream)
        return None if raw is None else decoded(raw, stream)

    def save(self, snapshot: StreamSnapshot) -> None:
        raw = _encoder.encode(snapshot)
        with self._lock:
            self._kept[snapshot.stream] = raw


class FileStreamSnapshots:
    """One file per stream in ``folder``, named by a digest of the stream's name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._folder = str(folder)

    def load(self, stream: str) -> StreamSnapshot | None:
        # A plain path and ``open``: every command on a stream new to the process looks
        # here first, mostly in vain, and ``pathlib`` doubled the cost of the miss.
        try:
            with open(os.path.join(self._folder, _file_name(stream)), "rb") as file:
                raw = file.read()
        except OSError:
            return None
        return decoded(raw, stream)

    def save(self, snapshot: StreamSnapshot) -> None:
        target = self.path_of(snapshot.stream)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            temporary.write_bytes(_encoder.encode(snapshot))
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(_encoder.encode(snapshot))
        try:
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise

    def path_of(self, stream: str) -> Path:
        return self.folder / _file_name(stream)


def _file_name(stream: str) -> str:
    """A stream's snapshot file: named by a digest, so any stream name is a safe name."""
    return hashlib.sha256(stream.encode()).hexdigest()[:32] + ".snap"


def decoded(raw: bytes, stream: str) -> StreamSnapshot | None:
    """The snapshot in ``raw`` if it decodes, is of this format and of ``stream``."""
    try:
        snapshot = _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if snapshot.format != FORMAT or snapshot.stream != stream:
        return None
    return snapshot


def stream_snapshots_for(store: object) -> StreamSnapshots:
    """Files beside a file store (``<ledger>.streams/``), in this host's cache for a
    server store, else in memory."""
    base = local_base(store)
    if base is None:
        return MemoryStreamSnapshots()
    return FileStreamSnapshots(base.with_name(base.name + ".streams"))
