"""The in-memory store: a real backend for unit tests and users' own tests."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime

from ledger.clock import Clock, SystemClock
from ledger.records import NewEvent, Record
from ledger.store.batch import (
    EMPTY_HEAD,
    check_continues,
    check_expected,
    replayed_batch,
    seal_batch,
    validate_batch,
)
from ledger.store.protocol import Head, RawEntry, head_at
from ledger.store.waiting import poll_head


class MemoryStore:
    """Keeps records in lists; thread-safe; gone when the process ends."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._records: list[Record] = []
        self._stored: list[bytes] = []
        self._streams: dict[str, list[int]] = {}
        self._ids: dict[str, int] = {}

    @property
    def url(self) -> str:
        return "memory:"

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int
    ) -> list[Record]:
        validate_batch(stream, events, expected_version)
        with self._lock:
            stored = [self._by_id(event.event_id) for event in events]
            replay = replayed_batch(stream, events, stored)
            if replay is not None:
                return replay
            positions = self._streams.get(stream, [])
            check_expected(stream, expected_version, len(positions))
            sealed = seal_batch(
                stream,
                events,
                current_version=len(positions),
                head=self._head(),
                now=self._clock.now(),
            )
            self._keep(sealed)
            return [record for record, _ in sealed]

    def copy_in(self, records: Sequence[tuple[Record, bytes]]) -> None:
        """Store records sealed elsewhere, as they are, after the head (``claims import``)."""
        with self._lock:
            check_continues(self._head(), records)
            self._keep(records)

    def _keep(self, sealed: Sequence[tuple[Record, bytes]]) -> None:
        for record, raw in sealed:
            self._records.append(record)
            self._stored.append(raw)
            self._streams.setdefault(record.stream, []).append(record.position)
            self._ids[record.event_id] = record.position

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        with self._lock:
            positions = self._streams.get(stream, [])[max(after_version, 0) :]
            return [self._records[position - 1] for position in positions]

    def read_all(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Record]:
        with self._lock:
            end = len(self._records) if until is None else min(until, len(self._records))
            chunk = self._records[max(after, 0) : max(end, 0)]
        for record in chunk:
            if until_time is not None and record.recorded_at > until_time:
                return
            yield record

    def position_at(self, when: datetime) -> int:
        with self._lock:
            return bisect.bisect_right(self._records, when, key=lambda r: r.recorded_at)

    def stream_version(self, stream: str) -> int:
        with self._lock:
            return len(self._streams.get(stream, []))

    def head(self) -> Head:
        with self._lock:
            return self._head()

    def head_position(self) -> int:
        with self._lock:
            return len(self._records)

    def wait_for_head(self, after: int, timeout: float) -> int:
        return poll_head(self.head_position, after, timeout)

    def raw_entries(self) -> Iterator[RawEntry]:
        with self._lock:
            stored = list(self._stored)
        for index, body in enumerate(stored, start=1):
            yield RawEntry(where=f"record {index}", body=body)

    def close(self) -> None:
        """Nothing to release; the records stay readable."""

    def _head(self) -> Head:
        if not self._records:
            return EMPTY_HEAD
        last = self._records[-1]
        return head_at(last)

    def _by_id(self, event_id: str) -> Record | None:
        position = self._ids.get(event_id)
        return None if position is None else self._records[position - 1]
