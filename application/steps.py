"""A command's writes as steps, so that one body of code serves every kind of caller.

A write command (claim, heartbeat, release, takeover) loads, decides and appends, and
after a lost race loads and decides again. Written as a generator, the command
``yield``s each append it needs (``Append``) and each pause between two attempts
(``Pause``), and is sent back the append's records or has its error raised at the
``yield``. ``run`` drives the steps against a store, waiting on each append: the
library, the CLI and the service thread. The API's event loop drives the same steps
without waiting on the disk (``api.stream_writes``): it submits each append to the
store's group commit and decides other requests' commands while the commit flushes.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from typing import Generic, TypeVar

import msgspec

from ledger.records import NewEvent, Record
from ledger.store.protocol import EventStore

T = TypeVar("T")


class Append(msgspec.Struct, frozen=True, gc=False):
    """Append ``events`` to ``stream`` at version ``expected``; answers its records."""

    stream: str
    events: Sequence[NewEvent]
    expected: int


class Pause(msgspec.Struct, frozen=True, gc=False):
    """Wait ``seconds`` before the next attempt (after a lost race); answers ``None``."""

    seconds: float


Step = Append | Pause
Steps = Generator[Step, list[Record] | None, T]
"""Steps that end with a ``T``: each ``Append`` is answered with its records."""


class Course(Generic[T]):
    """One drive through ``steps``: the next step, given the answer to the last one."""

    def __init__(self, steps: Steps[T]) -> None:
        self._steps = steps
        self._reply: list[Record] | None = None
        self._error: Exception | None = None
        self.result: T

    def next(self) -> Step | None:
        """The next step, or ``None`` once the steps ended (their end in ``result``)."""
        steps, error = self._steps, self._error
        self._reply, reply = None, self._reply
        self._error = None
        try:
            return steps.send(reply) if error is None else steps.throw(error)
        except StopIteration as stop:
            self.result = stop.value
            return None

    def answer(self, records: list[Record] | None) -> None:
        """What the last step came to: an append's records (a pause's ``None``)."""
        self._reply = records

    def refuse(self, error: Exception) -> None:
        """The last step failed with ``error``: raised in the steps at its ``yield``."""
        self._error = error


def run(steps: Steps[T], store: EventStore) -> T:
    """Drive ``steps`` on this thread, waiting on each append."""
    course = Course(steps)
    while (step := course.next()) is not None:
        if isinstance(step, Pause):
            time.sleep(step.seconds)
            continue
        try:
            course.answer(store.append(step.stream, step.events, expected_version=step.expected))
        except Exception as refused:
            course.refuse(refused)
    return course.result


def appended(reply: list[Record] | None) -> list[Record]:
    """The records an ``Append`` step was answered with."""
    assert reply is not None, "an Append step is answered with its records"
    return reply
