"""Claim, heartbeat and release cycles through ``application.service.ClaimService``.

Each writer process has its own session and its own tasks (registered before the
clock starts, through a separate setup connection). A cycle takes the writer's
next task: claim, heartbeat, release with a reason that is not ``completed`` (so
every operation appends exactly one event). Each operation is one durable append,
so a cycle is three. Every task is claimed once, so its stream stays short
(registered, claimed, heartbeat, released); the service folds it from the store
on the claim and from its per-process cache on the heartbeat and release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from application.bootstrap import wire
from application.service import ClaimService
from bench.procs import Gate, Outcome, now_ns
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.errors import LedgerError
from ledger.store.factory import open_store
from ledger.terms import LeaseTerms

RELEASE_REASON = "paused"
OPS_PER_CYCLE = 3


@dataclass(frozen=True)
class CycleShare:
    """One writer's part: the store it opens and the tasks it cycles through.

    The first ``warmup`` tasks are cycled before the starting line, untimed.
    """

    url: str
    session: str
    tasks: tuple[str, ...]
    warmup: int


def store_url(backend: str, path: Path, synchronous: str = "FULL") -> str:
    """``sqlite:///…`` (with ``?synchronous=normal`` when asked), ``jsonl:///…``, ``memory:``."""
    if backend == "memory":
        return "memory:"
    url = f"{backend}://{path.resolve()}"
    if backend == "sqlite" and synchronous == "NORMAL":
        return url + "?synchronous=normal"
    return url


def prepare(
    backend: str, path: Path, writers: int, cycles: int, warmup: int, synchronous: str
) -> list[CycleShare]:
    """Register every writer's session and tasks; return the writers' shares.

    A memory store lives in its writer's process, which registers them itself.
    """
    url, setup_url = store_url(backend, path, synchronous), store_url(backend, path, "NORMAL")
    return prepare_url(url, writers, cycles, warmup, setup_url=setup_url)


def prepare_url(
    url: str, writers: int, cycles: int, warmup: int, *, setup_url: str | None = None
) -> list[CycleShare]:
    """``prepare`` for a store named by its URL (a PostgreSQL schema, say); the
    sessions and tasks are registered through ``setup_url`` (default: ``url``)."""
    setup_store = open_store(setup_url or url)
    shares = []
    for writer in range(writers):
        session = f"bench-w{writer}"
        tasks = tuple(f"w{writer}-t{index}" for index in range(warmup + cycles))
        if url != "memory:":
            _register(wire(setup_store).service, session, tasks)
        shares.append(CycleShare(url, session, tasks, warmup))
    setup_store.close()
    return shares


def run(share: CycleShare, gate: Gate) -> Outcome:
    """In a writer process: the warm-up cycles, the starting line, the timed cycles."""
    store = open_store(share.url)
    service = wire(store).service
    if share.url == "memory:":
        _register(service, share.session, share.tasks)
    cycles = Cycles(service, share.session)
    cycles.run(share.tasks[: share.warmup])
    gate.wait()
    start = now_ns()
    errors, first_error = cycles.run(share.tasks[share.warmup :])
    end = now_ns()
    store.close()
    ops = OPS_PER_CYCLE * (len(share.tasks) - share.warmup - errors)
    return Outcome(ops=ops, start_ns=start, end_ns=end, errors=errors, first_error=first_error)


class Cycles:
    """A writer's loop: claim, heartbeat and release each task in turn."""

    def __init__(self, service: ClaimService, session: str) -> None:
        self._service = service
        self._claim = Claim(session_id=session, terms=LeaseTerms(agent_type="bench"))
        self._beat = Beat(session_id=session)
        self._release = Release(session_id=session, reason=RELEASE_REASON)

    def run(self, tasks: Sequence[str]) -> tuple[int, str | None]:
        """Claim, heartbeat and release each task; ``(failed cycles, first error)``."""
        errors, first_error = 0, None
        for task in tasks:
            try:
                self._service.claim(task, self._claim)
                self._service.heartbeat(task, self._beat)
                self._service.release(task, self._release)
            except LedgerError as exc:
                errors, first_error = errors + 1, first_error or str(exc)
        return errors, first_error


def _register(service: ClaimService, session: str, tasks: Sequence[str]) -> None:
    service.start_session(session, agent_type="bench")
    service.import_tasks([_spec(task) for task in tasks])


def _spec(task_id: str) -> RegisterTask:
    return RegisterTask(task_id=task_id, title=f"Benchmark task {task_id}", roi=1.0)
