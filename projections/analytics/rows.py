"""Rows of the analytics tables as msgspec Structs, in the tables' column order.

The feeder writes rows as newline-delimited JSON to a private temporary file and
lets DuckDB's ``read_json`` load them; keys are shortened (``c0``, ``c1``, ...)
because DuckDB parses fewer bytes faster. ``EventRow.of`` defines one ledger record's
``events`` row (the feeder has DuckDB make the same rows, ``event_rows``).
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
    TaskStatusChanged,
    TokensUsed,
)
from ledger.records import Record


def short_names(*names: str) -> dict[str, str]:
    """Column name to its short JSON key: ``c0``, ``c1``, ... in column order."""
    return {name: f"c{index}" for index, name in enumerate(names)}


_EVENT_COLUMNS = (
    "position",
    "stream",
    "version",
    "event_id",
    "type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "hash",
    "task_id",
    "session_id",
    "fencing_token",
    "previous_token",
    "from_session",
    "reason",
    "forced",
    "forced_by",
    "lease_ms",
    "expires_at",
    "agent_type",
    "tier",
    "status",
    "previous_status",
    "title",
    "priority",
    "roi",
    "fingerprint",
    "phase",
    "host",
    "pid",
    "scope",
    "constraints",
    "metadata",
)


class EventRow(
    msgspec.Struct,
    kw_only=True,
    omit_defaults=True,
    gc=False,
    rename=short_names(*_EVENT_COLUMNS),
):
    """One record of the ledger with the fields of its event spread over typed columns."""

    position: int
    stream: str
    version: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str | None = None
    causation_id: str | None = None
    hash: str
    task_id: str | None = None
    session_id: str | None = None
    fencing_token: int | None = None
    previous_token: int | None = None
    from_session: str | None = None
    reason: str | None = None
    forced: bool | None = None
    forced_by: str | None = None
    lease_ms: int | None = None
    expires_at: datetime | None = None
    agent_type: str | None = None
    tier: str | None = None
    status: str | None = None
    previous_status: str | None = None
    title: str | None = None
    priority: str | None = None
    roi: float | None = None
    fingerprint: str | None = None
    phase: str | None = None
    host: str | None = None
    pid: int | None = None
    scope: tuple[str, ...] | None = None
    constraints: tuple[str, ...] | None = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def of(cls, record: Record) -> EventRow:
        """The ``events`` row of one record."""
        event = record.data
        row = cls(
            position=record.position,
            stream=record.stream,
            version=record.version,
            event_id=record.event_id,
            type=record.type,
            schema_version=record.schema_version,
            occurred_at=record.occurred_at,
            recorded_at=record.recorded_at,
            actor=record.actor,
            correlation_id=record.correlation_id,
            causation_id=record.causation_id,
            hash=record.hash,
        )
        if type(event) is Heartbeat:  # the common case first
            row.task_id = event.task_id
            row.session_id = event.session_id
            row.fencing_token = event.fencing_token
            row.lease_ms = event.extend_ms
            row.expires_at = event.expires_at
            return row
        _spread(row, event)
        return row


def _spread(row: EventRow, event: object) -> None:
    """Copy an event's fields into the row's typed columns."""
    match event:
        case Claimed():
            row.session_id = event.session_id
            _lease(row, event.fencing_token, event.ttl_ms, event.expires_at)
            _holder(row, event.agent_type, event.tier, event)
        case TakenOver():
            row.session_id = event.to_session
            row.from_session = event.from_session
            row.previous_token = event.previous_token
            row.reason = event.handoff_reason
            row.forced = event.forced
            row.forced_by = event.forced_by
            _lease(row, event.fencing_token, event.ttl_ms, event.expires_at)
            _holder(row, event.agent_type, event.tier, event)
        case Released() | Orphaned():
            row.session_id = event.session_id
            row.fencing_token = event.fencing_token
            row.reason = event.reason
        case Expired():
            row.session_id = event.session_id
            row.fencing_token = event.fencing_token
            row.expires_at = event.expired_at
        case _:
            _spread_other(row, event)
    row.task_id = getattr(event, "task_id", None)


def _spread_other(row: EventRow, event: object) -> None:
    match event:
        case TaskRegistered():
            row.title = event.title
            row.priority = event.priority
            row.roi = event.roi
            row.fingerprint = event.fingerprint
            row.phase = event.phase
            row.status = event.status
        case TaskStatusChanged():
            row.status = event.status
            row.previous_status = event.previous
            row.reason = event.reason
        case SessionStarted():
            row.session_id = event.session_id
            row.agent_type = event.agent_type
            row.tier = event.tier
            row.host = event.host
            row.pid = event.pid
        case SessionEnded():
            row.session_id = event.session_id
            row.reason = event.reason
        case _:
            fingerprint = getattr(event, "fingerprint", None)
            row.fingerprint = fingerprint if isinstance(fingerprint, str) else None


def _lease(row: EventRow, token: int, lease_ms: int, expires_at: datetime) -> None:
    row.fencing_token = token
    row.lease_ms = lease_ms
    row.expires_at = expires_at


def _holder(row: EventRow, agent_type: str, tier: str | None, event: Claimed | TakenOver) -> None:
    row.agent_type = agent_type
    row.tier = tier
    row.scope = event.scope
    row.constraints = event.constraints
    row.metadata = event.metadata


_INTERVAL_COLUMNS = (
    "task_id",
    "fencing_token",
    "session_id",
    "agent_type",
    "tier",
    "started_at",
    "start_position",
    "started_by",
    "taken_from",
    "start_forced",
    "forced_by",
    "handoff_reason",
    "ttl_ms",
    "lease_expires_at",
    "last_heartbeat",
    "heartbeats",
    "ended_at",
    "end_position",
    "end_reason",
    "release_reason",
    "taken_by",
    "end_forced",
    "claimed_ms",
    "active_ms",
    "max_silence_ms",
    "previous_session",
    "previous_token",
    "previous_end",
)


class IntervalRow(
    msgspec.Struct,
    kw_only=True,
    omit_defaults=True,
    gc=False,
    rename=short_names(*_INTERVAL_COLUMNS),
):
    """One claim of a task by one session, from its start to its end (or still open)."""

    task_id: str
    fencing_token: int
    session_id: str
    agent_type: str | None = None
    tier: str | None = None
    started_at: datetime
    start_position: int
    started_by: str
    taken_from: str | None = None
    start_forced: bool
    forced_by: str | None = None
    handoff_reason: str | None = None
    ttl_ms: int
    lease_expires_at: datetime
    last_heartbeat: datetime
    heartbeats: int
    ended_at: datetime | None = None
    end_position: int | None = None
    end_reason: str
    release_reason: str | None = None
    taken_by: str | None = None
    end_forced: bool | None = None
    claimed_ms: int | None = None
    active_ms: int
    max_silence_ms: int
    previous_session: str | None = None
    previous_token: int | None = None
    previous_end: datetime | None = None
    """The claim before this one on the task, in log order, and when it ended."""


_TASK_COLUMNS = (
    "task_id",
    "title",
    "priority",
    "roi",
    "fingerprint",
    "phase",
    "status",
    "registered",
    "registered_at",
    "registered_position",
    "status_changed_at",
    "finished_at",
    "finished_position",
    "completed_by",
    "last_claim_session",
    "last_claim_token",
    "last_claim_end",
    "last_position",
)


class TaskRow(msgspec.Struct, kw_only=True, gc=False, rename=short_names(*_TASK_COLUMNS)):
    """A task as the log says now: its registration and its status."""

    task_id: str
    title: str | None = None
    priority: str | None = None
    roi: float | None = None
    fingerprint: str | None = None
    phase: str | None = None
    status: str = "todo"
    registered: bool = False
    registered_at: datetime | None = None
    registered_position: int | None = None
    status_changed_at: datetime | None = None
    finished_at: datetime | None = None
    finished_position: int | None = None
    completed_by: str | None = None
    last_claim_session: str | None = None
    last_claim_token: int | None = None
    last_claim_end: datetime | None = None
    """The task's last claim that ended: who held it, its token, when it ended."""
    last_position: int = 0


_SESSION_COLUMNS = (
    "session_id",
    "agent_type",
    "tier",
    "host",
    "pid",
    "started_at",
    "ended_at",
    "end_reason",
    "starts",
    "last_position",
)


class SessionRow(msgspec.Struct, kw_only=True, gc=False, rename=short_names(*_SESSION_COLUMNS)):
    """A session as the log says now: its last start and its end."""

    session_id: str
    agent_type: str | None = None
    tier: str | None = None
    host: str | None = None
    pid: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    starts: int = 0
    last_position: int = 0


_USAGE_COLUMNS = (
    "session_id",
    "message_id",
    "position",
    "used_at",
    "source",
    "model",
    "task_id",
    "fencing_token",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
)


class UsageRow(msgspec.Struct, kw_only=True, gc=False, rename=short_names(*_USAGE_COLUMNS)):
    """One model message's measured tokens (a ``tokens_used`` record), once per
    session and message id, on the claim it was attributed to when imported."""

    session_id: str
    message_id: str
    position: int
    used_at: datetime
    source: str
    model: str | None = None
    task_id: str | None = None
    fencing_token: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    @classmethod
    def of(cls, record: Record, usage: TokensUsed) -> UsageRow:
        return cls(
            session_id=usage.session_id,
            message_id=usage.message_id,
            position=record.position,
            used_at=usage.at,
            source=usage.source,
            model=usage.model,
            task_id=usage.task_id,
            fencing_token=usage.fencing_token,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_tokens=usage.cache_creation_tokens,
            cache_read_tokens=usage.cache_read_tokens,
        )


_WORK_COLUMNS = (
    "task_id",
    "session_id",
    "title",
    "finished_at",
    "completed_by",
    "total_ms",
    "agent_type",
    "claims",
    "active_ms",
    "last_start",
    "time_share",
    "completion_share",
    "first_worker",
    "last_worker",
    "json_open",
    "json_worker",
)


class WorkRow(msgspec.Struct, kw_only=True, gc=False, rename=short_names(*_WORK_COLUMNS)):
    """A finished task and a worker who held it: what its payout share is made of
    (written by DuckDB from the other tables; read back by exports and tests)."""

    task_id: str
    session_id: str
    title: str | None = None
    finished_at: datetime
    completed_by: str | None = None
    total_ms: int
    agent_type: str | None = None
    claims: int
    active_ms: int
    last_start: int
    time_share: float
    completion_share: float
    first_worker: bool
    last_worker: bool
    json_open: str
    json_worker: str


ROW_TYPES: dict[str, type[msgspec.Struct]] = {
    "events": EventRow,
    "claim_intervals": IntervalRow,
    "tasks": TaskRow,
    "sessions": SessionRow,
    "token_usage": UsageRow,
    "payout_work": WorkRow,
}
"""The row type of each table; its fields are the table's columns, in order."""
