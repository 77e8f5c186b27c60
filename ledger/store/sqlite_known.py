"""What a SQLite store knows of its file while nothing has committed: the head, and
streams' versions, each as of a WAL-index header (ADR 0026).

``Known`` answers ``head()`` and a read of what is new in a stream from memory while the
header (``ledger.store.sqlite_wal_index``) is the one its knowledge is of, and reads the
file otherwise. It learns from reads that no commit overtook, and from the store's own
commits when one was the only transaction across the store's write turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.records import Record
from ledger.store.protocol import Head
from ledger.store.sqlite_wal_index import WalIndex, commits_between
from ledger.store.stream_versions import StreamVersions


class Known:
    """The head and streams' versions of one store, as of a WAL-index header."""

    def __init__(self, wal: WalIndex | None) -> None:
        self._wal = wal
        self._head: tuple[bytes, Head] | None = None
        """The head, and the header with which it is still the head."""
        self._versions = StreamVersions()

    def marker(self) -> bytes | None:
        """The WAL-index header now, or ``None`` when it cannot be trusted."""
        wal = self._wal
        return None if wal is None else wal.marker()

    def head(self, read: Callable[[], Head]) -> Head:
        """The head known at the current header, else ``read()`` (kept with the header
        taken before it: a commit in between changes the header, so the pair is only
        used while nothing has committed since)."""
        marker = self.marker()
        known = self._head
        if known is not None and marker is not None and known[0] == marker:
            return known[1]
        head = read()
        if marker is not None:
            self._head = (marker, head)
        return head

    def stream(
        self, stream: str, after_version: int, read: Callable[[], list[Record]]
    ) -> list[Record]:
        """``[]`` when ``stream`` is known to stand at ``after_version`` at the current
        header, else ``read()``; a read no commit overtook teaches the stream's version."""
        marker = self.marker()
        if marker is not None and self._versions.stands_at(marker, stream, after_version):
            return []
        records = read()
        if marker is not None and self.marker() == marker:
            self._versions.read(marker, stream, records[-1].version if records else after_version)
        return records

    def committed(self, before: bytes | None, head: Head | None, lasts: Sequence[Record]) -> None:
        """After a commit of the store's own, made in its write turn (``before`` taken
        when the turn began): when it stored rows (``head`` is its last) and was the only
        transaction since ``before``, it is the head and ``lasts`` stand last in their
        streams."""
        after = self.marker()
        if head is None or before is None or after is None:
            return
        if after == before:
            # Rows were committed, yet the header did not move: the file mapped is not
            # the one SQLite uses. Read the file from now on.
            self.close()
            return
        if commits_between(before, after) == 1:
            self._head = (after, head)
            self._versions.committed(before, after, lasts)

    def close(self) -> None:
        """Stop answering from the header."""
        wal, self._wal = self._wal, None
        self._head = None
        if wal is not None:
            wal.close()
