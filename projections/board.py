"""The board: every task's state, every session and its claim history, in one fold.

``Board.apply`` is pure bookkeeping over records (it uses the rules' own
``evolve_task``), so a board caught up from position 0 always agrees with what
the service decided. Queries that depend on time take ``now`` explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from ledger.clock import to_ms
from ledger.events import (
    Claimed,
    Expired,
    Orphaned,
    Released,
    SessionEnded,
    SessionStarted,
    TakenOver,
)
from ledger.records import Record
from ledger.state import Lease, SessionState, TaskState, evolve_session, evolve_task
from ledger.store.protocol import EventStore

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class HistoryEntry(msgspec.Struct, kw_only=True, gc=False):
    """One claim of a session: opened by a claim or takeover, closed by its end."""

    task_id: str
    fencing_token: int
    claimed_at: datetime
    released_at: datetime | None = None
    release_reason: str | None = None

    def duration_ms(self, now: datetime) -> int:
        return to_ms((self.released_at or now) - self.claimed_at)


class SessionView(msgspec.Struct, kw_only=True, gc=False):
    state: SessionState
    history: list[HistoryEntry] = []


class Board:
    """Tasks, sessions and claim histories folded from the whole log."""

    def __init__(self) -> None:
        self.position = 0
        self.tasks: dict[str, TaskState] = {}
        self.sessions: dict[str, SessionView] = {}
        self.leased: set[str] = set()
        self._open: dict[str, HistoryEntry] = {}

    def catch_up(self, store: EventStore, *, until: int | None = None) -> int:
        """Apply every record past ``self.position``; returns how many were applied."""
        return self.apply_all(store.read_all(after=self.position, until=until))

    def apply_all(self, records: Iterable[Record]) -> int:
        count = 0
        for record in records:
            self.apply(record)
            count += 1
        return count

    def apply(self, record: Record) -> None:
        self.position = record.position
        event = record.data
        if isinstance(event, SessionStarted | SessionEnded):
            view = self._session(event.session_id)
            view.state = evolve_session(view.state, record)
            return
        task_id = getattr(event, "task_id", None)
        if task_id is None:
            return
        previous = self.tasks.get(task_id) or TaskState(task_id=task_id)
        state = evolve_task(previous, record)
        self.tasks[task_id] = state
        if state.lease is None:
            self.leased.discard(task_id)
        else:
            self.leased.add(task_id)
        self._track_history(record, task_id)

    # --- queries ---------------------------------------------------------------

    def leases(self) -> list[tuple[TaskState, Lease]]:
        """Tasks whose log shows a claim that has not ended (some may be past expiry)."""
        found = []
        for task_id in sorted(self.leased):
            state = self.tasks[task_id]
            if state.lease is not None:
                found.append((state, state.lease))
        return found

    def active_fingerprints(self, now: datetime) -> dict[str, TaskState]:
        """Fingerprint to the task whose live claim holds it."""
        active: dict[str, TaskState] = {}
        for state, lease in self.leases():
            if state.fingerprint and lease.live_at(now):
                active.setdefault(state.fingerprint, state)
        return active

    def claimable(self, now: datetime) -> list[TaskState]:
        """Claimable tasks, best first: ROI, then priority, then registration order."""
        busy = self.active_fingerprints(now)
        found = [
            state
            for state in self.tasks.values()
            if state.registered
            and state.status in ("todo", "in_progress")
            and (state.lease is None or not state.lease.live_at(now))
            and not (state.fingerprint and state.fingerprint in busy)
        ]
        found.sort(key=lambda s: (-s.roi, PRIORITY_RANK.get(s.priority, 9), s.registered_position))
        return found

    def holdings(self, session_id: str) -> list[TaskState]:
        """Tasks whose current claim the session holds (live or past expiry)."""
        return [state for state, lease in self.leases() if lease.session_id == session_id]

    # --- internals -------------------------------------------------------------

    def _session(self, session_id: str) -> SessionView:
        view = self.sessions.get(session_id)
        if view is None:
            view = SessionView(state=SessionState(session_id=session_id))
            self.sessions[session_id] = view
        return view

    def _track_history(self, record: Record, task_id: str) -> None:
        event = record.data
        match event:
            case Claimed():
                self._open_entry(event.session_id, task_id, event.fencing_token, record)
            case TakenOver():
                self._close_entry(task_id, record, "taken_over")
                self._open_entry(event.to_session, task_id, event.fencing_token, record)
            case Released():
                self._close_entry(task_id, record, event.reason)
            case Expired():
                self._close_entry(task_id, record, "expired")
            case Orphaned():
                self._close_entry(task_id, record, f"orphaned:{event.reason}")
            case _:
                return

    def _open_entry(self, session_id: str, task_id: str, token: int, record: Record) -> None:
        entry = HistoryEntry(task_id=task_id, fencing_token=token, claimed_at=record.occurred_at)
        self._session(session_id).history.append(entry)
        self._open[task_id] = entry

    def _close_entry(self, task_id: str, record: Record, reason: str) -> None:
        entry = self._open.pop(task_id, None)
        if entry is None:
            return
        event = record.data
        ended = event.expired_at if isinstance(event, Expired) else record.occurred_at
        entry.released_at = ended
        entry.release_reason = reason
