"""Streams' versions as of a moment of the log, so that a read of what is new can be
answered "nothing" without a query.

A *marker* names a moment of the log: while the store's marker is still the one the
versions were known at, nothing has committed since (on SQLite, the WAL-index header,
``ledger.store.sqlite_wal_index``). A stream known to stand at version ``v`` then still
stands there, and its records after ``v`` are none.

Versions are learnt two ways. A read that no commit overtook (the marker the same
before and after it) gives the stream's version: its last record's, or, when it
returned nothing after ``v``, ``v`` itself (a stream below ``v`` also has nothing after
``v``, so the answer is the same). A commit of the store's own that was the only
transaction since the marker before it gives the version of every stream it wrote. A
marker other than the one known empties what is known: the knowledge is only ever of
one moment.

One race is kept from costing what was known. Another thread may read under the
header a commit of the store's own has just written, before that commit is reported
(``committed``): the read starts the knowledge of the new moment, and what was known
of the moment before is kept aside. When the commit is then reported as the only
transaction from that earlier moment to the new one, both are merged: what stood at
the earlier moment still stands wherever the commit did not write. Under a steady
stream of commits (an API server's committer thread beside its event loop) this race
is the common case, not the exception.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ledger.records import Record

MAX_STREAMS = 65_536
"""Streams remembered at one moment; past it, what is known starts over."""


class StreamVersions:
    """Streams' versions at one marker, shared by a store's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: bytes | None = None
        self._versions: dict[str, int] = {}
        self._earlier: tuple[bytes, dict[str, int]] | None = None
        """The moment known before a read moved on to ``_at``, and what was known at it."""

    def stands_at(self, marker: bytes, stream: str, version: int) -> bool:
        """Whether ``stream`` is known to stand at ``version`` at ``marker``."""
        with self._lock:
            return self._at == marker and self._versions.get(stream) == version

    def read(self, marker: bytes, stream: str, version: int) -> None:
        """A read made entirely at ``marker`` found ``stream`` at ``version``."""
        with self._lock:
            if self._at != marker or len(self._versions) >= MAX_STREAMS:
                known = self._at
                self._earlier = None if known is None else (known, self._versions)
                self._versions = {}
                self._at = marker
            self._versions[stream] = version

    def committed(self, before: bytes, after: bytes, lasts: Sequence[Record]) -> None:
        """The store's own commit was the only transaction between ``before`` and
        ``after``, and inserted ``lasts`` last in their streams. The streams it did not
        write stand where they stood at ``before``, whether that was known as the
        current moment or kept aside by a read made at ``after`` first."""
        with self._lock:
            earlier, self._earlier = self._earlier, None
            if self._at == before:
                versions = self._versions
            elif self._at == after and earlier is not None and earlier[0] == before:
                versions = earlier[1]
                versions.update(self._versions)
            else:
                versions = {}
            if len(versions) >= MAX_STREAMS:
                versions = {}
            self._at = after
            self._versions = versions
            for record in lasts:
                versions[record.stream] = record.version
