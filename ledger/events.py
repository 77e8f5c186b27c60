"""The event catalogue: frozen msgspec Structs in one tagged union.

Rules for changing it (see docs/adr/0002-event-format-and-envelope.md):
a tag is a chosen word and is never reused; a new field gets a default; a change
of meaning bumps the class's ``SCHEMA_VERSION`` and old records are upcast.

Streams: every task has the stream ``task-<id>``, every session ``session-<id>``.
All claim events of a task live in the task's stream, the consistency boundary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

import msgspec

TaskStatus = Literal["todo", "in_progress", "done", "dropped", "blocked"]
TASK_STATUSES: tuple[TaskStatus, ...] = ("todo", "in_progress", "done", "dropped", "blocked")
UNCLAIMABLE_STATUSES: frozenset[str] = frozenset({"done", "dropped", "blocked"})

OrphanReason = Literal["session_ended", "process_gone", "heartbeat_timeout"]

TASK_STREAM_PREFIX = "task-"
SESSION_STREAM_PREFIX = "session-"
FINGERPRINT_STREAM_PREFIX = "fingerprint-"
COST_STREAM_PREFIX = "cost-"


def task_stream(task_id: str) -> str:
    return TASK_STREAM_PREFIX + task_id


def session_stream(session_id: str) -> str:
    return SESSION_STREAM_PREFIX + session_id


def fingerprint_stream(fingerprint: str) -> str:
    return FINGERPRINT_STREAM_PREFIX + fingerprint


def cost_stream(session_id: str) -> str:
    return COST_STREAM_PREFIX + session_id


class EventBase(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="type"):
    """Common base; ``type`` on the wire is the class's tag."""

    SCHEMA_VERSION: ClassVar[int] = 1


# --- tasks -----------------------------------------------------------------


class TaskRegistered(EventBase, frozen=True, tag="task_registered"):
    task_id: str
    title: str
    priority: str = "medium"
    roi: float = 0.0
    fingerprint: str | None = None
    phase: str | None = None
    status: TaskStatus = "todo"


class TaskStatusChanged(EventBase, frozen=True, tag="task_status_changed"):
    task_id: str
    status: TaskStatus
    previous: TaskStatus
    reason: str | None = None


class FingerprintReserved(EventBase, frozen=True, tag="fingerprint_reserved"):
    """A proposal took a fingerprint for a new task (stream ``fingerprint-<fp>``); the
    stream's expected version makes two proposals of one fingerprint race to one winner."""

    fingerprint: str
    task_id: str


# --- sessions --------------------------------------------------------------


class SessionStarted(EventBase, frozen=True, tag="session_started"):
    session_id: str
    agent_type: str = "cli"
    tier: str | None = None
    host: str = ""
    pid: int | None = None


class SessionEnded(EventBase, frozen=True, tag="session_ended"):
    session_id: str
    reason: str = "ended"


# --- claims ----------------------------------------------------------------


class Claimed(EventBase, frozen=True, tag="claimed"):
    task_id: str
    session_id: str
    fencing_token: int
    ttl_ms: int
    expires_at: datetime
    agent_type: str = "cli"
    tier: str | None = None
    scope: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    metadata: dict[str, Any] = {}
    request_id: str | None = None
    """The claimant's request id, so a retry of the same claim is answered, not re-decided."""


class Heartbeat(EventBase, frozen=True, tag="heartbeat"):
    task_id: str
    session_id: str
    fencing_token: int
    extend_ms: int
    expires_at: datetime
    renewal: bool = False
    """A re-claim by the holder: ``extend_ms`` becomes the lease's TTL from now on."""


class Released(EventBase, frozen=True, tag="released"):
    task_id: str
    session_id: str
    fencing_token: int
    reason: str


class Expired(EventBase, frozen=True, tag="expired"):
    task_id: str
    session_id: str
    fencing_token: int
    expired_at: datetime


class TakenOver(EventBase, frozen=True, tag="taken_over"):
    task_id: str
    from_session: str
    to_session: str
    previous_token: int
    fencing_token: int
    handoff_reason: str
    forced: bool
    forced_by: str | None
    ttl_ms: int
    expires_at: datetime
    agent_type: str = "cli"
    tier: str | None = None
    scope: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    metadata: dict[str, Any] = {}


class Orphaned(EventBase, frozen=True, tag="orphaned"):
    task_id: str
    session_id: str
    fencing_token: int
    reason: OrphanReason


# --- measured cost ---------------------------------------------------------


class TokensUsed(EventBase, frozen=True, tag="tokens_used"):
    """One model message's measured token usage, read from the agent's transcript
    (stream ``cost-<session>``, one record per message id; ADR "measured cost per claim").
    ``task_id`` is the claim the session held at ``at``, ``None`` when it held none."""

    session_id: str
    message_id: str
    at: datetime
    source: str
    """Where it was measured: ``claude_code`` or ``codex``."""
    model: str | None = None
    task_id: str | None = None
    fencing_token: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0


Event = (
    TaskRegistered
    | TaskStatusChanged
    | FingerprintReserved
    | SessionStarted
    | SessionEnded
    | Claimed
    | Heartbeat
    | Released
    | Expired
    | TakenOver
    | Orphaned
    | TokensUsed
)

EVENT_TYPES: tuple[type[EventBase], ...] = (
    TaskRegistered,
    TaskStatusChanged,
    FingerprintReserved,
    SessionStarted,
    SessionEnded,
    Claimed,
    Heartbeat,
    Released,
    Expired,
    TakenOver,
    Orphaned,
    TokensUsed,
)


def event_type(event: EventBase) -> str:
    """The tag of an event, as stored in the record's ``type``."""
    tag = type(event).__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def task_of(event: EventBase) -> str | None:
    """The task an event is about, if any."""
    task_id = getattr(event, "task_id", None)
    return task_id if isinstance(task_id, str) else None
