"""One write at a time, behind the caller: the feeder's DuckDB transaction for a batch
runs on a thread of its own while the next batch is read and folded.

DuckDB releases the GIL while it parses, inserts, merges and commits, so that work and
the Python reading and folding of the next batch use both cores instead of taking turns.
At most one write is in flight: ``submit`` first waits for the one before it (and raises
its error, if it failed), so writes commit in the order they were submitted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class WriteBehind:
    """Runs submitted writes one after another on a single thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-write")
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        """Wait for the write in flight (raising its error), then start ``write``."""
        self.wait()
        self._pending = self._pool.submit(write)

    def wait(self) -> None:
        """Return once no write is in flight; raise the error of the one that was, if
        it failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the write in flight, whatever its outcome, and stop the thread."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()
        self._pool.shutdown(wait=True)
