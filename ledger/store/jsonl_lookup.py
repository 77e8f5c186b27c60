"""The JSONL store's in-memory lookups: the positions of each stream, and the
position of each event id.

Both start from what the persistent index (``ledger.store.jsonl_index``) loaded, as
flat arrays that cost nothing to build, and keep what was indexed since in small
dictionaries on top.
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from typing import Final

POSITION_BITS: Final = 32
"""An id key holds a 32-bit hash of the event id above a 32-bit position."""
MAX_POSITION: Final = (1 << POSITION_BITS) - 1
_POSITION_MASK: Final = MAX_POSITION


def id_hash(event_id: str) -> int:
    """A stable 32-bit hash of an event id (the same in every process)."""
    return zlib.crc32(event_id.encode())


class StreamTable:
    """Stream name to its positions, by version.

    The loaded streams are found by bisection in their sorted names (building a
    dictionary of them would cost more than the rest of an open); streams indexed
    since are kept in a dictionary.
    """

    def __init__(
        self,
        names: list[str] | None = None,
        starts: array[int] | None = None,
        grouped: array[int] | None = None,
    ) -> None:
        self._names = names or []
        self._starts = starts if starts is not None else array("q", [0])
        self._grouped = grouped if grouped is not None else array("q")
        self._added: dict[str, array[int]] = {}

    def count(self, stream: str) -> int:
        """The stream's version: how many records it holds."""
        added = self._added.get(stream)
        return self._loaded_count(stream) + (len(added) if added is not None else 0)

    def positions(self, stream: str, after_version: int = 0) -> list[int]:
        """The positions of the stream's records past ``after_version``."""
        slot = self._slot(stream)
        found = [] if slot is None else self._grouped[self._starts[slot] : self._starts[slot + 1]]
        added = self._added.get(stream)
        every = list(found) + (list(added) if added is not None else [])
        return every[max(after_version, 0) :]

    def add(self, stream: str, position: int) -> None:
        added = self._added.get(stream)
        if added is None:
            self._added[stream] = added = array("q")
        added.append(position)

    def export(self) -> tuple[list[str], array[int], array[int]]:
        """``(names, starts, grouped)``: every stream's positions, one run each."""
        if not self._added:
            return self._names, self._starts, self._grouped
        names = sorted({*self._names, *self._added})
        starts, grouped = array("q", [0]), array("q")
        for name in names:
            grouped.extend(self.positions(name))
            starts.append(len(grouped))
        return names, starts, grouped

    def _loaded_count(self, stream: str) -> int:
        slot = self._slot(stream)
        return 0 if slot is None else self._starts[slot + 1] - self._starts[slot]

    def _slot(self, stream: str) -> int | None:
        names = self._names
        slot = bisect_left(names, stream)
        return slot if slot < len(names) and names[slot] == stream else None


class IdTable:
    """Event id to the position that may hold it.

    The loaded part is one sorted array of keys, each a hash of an id over its
    position; a hash may be shared, so a caller reads the record at each candidate
    and compares its id.
    """

    def __init__(self, keys: array[int] | None = None) -> None:
        self._keys = keys if keys is not None else array("Q")
        self._added: dict[str, int] = {}

    def candidates(self, event_id: str) -> Iterator[int]:
        """Positions whose record may carry ``event_id``."""
        position = self._added.get(event_id)
        if position is not None:
            yield position
        wanted = id_hash(event_id)
        keys = self._keys
        index = bisect_left(keys, wanted << POSITION_BITS)
        while index < len(keys) and keys[index] >> POSITION_BITS == wanted:
            yield keys[index] & _POSITION_MASK
            index += 1

    def add(self, event_id: str, position: int) -> None:
        self._added[event_id] = position

    def export(self) -> array[int]:
        """Every key, sorted."""
        if not self._added:
            return self._keys
        added = [id_hash(event_id) << POSITION_BITS | p for event_id, p in self._added.items()]
        return array("Q", sorted([*self._keys, *added]))
