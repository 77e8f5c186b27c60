"""Random claim histories, made by the real service over a memory store and a
frozen clock: every step is a command a user could give; refused ones write nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import msgspec
from hypothesis import strategies as st

from application.service import ClaimService
from application.testing import memory_service
from ledger.clock import FrozenClock
from ledger.commands import Beat, ChangeStatus, Claim, RegisterTask, Release, Takeover
from ledger.errors import LedgerError
from ledger.events import TaskStatus
from ledger.store.protocol import EventStore
from ledger.terms import LeaseTerms
from tests.conftest import START

MINUTE = 60_000
TASKS = ("t0", "t1", "t2", "t3")
SESSIONS = ("s0", "s1", "s2")
AGENTS = ("cli", "autonomous")
REASONS = ("completed", "paused", "completed", "handoff")
STATUSES: tuple[TaskStatus, ...] = ("todo", "done", "dropped", "blocked")


class Step(msgspec.Struct, frozen=True):
    """One command: its name, its task and session, and a few knobs."""

    name: str
    task: str = TASKS[0]
    session: str = SESSIONS[0]
    ms: int = 0
    choice: int = 0
    flag: bool = False


tasks = st.sampled_from(TASKS)
sessions = st.sampled_from(SESSIONS)
waits = st.sampled_from([0, 1, 999, 30_000, MINUTE, 4 * MINUTE, 6 * MINUTE, 31 * MINUTE])
ttls = st.sampled_from([MINUTE, 5 * MINUTE, 30 * MINUTE])
choices = st.integers(min_value=0, max_value=3)


def _step(name: str, **parts: st.SearchStrategy[object]) -> st.SearchStrategy[Step]:
    return st.builds(Step, name=st.just(name), **parts)


steps = st.one_of(
    _step("wait", ms=waits),
    _step("claim", task=tasks, session=sessions, ms=ttls, choice=choices),
    _step("claim", task=tasks, session=sessions, ms=ttls, choice=choices),
    _step("beat", task=tasks, session=sessions, flag=st.booleans()),
    _step("beat", task=tasks, session=sessions, flag=st.booleans()),
    _step("release", task=tasks, session=sessions, choice=choices, flag=st.booleans()),
    _step("takeover", task=tasks, session=sessions, flag=st.booleans(), choice=choices),
    _step("sweep"),
    _step("end", session=sessions),
    _step("status", task=tasks, session=sessions, choice=choices, flag=st.booleans()),
)
openings = st.tuples(
    *(
        _step("claim", task=st.just(task), session=sessions, ms=ttls, choice=choices)
        for task in TASKS
    )
)
histories = st.builds(
    lambda opening, rest: [*opening, *rest], openings, st.lists(steps, min_size=4, max_size=50)
)
"""Every task claimed once (so that most steps have something to act on), then
random steps."""
finished_histories = histories.map(
    lambda steps: [
        *steps,
        Step("release", task=TASKS[0], choice=0),
        Step("status", task=TASKS[0], choice=STATUSES.index("done")),
    ]
)
"""A history that ends with its first task finished: its holder (if any) releases it
as completed, then its status is set to done (if it is not already)."""


def _claim(service: ClaimService, step: Step) -> None:
    agent = AGENTS[step.choice % len(AGENTS)]
    service.claim(
        step.task,
        Claim(session_id=step.session, terms=LeaseTerms(ttl_ms=step.ms, agent_type=agent)),
    )


def _holder(service: ClaimService, step: Step) -> str:
    """The step's session if its flag is set, else the task's holder (if any)."""
    lease = service.task(step.task).lease
    return step.session if step.flag or lease is None else lease.session_id


def _beat(service: ClaimService, step: Step) -> None:
    service.heartbeat(step.task, Beat(session_id=_holder(service, step)))


def _release(service: ClaimService, step: Step) -> None:
    reason = REASONS[step.choice % len(REASONS)]
    service.release(step.task, Release(session_id=_holder(service, step), reason=reason))


def _takeover(service: ClaimService, step: Step) -> None:
    command = Takeover(
        session_id=step.session,
        force=step.flag,
        reason=REASONS[step.choice % len(REASONS)],
        forced_by="lead" if step.choice % 2 else None,
        terms=LeaseTerms(agent_type=AGENTS[step.choice % len(AGENTS)]),
    )
    service.takeover(step.task, command)


def _status(service: ClaimService, step: Step) -> None:
    status = STATUSES[step.choice % len(STATUSES)]
    session = step.session if step.flag else None
    service.set_status(step.task, ChangeStatus(status=status, session_id=session))


ACTIONS: dict[str, Callable[[ClaimService, Step], object]] = {
    "claim": _claim,
    "beat": _beat,
    "release": _release,
    "takeover": _takeover,
    "sweep": lambda service, step: service.sweep(),
    "end": lambda service, step: service.end_session(step.session),
    "status": _status,
}


def play(steps: Sequence[Step]) -> tuple[EventStore, FrozenClock]:
    """Register the tasks, then run every step; returns the store and the clock."""
    service, clock = memory_service(start=START)
    for task_id in TASKS:
        service.register_task(RegisterTask(task_id=task_id, title=f"Task {task_id}"))
    for step in steps:
        if step.name == "wait":
            clock.advance(ms=step.ms)
            continue
        with contextlib.suppress(LedgerError):
            ACTIONS[step.name](service, step)
    return service.store, clock


def instants(clock_span_minutes: int = 240) -> st.SearchStrategy[datetime | None]:
    """A time near the histories' (or none): ends of windows."""
    offsets = st.integers(min_value=-5, max_value=clock_span_minutes)
    return st.none() | offsets.map(lambda minutes: START + timedelta(minutes=minutes))
