"""Claims, heartbeats, releases and takeovers driven from the event loop.

Each is a command's steps (``application.steps``). The event loop runs them itself:
it loads and decides on its own thread and submits each append to the store's group
commit (``GroupCommit.submit``), then goes on with other requests while the disk
flushes; the appends that arrive meanwhile join the next commit. Before, every such
request ran on a pool of writer threads, and each SQLite call of a writer handed the
GIL to the loop and back: about twenty context switches a request, a third of the
server's CPU (ADR 0020).

A store without group commit (JSONL, memory) appends on a writer thread instead.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, TypeVar, runtime_checkable

from application.steps import Append, Course, Pause, Steps
from ledger.records import NewEvent, Record
from ledger.store.protocol import EventStore

T = TypeVar("T")


@runtime_checkable
class SubmitsAppends(Protocol):
    """A store whose appends can be queued without waiting (SQLite, PostgreSQL)."""

    def submit(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int
    ) -> Future[list[Record]]: ...


class StreamWrites:
    """Drives a command's steps on the running event loop."""

    def __init__(self, store: EventStore, writers: ThreadPoolExecutor) -> None:
        self._store = store
        self._submit = store.submit if isinstance(store, SubmitsAppends) else None
        self._writers = writers

    async def drive(self, steps: Steps[T]) -> T:
        """Run ``steps`` to their end; appends are awaited, never waited on."""
        course = Course(steps)
        while (step := course.next()) is not None:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
                continue
            try:
                course.answer(await self._append(step))
            except Exception as refused:
                course.refuse(refused)
        return course.result

    async def _append(self, step: Append) -> list[Record]:
        if self._submit is not None:
            queued = self._submit(step.stream, step.events, expected_version=step.expected)
            return await asyncio.wrap_future(queued)
        loop = asyncio.get_running_loop()
        append = functools.partial(
            self._store.append, step.stream, step.events, expected_version=step.expected
        )
        return await loop.run_in_executor(self._writers, append)
