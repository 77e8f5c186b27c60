"""The claim-interval fold: records in, rows of ``claim_intervals``, ``tasks``,
``sessions`` and ``token_usage`` out. Pure bookkeeping; ``feeder`` loads what it needs
and stores what it returns.

A claim interval opens with ``claimed`` (or ``taken_over``, for the new holder) and
ends with the first of: ``released`` (its reason kept), ``expired`` (at the lease's
expiry, not when the expiry was written), ``taken_over`` (at the takeover, for the
old holder), ``orphaned`` (its reason kept). Until then it is ``open``. A claim
recorded while another is open on the same task (which the rules never write) ends
the earlier one as ``superseded`` at its lease's expiry, so that an overlap shows.

Durations, in whole milliseconds (rounded down, never below zero):

- claimed: from the start to the end; none while open.
- active (heartbeat-backed): from the start to the holder's last sign of life: the
  last heartbeat (or the claim itself), or the release when the holder released.
  An expired, orphaned, taken-over or open claim earns nothing after its last
  heartbeat.
- max silence: the longest stretch without a sign of life: between the start and
  the heartbeats, and from the last one to the end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from ledger.clock import to_ms
from ledger.events import (
    Claimed,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    SessionEnded,
    SessionStarted,
    TakenOver,
    TaskRegistered,
    TaskStatusChanged,
    TokensUsed,
)
from ledger.records import Record
from projections.analytics.rows import IntervalRow, SessionRow, TaskRow, UsageRow

CLAIM_EVENTS = (Claimed, TakenOver, Heartbeat, Released, Expired, Orphaned)
"""Events that touch a task's claim interval."""
TASK_EVENTS = (TaskRegistered, TaskStatusChanged, Claimed, TakenOver, Released, Expired, Orphaned)
"""Events that change a task's row (a heartbeat does not)."""
SESSION_EVENTS = (SessionStarted, SessionEnded)
_TASK_TYPES = frozenset(TASK_EVENTS)
_SESSION_TYPES = frozenset(SESSION_EVENTS)
_ZERO = timedelta(0)


class IntervalState(msgspec.Struct, kw_only=True, gc=False):
    """A claim interval while it is being folded."""

    row: IntervalRow
    max_silence: timedelta
    active_until: datetime

    @classmethod
    def from_row(cls, row: IntervalRow) -> IntervalState:
        """Resume an open interval stored by an earlier feed."""
        silence = timedelta(milliseconds=row.max_silence_ms)
        return cls(row=row, max_silence=silence, active_until=row.last_heartbeat)

    def seen(self, when: datetime) -> None:
        """A sign of life (or the end) at ``when``: the silence before it counts."""
        gap = when - self.row.last_heartbeat
        if gap > self.max_silence:
            self.max_silence = gap

    def finished(self) -> IntervalRow:
        """The row as stored: with its durations."""
        row = self.row
        row.active_ms = max(0, to_ms(self.active_until - row.started_at))
        row.max_silence_ms = max(0, to_ms(max(self.max_silence, _ZERO)))
        if row.ended_at is not None:
            row.claimed_ms = max(0, to_ms(row.ended_at - row.started_at))
        return row


class Changes(msgspec.Struct, kw_only=True, gc=False):
    """Rows to write after a batch: every changed row (the batch's ``events`` rows are
    made by DuckDB from the records, ``projections.analytics.event_rows``)."""

    intervals: list[IntervalRow]
    tasks: list[TaskRow]
    sessions: list[SessionRow]
    usage: list[UsageRow]
    """The batch's ``tokens_used`` records, the first of each (session, message id)."""


class Needs(msgspec.Struct, kw_only=True, gc=False):
    """Keys whose stored rows must be loaded into the fold's caches."""

    open: set[str] = msgspec.field(default_factory=set)
    tasks: set[str] = msgspec.field(default_factory=set)
    sessions: set[str] = msgspec.field(default_factory=set)


class Fold:
    """Folds records into rows. Its caches hold the rows it has loaded or made; the
    feeder fills them (``need_*``) before each batch and may clear them after."""

    def __init__(self) -> None:
        self.open: dict[str, IntervalState | None] = {}
        self.tasks: dict[str, TaskRow | None] = {}
        self.sessions: dict[str, SessionRow | None] = {}
        self._intervals: dict[tuple[str, int], IntervalState] = {}
        self._tasks: set[str] = set()
        self._sessions: set[str] = set()
        self._usage: dict[tuple[str, str], UsageRow] = {}
        self._last_release: tuple[int, str, str] | None = None

    # --- what to load before a batch --------------------------------------------

    def prime(self, records: list[Record]) -> Needs:
        """The stored rows this batch will change that are not cached yet. Streams
        that start in the batch (version 1) have none; they are cached as absent."""
        needs = Needs()
        open_, tasks = self.open, self.tasks
        for record in records:
            event = record.data
            kind = type(event)
            if type(event) is Heartbeat:
                task_id = event.task_id
                if task_id not in open_ and task_id not in needs.open:
                    needs.open.add(task_id)
            elif kind in _TASK_TYPES:
                task_id = getattr(event, "task_id", "")
                _need(tasks, needs.tasks, task_id, record.version)
                _need(open_, needs.open, task_id, record.version, fresh=kind is TaskRegistered)
            elif kind in _SESSION_TYPES:
                _need(
                    self.sessions, needs.sessions, getattr(event, "session_id", ""), record.version
                )
        return needs

    # --- folding ------------------------------------------------------------------

    def apply(self, record: Record) -> None:
        event = record.data
        if type(event) is Heartbeat:
            self._beat(record, event)
        elif type(event) in _TASK_TYPES:
            self._claim_event(record, event)
            self._task_event(record, event)
        elif isinstance(event, SESSION_EVENTS):
            self._session_event(record, event)
        elif type(event) is TokensUsed:
            self._usage.setdefault((event.session_id, event.message_id), UsageRow.of(record, event))

    def drain(self) -> Changes:
        """The rows changed since the last drain; closed intervals leave the cache."""
        changes = Changes(
            intervals=[state.finished() for state in self._intervals.values()],
            tasks=[task for key in self._tasks if (task := self.tasks.get(key))],
            sessions=[session for key in self._sessions if (session := self.sessions.get(key))],
            usage=list(self._usage.values()),
        )
        self._intervals = {}
        self._tasks = set()
        self._sessions = set()
        self._usage = {}
        return changes

    def forget(self) -> None:
        """Drop every cached row (all of them are stored by now)."""
        self.open.clear()
        self.tasks.clear()
        self.sessions.clear()

    # --- claim intervals --------------------------------------------------------

    def _beat(self, record: Record, event: Heartbeat) -> None:
        state = self.open.get(event.task_id)
        if state is None:
            return
        state.seen(record.occurred_at)
        row = state.row
        row.last_heartbeat = state.active_until = record.occurred_at
        row.heartbeats += 1
        row.lease_expires_at = event.expires_at
        self._intervals[(row.task_id, row.fencing_token)] = state

    def _claim_event(self, record: Record, event: object) -> None:
        match event:
            case Claimed():
                self._start(record, event, event.session_id)
            case TakenOver():
                self._hand_over(record, event)
                self._start(record, event, event.to_session)
            case Released():
                self._end(record, event.task_id, "released", record.occurred_at, event.reason)
                if record.more:  # the same append goes on: a status change, say
                    self._last_release = (record.position, event.task_id, event.session_id)
            case Expired():
                self._end(record, event.task_id, "expired", event.expired_at)
            case Orphaned():
                self._end(record, event.task_id, "orphaned", record.occurred_at, event.reason)

    def _start(self, record: Record, event: Claimed | TakenOver, session_id: str) -> None:
        previous = self.open.get(event.task_id)
        if previous is not None:
            self._end(record, event.task_id, "superseded", previous.row.lease_expires_at)
        takeover = event if isinstance(event, TakenOver) else None
        task = self._task(event.task_id)
        row = IntervalRow(
            task_id=event.task_id,
            fencing_token=event.fencing_token,
            session_id=session_id,
            agent_type=event.agent_type,
            tier=event.tier,
            started_at=record.occurred_at,
            start_position=record.position,
            started_by="takeover" if takeover else "claim",
            taken_from=takeover.from_session if takeover else None,
            start_forced=takeover.forced if takeover else False,
            forced_by=takeover.forced_by if takeover else None,
            handoff_reason=takeover.handoff_reason if takeover else None,
            ttl_ms=event.ttl_ms,
            lease_expires_at=event.expires_at,
            last_heartbeat=record.occurred_at,
            heartbeats=0,
            end_reason="open",
            active_ms=0,
            max_silence_ms=0,
            previous_session=task.last_claim_session,
            previous_token=task.last_claim_token,
            previous_end=task.last_claim_end,
        )
        state = IntervalState(row=row, max_silence=_ZERO, active_until=record.occurred_at)
        self.open[event.task_id] = state
        self._intervals[(row.task_id, row.fencing_token)] = state

    def _end(
        self,
        record: Record,
        task_id: str,
        reason: str,
        ended_at: datetime,
        detail: str | None = None,
    ) -> None:
        state = self.open.get(task_id)
        if state is None:
            return
        state.seen(ended_at)
        if reason == "released":
            state.active_until = ended_at
        row = state.row
        row.ended_at = ended_at
        row.end_position = record.position
        row.end_reason = reason
        row.release_reason = detail
        self.open[task_id] = None
        self._intervals[(row.task_id, row.fencing_token)] = state
        task = self._task(task_id)
        task.last_claim_session = row.session_id
        task.last_claim_token = row.fencing_token
        task.last_claim_end = ended_at

    def _hand_over(self, record: Record, event: TakenOver) -> None:
        """End the old holder's interval at the takeover, naming who took it and why."""
        state = self.open.get(event.task_id)
        self._end(record, event.task_id, "taken_over", record.occurred_at, event.handoff_reason)
        if state is not None:
            state.row.taken_by = event.to_session
            state.row.end_forced = event.forced

    # --- tasks and sessions -------------------------------------------------------

    def _task(self, task_id: str) -> TaskRow:
        """The task's row (cached; new if the log never registered the task)."""
        row = self.tasks.get(task_id)
        if row is None:
            row = self.tasks[task_id] = TaskRow(task_id=task_id)
        self._tasks.add(task_id)
        return row

    def _task_event(self, record: Record, event: object) -> None:
        task_id: str = getattr(event, "task_id", "")
        row = self._task(task_id)
        match event:
            case TaskRegistered():
                _register(row, record, event)
            case TaskStatusChanged():
                self._status(row, record, event)
            case Claimed() | TakenOver():
                row.status = "in_progress"
            case _:
                row.status = "todo" if row.status == "in_progress" else row.status
        row.last_position = record.position

    def _status(self, row: TaskRow, record: Record, event: TaskStatusChanged) -> None:
        row.status_changed_at = record.occurred_at
        if event.status == "done" and row.status != "done":
            _finish(row, record, self._completer(record, event.task_id))
        elif event.status != "done":
            row.finished_at = row.finished_position = row.completed_by = None
        row.status = event.status

    def _completer(self, record: Record, task_id: str) -> str | None:
        """The holder whose release was recorded in the same append, just before the
        task became done (``completed``, or a status change by the holder)."""
        last = self._last_release
        if last is not None and last[0] == record.position - 1 and last[1] == task_id:
            return last[2]
        return None

    def _session_event(self, record: Record, event: SessionStarted | SessionEnded) -> None:
        session_id = event.session_id
        row = self.sessions.get(session_id) or SessionRow(session_id=session_id)
        if isinstance(event, SessionStarted):
            row.agent_type = event.agent_type
            row.tier = event.tier
            row.host = event.host
            row.pid = event.pid
            row.started_at = record.occurred_at
            row.ended_at = row.end_reason = None
            row.starts += 1
        else:
            row.ended_at = record.occurred_at
            row.end_reason = event.reason
        row.last_position = record.position
        self.sessions[session_id] = row
        self._sessions.add(session_id)


def _register(row: TaskRow, record: Record, event: TaskRegistered) -> None:
    row.title = event.title
    row.priority = event.priority
    row.roi = event.roi
    row.fingerprint = event.fingerprint
    row.phase = event.phase
    row.status = event.status
    row.registered = True
    row.registered_at = row.status_changed_at = record.occurred_at
    row.registered_position = record.position
    if event.status == "done":
        _finish(row, record, None)


def _finish(row: TaskRow, record: Record, completer: str | None) -> None:
    row.finished_at = record.occurred_at
    row.finished_position = record.position
    row.completed_by = completer


def _need(
    cache: dict[str, Any], needs: set[str], key: str, version: int, *, fresh: bool = True
) -> None:
    """Note ``key`` as needed unless cached; a stream at version 1 (``fresh``) has
    nothing stored yet, so it is cached as absent instead."""
    if key in cache or key in needs:
        return
    if fresh and version == 1:
        cache[key] = None
    else:
        needs.add(key)
