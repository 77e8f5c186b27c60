"""Bodies beyond seed 002's: the board the dashboard draws, session cards, statistics.

Each function reads the service's board (on the API, on the service thread) and
returns a body described once here, as ``application.bodies`` describes the rest.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated

import msgspec

from application.bodies import (
    Body,
    SessionBody,
    TaskBody,
    TaskList,
    Time,
    session_fields,
    task_body,
)
from application.service import ClaimService
from ledger.clock import iso, to_ms
from ledger.config import ClaimConfig
from ledger.health import Health, claim_health
from ledger.state import TaskState
from projections.board import Board, SessionView


class SessionCard(SessionBody, kw_only=True):
    current_task_id: str | None
    claims: Annotated[int, msgspec.Meta(description="Claims the session has made")]
    completed: Annotated[int, msgspec.Meta(description="Of those, released as completed")]
    last_heartbeat: Annotated[
        Time | None, msgspec.Meta(description="Latest claim or heartbeat of a live claim")
    ]


class SessionList(Body, kw_only=True):
    sessions: list[SessionCard]
    total: int


class ConfigBody(Body, kw_only=True):
    default_ttl: int
    min_ttl: int
    max_ttl: int
    heartbeat_interval: int
    cleanup_interval: int
    orphan_threshold: int
    warning_threshold: int
    expiring_threshold: int


class BoardTask(TaskBody, kw_only=True):
    health_status: Health | None
    remaining_ms: int | None


class BoardResponse(Body, kw_only=True):
    tasks: list[BoardTask]
    sessions: list[SessionCard]
    config: ConfigBody
    position: int
    as_of: Time


class ClaimStats(Body, kw_only=True):
    in_flight: int
    by_health: dict[str, int]
    by_session: dict[str, int]
    by_agent_type: dict[str, int]
    tasks: Annotated[
        dict[str, int], msgspec.Meta(description="Registered tasks by status, and their total")
    ]
    sessions: Annotated[dict[str, int], msgspec.Meta(description="Sessions: total, active")]
    claimable: int
    position: int
    as_of: Time


def task_list(service: ClaimService, status: str | None) -> TaskList:
    """Registered tasks, best ROI first (the CLI's ``task list --json``)."""
    shown = [t for t in ranked(service.board()) if status is None or t.status == status]
    return TaskList(tasks=[task_body(t) for t in shown], total=len(shown))


def session_cards(service: ClaimService) -> SessionList:
    board = service.board()
    now = service.clock.now()
    cards = [_card(board, view, now) for view in _sessions(board)]
    return SessionList(sessions=cards, total=len(cards))


def board_snapshot(service: ClaimService) -> BoardResponse:
    """Everything the dashboard draws, as of one position."""
    return _board_body(service, service.board(), service.clock.now())


def _board_body(service: ClaimService, board: Board, now: datetime) -> BoardResponse:
    return BoardResponse(
        tasks=[_board_task(state, now, service.config) for state in ranked(board)],
        sessions=[_card(board, view, now) for view in _sessions(board)],
        config=config_body(service.config),
        position=board.position,
        as_of=iso(now),
    )


def stats(service: ClaimService) -> ClaimStats:
    """Seed 002's claim statistics: claims in flight by health, session and agent type."""
    board = service.board()
    now = service.clock.now()
    leases = board.leases()
    health = Counter(claim_health(lease, now, service.config) for _, lease in leases)
    statuses = Counter(t.status for t in board.tasks.values() if t.registered)
    sessions = [view.state for view in board.sessions.values() if view.state.started]
    return ClaimStats(
        in_flight=sum(1 for _, lease in leases if lease.live_at(now)),
        by_health={name: health.get(name, 0) for name in _HEALTHS},
        by_session=dict(sorted(Counter(lease.session_id for _, lease in leases).items())),
        by_agent_type=dict(sorted(Counter(lease.agent_type for _, lease in leases).items())),
        tasks={"total": sum(statuses.values()), **dict(sorted(statuses.items()))},
        sessions={"total": len(sessions), "active": sum(1 for s in sessions if not s.ended)},
        claimable=len(board.claimable(now)),
        position=board.position,
        as_of=iso(now),
    )


def config_body(config: ClaimConfig) -> ConfigBody:
    return ConfigBody(
        default_ttl=config.default_ttl,
        min_ttl=config.min_ttl,
        max_ttl=config.max_ttl,
        heartbeat_interval=config.heartbeat_interval,
        cleanup_interval=config.cleanup_interval,
        orphan_threshold=config.orphan_threshold,
        warning_threshold=config.warning_threshold,
        expiring_threshold=config.expiring_threshold,
    )


_HEALTHS: tuple[Health, ...] = ("healthy", "stale", "expiring", "expired")


def ranked(board: Board) -> list[TaskState]:
    """Registered tasks, best ROI first, then in order of registration."""
    tasks = [t for t in board.tasks.values() if t.registered]
    return sorted(tasks, key=lambda t: (-t.roi, t.registered_position))


def _board_task(state: TaskState, now: datetime, config: ClaimConfig) -> BoardTask:
    lease = state.lease
    return BoardTask(
        **msgspec.structs.asdict(task_body(state)),
        health_status=None if lease is None else claim_health(lease, now, config),
        remaining_ms=None if lease is None else max(0, to_ms(lease.expires_at - now)),
    )


def _sessions(board: Board) -> list[SessionView]:
    views = [view for view in board.sessions.values() if view.state.started]
    return sorted(views, key=lambda v: (v.state.ended, v.state.session_id))


def _card(board: Board, view: SessionView, now: datetime) -> SessionCard:
    """A session with its current task, claim counts and latest sign of life."""
    session_id = view.state.session_id
    leases = [
        (task, task.lease)
        for entry in view.history
        if entry.released_at is None
        and (task := board.tasks.get(entry.task_id)) is not None
        and task.lease is not None
        and task.lease.session_id == session_id
    ]
    live = [(task, lease) for task, lease in leases if lease.live_at(now)]
    current = max(live, key=lambda pair: pair[1].claimed_at, default=None)
    beats = [lease.last_heartbeat for _, lease in leases]
    return SessionCard(
        **session_fields(view.state),
        current_task_id=None if current is None else current[0].task_id,
        claims=len(view.history),
        completed=sum(1 for e in view.history if e.release_reason == "completed"),
        last_heartbeat=iso(max(beats)) if beats else None,
    )


# --- as of a position or a time (the dashboard's time control) ----------------------


class SummaryCard(SessionCard, kw_only=True):
    current_task: Annotated[
        TaskBody | None, msgspec.Meta(description="The task the session holds now")
    ]
    claim_health: Annotated[Health | None, msgspec.Meta(description="The health of that claim")]


class SummaryCounts(Body, kw_only=True):
    total: int
    active: int
    working: Annotated[int, msgspec.Meta(description="Sessions holding a live claim")]
    by_health: Annotated[dict[str, int], msgspec.Meta(description="Current claims by health")]


class SessionSummary(Body, kw_only=True):
    """Seed 002's ``/api/sessions/summary``: the cards with each session's current task."""

    sessions: list[SummaryCard]
    summary: SummaryCounts
    position: Annotated[int, msgspec.Meta(description="The ledger position this view is as of")]
    as_of: Time


def board_as_of(service: ClaimService, moment: int | datetime) -> BoardResponse:
    """The dashboard's board as it stood at a position or a time (``?asOf=``)."""
    board, now = _board_at(service, moment)
    return _board_body(service, board, now)


def session_summary(service: ClaimService, moment: int | datetime | None) -> SessionSummary:
    """Every session's card with its current task and that claim's health, and the counts
    across them; now, or as of a position or a time."""
    board, now = (
        (service.board(), service.clock.now()) if moment is None else _board_at(service, moment)
    )
    cards = [_summary_card(board, view, now, service.config) for view in _sessions(board)]
    health = Counter(card.claim_health for card in cards if card.claim_health)
    return SessionSummary(
        sessions=cards,
        summary=SummaryCounts(
            total=len(cards),
            active=sum(1 for card in cards if card.active),
            working=sum(1 for card in cards if card.current_task_id),
            by_health={name: health.get(name, 0) for name in _HEALTHS},
        ),
        position=board.position,
        as_of=iso(now),
    )


def _summary_card(
    board: Board, view: SessionView, now: datetime, config: ClaimConfig
) -> SummaryCard:
    card = _card(board, view, now)
    task = board.tasks.get(card.current_task_id or "")
    lease = None if task is None else task.lease
    return SummaryCard(
        **msgspec.structs.asdict(card),
        current_task=None if task is None else task_body(task),
        claim_health=None if lease is None else claim_health(lease, now, config),
    )


def _board_at(service: ClaimService, moment: int | datetime) -> tuple[Board, datetime]:
    if isinstance(moment, datetime):
        return service.board_at(when=moment)
    return service.board_at(position=moment)
