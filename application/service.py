"""The application service: the one path every face (library, CLI, hooks, MCP, HTTP)
takes to the ledger.

Each operation loads what it needs, lets a pure rule of ``ledger`` decide the events
(``rules.decide`` for a task, ``session_rules``, ``registration``, ``proposal``,
``sweep_rules``), appends them at the version it read, and retries after a lost race
(``application.streams``). A claim is decided once per attempt: the session it starts
is written only after the rules accepted the claim. Reads go to the projections,
built by the composition root (``application.bootstrap``) on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import msgspec

from application.results import (
    ClaimResult,
    HeartbeatResult,
    ImportResult,
    ReleaseResult,
    SweepResult,
    TakeoverResult,
)
from application.steps import Steps, run
from application.streams import MAX_ATTEMPTS, Decided, Prepare, Streams, backoff
from ledger.clock import Clock, to_ms
from ledger.commands import (
    Beat,
    ChangeStatus,
    Claim,
    Command,
    EndSession,
    Orphan,
    RegisterTask,
    Release,
    StartSession,
    Takeover,
    Trace,
)
from ledger.config import ClaimConfig
from ledger.errors import (
    ConcurrencyConflict,
    InvalidInput,
    NoTaskAvailable,
    NotClaimOwner,
    SessionNotFound,
    TaskAlreadyClaimed,
    TaskAlreadyExists,
    TaskLockDelayed,
    TaskNotClaimable,
    TaskNotClaimed,
    TaskNotFound,
)
from ledger.events import (
    Event,
    Expired,
    FingerprintReserved,
    Orphaned,
    TakenOver,
    fingerprint_stream,
)
from ledger.identifiers import check_id
from ledger.proposal import LastReservation, decide_proposal
from ledger.records import Record, new_event_id
from ledger.registration import decide_registration, registration
from ledger.rules import answered, check_ttl, decide
from ledger.session_rules import decide_session
from ledger.state import SessionState, TaskState
from ledger.store.protocol import EventStore
from ledger.sweep_rules import ProcessProbe, sweep_command

if TYPE_CHECKING:
    from projections.board import Board
    from projections.in_flight import InFlight, InFlightEntry
    from projections.runner import ProjectionRunner

ClaimT = TypeVar("ClaimT", Claim, Takeover)
ProjectionsFactory = Callable[[], "ProjectionRunner"]


class ClaimService:
    """Claims, heartbeats, releases, takeovers and sweeps over one event store."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Clock,
        config: ClaimConfig,
        host: str,
        alive: ProcessProbe,
        projections: ProjectionsFactory,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.host = host
        self.alive = alive
        self.streams = Streams(store, clock)
        self._projections_factory = projections
        self._runner: ProjectionRunner | None = None

    # --- tasks -----------------------------------------------------------------

    def register_task(
        self, spec: RegisterTask, *, actor: str = "claims", trace: Trace | None = None
    ) -> TaskState:
        """Add a task to the backlog; ``TASK_ALREADY_EXISTS`` if its id is taken."""
        check_id(spec.task_id, kind="task")
        _, after, _ = self.streams.on_task(
            spec.task_id, lambda state, _now: [decide_registration(state, spec)], actor, trace
        )
        return after

    def import_tasks(self, specs: Sequence[RegisterTask], *, actor: str = "claims") -> ImportResult:
        """Register many tasks; ids already present are skipped and reported."""
        for spec in specs:
            registration(spec)
        _refuse_repeats(specs)
        trace = Trace(correlation_id=new_event_id())
        added: list[str] = []
        existing: list[str] = []
        for spec in specs:
            try:
                self.register_task(spec, actor=actor, trace=trace)
            except TaskAlreadyExists:
                existing.append(spec.task_id)
            else:
                added.append(spec.task_id)
        return ImportResult(added=added, existing=existing)

    def propose_task(self, spec: RegisterTask, *, actor: str = "claims") -> TaskState:
        """Register a task unless unfinished work with its fingerprint exists (seed 000).

        The proposal takes the fingerprint in the stream ``fingerprint-<fp>`` at the
        version it read, so of several racing proposals exactly one goes on to register
        its task; the others see the reservation and answer ``TASK_ALREADY_ACTIVE``.
        """
        if not spec.fingerprint:
            return self.register_task(spec, actor=actor)
        registration(spec)
        stream = fingerprint_stream(spec.fingerprint)
        for attempt in range(MAX_ATTEMPTS):
            reservations = self.store.read_stream(stream)
            reserve = decide_proposal(
                spec.fingerprint,
                spec.task_id,
                last=self._last_reservation(reservations),
                unfinished=self.board().unfinished_with(spec.fingerprint),
                now=self.clock.now(),
            )
            try:
                self.streams.append(stream, [reserve], len(reservations), actor)
            except ConcurrencyConflict:
                backoff(attempt)
                continue
            return self.register_task(spec, actor=actor)
        raise ConcurrencyConflict(f"gave up proposing {spec.task_id!r} after lost races")

    def _last_reservation(self, reservations: list[Record]) -> LastReservation | None:
        if not reservations:
            return None
        data = reservations[-1].data
        assert isinstance(data, FingerprintReserved)
        task = self.streams.task(data.task_id)
        return LastReservation(task=task, recorded_at=reservations[-1].recorded_at)

    def task(self, task_id: str) -> TaskState:
        """The task's state; ``TASK_NOT_FOUND`` if it was never registered."""
        state = self.streams.task(check_id(task_id, kind="task"))
        if not state.registered:
            raise TaskNotFound(f"task {task_id!r} does not exist", taskId=task_id)
        return state

    def set_status(
        self, task_id: str, command: ChangeStatus, *, actor: str | None = None
    ) -> TaskState:
        """Move a task to another status (the holder's claim ends with it)."""
        who = actor or command.session_id or "claims"
        _, after, _ = self.streams.on_task(task_id, self._decide(command), who)
        return after

    # --- sessions --------------------------------------------------------------

    def start_session(
        self,
        session_id: str,
        *,
        agent_type: str = "cli",
        tier: str | None = None,
        pid: int | None = None,
        host: str | None = None,
    ) -> SessionState:
        """Start (or restart, with a new process) a session."""
        command = StartSession(
            session_id=session_id, agent_type=agent_type, tier=tier, host=host or self.host, pid=pid
        )
        return run(self._start_steps(command), self.store)

    def _start_steps(self, command: StartSession) -> Steps[SessionState]:
        session_id = command.session_id
        _, after, _ = yield from self.streams.session_steps(
            session_id, lambda state, _now: decide_session(state, command)
        )
        return after

    def end_session(
        self, session_id: str, *, reason: str = "ended"
    ) -> tuple[SessionState, list[str]]:
        """End a session and orphan the claims it still holds; returns the orphaned tasks."""
        command = EndSession(session_id=session_id, reason=reason)
        _, state, _ = self.streams.on_session(
            session_id, lambda state, _now: decide_session(state, command)
        )
        orphaned = []
        for task in self.board().holdings(session_id):
            orphan = Orphan(session_id=session_id, reason="session_ended")
            _, _, records = self.streams.on_task(task.task_id, self._decide(orphan), "claims")
            if any(isinstance(record.data, Orphaned) for record in records):
                orphaned.append(task.task_id)
        return state, orphaned

    def session(self, session_id: str) -> SessionState:
        """The session's state; ``SESSION_NOT_FOUND`` if it never started."""
        state = self.streams.session(check_id(session_id, kind="session"))
        if not state.started:
            raise SessionNotFound(f"session {session_id!r} does not exist", sessionId=session_id)
        return state

    # --- claims ----------------------------------------------------------------

    def claim(self, task_id: str, command: Claim, *, trace: Trace | None = None) -> ClaimResult:
        """Claim a task for a session (starting the session if it is new)."""
        return run(self.claim_steps(task_id, command, trace=trace), self.store)

    def claim_steps(
        self, task_id: str, command: Claim, *, trace: Trace | None = None
    ) -> Steps[ClaimResult]:
        """``claim`` as steps (``application.steps``)."""
        check_id(task_id, kind="task")
        return self._claim_task_steps(task_id, command, trace)

    def heartbeat(
        self, task_id: str, command: Beat, *, trace: Trace | None = None
    ) -> HeartbeatResult:
        """Extend the holder's lease; ``CLAIM_EXPIRED`` once it has lapsed."""
        return run(self.heartbeat_steps(task_id, command, trace=trace), self.store)

    def heartbeat_steps(
        self, task_id: str, command: Beat, *, trace: Trace | None = None
    ) -> Steps[HeartbeatResult]:
        """``heartbeat`` as steps."""
        _, after, records = yield from self._as_holder(task_id, command, trace)
        assert after.lease is not None
        return HeartbeatResult(task=after, lease=after.lease, records=records)

    def release(
        self, task_id: str, command: Release, *, trace: Trace | None = None
    ) -> ReleaseResult:
        """End the holder's claim with a reason; only ``completed`` marks the task Done
        (the default, ``released``, returns it to the backlog)."""
        return run(self.release_steps(task_id, command, trace=trace), self.store)

    def release_steps(
        self, task_id: str, command: Release, *, trace: Trace | None = None
    ) -> Steps[ReleaseResult]:
        """``release`` as steps."""
        before, after, records = yield from self._as_holder(task_id, command, trace)
        lease = before.lease
        assert lease is not None
        return ReleaseResult(
            task=after,
            session_id=lease.session_id,
            reason=command.reason.strip(),
            fencing_token=lease.fencing_token,
            claim_duration_ms=to_ms(records[0].occurred_at - lease.claimed_at),
            records=records,
        )

    def takeover(
        self, task_id: str, command: Takeover, *, trace: Trace | None = None
    ) -> TakeoverResult:
        """Take a task over after its lease expired, or by force with a reason."""
        return run(self.takeover_steps(task_id, command, trace=trace), self.store)

    def takeover_steps(
        self, task_id: str, command: Takeover, *, trace: Trace | None = None
    ) -> Steps[TakeoverResult]:
        """``takeover`` as steps."""
        check_id(task_id, kind="task")
        return self._takeover_steps(task_id, command, trace)

    def _takeover_steps(
        self, task_id: str, command: Takeover, trace: Trace | None
    ) -> Steps[TakeoverResult]:
        command, start = self._with_session(command)
        actor = (command.forced_by or command.session_id) if command.force else command.session_id
        before, after, records = yield from self.streams.task_steps(
            task_id, self._decide(command), actor, trace, before_append=start
        )
        assert after.lease is not None
        assert before.lease is not None
        forced = any(isinstance(r.data, TakenOver) and r.data.forced for r in records)
        return TakeoverResult(
            task=after,
            lease=after.lease,
            from_session=before.lease.session_id,
            forced=forced,
            records=records,
        )

    def claim_next(self, command: Claim, *, trace: Trace | None = None) -> ClaimResult:
        """Claim the best claimable task (ROI, then priority), skipping tasks whose
        fingerprint is already being worked on. After a lost race it catches up with
        the log and chooses again, so a fingerprint the winner took is skipped too."""
        ttl = command.terms.ttl_ms
        check_ttl(ttl if ttl is not None else self.config.default_ttl, self.config)
        check_id(command.session_id, kind="session")
        earlier = self._answered_elsewhere(command)
        if earlier is not None:
            return self._claim_task(earlier, command, trace)
        tried: set[str] = set()
        while True:
            candidates = self.board().claimable(self.clock.now())
            task = next((task for task in candidates if task.task_id not in tried), None)
            if task is None:
                raise NoTaskAvailable("no claimable task is left in the backlog")
            tried.add(task.task_id)
            try:
                return self._claim_task(task.task_id, command, trace)
            except (TaskAlreadyClaimed, TaskNotClaimable, TaskLockDelayed):
                continue

    def sweep(self) -> SweepResult:
        """Record expiry of lapsed leases, and orphan claims of ended sessions, of
        sessions whose registered process is gone on this host, and of claims silent
        for longer than the orphan threshold (``ledger.sweep_rules``)."""
        board = self.board()
        now = self.clock.now()
        expired: list[str] = []
        orphaned: list[tuple[str, str, str]] = []
        records: list[Record] = []
        for task, lease in board.leases():
            view = board.sessions.get(lease.session_id)
            session = view.state if view is not None else None
            command = sweep_command(
                lease, session, now, self.config, host=self.host, alive=self.alive
            )
            if command is None:
                continue
            _, _, written = self.streams.on_task(task.task_id, self._decide(command), "sweeper")
            for record in written:
                if isinstance(record.data, Expired):
                    expired.append(task.task_id)
                elif isinstance(record.data, Orphaned):
                    orphaned.append((task.task_id, lease.session_id, record.data.reason))
            records.extend(written)
        return SweepResult(expired=expired, orphaned=orphaned, records=records)

    # --- reads -----------------------------------------------------------------

    @property
    def projections(self) -> ProjectionRunner:
        """The read side: projections restored from snapshots and caught up on demand.

        Built on first use by the factory the composition root gave: hook commands
        (heartbeat, release) never import it.
        """
        if self._runner is None:
            self._runner = self._projections_factory()
        return self._runner

    def board(self) -> Board:
        """The board, caught up with the log."""
        return self.projections.catch_up()

    def board_at(
        self, *, position: int | None = None, when: datetime | None = None
    ) -> tuple[Board, datetime]:
        """The board as of a position or a time, and the ledger time it stands at."""
        return self.projections.board_at(position=position, when=when)

    def in_flight(
        self,
        *,
        session_id: str | None = None,
        include_expired: bool = False,
        as_of: tuple[Board, datetime] | None = None,
    ) -> InFlight:
        """Claimed tasks with health, now or ``as_of`` a board and its ledger time."""
        from projections.in_flight import in_flight

        board, now = as_of or (self.board(), self.clock.now())
        return in_flight(
            board, now, self.config, session_id=session_id, include_expired=include_expired
        )

    def current_task(
        self, session_id: str, *, as_of: tuple[Board, datetime] | None = None
    ) -> InFlightEntry | None:
        """The session's most recently claimed live task, or ``None``."""
        from projections.in_flight import current_task

        self.session(session_id)
        board, now = as_of or (self.board(), self.clock.now())
        return current_task(board, now, self.config, session_id)

    # --- internals -------------------------------------------------------------

    def _decide(self, command: Command) -> Callable[[TaskState, datetime], list[Event]]:
        config = self.config
        return lambda state, now: decide(state, command, now, config)

    def _claim_task(self, task_id: str, command: Claim, trace: Trace | None) -> ClaimResult:
        return run(self._claim_task_steps(task_id, command, trace), self.store)

    def _claim_task_steps(
        self, task_id: str, command: Claim, trace: Trace | None
    ) -> Steps[ClaimResult]:
        command, start = self._with_session(command)
        before, after, records = yield from self.streams.task_steps(
            task_id, self._decide(command), command.session_id, trace, before_append=start
        )
        assert after.lease is not None
        renewed = (
            bool(records)
            and before.lease is not None
            and before.lease.fencing_token == after.lease.fencing_token
        )
        return ClaimResult(task=after, lease=after.lease, renewed=renewed, records=records)

    def _answered_elsewhere(self, command: Claim) -> str | None:
        """The task a retried ``claim_next`` (same session, same request id) already
        claimed, so the retry answers it instead of picking another task."""
        if command.request_id is None:
            return None
        for task in self.board().holdings(command.session_id):
            if answered(task.lease, command):
                return task.task_id
        return None

    def _as_holder(
        self, task_id: str, command: Beat | Release, trace: Trace | None
    ) -> Steps[Decided[TaskState]]:
        """A holder's command; an unknown session hears ``SESSION_NOT_FOUND`` first."""
        try:
            return (
                yield from self.streams.task_steps(
                    task_id, self._decide(command), command.session_id, trace
                )
            )
        except (NotClaimOwner, TaskNotClaimed):
            self.session(command.session_id)
            raise

    def _with_session(self, command: ClaimT) -> tuple[ClaimT, Prepare | None]:
        """The command with the session's agent type and tier filled in, and the start
        of the session when it is new or ended (run only once the rules accepted)."""
        check_id(command.session_id, kind="session")
        state = self.streams.session(command.session_id)
        running = state.started and not state.ended
        asked = command.terms
        agent_type = asked.agent_type or (state.agent_type if running else "cli")
        tier = asked.tier if asked.tier is not None or not running else state.tier
        terms = msgspec.structs.replace(asked, agent_type=agent_type, tier=tier)
        filled = msgspec.structs.replace(command, terms=terms)
        if running:
            return filled, None
        return filled, lambda: self._start_for(filled)

    def _start_for(self, command: Claim | Takeover) -> Steps[SessionState]:
        start = StartSession(
            session_id=command.session_id,
            agent_type=command.terms.agent_type or "cli",
            tier=command.terms.tier,
            host=self.host,
        )
        return self._start_steps(start)


def _refuse_repeats(specs: Sequence[RegisterTask]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.task_id in seen:
            raise InvalidInput(f"task {spec.task_id!r} appears twice", taskId=spec.task_id)
        seen.add(spec.task_id)
