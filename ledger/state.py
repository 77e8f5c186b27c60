"""Folded state of one task stream and one session stream: the pure ``evolve`` functions.

The same ``evolve_task`` folds a task stream before every decision and drives the
projections, so the rules and the read side cannot disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

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

    One ``replace`` per record, cases in order of frequency (heartbeats dominate):
    this fold runs before every decision and for every record of a rebuild.
    """
    event = record.data
    version = record.version
    replace = _replace
    if type(event) is Heartbeat:  # the most frequent record, without a call to lease_after
        lease = state.lease
        if lease is not None:
            lease = replace(
                lease,
                expires_at=event.expires_at,
                last_heartbeat=record.occurred_at,
                heartbeat_count=lease.heartbeat_count + 1,
                ttl_ms=event.extend_ms if event.renewal else lease.ttl_ms,
            )
        return replace(state, version=version, lease=lease)
    match event:
        case Claimed():
            lease = lease_after(state.lease, record)
            return replace(state, version=version, lease=lease, status="in_progress")
        case Released() | Expired() | Orphaned():
            status: TaskStatus = "todo" if state.status == "in_progress" else state.status
            return replace(
                state,
                version=version,
                lease=None,
                status=status,
                ended_lease=state.lease,
                ended_by=record.type,
                ended_at=event.expired_at if isinstance(event, Expired) else record.occurred_at,
            )
        case TaskRegistered():
            return replace(
                state,
                version=version,
                registered=True,
                title=event.title,
                priority=event.priority,
                roi=event.roi,
                fingerprint=event.fingerprint,
                phase=event.phase,
                status=event.status,
                registered_position=record.position,
            )
        case TaskStatusChanged():
            return replace(state, version=version, status=event.status)
        case TakenOver():
            taken = state.lease is not None  # after expiry, the Expired just before says so
            return replace(
                state,
                version=version,
                lease=lease_after(state.lease, record),
                status="in_progress",
                ended_lease=state.lease if taken else state.ended_lease,
                ended_by="taken_over" if taken else state.ended_by,
                ended_at=record.occurred_at if taken else state.ended_at,
            )
        case _:
            return replace(state, version=version)


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
