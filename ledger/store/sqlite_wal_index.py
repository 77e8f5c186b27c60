"""Whether a SQLite file has had a commit since a moment, told without a query.

In WAL mode every connection to a database file, in every process, shares the
WAL-index (the ``<file>-shm`` file, mapped into memory). It begins with a 48-byte
header that every commit rewrites and that carries ``iChange``, a counter the
committing connection increments once per write transaction; the header is written
twice, the second copy first, and a reader that finds the two copies equal has a
consistent one (SQLite's own readers check it so: https://www.sqlite.org/walformat.html,
"The WAL-Index Header"). The layout is shared by every SQLite version since 3.7.0,
because connections of different versions share one file; its ``iVersion`` says so.

So a copy of the header is a *marker*: while the header still equals a marker taken
before a read, no transaction has committed since, and what that read returned is
still what the file holds. Reading the marker is a copy of 96 bytes from mapped
memory: no system call, no statement, and no release of the GIL (a SQLite call
releases it, and every release is a hand-over between threads under load).

Anything unexpected gives no marker (``None``), and the caller reads the file as
before: no ``-shm`` file (another journal mode, a VFS without shared memory), a header
being rewritten (its copies differ), a header not initialised, another ``iVersion``.

**The file is opened once per process and its descriptors are never closed while it
exists.** SQLite holds POSIX advisory locks on the ``-shm`` file, and POSIX drops all of
a process's locks on a file when *any* descriptor of that file is closed in that process
(https://www.sqlite.org/howtocorrupt.html, section 2.2). Closing ours would drop the
locks of this process's SQLite connections; another process could then take itself for
the file's first user and truncate it under them (measured: a bus error in four
processes sharing a file). So the mappings live in a registry for the life of the process,
one per file, shared by every store on that file. They are let go only once the file is
unlinked: SQLite's last connection deletes it, so nobody can hold locks on it any more.
A store reads its mapping only while its own connections are open; while any connection
is open, SQLite never truncates the file.
"""

from __future__ import annotations

import mmap
import os
import sys
import threading
from pathlib import Path

HEADER_BYTES = 48
"""One copy of the WAL-index header (``WalIndexHdr``)."""
WAL_INDEX_VERSION = 3007000
"""``iVersion`` of the header layout read here."""
_VERSION = WAL_INDEX_VERSION.to_bytes(4, sys.byteorder)
"""The header's integers are in the machine's byte order."""
_CHANGE = slice(8, 12)
_IS_INIT = 12


MAX_FILES = 128
"""Files mapped at once in one process (two descriptors each); past it, no marker."""


class WalIndex:
    """The WAL-index header of one SQLite file, mapped read-only. Make it while a
    connection to the file is open (the ``-shm`` file is then in use and initialised),
    and ``close`` it before the last one is closed."""

    def __init__(self, database: Path) -> None:
        self._map = _mapped(Path(f"{database}-shm"))

    def marker(self) -> bytes | None:
        """The header now, when its two copies agree and it has the expected layout;
        ``None`` when it cannot be trusted (read the file instead)."""
        mapped = self._map
        if mapped is None:
            return None
        try:
            both = mapped[: 2 * HEADER_BYTES]
        except ValueError:  # closed by another thread
            return None
        first = both[:HEADER_BYTES]
        if first != both[HEADER_BYTES:] or not first[_IS_INIT] or first[:4] != _VERSION:
            return None
        return first

    def close(self) -> None:
        """Stop reading the header; the mapping stays in the registry (see above)."""
        self._map = None


def commits_between(before: bytes, after: bytes) -> int:
    """Write transactions committed between two markers (``iChange``'s step, modulo
    2**32); 0 when nothing was committed."""
    start = int.from_bytes(before[_CHANGE], sys.byteorder)
    end = int.from_bytes(after[_CHANGE], sys.byteorder)
    return (end - start) % (1 << 32)


class _Mapped:
    """One ``-shm`` file's descriptors (ours, kept open) and its mapping."""

    __slots__ = ("fds", "mapping")

    def __init__(self, fd: int, mapping: mmap.mmap | None) -> None:
        self.fds = [fd]
        self.mapping = mapping


_registry: dict[tuple[int, int], _Mapped] = {}
_registry_lock = threading.Lock()


def _unlocked_in_child() -> None:
    """A forked child gets a lock of its own: another thread of the parent may have
    held the registry's at the fork, and would never release it in the child."""
    global _registry_lock
    _registry_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_unlocked_in_child)


def _mapped(shm: Path) -> mmap.mmap | None:
    """The mapping of ``shm`` in this process, made on first use."""
    with _registry_lock:
        try:
            known = os.stat(shm)
        except OSError:
            return None
        entry = _registry.get((known.st_dev, known.st_ino))
        if entry is not None:
            return entry.mapping
        _let_go_of_unlinked()
        if len(_registry) >= MAX_FILES:
            return None
        try:
            fd = os.open(shm, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)
        entry = _registry.get(key)
        if entry is not None:  # the file changed between the stat and the open
            entry.fds.append(fd)
            return entry.mapping
        mapping = None
        if opened.st_size >= 2 * HEADER_BYTES:
            try:
                mapping = mmap.mmap(fd, 2 * HEADER_BYTES, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                mapping = None
        _registry[key] = _Mapped(fd, mapping)
        return mapping


def _let_go_of_unlinked() -> None:
    """Close the mappings and descriptors of files no longer linked (call with the
    registry's lock held): SQLite unlinks a ``-shm`` file when its last connection
    closes, so no process holds a lock on it."""
    for key, entry in list(_registry.items()):
        try:
            linked = os.fstat(entry.fds[0]).st_nlink > 0
        except OSError:
            linked = False
        if linked:
            continue
        del _registry[key]
        if entry.mapping is not None:
            entry.mapping.close()
        for fd in entry.fds:
            os.close(fd)
