"""The in-flight view: claimed tasks with their health, now or as of a past moment."""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.clock import to_ms
from ledger.config import ClaimConfig
from ledger.health import Health, claim_health
from ledger.state import Lease, TaskState
from projections.board import Board


class InFlightEntry(msgspec.Struct, frozen=True, kw_only=True):
    task: TaskState
    lease: Lease
    health: Health
    remaining_ms: int


class InFlight(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[InFlightEntry]
    at: datetime
    position: int


def in_flight(
    board: Board,
    now: datetime,
    config: ClaimConfig,
    *,
    session_id: str | None = None,
    include_expired: bool = False,
) -> InFlight:
    """Leases on ``board`` at ``now`` (one session's, or all), with health and time left."""
    entries = [
        entry(task, lease, now, config)
        for task, lease in board.leases()
        if (session_id is None or lease.session_id == session_id)
        and (include_expired or lease.live_at(now))
    ]
    return InFlight(entries=entries, at=now, position=board.position)


def current_task(
    board: Board, now: datetime, config: ClaimConfig, session_id: str
) -> InFlightEntry | None:
    """The session's most recently claimed live task, or ``None``."""
    flight = in_flight(board, now, config, session_id=session_id)
    return max(flight.entries, key=lambda e: e.lease.claimed_at, default=None)


def entry(task: TaskState, lease: Lease, now: datetime, config: ClaimConfig) -> InFlightEntry:
    return InFlightEntry(
        task=task,
        lease=lease,
        health=claim_health(lease, now, config),
        remaining_ms=max(0, to_ms(lease.expires_at - now)),
    )
