"""The threads that call into the service.

Most calls run on a single dedicated thread, in arrival order: the projections
(board, in-flight view, sweeps, claim-next) are not thread-safe. Claims,
heartbeats, releases and takeovers only load, decide and append on their task's
and session's streams, which is safe beside those calls (a stale cache is caught
by the append's version check); the event loop drives them itself and submits
their appends to the store's group commit (``api.stream_writes``), so that
appends arriving together share one commit instead of each waiting for its own
fsync, and the loop stays free for parsing requests and streaming events while a
commit waits on the disk. A store without group commit appends on a pool of
``writers`` threads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from api.stream_writes import StreamWrites
from application.service import ClaimService
from application.steps import Steps

P = ParamSpec("P")
T = TypeVar("T")


WRITERS = 16
"""Threads for the appends of a store without group commit (JSONL, memory)."""


class ServiceRunner:
    """Serialises calls into one ``ClaimService`` on one thread; stream writes on several."""

    def __init__(self, service: ClaimService, *, writers: int = WRITERS) -> None:
        self.service = service
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-service")
        self._writers = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="ledger-writer")
        self.streams = StreamWrites(service.store, self._writers)

    async def call(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` on the service thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    async def drive(self, steps: Steps[T]) -> T:
        """Run a stream write's steps (claim, heartbeat, release, takeover) on the loop."""
        return await self.streams.drive(steps)

    def close(self) -> None:
        """Finish queued calls, stop the threads and close the store."""
        self._writers.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self.service.store.close()
