"""Seed 002's JSON bodies: one description of each, for every face.

Each body is a msgspec Struct: the CLI's ``--json`` encodes it, the HTTP API sends
it, and the OpenAPI document describes it from the same class
(``msgspec.json.schema_components``, in ``api.openapi``). Keys are camelCase as in
seed 002; times are RFC 3339 in UTC with milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from application.results import (
    ClaimResult,
    HeartbeatResult,
    ImportResult,
    ReleaseResult,
    SweepResult,
    TakeoverResult,
)
from ledger.clock import iso
from ledger.events import TaskStatus
from ledger.health import Health
from ledger.state import Lease, SessionState, TaskState

if TYPE_CHECKING:  # the lease bodies are on the hook's path; the read models are not
    from projections.in_flight import InFlight, InFlightEntry
    from projections.sessions import HistoryEntry, SessionView

Time = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
"""A time as every body shows it: RFC 3339, UTC, milliseconds."""


class Body(msgspec.Struct, kw_only=True, rename="camel"):
    """Every body: snake_case attributes, camelCase keys."""


# --- claims ------------------------------------------------------------------------


class LeaseBody(Body, kw_only=True):
    task_id: str
    session_id: str
    claimed_at: Time
    expires_at: Time
    last_heartbeat: Time
    heartbeat_count: int
    agent_type: str
    tier: str | None
    ttl_ms: int
    fencing_token: Annotated[
        int, msgspec.Meta(description="Grows with every new claim of the task")
    ]
    scope: list[str]
    constraints: list[str]
    metadata: dict[str, Any]


class ClaimBody(LeaseBody, kw_only=True):
    version: Annotated[int, msgspec.Meta(description="The task stream's version after the claim")]
    renewed: Annotated[
        bool, msgspec.Meta(description="True when the holder re-claimed and the lease was extended")
    ]


class ClaimResponse(Body, kw_only=True):
    success: Literal[True]
    claim: ClaimBody


class Handoff(Body, kw_only=True):
    from_session: str
    forced: bool


class TakeoverResponse(ClaimResponse, kw_only=True):
    takeover: Handoff


class HeartbeatClaim(Body, kw_only=True):
    task_id: str
    session_id: str
    expires_at: Time
    heartbeat_count: int
    fencing_token: int
    version: int


class HeartbeatResponse(Body, kw_only=True):
    success: Literal[True]
    claim: HeartbeatClaim


class ReleasedBody(Body, kw_only=True):
    task_id: str
    session_id: str
    reason: str
    claim_duration: Annotated[int, msgspec.Meta(description="Milliseconds from claim to release")]
    fencing_token: int
    status: TaskStatus
    version: int


class ReleaseResponse(Body, kw_only=True):
    success: Literal[True]
    released: ReleasedBody


def lease_body(task_id: str, lease: Lease) -> LeaseBody:
    return LeaseBody(**_lease_fields(task_id, lease))


def _lease_fields(task_id: str, lease: Lease) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "session_id": lease.session_id,
        "claimed_at": iso(lease.claimed_at),
        "expires_at": iso(lease.expires_at),
        "last_heartbeat": iso(lease.last_heartbeat),
        "heartbeat_count": lease.heartbeat_count,
        "agent_type": lease.agent_type,
        "tier": lease.tier,
        "ttl_ms": lease.ttl_ms,
        "fencing_token": lease.fencing_token,
        "scope": list(lease.scope),
        "constraints": list(lease.constraints),
        "metadata": lease.metadata,
    }


def claim_body(result: ClaimResult) -> ClaimResponse:
    claim = ClaimBody(
        **_lease_fields(result.task.task_id, result.lease),
        version=result.task.version,
        renewed=result.renewed,
    )
    return ClaimResponse(success=True, claim=claim)


def heartbeat_body(result: HeartbeatResult) -> HeartbeatResponse:
    claim = HeartbeatClaim(
        task_id=result.task.task_id,
        session_id=result.lease.session_id,
        expires_at=iso(result.lease.expires_at),
        heartbeat_count=result.lease.heartbeat_count,
        fencing_token=result.lease.fencing_token,
        version=result.task.version,
    )
    return HeartbeatResponse(success=True, claim=claim)


def release_body(result: ReleaseResult) -> ReleaseResponse:
    released = ReleasedBody(
        task_id=result.task.task_id,
        session_id=result.session_id,
        reason=result.reason,
        claim_duration=result.claim_duration_ms,
        fencing_token=result.fencing_token,
        status=result.task.status,
        version=result.task.version,
    )
    return ReleaseResponse(success=True, released=released)


def takeover_body(result: TakeoverResult) -> TakeoverResponse:
    claim = ClaimBody(
        **_lease_fields(result.task.task_id, result.lease),
        version=result.task.version,
        renewed=False,
    )
    handoff = Handoff(from_session=result.from_session, forced=result.forced)
    return TakeoverResponse(success=True, claim=claim, takeover=handoff)


# --- in flight and current task --------------------------------------------------


class InFlightTask(Body, kw_only=True):
    title: str
    phase: str | None
    priority: str
    roi: float
    status: TaskStatus


class InFlightClaim(LeaseBody, kw_only=True):
    remaining_ms: int
    health_status: Health


class InFlightEntryBody(Body, kw_only=True):
    task_id: str
    task: InFlightTask
    claim: InFlightClaim


class InFlightSummary(Body, kw_only=True):
    total: int
    by_session: dict[str, int]


class InFlightResponse(Body, kw_only=True):
    in_flight: list[InFlightEntryBody]
    summary: InFlightSummary
    as_of: Time
    position: Annotated[int, msgspec.Meta(description="The ledger position this view is as of")]


class CurrentClaim(Body, kw_only=True):
    claimed_at: Time
    expires_at: Time
    remaining_ms: int
    fencing_token: int
    health_status: Health


class CurrentTask(Body, kw_only=True):
    task_id: str
    title: str
    phase: str | None
    claim: CurrentClaim


class CurrentTaskResponse(Body, kw_only=True):
    session_id: str
    current_task: CurrentTask | None


def in_flight_entry_body(entry: InFlightEntry) -> InFlightEntryBody:
    task = entry.task
    return InFlightEntryBody(
        task_id=task.task_id,
        task=InFlightTask(
            title=task.title,
            phase=task.phase,
            priority=task.priority,
            roi=task.roi,
            status=task.status,
        ),
        claim=InFlightClaim(
            **_lease_fields(task.task_id, entry.lease),
            remaining_ms=entry.remaining_ms,
            health_status=entry.health,
        ),
    )


def in_flight_body(flight: InFlight) -> InFlightResponse:
    by_session = Counter(entry.lease.session_id for entry in flight.entries)
    return InFlightResponse(
        in_flight=[in_flight_entry_body(entry) for entry in flight.entries],
        summary=InFlightSummary(
            total=len(flight.entries), by_session=dict(sorted(by_session.items()))
        ),
        as_of=iso(flight.at),
        position=flight.position,
    )


def current_task_body(session_id: str, entry: InFlightEntry | None) -> CurrentTaskResponse:
    if entry is None:
        return CurrentTaskResponse(session_id=session_id, current_task=None)
    current = CurrentTask(
        task_id=entry.task.task_id,
        title=entry.task.title,
        phase=entry.task.phase,
        claim=CurrentClaim(
            claimed_at=iso(entry.lease.claimed_at),
            expires_at=iso(entry.lease.expires_at),
            remaining_ms=entry.remaining_ms,
            fencing_token=entry.lease.fencing_token,
            health_status=entry.health,
        ),
    )
    return CurrentTaskResponse(session_id=session_id, current_task=current)


# --- tasks -------------------------------------------------------------------------


class TaskBody(Body, kw_only=True):
    task_id: str
    title: str
    status: TaskStatus
    priority: str
    roi: float
    fingerprint: str | None
    phase: str | None
    version: int
    claim: LeaseBody | None


class TaskResponse(Body, kw_only=True):
    success: Literal[True]
    task: TaskBody


class TaskCreated(Body, kw_only=True):
    success: Literal[True]
    result: Literal["created"]
    task: TaskBody


class TaskList(Body, kw_only=True):
    tasks: list[TaskBody]
    total: int


class ImportResponse(Body, kw_only=True):
    success: Literal[True]
    added: list[str]
    existing: list[str]
    total: int


def task_body(task: TaskState) -> TaskBody:
    return TaskBody(
        task_id=task.task_id,
        title=task.title,
        status=task.status,
        priority=task.priority,
        roi=task.roi,
        fingerprint=task.fingerprint,
        phase=task.phase,
        version=task.version,
        claim=None if task.lease is None else lease_body(task.task_id, task.lease),
    )


def task_response(task: TaskState) -> TaskResponse:
    return TaskResponse(success=True, task=task_body(task))


def task_created(task: TaskState) -> TaskCreated:
    return TaskCreated(success=True, result="created", task=task_body(task))


def import_body(result: ImportResult) -> ImportResponse:
    return ImportResponse(
        success=True,
        added=result.added,
        existing=result.existing,
        total=len(result.added) + len(result.existing),
    )


# --- sessions ----------------------------------------------------------------------


class SessionBody(Body, kw_only=True):
    session_id: str
    agent_type: str
    tier: str | None
    host: str
    pid: int | None
    started_at: Time | None
    ended_at: Time | None
    active: bool


class SessionResponse(Body, kw_only=True):
    success: Literal[True]
    session: SessionBody


class SessionEndedResponse(SessionResponse, kw_only=True):
    orphaned: Annotated[list[str], msgspec.Meta(description="Tasks whose claims the end orphaned")]


class HistoryEntryBody(Body, kw_only=True):
    task_id: str
    fencing_token: int
    claimed_at: Time
    released_at: Time | None
    release_reason: str | None
    duration: Annotated[int, msgspec.Meta(description="Milliseconds held (so far, if still held)")]


class HistoryResponse(Body, kw_only=True):
    session_id: str
    session: SessionBody
    current_task_id: str | None
    current_task_claimed_at: Time | None
    claim_history: list[HistoryEntryBody]
    total: int


def session_body(state: SessionState) -> SessionBody:
    return SessionBody(**session_fields(state))


def session_fields(state: SessionState) -> dict[str, Any]:
    return {
        "session_id": state.session_id,
        "agent_type": state.agent_type,
        "tier": state.tier,
        "host": state.host,
        "pid": state.pid,
        "started_at": iso(state.started_at),
        "ended_at": iso(state.ended_at),
        "active": state.started and not state.ended,
    }


def session_response(state: SessionState) -> SessionResponse:
    return SessionResponse(success=True, session=session_body(state))


def session_ended(state: SessionState, orphaned: list[str]) -> SessionEndedResponse:
    return SessionEndedResponse(success=True, session=session_body(state), orphaned=orphaned)


def history_body(
    session_id: str,
    view: SessionView,
    now: datetime,
    limit: int | None,
    leases: Mapping[str, Lease],
) -> HistoryResponse:
    """Seed 002's ``claimHistory``, newest first; ``limit=None`` for all of it. The
    current task is the newest claim still open whose lease (from ``leases``, the
    current-claims projection) is live at ``now``, as ``current-task`` answers."""
    entries = list(reversed(view.history))
    shown = entries if limit is None else entries[:limit]
    current = next(
        (entry for entry in entries if entry.released_at is None and _live(entry, leases, now)),
        None,
    )
    return HistoryResponse(
        session_id=session_id,
        session=session_body(view.state),
        current_task_id=None if current is None else current.task_id,
        current_task_claimed_at=None if current is None else iso(current.claimed_at),
        claim_history=[_history_entry(entry, now) for entry in shown],
        total=len(entries),
    )


def _history_entry(entry: HistoryEntry, now: datetime) -> HistoryEntryBody:
    return HistoryEntryBody(
        task_id=entry.task_id,
        fencing_token=entry.fencing_token,
        claimed_at=iso(entry.claimed_at),
        released_at=iso(entry.released_at),
        release_reason=entry.release_reason,
        duration=entry.duration_ms(now),
    )


def _live(entry: HistoryEntry, leases: Mapping[str, Lease], now: datetime) -> bool:
    lease = leases.get(entry.task_id)
    return lease is not None and lease.fencing_token == entry.fencing_token and lease.live_at(now)


# --- maintenance -------------------------------------------------------------------


class OrphanBody(Body, kw_only=True):
    task_id: str
    session_id: str
    reason: str


class SweepResponse(Body, kw_only=True):
    success: Literal[True]
    expired: list[str]
    orphaned: list[OrphanBody]
    cleaned: int


def sweep_body(result: SweepResult) -> SweepResponse:
    return SweepResponse(
        success=True,
        expired=result.expired,
        orphaned=[
            OrphanBody(task_id=task, session_id=session, reason=reason)
            for task, session, reason in result.orphaned
        ],
        cleaned=len(result.expired) + len(result.orphaned),
    )
