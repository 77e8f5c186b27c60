"""A stateful model of the claim service: random claims, heartbeats, releases,
takeovers, sweeps, auto-picks and passing time, checked against a plain dict model.

After every step: at most one live claim per task, and it is the one the model
expects; fencing tokens per task only grow; a board rebuilt from the log equals
what the service reports; the log verifies. Every refused command leaves the log's
head where it was, and is refused with the error the model predicts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from application.bootstrap import wire
from ledger.clock import FrozenClock, to_ms
from ledger.commands import Beat, Claim, RegisterTask, Release, Takeover
from ledger.config import ClaimConfig
from ledger.errors import (
    ClaimExpired,
    InvalidInput,
    InvalidTtl,
    LedgerError,
    NoTaskAvailable,
    NotClaimOwner,
    StaleFencingToken,
    TaskAlreadyClaimed,
    TaskNotClaimable,
    TaskNotClaimed,
)
from ledger.events import TaskStatus
from ledger.store.factory import open_store
from ledger.store.protocol import EventStore
from ledger.terms import LeaseTerms
from ledger.verify import verify_store
from projections.board import PRIORITY_RANK, Board
from tests import pg_server
from tests.conftest import START

MINUTE = 60_000
CONFIG = ClaimConfig(lock_delay=0)
"""The model frees a lapsed lease at once; the lock-delay has its own tests
(tests/unit/test_lock_delay.py)."""
TASKS = ("t0", "t1", "t2", "t3", "t4")
SESSIONS = ("s0", "s1", "s2")
UNCLAIMABLE: tuple[TaskStatus, ...] = ("done", "dropped", "blocked")
FIRST_STATUSES: tuple[TaskStatus, ...] = ("todo", *UNCLAIMABLE)

tasks = st.sampled_from(TASKS)
sessions = st.sampled_from(SESSIONS)
ttls = st.sampled_from([None, MINUTE, 5 * MINUTE, 30 * MINUTE, 120 * MINUTE, MINUTE - 1])
steps_of_time = st.sampled_from([1, 30_000, MINUTE, 5 * MINUTE, 10 * MINUTE, 31 * MINUTE])


@dataclass
class ModelTask:
    """What the model believes about one task."""

    order: int
    roi: float
    priority: str
    fingerprint: str | None
    status: str = "todo"
    version: int = 1
    holder: str | None = None
    token: int = 0
    expires_at: datetime | None = None
    last_beat: datetime | None = None
    ttl: int = 0
    ended_holder: str | None = None
    ended_by: str | None = None

    def live(self, now: datetime) -> bool:
        return self.holder is not None and self.expires_at is not None and now < self.expires_at

    def end_lease(self, by: str) -> None:
        """A Released, Expired or Orphaned event was written."""
        self.version += 1
        self.ended_holder, self.ended_by = self.holder, by
        self.holder = None
        self.expires_at = None
        if self.status == "in_progress":
            self.status = "todo"

    def start_lease(self, session: str, ttl: int, now: datetime) -> int:
        """A Claimed or TakenOver event was written; returns the new fencing token."""
        if self.holder is not None:
            self.ended_holder, self.ended_by = self.holder, "taken_over"
        self.version += 1
        self.holder, self.token, self.ttl = session, self.version, ttl
        self.expires_at, self.last_beat = now + timedelta(milliseconds=ttl), now
        self.status = "in_progress"
        return self.token

    def extend(self, extend_ms: int, now: datetime, *, renewal: bool = False) -> None:
        """A Heartbeat event was written (a renewal also sets the lease's TTL)."""
        self.version += 1
        if renewal:
            self.ttl = extend_ms
        self.expires_at, self.last_beat = now + timedelta(milliseconds=extend_ms), now


class ClaimMachine(RuleBasedStateMachine):
    """Drives a ClaimService; subclasses choose the store."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FrozenClock(START)
        self.store = self.open_store()
        self.service = wire(self.store, clock=self.clock, config=CONFIG, host="model").service
        self.model: dict[str, ModelTask] = {}
        self.highest_token: dict[str, int] = {}

    def open_store(self) -> EventStore:
        raise NotImplementedError

    def teardown(self) -> None:
        self.store.close()

    # --- setup -------------------------------------------------------------------------

    @initialize(
        rois=st.lists(st.sampled_from([0.0, 1.0, 2.5]), min_size=5, max_size=5),
        priorities=st.lists(st.sampled_from(sorted(PRIORITY_RANK)), min_size=5, max_size=5),
        fingerprints=st.lists(st.sampled_from([None, "fp-a", "fp-b"]), min_size=5, max_size=5),
        last_status=st.sampled_from(FIRST_STATUSES),
    )
    def register(
        self,
        rois: list[float],
        priorities: list[str],
        fingerprints: list[str | None],
        last_status: TaskStatus,
    ) -> None:
        """Five tasks (the last may start done, dropped or blocked) and three sessions."""
        for order, task_id in enumerate(TASKS):
            status: TaskStatus = last_status if task_id == TASKS[-1] else "todo"
            spec = RegisterTask(
                task_id=task_id,
                title=f"Task {task_id}",
                roi=rois[order],
                priority=priorities[order],
                fingerprint=fingerprints[order],
                status=status,
            )
            self.service.register_task(spec)
            self.model[task_id] = ModelTask(
                order=order,
                roi=rois[order],
                priority=priorities[order],
                fingerprint=fingerprints[order],
                status=status,
            )
        for session in SESSIONS:
            self.service.start_session(session)

    # --- helpers -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def expect_refusal(self, error: type[LedgerError], action: Callable[[], object]) -> None:
        """Run ``action``; it must raise exactly ``error`` and write nothing."""
        head = self.store.head()
        with pytest.raises(LedgerError) as caught:
            action()
        assert type(caught.value) is error, f"expected {error.__name__}, got {caught.value!r}"
        assert self.store.head() == head

    def new_token(self, task_id: str, token: int) -> None:
        assert token > self.highest_token.get(task_id, 0)
        self.highest_token[task_id] = token

    def claim_refusal(self, task: ModelTask, session: str, ttl: int) -> type[LedgerError] | None:
        if not CONFIG.min_ttl <= ttl <= CONFIG.max_ttl:
            return InvalidTtl
        if task.status in UNCLAIMABLE:
            return TaskNotClaimable
        if task.live(self.now) and task.holder != session:
            return TaskAlreadyClaimed
        return None

    def apply_claim(self, task_id: str, session: str, ttl: int) -> tuple[int, bool]:
        """The model's claim: (fencing token, renewed)."""
        task = self.model[task_id]
        if task.live(self.now):
            task.extend(ttl, self.now, renewal=True)
            return task.token, True
        if task.holder is not None:
            task.end_lease("expired")
        token = task.start_lease(session, ttl, self.now)
        self.new_token(task_id, token)
        return token, False

    def owner_refusal(
        self, task: ModelTask, session: str, token: int | None
    ) -> type[LedgerError] | None:
        if task.holder is None:
            lapsed = task.ended_by in ("expired", "orphaned")
            return ClaimExpired if task.ended_holder == session and lapsed else TaskNotClaimed
        if task.holder != session:
            return NotClaimOwner
        if token is not None and token != task.token:
            return StaleFencingToken
        if not task.live(self.now):
            return ClaimExpired
        return None

    # --- rules ---------------------------------------------------------------------------

    @rule(task_id=tasks, session=sessions, ttl=ttls)
    def claim(self, task_id: str, session: str, ttl: int | None) -> None:
        """Claim a task (or renew one's own claim)."""
        task = self.model[task_id]
        ttl_ms = CONFIG.default_ttl if ttl is None else ttl
        command = Claim(session_id=session, terms=LeaseTerms(ttl_ms=ttl))
        refusal = self.claim_refusal(task, session, ttl_ms)
        if refusal is not None:
            self.expect_refusal(refusal, lambda: self.service.claim(task_id, command))
            return
        result = self.service.claim(task_id, command)
        token, renewed = self.apply_claim(task_id, session, ttl_ms)
        assert (result.lease.fencing_token, result.renewed) == (token, renewed)

    @rule(task_id=tasks, session=sessions, which=st.sampled_from(["none", "current", "old"]))
    def heartbeat(self, task_id: str, session: str, which: str) -> None:
        """Heartbeat, with no token, the current one, or the one before it."""
        task = self.model[task_id]
        token = {"none": None, "current": task.token, "old": task.token - 1}[which]
        command = Beat(session_id=session, fencing_token=token)
        refusal = self.owner_refusal(task, session, token)
        if refusal is not None:
            self.expect_refusal(refusal, lambda: self.service.heartbeat(task_id, command))
            return
        result = self.service.heartbeat(task_id, command)
        task.extend(task.ttl, self.now)
        assert (result.lease.expires_at, result.lease.fencing_token) == (
            task.expires_at,
            task.token,
        )

    @rule(task_id=tasks, session=sessions, reason=st.sampled_from(["completed", "abandoned"]))
    def release(self, task_id: str, session: str, reason: str) -> None:
        """Release a claim; 'completed' finishes the task."""
        task = self.model[task_id]
        command = Release(session_id=session, reason=reason)
        refusal = self.owner_refusal(task, session, None)
        if refusal is not None:
            self.expect_refusal(refusal, lambda: self.service.release(task_id, command))
            return
        result = self.service.release(task_id, command)
        task.end_lease("released")
        if reason == "completed":
            task.version += 1
            task.status = "done"
        assert result.task.status == task.status

    @rule(
        task_id=tasks,
        session=sessions,
        force=st.booleans(),
        reason=st.sampled_from([None, "agent is stuck"]),
    )
    def takeover(self, task_id: str, session: str, force: bool, reason: str | None) -> None:
        """Take a claim over, by force or after expiry."""
        task = self.model[task_id]
        command = Takeover(session_id=session, force=force, reason=reason, forced_by="ops")
        live = task.live(self.now)
        refusal: type[LedgerError] | None = None
        if task.status in UNCLAIMABLE:
            refusal = TaskNotClaimable
        elif task.holder is None:
            refusal = TaskNotClaimed
        elif live and task.holder != session and not force:
            refusal = TaskAlreadyClaimed
        elif live and task.holder != session and reason is None:
            refusal = InvalidInput
        if refusal is not None:
            self.expect_refusal(refusal, lambda: self.service.takeover(task_id, command))
            return
        result = self.service.takeover(task_id, command)
        if live and task.holder == session:
            task.extend(CONFIG.default_ttl, self.now, renewal=True)
            assert result.lease.fencing_token == task.token
            return
        if not live:
            task.end_lease("expired")
        token = task.start_lease(session, CONFIG.default_ttl, self.now)
        self.new_token(task_id, token)
        assert (result.lease.fencing_token, result.forced) == (token, live)

    @rule(session=sessions)
    def claim_next(self, session: str) -> None:
        """Auto-pick: the best claimable task, skipping fingerprints in progress."""
        now = self.now
        busy = {t.fingerprint for t in self.model.values() if t.fingerprint and t.live(now)}
        candidates = sorted(
            (
                task_id
                for task_id, task in self.model.items()
                if task.status in ("todo", "in_progress")
                and not task.live(now)
                and task.fingerprint not in busy
            ),
            key=lambda t: (
                -self.model[t].roi,
                PRIORITY_RANK[self.model[t].priority],
                self.model[t].order,
            ),
        )
        command = Claim(session_id=session)
        if not candidates:
            self.expect_refusal(NoTaskAvailable, lambda: self.service.claim_next(command))
            return
        result = self.service.claim_next(command)
        token, _ = self.apply_claim(candidates[0], session, CONFIG.default_ttl)
        assert (result.task.task_id, result.lease.fencing_token) == (candidates[0], token)

    @rule(ms=steps_of_time)
    def advance(self, ms: int) -> None:
        """Let time pass."""
        self.clock.advance(ms=ms)

    @rule()
    def sweep(self) -> None:
        """Record expiries; orphan claims silent longer than the orphan threshold."""
        now = self.now
        expired, orphaned = [], []
        for task_id in sorted(self.model):
            task = self.model[task_id]
            if task.holder is None:
                continue
            if not task.live(now):
                expired.append(task_id)
                task.end_lease("expired")
            elif task.last_beat is not None and to_ms(now - task.last_beat) > (
                CONFIG.orphan_threshold
            ):
                orphaned.append((task_id, task.holder, "heartbeat_timeout"))
                task.end_lease("orphaned")
        result = self.service.sweep()
        assert (result.expired, result.orphaned) == (expired, orphaned)

    @rule(session=sessions)
    def end_session(self, session: str) -> None:
        """End a session: its live claims are orphaned, its lapsed ones recorded expired."""
        live, held = [], []
        for task_id in sorted(self.model):
            task = self.model[task_id]
            if task.holder == session:
                held.append(task_id)
                if task.live(self.now):
                    live.append(task_id)
                task.end_lease("orphaned" if task.live(self.now) else "expired")
        _, orphaned = self.service.end_session(session)
        assert set(live) <= set(orphaned) <= set(held)

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def one_live_claim_per_task_and_it_is_the_models(self) -> None:
        """At most one live claim per task, held by the session with the token the model says."""
        flight = self.service.in_flight()
        live = [(e.task.task_id, e.lease.session_id, e.lease.fencing_token) for e in flight.entries]
        expected = [
            (task_id, task.holder, task.token)
            for task_id, task in sorted(self.model.items())
            if task.live(self.now)
        ]
        assert sorted(live) == expected
        assert len({task_id for task_id, _, _ in live}) == len(live)

    @invariant()
    def tokens_only_grow(self) -> None:
        """Every task's current lease carries the highest token it was ever given."""
        for task_id in TASKS:
            lease = self.service.task(task_id).lease
            if lease is not None:
                assert lease.fencing_token == self.highest_token[task_id]

    @invariant()
    def a_rebuilt_board_equals_the_service(self) -> None:
        """A board folded from position 0 holds the task states the service reports."""
        board = Board()
        board.catch_up(self.store)
        for task_id in TASKS:
            state = self.service.task(task_id)
            assert board.tasks[task_id] == state
            assert (state.status, state.version) == (
                self.model[task_id].status,
                self.model[task_id].version,
            )

    @invariant()
    def the_log_verifies(self) -> None:
        """verify_store passes over the whole log."""
        report = verify_store(self.store)
        assert report.ok, report.problem


MEMORY_SETTINGS = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SQLITE_SETTINGS = settings(MEMORY_SETTINGS, max_examples=60)


class MemoryMachine(ClaimMachine):
    def open_store(self) -> EventStore:
        return open_store("memory:", clock=self.clock)


class SqliteMachine(ClaimMachine):
    def open_store(self) -> EventStore:
        self.folder = Path(tempfile.mkdtemp(prefix="claim-machine-"))
        return open_store(f"sqlite://{self.folder / 'ledger.db'}", clock=self.clock)

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.folder)


TestClaimServiceOnMemory = MemoryMachine.TestCase
TestClaimServiceOnMemory.settings = MEMORY_SETTINGS
TestClaimServiceOnSqlite = SqliteMachine.TestCase
TestClaimServiceOnSqlite.settings = SQLITE_SETTINGS


class PostgresMachine(ClaimMachine):
    """The same machine on the real PostgreSQL server, a fresh schema per example."""

    def open_store(self) -> EventStore:
        return open_store(pg_server.fresh_url(), clock=self.clock)


TestClaimServiceOnPostgres = PostgresMachine.TestCase
TestClaimServiceOnPostgres.settings = settings(MEMORY_SETTINGS, max_examples=40)
