"""Folded state of one task stream and one session stream: the pure ``evolve`` functions.

The same per-type task folds (``TASK_FOLDS``, which ``evolve_task`` dispatches to) fold a
task stream before every decision and drive the projections' board, so the rules and the
read side cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

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
    TaskStatus,
    TaskStatusChanged,
)
from ledger.records import Record

_replace = msgspec.structs.replace


class Lease(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The current claim on a task, as the log says; it may be past its expiry."""

    session_id: str
    fencing_token: int
    claimed_at: datetime
    expires_at: datetime
    last_heartbeat: datetime
    heartbeat_count: int
    ttl_ms: int
    agent_type: str
    tier: str | None
    scope: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    metadata: dict[str, Any] = {}
    request_id: str | None = None
    """The request id of the claim that started this lease, if the caller gave one."""

    def live_at(self, now: datetime) -> bool:
        """A lease past its expiry is expired for every reader, written or not."""
        return now < self.expires_at


class TaskState(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    task_id: str
    version: int = 0
    registered: bool = False
    title: str = ""
    priority: str = "medium"
    roi: float = 0.0
    fingerprint: str | None = None
    phase: str | None = None
    status: TaskStatus = "todo"
    registered_position: int = 0
    lease: Lease | None = None
    ended_lease: Lease | None = None
    """The last claim that ended, so its holder still hears why (``CLAIM_EXPIRED``)."""
    ended_by: str | None = None
    """How it ended: released, expired, orphaned or taken_over."""
    ended_at: datetime | None = None
    """When it ended: an expiry's ``expired_at`` (the lease's end), else the time the
    ending was decided; the lock-delay counts from it (ADR 0017)."""


class SessionState(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    session_id: str
    version: int = 0
    started: bool = False
    ended: bool = False
    agent_type: str = "cli"
    tier: str | None = None
    host: str = ""
    pid: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def evolve_task(state: TaskState, record: Record) -> TaskState:
    """The task's state after one more record of its stream.

    One small fold per event type (``TASK_FOLDS``), found by the event's class, and
    one ``replace`` per record: this fold runs before every decision and for every
    record of a rebuild. A record of another type moves only the version.
    """
    fold = TASK_FOLDS.get(type(record.data))
    if fold is None:
        return _replace(state, version=record.version)
    return fold(state, record)


def task_after_heartbeat(state: TaskState, record: Record) -> TaskState:
    """The lease (if any) runs on to the heartbeat's expiry; a renewal sets its TTL."""
    event: Heartbeat = record.data  # type: ignore[assignment]
    lease = state.lease
    if lease is not None:
        lease = _replace(
            lease,
            expires_at=event.expires_at,
            last_heartbeat=record.occurred_at,
            heartbeat_count=lease.heartbeat_count + 1,
            ttl_ms=event.extend_ms if event.renewal else lease.ttl_ms,
        )
    return _replace(state, version=record.version, lease=lease)


def task_after_claim(state: TaskState, record: Record) -> TaskState:
    event: Claimed = record.data  # type: ignore[assignment]
    return _replace(
        state,
        version=record.version,
        lease=lease_of_claim(event, record.occurred_at, event.session_id, event.request_id),
        status="in_progress",
    )


def task_after_end(state: TaskState, record: Record) -> TaskState:
    """A release, an expiry or an orphaning: the lease ends, an ``in_progress`` task is
    ``todo`` again, and the ended lease is kept with how and when it ended."""
    event = record.data
    status: TaskStatus = "todo" if state.status == "in_progress" else state.status
    return _replace(
        state,
        version=record.version,
        lease=None,
        status=status,
        ended_lease=state.lease,
        ended_by=record.type,
        ended_at=event.expired_at if type(event) is Expired else record.occurred_at,
    )


def task_after_registration(state: TaskState, record: Record) -> TaskState:
    event: TaskRegistered = record.data  # type: ignore[assignment]
    return _replace(
        state,
        version=record.version,
        registered=True,
        title=event.title,
        priority=event.priority,
        roi=event.roi,
        fingerprint=event.fingerprint,
        phase=event.phase,
        status=event.status,
        registered_position=record.position,
    )


def task_after_status_change(state: TaskState, record: Record) -> TaskState:
    event: TaskStatusChanged = record.data  # type: ignore[assignment]
    return _replace(state, version=record.version, status=event.status)


def task_after_takeover(state: TaskState, record: Record) -> TaskState:
    """The new holder's lease; a lease still running is the ended one (after an expiry,
    the ``Expired`` just before already says how the last one ended)."""
    event: TakenOver = record.data  # type: ignore[assignment]
    taken = state.lease is not None
    return _replace(
        state,
        version=record.version,
        lease=lease_of_claim(event, record.occurred_at, event.to_session, None),
        status="in_progress",
        ended_lease=state.lease if taken else state.ended_lease,
        ended_by="taken_over" if taken else state.ended_by,
        ended_at=record.occurred_at if taken else state.ended_at,
    )


def lease_of_claim(
    event: Claimed | TakenOver, at: datetime, session_id: str, request_id: str | None
) -> Lease:
    """The lease a claim or a takeover starts, ``at`` the time it was decided."""
    return Lease(
        session_id=session_id,
        fencing_token=event.fencing_token,
        claimed_at=at,
        expires_at=event.expires_at,
        last_heartbeat=at,
        heartbeat_count=0,
        ttl_ms=event.ttl_ms,
        agent_type=event.agent_type,
        tier=event.tier,
        scope=event.scope,
        constraints=event.constraints,
        metadata=event.metadata,
        request_id=request_id,
    )


TASK_FOLDS: dict[type[EventBase], Callable[[TaskState, Record], TaskState]] = {
    Heartbeat: task_after_heartbeat,
    Claimed: task_after_claim,
    Released: task_after_end,
    Expired: task_after_end,
    Orphaned: task_after_end,
    TaskRegistered: task_after_registration,
    TaskStatusChanged: task_after_status_change,
    TakenOver: task_after_takeover,
}
"""The fold of each event type a task stream's state reads, by the event's class."""


def lease_after(lease: Lease | None, record: Record) -> Lease | None:
    """A task's lease after one more record of its stream (``None``: no claim)."""
    event = record.data
    match event:
        case Heartbeat():
            if lease is None:
                return None
            if event.renewal:
                return msgspec.structs.replace(
                    lease,
                    expires_at=event.expires_at,
                    last_heartbeat=record.occurred_at,
                    heartbeat_count=lease.heartbeat_count + 1,
                    ttl_ms=event.extend_ms,
                )
            return msgspec.structs.replace(
                lease,
                expires_at=event.expires_at,
                last_heartbeat=record.occurred_at,
                heartbeat_count=lease.heartbeat_count + 1,
            )
        case Claimed() | TakenOver():
            return Lease(
                session_id=event.session_id if isinstance(event, Claimed) else event.to_session,
                fencing_token=event.fencing_token,
                claimed_at=record.occurred_at,
                expires_at=event.expires_at,
                last_heartbeat=record.occurred_at,
                heartbeat_count=0,
                ttl_ms=event.ttl_ms,
                agent_type=event.agent_type,
                tier=event.tier,
                scope=event.scope,
                constraints=event.constraints,
                metadata=event.metadata,
                request_id=event.request_id if isinstance(event, Claimed) else None,
            )
        case Released() | Expired() | Orphaned():
            return None
        case _:
            return lease


def evolve_session(state: SessionState, record: Record) -> SessionState:
    """The session's state after one more record of its stream."""
    event = record.data
    state = msgspec.structs.replace(state, version=record.version)
    match event:
        case SessionStarted():
            return msgspec.structs.replace(
                state,
                started=True,
                ended=False,
                agent_type=event.agent_type,
                tier=event.tier,
                host=event.host,
                pid=event.pid,
                started_at=record.occurred_at,
                ended_at=None,
            )
        case SessionEnded():
            return msgspec.structs.replace(state, ended=True, ended_at=record.occurred_at)
        case _:
            return state


def fold_task(task_id: str, records: list[Record], state: TaskState | None = None) -> TaskState:
    current = state or TaskState(task_id=task_id)
    for record in records:
        current = evolve_task(current, record)
    return current


def fold_session(
    session_id: str, records: list[Record], state: SessionState | None = None
) -> SessionState:
    current = state or SessionState(session_id=session_id)
    for record in records:
        current = evolve_session(current, record)
    return current
