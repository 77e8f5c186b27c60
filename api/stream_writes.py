"""Claims, heartbeats, releases and takeovers driven from the event loop.

Each is a command's steps (``application.steps``). The event loop runs them itself:
it loads and decides on its own thread and submits each append to the store's group
commit (``GroupCommit.submit``), then goes on with other requests while the disk
flushes; the appends that arrive meanwhile join the next commit. The committer hands
the answers of a batch back with one wake-up of the loop. Before, every such
request ran on a pool of writer threads, and each SQLite call of a writer handed the
GIL to the loop and back: about twenty context switches a request, a third of the
server's CPU (ADR 0020).

A store without group commit (JSONL, memory) appends on a writer thread instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar, runtime_checkable

from application.steps import Append, Course, Pause, Steps
from ledger.records import NewEvent, Record
from ledger.store.group import Answer, Outcome
from ledger.store.protocol import EventStore

T = TypeVar("T")


@runtime_checkable
class SubmitsAppends(Protocol):
    """A store whose appends can be queued without waiting (SQLite, PostgreSQL)."""

    def submit(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int, told: Answer
    ) -> None: ...


class StreamWrites:
    """Drives a command's steps on the running event loop."""

    def __init__(self, store: EventStore, writers: ThreadPoolExecutor) -> None:
        self._store = store
        self._submit = store.submit if isinstance(store, SubmitsAppends) else None
        self._writers = writers
        self._settled: list[tuple[asyncio.Future[list[Record]], Outcome]] = []
        """Answers the committer handed over, waiting for the loop to take them."""
        self._settled_lock = threading.Lock()

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
        loop = asyncio.get_running_loop()
        if self._submit is not None:
            future: asyncio.Future[list[Record]] = loop.create_future()
            told = functools.partial(self._told, loop, future)
            self._submit(step.stream, step.events, expected_version=step.expected, told=told)
            return await future
        append = functools.partial(
            self._store.append, step.stream, step.events, expected_version=step.expected
        )
        return await loop.run_in_executor(self._writers, append)

    def _told(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[list[Record]],
        outcome: Outcome,
    ) -> None:
        """On the committer's thread: keep the answer, and wake the loop once for all
        the answers of a batch (the first one kept since the loop last took them)."""
        with self._settled_lock:
            first = not self._settled
            self._settled.append((future, outcome))
        if first:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits them
                loop.call_soon_threadsafe(self._settle)

    def _settle(self) -> None:
        """On the loop: hand every kept answer to its future."""
        with self._settled_lock:
            settled, self._settled = self._settled, []
        for future, outcome in settled:
            if future.cancelled():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
