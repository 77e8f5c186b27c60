"""The live event hub: one tail of the store, fanned out to every SSE client.

A single background task reads ``store.read_all(after=position)`` whenever an
append in this process wakes it, or a watcher thread blocked in the store's
``wait_for_head`` sees the log grow (appends by other processes and hosts:
PostgreSQL wakes it by NOTIFY, the embedded stores by a cheap poll of the head),
and at least every ``poll_interval`` seconds. While no stream is open the tail
reads nothing, not even the head: the watcher stops polling and an append's wake-up
is dropped; the first stream to open stands the tail at the head again. Records
come from the store, so only committed events are ever sent. Recent frames are
kept in memory; a client resuming from an older position is served from the
store first, in chunks, and then from memory, so it gets every position after
its own exactly once, in order.

Records are checked as they are read (``ledger.store.checked``). When the log
turns out corrupt, the tail stops: every open stream, and every stream opened
afterwards, gets one ``ledger:error`` event carrying the ``LOG_CORRUPT`` problem
(with its position) and ends, rather than waiting forever on a log that cannot
be read past the broken record.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import msgspec

from api.events import sse_frame
from ledger.errors import CorruptLog, LedgerError
from ledger.store.protocol import EventStore

FETCH_LIMIT = 2000
"""Records read per wake-up; more are read on the next turn at once."""
BACKLOG_CHUNK = 1000
"""Records a resuming client reads from the store per turn."""

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class EventHub:
    """Tails one store and streams SSE frames to any number of subscribers."""

    def __init__(
        self,
        store: EventStore,
        *,
        poll_interval: float = 0.25,
        keep: int = 10_000,
        keepalive: float = 15.0,
    ) -> None:
        self.store = store
        self._poll_interval = poll_interval
        self._keep = keep
        self._keepalive = keepalive
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-events")
        self.position = 0
        """The last position read from the store."""
        self._floor = 0
        """Every frame after this position, up to ``position``, is in memory."""
        self._positions: list[int] = []
        self._frames: list[bytes] = []
        self._wake = asyncio.Event()
        self._advanced = asyncio.Event()
        self._closed = False
        self.failure: CorruptLog | None = None
        """Why the tail stopped, if the log turned out corrupt."""
        self.listeners = 0
        """Open streams; with none, the tail reads nothing and builds no frames."""
        self._listening = threading.Event()
        """Set while a stream is open: the watcher polls the head only then."""

    # --- the tail --------------------------------------------------------------

    async def start(self) -> None:
        """Begin at the store's head: earlier events are served from the store on demand."""
        self.position = self._floor = await self._in_thread(self.store.head_position)

    def wake(self) -> None:
        """An append in this process committed: read the store now, if anyone listens."""
        if self.listeners:
            self._wake.set()

    async def run(self) -> None:
        """The tail loop; runs until ``close``."""
        watcher = threading.Thread(
            target=self._watch, args=(asyncio.get_running_loop(),), name="ledger-watch", daemon=True
        )
        watcher.start()
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
            if not self._closed:
                try:
                    await self.fetch()
                except CorruptLog as error:
                    self._fail(error)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake the tail when the log grows, whoever appended: blocks in the store's
        ``wait_for_head`` (PostgreSQL: LISTEN/NOTIFY; embedded stores: a cheap poll)."""
        seen = self.position
        while not self._closed:
            if not self.listeners:
                self._listening.wait(self._poll_interval)
                continue
            try:
                head = self.store.wait_for_head(max(seen, self.position), self._poll_interval)
            except LedgerError:
                time.sleep(self._poll_interval)
                continue
            if head > seen and not self._closed:
                seen = head
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._wake.set)

    async def fetch(self) -> int:
        """Read what is new in the store and hand it to the subscribers (nothing while
        nobody listens)."""
        if not self.listeners:
            return 0
        new = await self._in_thread(self._read_after, self.position, None, FETCH_LIMIT)
        if not new:
            return 0
        for position, frame in new:
            self._positions.append(position)
            self._frames.append(frame)
        self.position = new[-1][0]
        self._trim()
        if len(new) == FETCH_LIMIT:
            self._wake.set()
        self._advanced.set()
        self._advanced = asyncio.Event()
        return len(new)

    def close(self) -> None:
        """End the tail and every open stream."""
        self._closed = True
        self._wake.set()
        self._advanced.set()
        self._listening.set()

    def shutdown(self) -> None:
        self.close()
        self._executor.shutdown(wait=True)

    # --- subscribers -----------------------------------------------------------

    async def default_start(self) -> int:
        """Where a client that names no position starts: the events to come."""
        if not self.listeners:
            await self._skip_to_head()
        return self.position

    async def stream(self, after: int) -> AsyncIterator[bytes]:
        """SSE frames of every record with a position above ``after``, then live ones;
        an error frame last if the log turns out corrupt."""
        if not self.listeners and not self._closed:
            await self._skip_to_head()
        self.listeners += 1
        self._listening.set()
        try:
            async for frame in self._stream(after):
                yield frame
        finally:
            self.listeners -= 1
            if not self.listeners and not self._closed:
                self._listening.clear()

    async def _stream(self, after: int) -> AsyncIterator[bytes]:
        cursor = after
        while not self._closed:
            try:
                frames = await self._frames_after(cursor)
            except CorruptLog as error:
                yield _error_frame(error)
                return
            if frames:
                for position, frame in frames:
                    yield frame
                    cursor = position
                continue
            advanced = self._advanced
            if self.position > cursor:
                continue
            try:
                await asyncio.wait_for(advanced.wait(), self._keepalive)
            except TimeoutError:
                yield b": keepalive\n\n"
        if self.failure is not None:
            yield _error_frame(self.failure)

    def _fail(self, error: CorruptLog) -> None:
        """Stop the tail on a corrupt log; the streams end with the error."""
        log.error("event stream stopped: %s", error)
        self.failure = error
        self.close()

    async def _frames_after(self, cursor: int) -> list[tuple[int, bytes]]:
        if cursor >= self.position:
            return []
        if cursor < self._floor:
            return await self._in_thread(self._read_after, cursor, self._floor, BACKLOG_CHUNK)
        start = bisect.bisect_right(self._positions, cursor)
        return list(zip(self._positions[start:], self._frames[start:], strict=True))

    # --- internals -------------------------------------------------------------

    def _read_after(self, after: int, until: int | None, limit: int) -> list[tuple[int, bytes]]:
        """Frames of the records after ``after``; the records before a corrupt one are
        returned first, and the next read raises its ``CorruptLog``."""
        frames: list[tuple[int, bytes]] = []
        try:
            for record in itertools.islice(self.store.read_all(after=after, until=until), limit):
                frames.append((record.position, sse_frame(record)))
        except CorruptLog:
            if not frames:
                raise
        return frames

    async def _skip_to_head(self) -> None:
        """Nobody listens: forget the frames and stand at the head, reading no records
        (a client that resumes from earlier is served from the store)."""
        head = await self._in_thread(self.store.head_position)
        if head > self.position:
            self.position = self._floor = head
            self._positions.clear()
            self._frames.clear()

    def _trim(self) -> None:
        excess = len(self._positions) - self._keep
        if excess > self._keep // 4:
            self._floor = self._positions[excess - 1]
            del self._positions[:excess]
            del self._frames[:excess]

    async def _in_thread(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Store reads run on the hub's own thread, never on the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))


def _error_frame(error: CorruptLog) -> bytes:
    """The ``ledger:error`` event that ends a stream: the error's seed-002 body."""
    return b"event: ledger:error\ndata: %s\n\n" % msgspec.json.encode(error.body())
