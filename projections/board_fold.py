"""The board's fold: one small function per record type, over the four states at once.

``Board.apply`` finds a record's fold by its type in one dict look-up and folds it
into every projection that reads it, in one call, with no intermediate objects:
the task's state is evolved once (``ledger.state.TASK_FOLDS``, the rules a decision
folds with), and the current claims take the lease the task board just computed,
the value ``lease_after`` gives, not a second copy of it. (The two hold the same
lease unless a record whose type does not name its data's class was folded: the
task board reads some types the claims do not. A heartbeat checks that its task's
lease before it is the claims' one, and else folds the claims' own by ``lease_after``.)

Each projection's own ``apply`` stays the rule of record for that projection alone
(the runner uses it to bring a lagging snapshot level with the others), and a
property test checks this fold gives the states those four folds give. A record
whose data is not of its type's class, which ``claims verify`` reports, is folded
by those four rules too, so no record folds differently here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ledger.events import (
    Claimed,
    EventBase,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    SessionEnded,
    SessionStarted,
    TakenOver,
    TaskRegistered,
    TaskStatusChanged,
)
from ledger.records import Record
from ledger.state import (
    Lease,
    TaskState,
    evolve_session,
    lease_after,
    task_after_claim,
    task_after_end,
    task_after_heartbeat,
    task_after_registration,
    task_after_status_change,
    task_after_takeover,
)
from projections.base import Projection
from projections.claims import ClaimsState
from projections.fingerprints import FingerprintsState
from projections.sessions import SessionsState, close_claim, open_claim, session_view
from projections.tasks import TasksState

Fold = Callable[["BoardFold", Record], None]


class BoardFold:
    """The four projections' states, and a fold for each record type any of them reads."""

    def __init__(
        self, states: dict[str, Any], projections: tuple[Projection[Any], ...], position: int = 0
    ) -> None:
        self.position = position
        """The position of the last record folded."""
        tasks: TasksState = states["tasks"]
        claims: ClaimsState = states["claims"]
        sessions: SessionsState = states["sessions"]
        fingerprints: FingerprintsState = states["fingerprints"]
        self.tasks: dict[str, TaskState] = tasks.tasks
        self.leases: dict[str, Lease] = claims.leases
        self.sessions = sessions
        self.fingerprints: dict[str, list[str]] = fingerprints.tasks
        self._by_rules = {
            record_type: tuple(
                (projection.apply, states[projection.name])
                for projection in projections
                if record_type in projection.handles
            )
            for record_type in FOLDS
        }

    def apply_all(self, records: Iterable[Record]) -> int:
        """Fold each record in turn (the loop of ``apply``, inlined); returns how many."""
        folds = FOLDS
        count = 0
        for record in records:
            found = folds.get(record.type)
            if found is not None:
                if type(record.data) is found[0]:
                    found[1](self, record)
                else:
                    self._apply_by_rules(record)
            self.position = record.position
            count += 1
        return count

    def apply(self, record: Record) -> None:
        """Fold one record (of any type; a type no projection reads changes nothing)."""
        found = FOLDS.get(record.type)
        if found is not None:
            if type(record.data) is found[0]:
                found[1](self, record)
            else:
                self._apply_by_rules(record)
        self.position = record.position

    def _apply_by_rules(self, record: Record) -> None:
        """A record whose data is not of its type's class: each projection's own rule."""
        for apply, state in self._by_rules[record.type]:
            apply(state, record)

    def heartbeat(self, record: Record) -> None:
        event: Heartbeat = record.data  # type: ignore[assignment]
        task_id = event.task_id
        tasks = self.tasks
        before = tasks.get(task_id) or TaskState(task_id=task_id)
        state = task_after_heartbeat(before, record)
        tasks[task_id] = state
        leases = self.leases
        held = leases.get(task_id)
        if held is before.lease or held == before.lease:
            lease = state.lease
        else:  # only after a record whose type does not name its data's class
            lease = lease_after(held, record)
        if lease is None:
            leases.pop(task_id, None)
        else:
            leases[task_id] = lease

    def claimed(self, record: Record) -> None:
        event: Claimed = record.data  # type: ignore[assignment]
        task_id = event.task_id
        state = task_after_claim(self._task(task_id), record)
        self.tasks[task_id] = state
        self._lease(task_id, state.lease)
        open_claim(self.sessions, event.session_id, task_id, event.fencing_token, record)

    def released(self, record: Record) -> None:
        event: Released = record.data  # type: ignore[assignment]
        self._end(record, event.task_id)
        close_claim(self.sessions, event.task_id, record.occurred_at, event.reason)

    def expired(self, record: Record) -> None:
        event: Expired = record.data  # type: ignore[assignment]
        self._end(record, event.task_id)
        close_claim(self.sessions, event.task_id, event.expired_at, "expired")

    def orphaned(self, record: Record) -> None:
        event: Orphaned = record.data  # type: ignore[assignment]
        self._end(record, event.task_id)
        close_claim(self.sessions, event.task_id, record.occurred_at, f"orphaned:{event.reason}")

    def taken_over(self, record: Record) -> None:
        event: TakenOver = record.data  # type: ignore[assignment]
        task_id = event.task_id
        state = task_after_takeover(self._task(task_id), record)
        self.tasks[task_id] = state
        self._lease(task_id, state.lease)
        close_claim(self.sessions, task_id, record.occurred_at, "taken_over")
        open_claim(self.sessions, event.to_session, task_id, event.fencing_token, record)

    def task_registered(self, record: Record) -> None:
        event: TaskRegistered = record.data  # type: ignore[assignment]
        task_id = event.task_id
        self.tasks[task_id] = task_after_registration(self._task(task_id), record)
        if event.fingerprint:
            self.fingerprints.setdefault(event.fingerprint, []).append(task_id)

    def task_status_changed(self, record: Record) -> None:
        event: TaskStatusChanged = record.data  # type: ignore[assignment]
        task_id = event.task_id
        self.tasks[task_id] = task_after_status_change(self._task(task_id), record)

    def session_changed(self, record: Record) -> None:
        event: SessionStarted | SessionEnded = record.data  # type: ignore[assignment]
        view = session_view(self.sessions, event.session_id)
        view.state = evolve_session(view.state, record)

    def _task(self, task_id: str) -> TaskState:
        return self.tasks.get(task_id) or TaskState(task_id=task_id)

    def _lease(self, task_id: str, lease: Lease | None) -> None:
        if lease is None:
            self.leases.pop(task_id, None)
        else:
            self.leases[task_id] = lease

    def _end(self, record: Record, task_id: str) -> None:
        self.tasks[task_id] = task_after_end(self._task(task_id), record)
        self.leases.pop(task_id, None)


FOLDS: dict[str, tuple[type[EventBase], Fold]] = {
    "heartbeat": (Heartbeat, BoardFold.heartbeat),
    "claimed": (Claimed, BoardFold.claimed),
    "released": (Released, BoardFold.released),
    "expired": (Expired, BoardFold.expired),
    "orphaned": (Orphaned, BoardFold.orphaned),
    "taken_over": (TakenOver, BoardFold.taken_over),
    "task_registered": (TaskRegistered, BoardFold.task_registered),
    "task_status_changed": (TaskStatusChanged, BoardFold.task_status_changed),
    "session_started": (SessionStarted, BoardFold.session_changed),
    "session_ended": (SessionEnded, BoardFold.session_changed),
}
"""Each record type the board reads: the class its data must be, and its fold."""
