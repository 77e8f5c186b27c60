"""Run N writer processes that start together and report what they did.

Each writer is a fresh interpreter (``spawn``): it opens its own connection or
file, waits at a barrier until every writer is ready, then works through its
share and reports an ``Outcome``. The throughput of a run is the sum of the
writers' operations over the wall-clock window from the first start to the last
finish (``CLOCK_MONOTONIC`` is shared by every process on the host).
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any

READY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Outcome:
    """What one writer did between the barrier and its last operation."""

    ops: int
    start_ns: int
    end_ns: int
    errors: int = 0
    first_error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RunResult:
    """Every writer's outcome, summed over the common window."""

    writers: int
    ops: int
    seconds: float
    errors: int
    first_error: str | None
    notes: tuple[str, ...]

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0


class Gate:
    """The starting line: ``wait()`` returns when every writer has called it."""

    def __init__(self, barrier: Barrier) -> None:
        self._barrier = barrier

    def wait(self) -> None:
        self._barrier.wait(READY_TIMEOUT_S)

    def abort(self) -> None:
        self._barrier.abort()


Work = Callable[[Any, Gate], Outcome]


def now_ns() -> int:
    return time.monotonic_ns()


def run_writers(work: Work, shares: Sequence[Any]) -> RunResult:
    """Run ``work(share, gate)`` in one fresh process per share; wait for all."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(shares))
    results: multiprocessing.Queue[Outcome] = context.Queue()
    processes = [
        context.Process(target=_child, args=(work, share, barrier, results), daemon=True)
        for share in shares
    ]
    for process in processes:
        process.start()
    outcomes = [_collect(results, processes) for _ in processes]
    for process in processes:
        process.join()
    return _summed(outcomes)


def _child(
    work: Work, share: Any, barrier: Barrier, results: multiprocessing.Queue[Outcome]
) -> None:
    gate = Gate(barrier)
    try:
        outcome = work(share, gate)
    except BaseException as exc:  # report any failure to the parent instead of hanging it
        gate.abort()
        detail = "".join(traceback.format_exception_only(exc)).strip()
        outcome = Outcome(ops=0, start_ns=0, end_ns=0, errors=1, first_error=detail)
    results.put(outcome)


def _collect(
    results: multiprocessing.Queue[Outcome],
    processes: Sequence[multiprocessing.process.BaseProcess],
) -> Outcome:
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                return Outcome(ops=0, start_ns=0, end_ns=0, errors=1, first_error="writer died")


def _summed(outcomes: Sequence[Outcome]) -> RunResult:
    started = [o for o in outcomes if o.end_ns > o.start_ns]
    window = max(o.end_ns for o in started) - min(o.start_ns for o in started) if started else 0
    first_error = next((o.first_error for o in outcomes if o.first_error), None)
    notes = tuple(sorted({o.note for o in outcomes if o.note}))
    return RunResult(
        writers=len(outcomes),
        ops=sum(o.ops for o in outcomes),
        seconds=window / 1e9,
        errors=sum(o.errors for o in outcomes),
        first_error=first_error,
        notes=notes,
    )
