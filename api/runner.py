"""One worker thread for every call into the service.

``ClaimService`` caches task and session states in plain dicts and is not
thread-safe, and SQLite serialises writes anyway, so the API runs every service
call on a single dedicated thread, in arrival order. The event loop stays free
for parsing requests and streaming events while a call waits on the disk.
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


class ServiceRunner:
    """Serialises calls into one ``ClaimService`` on one thread."""

    def __init__(self, service: ClaimService) -> None:
        self.service = service
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-service")

    async def call(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func(*args, **kwargs)`` on the service thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        """Finish queued calls, stop the thread and close the store."""
        self._executor.shutdown(wait=True)
        self.service.store.close()
