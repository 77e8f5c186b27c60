"""Session history: each session's state and its claims, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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
from ledger.state import SessionState, evolve_session
from projections.base import Projection


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


class SessionsState(msgspec.Struct, gc=False):
    sessions: dict[str, SessionView] = {}
    open: dict[str, tuple[str, int]] = {}
    """Task id to the (session, history index) of the claim open on it."""


class SessionHistory(Projection[SessionsState]):
    name: ClassVar[str] = "sessions"
    schema_version: ClassVar[int] = 1
    state_type = SessionsState
    handles: ClassVar[frozenset[str]] = frozenset(
        {
            "session_started",
            "session_ended",
            "claimed",
            "taken_over",
            "released",
            "expired",
            "orphaned",
        }
    )

    def apply(self, state: SessionsState, record: Record) -> None:
        event = record.data
        match event:
            case SessionStarted() | SessionEnded():
                view = session_view(state, event.session_id)
                view.state = evolve_session(view.state, record)
            case Claimed():
                open_claim(state, event.session_id, event.task_id, event.fencing_token, record)
            case TakenOver():
                close_claim(state, event.task_id, record.occurred_at, "taken_over")
                open_claim(state, event.to_session, event.task_id, event.fencing_token, record)
            case Released():
                close_claim(state, event.task_id, record.occurred_at, event.reason)
            case Expired():
                close_claim(state, event.task_id, event.expired_at, "expired")
            case Orphaned():
                close_claim(state, event.task_id, record.occurred_at, f"orphaned:{event.reason}")
            case _:
                return


def session_view(state: SessionsState, session_id: str) -> SessionView:
    view = state.sessions.get(session_id)
    if view is None:
        view = SessionView(state=SessionState(session_id=session_id))
        state.sessions[session_id] = view
    return view


def open_claim(
    state: SessionsState, session_id: str, task_id: str, token: int, record: Record
) -> None:
    history = session_view(state, session_id).history
    history.append(
        HistoryEntry(task_id=task_id, fencing_token=token, claimed_at=record.occurred_at)
    )
    state.open[task_id] = (session_id, len(history) - 1)


def close_claim(state: SessionsState, task_id: str, ended: datetime, reason: str) -> None:
    where = state.open.pop(task_id, None)
    if where is None:
        return
    session_id, index = where
    entry = state.sessions[session_id].history[index]
    entry.released_at = ended
    entry.release_reason = reason
