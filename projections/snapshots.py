"""Saved projection states: one file per projection and checkpoint, written atomically.

A snapshot file is one JSON header line and a msgpack payload. The header names
the projection, its schema version, the checkpoint (the last position folded in),
the hash of the ledger record at that position, when that record was recorded,
and the sha256 of the payload. A snapshot is trusted only if all of that checks
out against the code and the log; otherwise it is set aside (renamed
``*.rejected``) with a message, and the projection is rebuilt from the log.

Files are written to a temporary name, fsynced, renamed into place and the
directory fsynced: a crash mid-save leaves the previous snapshot untouched, and
its temporary file behind. The temporary name carries the writer's process id;
once that process is gone the file is a leftover, set aside with a message too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

import msgspec

from ledger.errors import StoreError
from ledger.liveness import process_alive

FORMAT = "claims-projection/1"


class SnapshotHeader(msgspec.Struct, frozen=True, kw_only=True):
    format: str = FORMAT
    name: str
    schema_version: int
    position: int
    head_hash: str
    recorded_at: datetime | None
    saved_at: datetime
    sha256: str
    length: int


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    header: SnapshotHeader
    payload: bytes
    where: str


_header_decoder = msgspec.json.Decoder(SnapshotHeader)


class SnapshotStore(Protocol):
    def save(self, header: SnapshotHeader, payload: bytes) -> None: ...

    def candidates(self, name: str, *, at_most: int | None = None) -> Iterator[Snapshot | str]:
        """This projection's snapshots (at or before position ``at_most``), newest first,
        each read only when reached; a string for one that cannot be read."""
        ...

    def reject(self, snapshot: Snapshot | str, reason: str) -> None:
        """Set a snapshot aside so it is never tried again."""
        ...

    def prune(self, name: str, keep: int) -> None: ...

    def leftovers(self, name: str) -> list[str]:
        """Unfinished saves of this projection whose writer is gone (never trusted)."""
        ...


def make_header(
    *,
    name: str,
    schema_version: int,
    position: int,
    head_hash: str,
    recorded_at: datetime | None,
    saved_at: datetime,
    payload: bytes,
) -> SnapshotHeader:
    return SnapshotHeader(
        name=name,
        schema_version=schema_version,
        position=position,
        head_hash=head_hash,
        recorded_at=recorded_at,
        saved_at=saved_at,
        sha256=hashlib.sha256(payload).hexdigest(),
        length=len(payload),
    )


def payload_intact(snapshot: Snapshot) -> bool:
    header = snapshot.header
    return (
        len(snapshot.payload) == header.length
        and hashlib.sha256(snapshot.payload).hexdigest() == header.sha256
    )


class FileSnapshots:
    """Snapshots as files in one directory beside the ledger."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, header: SnapshotHeader, payload: bytes) -> None:
        """Write, fsync and rename into place; a failed save (a full disk, an I/O error)
        removes its temporary file and raises ``StoreError``."""
        final = self.folder / _file_name(header.name, header.position)
        temporary = self.folder / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(msgspec.json.encode(header) + b"\n")
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            _fsync_dir(self.folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise StoreError(
                f"cannot save the {header.name} snapshot in {self.folder}: {exc.strerror or exc}",
                path=str(final),
            ) from exc

    def candidates(self, name: str, *, at_most: int | None = None) -> Iterator[Snapshot | str]:
        for position, path in self._paths(name):
            if at_most is None or position <= at_most:
                yield self._read(path)

    def reject(self, snapshot: Snapshot | str, reason: str) -> None:
        where = snapshot.where if isinstance(snapshot, Snapshot) else snapshot
        path = Path(where)
        if path.exists():
            path.replace(path.with_name(path.name + ".rejected"))

    def prune(self, name: str, keep: int) -> None:
        for _, stale in self._paths(name)[keep:]:
            stale.unlink(missing_ok=True)

    def leftovers(self, name: str) -> list[str]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob(f".{name}-*.snap.*.tmp")):
            pid = path.name.split(".")[-3]
            if not (pid.isdigit() and process_alive(int(pid))):
                found.append(str(path))
        return found

    def _paths(self, name: str) -> list[tuple[int, Path]]:
        """This projection's snapshot files by the position in their names, newest first."""
        if not self.folder.is_dir():
            return []
        found: list[tuple[int, Path]] = []
        for path in self.folder.glob(f"{name}-*.snap"):
            number = path.stem.rpartition("-")[2]
            if number.isdigit():
                found.append((int(number), path))
        found.sort(reverse=True)
        return found

    def _read(self, path: Path) -> Snapshot | str:
        try:
            with path.open("rb") as handle:
                head = handle.readline()
                payload = handle.read()
            header = _header_decoder.decode(head)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return str(path)
        return Snapshot(header=header, payload=payload, where=str(path))


class MemorySnapshots:
    """Snapshots kept in the process, for the memory store and tests."""

    def __init__(self) -> None:
        self._saved: dict[str, dict[int, Snapshot]] = {}

    def save(self, header: SnapshotHeader, payload: bytes) -> None:
        where = f"memory:{header.name}@{header.position}"
        snapshot = Snapshot(header=header, payload=payload, where=where)
        self._saved.setdefault(header.name, {})[header.position] = snapshot

    def candidates(self, name: str, *, at_most: int | None = None) -> Iterator[Snapshot | str]:
        saved = self._saved.get(name, {})
        chosen = [p for p in sorted(saved, reverse=True) if at_most is None or p <= at_most]
        return iter([saved[position] for position in chosen])

    def reject(self, snapshot: Snapshot | str, reason: str) -> None:
        if isinstance(snapshot, Snapshot):
            self._saved.get(snapshot.header.name, {}).pop(snapshot.header.position, None)

    def prune(self, name: str, keep: int) -> None:
        saved = self._saved.get(name, {})
        for position in sorted(saved, reverse=True)[keep:]:
            del saved[position]

    def leftovers(self, name: str) -> list[str]:
        return []


def _file_name(name: str, position: int) -> str:
    return f"{name}-{position:015d}.snap"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
