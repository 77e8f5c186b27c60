"""What the service returns: plain values the CLI and the HTTP API render."""

from __future__ import annotations

import msgspec

from ledger.records import Record
from ledger.state import Lease, TaskState


class ClaimResult(msgspec.Struct, frozen=True, kw_only=True):
    task: TaskState
    lease: Lease
    renewed: bool
    """True when the holder re-claimed (or took over its own claim) and the lease was extended."""
    records: list[Record]


class HeartbeatResult(msgspec.Struct, frozen=True, kw_only=True):
    task: TaskState
    lease: Lease
    records: list[Record]


class ReleaseResult(msgspec.Struct, frozen=True, kw_only=True):
    task: TaskState
    session_id: str
    reason: str
    fencing_token: int
    claim_duration_ms: int
    records: list[Record]


class TakeoverResult(msgspec.Struct, frozen=True, kw_only=True):
    task: TaskState
    lease: Lease
    from_session: str
    forced: bool
    records: list[Record]


class SweepResult(msgspec.Struct, frozen=True, kw_only=True):
    expired: list[str]
    orphaned: list[tuple[str, str, str]]
    """``(task_id, session_id, reason)`` for each orphaned claim."""
    records: list[Record]


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    added: list[str]
    existing: list[str]
