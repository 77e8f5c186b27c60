"""Random histories for the projection tests, played through the real service.

A history is a list of ``Step``s: tasks registered or proposed, sessions started
and ended, claims, heartbeats, releases, takeovers, status changes, auto-picks,
sweeps, and time passing on the ledger's frozen clock. ``play`` applies them to a
``ClaimService``; a step the rules refuse is simply refused (it writes nothing),
so every history is a valid log. After each step the caller's ``after`` hook runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec
from hypothesis import strategies as st

from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.commands import Beat, ChangeStatus, Claim, RegisterTask, Release, Takeover
from ledger.errors import LedgerError
from ledger.events import TaskStatus
from ledger.terms import LeaseTerms
from projections.board import Board
from projections.in_flight import InFlightEntry

MINUTE = 60_000
TASKS = ("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7")
REGISTERED_FIRST = TASKS[:5]
"""Tasks every history opens with; the others may be registered or proposed later."""
SESSIONS = ("s0", "s1", "s2")
FINGERPRINTS = (None, "fp-a", "fp-b")
KINDS = (
    *("claim",) * 3,
    *("heartbeat",) * 4,
    *("release",) * 2,
    *("takeover",) * 2,
    *("advance",) * 2,
    "register",
    "propose",
    "start",
    "end",
    "status",
    "next",
    "sweep",
)
"""Step kinds, weighted by repetition: claims and heartbeats dominate, as in real logs."""
STEPS_OF_TIME = (1, 20_000, MINUTE, 4 * MINUTE, 11 * MINUTE, 35 * MINUTE)
"""Short steps, and long ones that pass the stale, orphan and expiry thresholds."""
TTLS = (None, MINUTE, 5 * MINUTE, 30 * MINUTE)
STATUSES: tuple[TaskStatus, ...] = ("todo", "done", "dropped", "blocked")
REASONS = ("completed", "abandoned", "paused")


@dataclass(frozen=True)
class Step:
    """One thing that happens; ``choice`` picks among each kind's variants."""

    kind: str
    task: str
    session: str
    choice: int


steps = st.builds(
    Step,
    kind=st.sampled_from(KINDS),
    task=st.sampled_from(TASKS),
    session=st.sampled_from(SESSIONS),
    choice=st.integers(min_value=0, max_value=5),
)
openings = st.permutations(REGISTERED_FIRST).flatmap(
    lambda order: st.tuples(
        *(
            st.builds(
                Step,
                kind=st.sampled_from(("register", "propose")),
                task=st.just(task),
                session=st.sampled_from(SESSIONS),
                choice=st.integers(min_value=0, max_value=5),
            )
            for task in order
        )
    )
)
histories = st.tuples(openings, st.lists(steps, min_size=10, max_size=50)).map(
    lambda parts: [*parts[0], *parts[1]]
)
"""Five tasks registered or proposed in a random order, then 10 to 50 random steps."""


def play(
    service: ClaimService,
    clock: FrozenClock,
    history: list[Step],
    after: Callable[[Step], None] = lambda step: None,
) -> None:
    """Apply each step to the service (refusals write nothing), calling ``after`` each time."""
    for step in history:
        with contextlib.suppress(LedgerError):
            _perform(service, clock, step)
        after(step)


def _perform(service: ClaimService, clock: FrozenClock, step: Step) -> None:
    task, session, choice = step.task, step.session, step.choice
    match step.kind:
        case "register" | "propose":
            spec = RegisterTask(
                task_id=task,
                title=f"Task {task}",
                roi=float(choice % 3),
                priority=("critical", "high", "medium", "low")[choice % 4],
                fingerprint=FINGERPRINTS[choice % 3],
                phase="build" if choice % 2 else None,
            )
            if step.kind == "register":
                service.register_task(spec)
            else:
                service.propose_task(spec)
        case "start":
            service.start_session(session, agent_type=("cli", "autonomous")[choice % 2])
        case "end":
            service.end_session(session)
        case "claim":
            service.claim(task, _claim(session, choice))
        case "heartbeat":
            service.heartbeat(task, Beat(session_id=_holder(service, task, session, choice)))
        case "release":
            holder = _holder(service, task, session, choice)
            service.release(task, Release(session_id=holder, reason=REASONS[choice % 3]))
        case "takeover":
            force = choice % 2 == 1
            command = Takeover(session_id=session, force=force, reason="stuck", forced_by="ops")
            service.takeover(task, command)
        case "status":
            service.set_status(task, ChangeStatus(status=STATUSES[choice % 4], reason="triage"))
        case "next":
            service.claim_next(Claim(session_id=session))
        case "sweep":
            service.sweep()
        case _:
            clock.advance(ms=STEPS_OF_TIME[choice])


def _claim(session: str, choice: int) -> Claim:
    """A claim with a TTL, and for some choices a tier, scope, constraints and metadata."""
    if choice % 2 == 0:
        return Claim(session_id=session, terms=LeaseTerms(ttl_ms=TTLS[choice % len(TTLS)]))
    return Claim(
        session_id=session,
        terms=LeaseTerms(
            ttl_ms=TTLS[choice % len(TTLS)],
            tier="senior",
            scope=("src/app.py", "docs/"),
            constraints=("no-deploy",),
            metadata={"attempt": choice, "ratio": 0.5, "labels": ["a", "b"], "extra": None},
        ),
    )


def _holder(service: ClaimService, task: str, session: str, choice: int) -> str:
    """Mostly the task's current holder (so heartbeats and releases land), else ``session``."""
    lease = service.task(task).lease
    return lease.session_id if lease is not None and choice > 0 else session


def board_bytes(board: Board) -> bytes:
    """The four projection states, encoded: equal boards are equal byte for byte."""
    return msgspec.msgpack.encode(board.states)


def assert_same_board(actual: Board, expected: Board) -> None:
    """Same position, the same four states by value, and the same bytes."""
    assert actual.position == expected.position
    assert actual.states == expected.states
    assert board_bytes(actual) == board_bytes(expected)


def rebuilt(service: ClaimService, until: int | None = None) -> Board:
    """A fresh board folded from position 0 (up to ``until``)."""
    board = Board()
    board.catch_up(service.store, until=until)
    return board


def live_claims(entries: list[InFlightEntry]) -> list[tuple[str, str, int, str, int]]:
    """What an in-flight answer says, as comparable tuples."""
    return [
        (e.task.task_id, e.lease.session_id, e.lease.fencing_token, e.health, e.remaining_ms)
        for e in entries
    ]


@dataclass(frozen=True)
class Seen:
    """What the live read side answered at one moment of the ledger clock."""

    at: datetime
    position: int
    in_flight: list[tuple[str, str, int, str, int]]
    board: bytes
