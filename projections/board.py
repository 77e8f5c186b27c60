"""The board: the four projections together, and the questions asked of them.

``Board.apply`` folds one record into each projection that reads its type, in one
call per record (``projections.board_fold``), so a board caught up from position 0
is exactly the four folds. Questions that depend
on time take ``now`` explicitly: a lease past its expiry is expired for every
reader, whether or not an expiry was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ledger.records import Record
from ledger.state import Lease, TaskState
from ledger.store.protocol import EventStore
from projections.base import Projection
from projections.board_fold import BoardFold
from projections.claims import ClaimsState, CurrentClaims
from projections.fingerprints import Fingerprints, FingerprintsState
from projections.sessions import HistoryEntry, SessionHistory, SessionsState, SessionView
from projections.tasks import TaskBoard, TasksState

__all__ = ["PRIORITY_RANK", "PROJECTIONS", "Board", "HistoryEntry", "SessionView"]

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
PROJECTIONS: tuple[Projection[Any], ...] = (
    TaskBoard(),
    CurrentClaims(),
    SessionHistory(),
    Fingerprints(),
)
FINISHED = frozenset({"done", "dropped"})


class Board:
    """Tasks, current claims, sessions with their histories, and fingerprints."""

    def __init__(self, states: dict[str, Any] | None = None, position: int = 0) -> None:
        self.states: dict[str, Any] = states or {p.name: p.initial() for p in PROJECTIONS}
        self._fold = BoardFold(self.states, PROJECTIONS, position)

    @property
    def position(self) -> int:
        """The position of the last record folded (0: none)."""
        return self._fold.position

    @position.setter
    def position(self, position: int) -> None:
        self._fold.position = position

    # --- folding -----------------------------------------------------------------

    def catch_up(self, store: EventStore, *, until: int | None = None) -> int:
        """Apply every record past ``self.position``; returns how many were applied."""
        return self._fold.apply_all(store.read_all(after=self.position, until=until))

    def apply_all(self, records: Iterable[Record]) -> int:
        return self._fold.apply_all(records)

    def apply(self, record: Record) -> None:
        self._fold.apply(record)

    # --- the states ----------------------------------------------------------------

    @property
    def tasks(self) -> dict[str, TaskState]:
        state: TasksState = self.states["tasks"]
        return state.tasks

    @property
    def sessions(self) -> dict[str, SessionView]:
        state: SessionsState = self.states["sessions"]
        return state.sessions

    @property
    def claims(self) -> dict[str, Lease]:
        state: ClaimsState = self.states["claims"]
        return state.leases

    @property
    def fingerprints(self) -> dict[str, list[str]]:
        state: FingerprintsState = self.states["fingerprints"]
        return state.tasks

    # --- questions -------------------------------------------------------------------

    def leases(self) -> list[tuple[TaskState, Lease]]:
        """Tasks whose log shows a claim that has not ended (some may be past expiry)."""
        return [(self.tasks[task_id], lease) for task_id, lease in sorted(self.claims.items())]

    def active_fingerprints(self, now: datetime) -> dict[str, TaskState]:
        """Fingerprint to the task whose live claim holds it."""
        active: dict[str, TaskState] = {}
        for state, lease in self.leases():
            if state.fingerprint and lease.live_at(now):
                active.setdefault(state.fingerprint, state)
        return active

    def unfinished_with(self, fingerprint: str) -> TaskState | None:
        """The first registered task with this fingerprint that is not done or dropped."""
        for task_id in self.fingerprints.get(fingerprint, ()):
            state = self.tasks.get(task_id)
            if state is not None and state.status not in FINISHED:
                return state
        return None

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
