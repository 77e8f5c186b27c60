"""The threads that call into the service.

Most calls run on a single dedicated thread, in arrival order: the projections
(board, in-flight view, sweeps, claim-next) are not thread-safe. Claims,
heartbeats, releases and takeovers only load, decide and append on their task's
and session's streams, which is safe from several threads (a stale cache is
caught by the append's version check); they run on a pool of ``writers``
threads, so that appends arriving together share one commit in the store
(``ledger.store.group``) instead of each waiting for its own fsync. The event
loop stays free for parsing requests and streaming events while a call waits on
the disk.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from application.service import ClaimService

P = ParamSpec("P")
T = TypeVar("T")


WRITERS = 16
"""Threads for stream writes: how many appends one process can have waiting on a commit."""


class ServiceRunner:
    """Serialises calls into one ``ClaimService`` on one thread; stream writes on several."""

    def __init__(self, service: ClaimService, *, writers: int = WRITERS) -> None:
        self.service = service
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-service")
        self._writers = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="ledger-writer")

    async def call(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` on the service thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    async def call_concurrent(
        self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a stream write (claim, heartbeat, release, takeover) on a writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writers, functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        """Finish queued calls, stop the threads and close the store."""
        self._writers.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        self.service.store.close()
