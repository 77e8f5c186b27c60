"""The service layer: the one path every interface takes to the ledger.

Every decision on a task reads the task stream (from an in-process cache plus
whatever is new), folds it, lets ``rules.decide`` choose the events, and appends
them at the version it read. A lost race raises ``ConcurrencyConflict`` inside
the store; the service re-reads and decides again, so the loser sees the winner's
claim (``TASK_ALREADY_CLAIMED``). No lock outlives one append.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import msgspec

from ledger.clock import Clock, SystemClock, iso, to_ms
from ledger.commands import (
    Beat,
    ChangeStatus,
    Claim,
    Command,
    Expire,
    Orphan,
    RegisterTask,
    Release,
    Takeover,
    Trace,
)
from ledger.config import ClaimConfig, load_config
from ledger.errors import (
    ConcurrencyConflict,
    InvalidInput,
    NoTaskAvailable,
    NotClaimOwner,
    SessionNotFound,
    TaskAlreadyActive,
    TaskAlreadyClaimed,
    TaskAlreadyExists,
    TaskNotClaimable,
    TaskNotClaimed,
    TaskNotFound,
)
from ledger.events import (
    TASK_STATUSES,
    Event,
    Expired,
    FingerprintReserved,
    Orphaned,
    OrphanReason,
    SessionEnded,
    SessionStarted,
    TakenOver,
    TaskRegistered,
    fingerprint_stream,
    session_stream,
    task_stream,
)
from ledger.identifiers import check_id
from ledger.liveness import process_alive, this_host
from ledger.records import NewEvent, Record, new_event_id
from ledger.results import (
    ClaimResult,
    HeartbeatResult,
    ImportResult,
    InFlight,
    InFlightEntry,
    ReleaseResult,
    SweepResult,
    TakeoverResult,
)
from ledger.rules import check_ttl, decide
from ledger.state import Lease, SessionState, TaskState, fold_session, fold_task
from ledger.store.protocol import NO_STREAM, EventStore
from projections.health import claim_health

if TYPE_CHECKING:
    from projections.board import Board
    from projections.runner import ProjectionRunner

MAX_ATTEMPTS = 64
ClaimT = TypeVar("ClaimT", Claim, Takeover)
PRIORITIES = ("critical", "high", "medium", "low")


class ClaimService:
    """Claims, heartbeats, releases, takeovers and sweeps over one event store."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Clock | None = None,
        config: ClaimConfig | None = None,
        host: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.config = config or load_config()
        self.host = host or this_host()
        self._tasks: dict[str, TaskState] = {}
        self._sessions: dict[str, SessionState] = {}
        self._runner: ProjectionRunner | None = None

    # --- tasks -----------------------------------------------------------------

    def register_task(
        self, spec: RegisterTask, *, actor: str = "claims", correlation_id: str | None = None
    ) -> TaskState:
        """Add a task to the backlog; ``TASK_ALREADY_EXISTS`` if its id is taken."""
        event = _registration(spec)
        try:
            records = self._append(
                task_stream(spec.task_id), [event], NO_STREAM, actor, correlation_id
            )
        except ConcurrencyConflict as exc:
            raise TaskAlreadyExists(
                f"task {spec.task_id!r} already exists", taskId=spec.task_id
            ) from exc
        state = fold_task(spec.task_id, records)
        self._tasks[spec.task_id] = state
        return state

    def import_tasks(self, specs: Sequence[RegisterTask], *, actor: str = "claims") -> ImportResult:
        """Register many tasks; ids already present are skipped and reported."""
        events = [_registration(spec) for spec in specs]
        seen: set[str] = set()
        for spec in specs:
            if spec.task_id in seen:
                raise InvalidInput(f"task {spec.task_id!r} appears twice", taskId=spec.task_id)
            seen.add(spec.task_id)
        correlation_id = new_event_id()
        added: list[str] = []
        existing: list[str] = []
        for spec, event in zip(specs, events, strict=True):
            try:
                self._append(task_stream(spec.task_id), [event], NO_STREAM, actor, correlation_id)
            except ConcurrencyConflict:
                existing.append(spec.task_id)
            else:
                added.append(spec.task_id)
        return ImportResult(added=added, existing=existing)

    def propose_task(
        self, spec: RegisterTask, *, actor: str = "claims", reservation_ttl_ms: int = 60_000
    ) -> TaskState:
        """Register a task unless unfinished work with its fingerprint exists (seed 000).

        A proposal first takes the fingerprint in the stream ``fingerprint-<fp>`` at the
        version it read, so of several racing proposals exactly one goes on to register
        its task; the others see the reservation and answer ``TASK_ALREADY_ACTIVE`` with
        the active task and its holder. A fingerprint of done or dropped work is free.
        """
        if not spec.fingerprint:
            return self.register_task(spec, actor=actor)
        event = _registration(spec)
        stream = fingerprint_stream(spec.fingerprint)
        for attempt in range(MAX_ATTEMPTS):
            reservations = self.store.read_stream(stream)
            if reservations:
                self._refuse_active(reservations[-1], spec.fingerprint, reservation_ttl_ms)
            board_active = self.board().unfinished_with(spec.fingerprint)
            if board_active is not None:
                raise self._already_active(board_active, spec.fingerprint)
            reserve = FingerprintReserved(fingerprint=spec.fingerprint, task_id=spec.task_id)
            try:
                self._append(stream, [reserve], len(reservations), actor)
            except ConcurrencyConflict:
                _backoff(attempt)
                continue
            records = self._append(task_stream(spec.task_id), [event], NO_STREAM, actor)
            state = fold_task(spec.task_id, records)
            self._tasks[spec.task_id] = state
            return state
        raise ConcurrencyConflict(f"gave up proposing {spec.task_id!r} after lost races")

    def _refuse_active(self, reservation: Record, fingerprint: str, ttl_ms: int) -> None:
        """Raise ``TASK_ALREADY_ACTIVE`` if the last reservation still stands."""
        data = reservation.data
        assert isinstance(data, FingerprintReserved)
        task = self._load_task(data.task_id)
        if task.registered and task.status not in ("done", "dropped"):
            raise self._already_active(task, fingerprint)
        pending = to_ms(self.clock.now() - reservation.recorded_at) < ttl_ms
        if not task.registered and pending:
            raise TaskAlreadyActive(
                f"task {data.task_id!r} was just proposed with fingerprint {fingerprint!r}",
                result="task_already_active",
                fingerprint=fingerprint,
                activeTask={"taskId": data.task_id, "status": "proposed"},
                holder=None,
            )

    def _already_active(self, task: TaskState, fingerprint: str) -> TaskAlreadyActive:
        lease = task.lease if task.lease and task.lease.live_at(self.clock.now()) else None
        return TaskAlreadyActive(
            f"task {task.task_id!r} with fingerprint {fingerprint!r} is still {task.status}",
            result="task_already_active",
            fingerprint=fingerprint,
            activeTask={
                "taskId": task.task_id,
                "title": task.title,
                "status": task.status,
                "roi": task.roi,
            },
            holder=None
            if lease is None
            else {
                "sessionId": lease.session_id,
                "claimedAt": iso(lease.claimed_at),
                "fencingToken": lease.fencing_token,
            },
        )

    def task(self, task_id: str) -> TaskState:
        state = self._load_task(check_id(task_id, kind="task"))
        if not state.registered:
            raise TaskNotFound(f"task {task_id!r} does not exist", taskId=task_id)
        return state

    def set_status(
        self, task_id: str, command: ChangeStatus, *, actor: str | None = None
    ) -> TaskState:
        _, after, _ = self._execute(task_id, command, actor or command.session_id or "claims")
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

        def started(state: SessionState) -> Event | None:
            same = state.started and not state.ended and state.pid == pid
            if same and state.agent_type == agent_type and state.tier == tier:
                return None
            return SessionStarted(
                session_id=session_id,
                agent_type=agent_type,
                tier=tier,
                host=host or self.host,
                pid=pid,
            )

        return self._session_event(session_id, started)

    def end_session(
        self, session_id: str, *, reason: str = "ended"
    ) -> tuple[SessionState, list[str]]:
        """End a session and orphan the claims it still holds; returns the orphaned tasks."""
        self.session(session_id)

        def ended(state: SessionState) -> Event | None:
            return None if state.ended else SessionEnded(session_id=session_id, reason=reason)

        state = self._session_event(session_id, ended)
        orphaned = []
        for task in self.board().holdings(session_id):
            command = Orphan(session_id=session_id, reason="session_ended")
            _, _, records = self._execute(task.task_id, command, "claims")
            if any(isinstance(record.data, Orphaned) for record in records):
                orphaned.append(task.task_id)
        return state, orphaned

    def session(self, session_id: str) -> SessionState:
        state = self._load_session(check_id(session_id, kind="session"))
        if not state.started:
            raise SessionNotFound(f"session {session_id!r} does not exist", sessionId=session_id)
        return state

    # --- claims ----------------------------------------------------------------

    def claim(self, task_id: str, command: Claim, *, trace: Trace | None = None) -> ClaimResult:
        """Claim a task for a session (starting the session if it is new)."""
        self._precheck(task_id, command)
        return self._claim_task(task_id, self._with_session(command), trace)

    def heartbeat(
        self, task_id: str, command: Beat, *, trace: Trace | None = None
    ) -> HeartbeatResult:
        """Extend the holder's lease; ``CLAIM_EXPIRED`` once it has lapsed."""
        try:
            _, after, records = self._execute(task_id, command, command.session_id, trace)
        except (NotClaimOwner, TaskNotClaimed):
            self._require_session(command.session_id)
            raise
        assert after.lease is not None
        return HeartbeatResult(task=after, lease=after.lease, records=records)

    def release(
        self, task_id: str, command: Release, *, trace: Trace | None = None
    ) -> ReleaseResult:
        """End the holder's claim with a reason; ``completed`` marks the task Done."""
        try:
            before, after, records = self._execute(task_id, command, command.session_id, trace)
        except (NotClaimOwner, TaskNotClaimed):
            self._require_session(command.session_id)
            raise
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
        self._precheck(task_id, command)
        command = self._with_session(command)
        actor = (command.forced_by or command.session_id) if command.force else command.session_id
        before, after, records = self._execute(task_id, command, actor, trace)
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
        check_ttl(
            command.ttl_ms if command.ttl_ms is not None else self.config.default_ttl, self.config
        )
        if not self.board().claimable(self.clock.now()):
            raise NoTaskAvailable("no claimable task is left in the backlog")
        command = self._with_session(command)
        tried: set[str] = set()
        while True:
            candidates = self.board().claimable(self.clock.now())
            task = next((task for task in candidates if task.task_id not in tried), None)
            if task is None:
                raise NoTaskAvailable("no claimable task is left in the backlog")
            tried.add(task.task_id)
            try:
                return self._claim_task(task.task_id, command, trace)
            except (TaskAlreadyClaimed, TaskNotClaimable):
                continue

    def sweep(self) -> SweepResult:
        """Record expiry of lapsed leases, and orphan claims of ended sessions, of
        sessions whose registered process is gone on this host, and of claims silent
        for longer than the orphan threshold."""
        board = self.board()
        now = self.clock.now()
        expired: list[str] = []
        orphaned: list[tuple[str, str, str]] = []
        records: list[Record] = []
        for task, lease in board.leases():
            command: Command = Expire()
            if lease.live_at(now):
                reason = self._orphan_reason(board, lease, to_ms(now - lease.last_heartbeat))
                if reason is None:
                    continue
                silence = self.config.orphan_threshold if reason == "heartbeat_timeout" else None
                command = Orphan(session_id=lease.session_id, reason=reason, min_silence_ms=silence)
            _, _, written = self._execute(task.task_id, command, "sweeper")
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

        Imported here, not at the top: hook commands (heartbeat, release) never read it.
        """
        if self._runner is None:
            from projections.runner import ProjectionRunner

            self._runner = ProjectionRunner(self.store, clock=self.clock)
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
        board, now = as_of or (self.board(), self.clock.now())
        entries = []
        for task, lease in board.leases():
            if session_id is not None and lease.session_id != session_id:
                continue
            if not include_expired and not lease.live_at(now):
                continue
            entries.append(self._entry(task, lease, now))
        return InFlight(entries=entries, at=now, position=board.position)

    def current_task(
        self, session_id: str, *, as_of: tuple[Board, datetime] | None = None
    ) -> InFlightEntry | None:
        """The session's most recently claimed live task, or ``None``."""
        self.session(session_id)
        flight = self.in_flight(session_id=session_id, as_of=as_of)
        if not flight.entries:
            return None
        return max(flight.entries, key=lambda entry: entry.lease.claimed_at)

    # --- internals -------------------------------------------------------------

    def _precheck(self, task_id: str, command: Command) -> None:
        """Let the rules refuse before anything is written (a new session, say)."""
        decide(
            self._load_task(check_id(task_id, kind="task")), command, self.clock.now(), self.config
        )

    def _claim_task(self, task_id: str, command: Claim, trace: Trace | None) -> ClaimResult:
        before, after, records = self._execute(task_id, command, command.session_id, trace)
        assert after.lease is not None
        renewed = (
            before.lease is not None and before.lease.fencing_token == after.lease.fencing_token
        )
        return ClaimResult(task=after, lease=after.lease, renewed=renewed, records=records)

    def _execute(
        self, task_id: str, command: Command, actor: str, trace: Trace | None = None
    ) -> tuple[TaskState, TaskState, list[Record]]:
        check_id(task_id, kind="task")
        stream = task_stream(task_id)
        correlation_id = (trace and trace.correlation_id) or new_event_id()
        causation_id = trace.causation_id if trace else None
        for attempt in range(MAX_ATTEMPTS):
            before = self._load_task(task_id)
            now = self.clock.now()
            events = decide(before, command, now, self.config)
            if not events:
                return before, before, []
            new = [
                NewEvent(
                    data=event,
                    occurred_at=now,
                    actor=actor,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                )
                for event in events
            ]
            try:
                records = self.store.append(stream, new, expected_version=before.version)
            except ConcurrencyConflict:
                _backoff(attempt)
                continue
            after = fold_task(task_id, records, before)
            self._tasks[task_id] = after
            return before, after, records
        raise ConcurrencyConflict(
            f"gave up on task {task_id!r} after {MAX_ATTEMPTS} lost races", taskId=task_id
        )

    def _append(
        self,
        stream: str,
        events: Sequence[Event],
        expected: int,
        actor: str,
        correlation_id: str | None = None,
    ) -> list[Record]:
        now = self.clock.now()
        new = [
            NewEvent(
                data=event,
                occurred_at=now,
                actor=actor,
                correlation_id=correlation_id or new_event_id(),
            )
            for event in events
        ]
        return self.store.append(stream, new, expected_version=expected)

    def _session_event(
        self, session_id: str, decide_event: Callable[[SessionState], Event | None]
    ) -> SessionState:
        """Append what ``decide_event`` makes of the session's state, retrying lost races."""
        check_id(session_id, kind="session")
        for attempt in range(MAX_ATTEMPTS):
            state = self._load_session(session_id)
            event = decide_event(state)
            if event is None:
                return state
            try:
                records = self._append(
                    session_stream(session_id), [event], state.version, session_id
                )
            except ConcurrencyConflict:
                _backoff(attempt)
                continue
            state = fold_session(session_id, records, state)
            self._sessions[session_id] = state
            return state
        raise ConcurrencyConflict(f"gave up on session {session_id!r} after lost races")

    def _load_task(self, task_id: str) -> TaskState:
        cached = self._tasks.get(task_id)
        records = self.store.read_stream(
            task_stream(task_id), after_version=cached.version if cached else 0
        )
        state = fold_task(task_id, records, cached)
        self._tasks[task_id] = state
        return state

    def _load_session(self, session_id: str) -> SessionState:
        cached = self._sessions.get(session_id)
        records = self.store.read_stream(
            session_stream(session_id), after_version=cached.version if cached else 0
        )
        state = fold_session(session_id, records, cached)
        self._sessions[session_id] = state
        return state

    def _with_session(self, command: ClaimT) -> ClaimT:
        """Start the command's session if it is new; fill in its agent type and tier."""
        check_id(command.session_id, kind="session")
        state = self._load_session(command.session_id)
        if not state.started or state.ended:
            state = self.start_session(
                command.session_id, agent_type=command.agent_type or "cli", tier=command.tier
            )
        return msgspec.structs.replace(
            command,
            agent_type=command.agent_type or state.agent_type,
            tier=command.tier if command.tier is not None else state.tier,
        )

    def _require_session(self, session_id: str) -> None:
        self.session(session_id)

    def _orphan_reason(self, board: Board, lease: Lease, silent_ms: int) -> OrphanReason | None:
        view = board.sessions.get(lease.session_id)
        if view is not None and view.state.ended:
            return "session_ended"
        state = view.state if view is not None else None
        if (
            state is not None
            and state.pid is not None
            and state.host == self.host
            and not process_alive(state.pid)
        ):
            return "process_gone"
        if silent_ms > self.config.orphan_threshold:
            return "heartbeat_timeout"
        return None

    def _entry(self, task: TaskState, lease: Lease, now: datetime) -> InFlightEntry:
        return InFlightEntry(
            task=task,
            lease=lease,
            health=claim_health(lease, now, self.config),
            remaining_ms=max(0, to_ms(lease.expires_at - now)),
        )


def _registration(spec: RegisterTask) -> TaskRegistered:
    check_id(spec.task_id, kind="task")
    title = spec.title.strip()
    if not title or len(title) > 500:
        raise InvalidInput("a task needs a title of 1 to 500 characters", taskId=spec.task_id)
    priority = spec.priority.lower()
    if priority not in PRIORITIES:
        raise InvalidInput(
            f"priority must be one of {', '.join(PRIORITIES)}, not {spec.priority!r}",
            taskId=spec.task_id,
        )
    if spec.status not in TASK_STATUSES or spec.status == "in_progress":
        raise InvalidInput(
            f"a task starts as todo, done, dropped or blocked, not {spec.status!r}",
            taskId=spec.task_id,
        )
    if spec.roi != spec.roi or spec.roi in (float("inf"), float("-inf")):
        raise InvalidInput("roi must be a finite number", taskId=spec.task_id)
    return TaskRegistered(
        task_id=spec.task_id,
        title=title,
        priority=priority,
        roi=float(spec.roi),
        fingerprint=spec.fingerprint or None,
        phase=spec.phase,
        status=spec.status,
    )


def _backoff(attempt: int) -> None:
    """A short random pause after a lost race, growing with the attempts."""
    import random

    time.sleep(random.uniform(0, 0.0005 * min(attempt + 1, 20)))
