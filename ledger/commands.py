"""Commands on a task stream: what a caller asks for, before the rules decide."""

from __future__ import annotations

import msgspec

from ledger.events import OrphanReason, TaskStatus
from ledger.terms import LeaseTerms


class Trace(msgspec.Struct, frozen=True, kw_only=True):
    """Correlation and causation ids a caller wants on the records a command writes."""

    correlation_id: str | None = None
    causation_id: str | None = None


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    terms: LeaseTerms = LeaseTerms()
    request_id: str | None = None
    """The caller's id for this request: a retry with the same id by the same session
    answers the claim it already made instead of deciding again."""


class Beat(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    extend_ms: int | None = None
    fencing_token: int | None = None


class Release(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    reason: str = "released"
    """``completed`` marks the task done; any other reason returns it to the backlog."""
    fencing_token: int | None = None


class Takeover(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    reason: str | None = None
    force: bool = False
    forced_by: str | None = None
    terms: LeaseTerms = LeaseTerms()


class ChangeStatus(msgspec.Struct, frozen=True, kw_only=True):
    status: TaskStatus
    session_id: str | None = None
    reason: str | None = None


class Expire(msgspec.Struct, frozen=True, kw_only=True):
    """Record the expiry of a lease already past its time (the sweeper)."""


class Orphan(msgspec.Struct, frozen=True, kw_only=True):
    """End the claim of a session that is gone (the sweeper, or ``session end``)."""

    session_id: str
    reason: OrphanReason
    min_silence_ms: int | None = None
    """Only if the holder has not heartbeated for longer than this (re-checked on
    the state read at append time, so a heartbeat that just landed wins)."""


Command = Claim | Beat | Release | Takeover | ChangeStatus | Expire | Orphan


class RegisterTask(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    title: str
    priority: str = "medium"
    roi: float = 0.0
    fingerprint: str | None = None
    phase: str | None = None
    status: TaskStatus = "todo"


class StartSession(msgspec.Struct, frozen=True, kw_only=True):
    """Start a session, or restart it with another process or agent type."""

    session_id: str
    agent_type: str = "cli"
    tier: str | None = None
    host: str = ""
    pid: int | None = None


class EndSession(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    reason: str = "ended"


SessionCommand = StartSession | EndSession
