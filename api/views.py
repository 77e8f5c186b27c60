"""Bodies the API serves beyond seed 002's: the board, session cards, statistics.

Each function reads the service's board (so it runs on the service thread) and
returns a plain JSON body. They use ``application.bodies`` for every shape the CLI
already prints.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from application.bodies import session_body, task_body
from application.service import ClaimService
from ledger.clock import iso, to_ms
from ledger.config import ClaimConfig
from ledger.health import Health, claim_health
from ledger.state import TaskState
from projections.board import Board, SessionView

Body = dict[str, Any]


def task_list(service: ClaimService, status: str | None) -> Body:
    """Registered tasks, best ROI first (the CLI's ``task list --json``)."""
    shown = [t for t in _ranked(service.board()) if status is None or t.status == status]
    return {"tasks": [task_body(t) for t in shown], "total": len(shown)}


def session_cards(service: ClaimService) -> Body:
    board = service.board()
    now = service.clock.now()
    cards = [_card(board, view, now) for view in _sessions(board)]
    return {"sessions": cards, "total": len(cards)}


def board_snapshot(service: ClaimService) -> Body:
    """Everything the dashboard draws, as of one position."""
    board = service.board()
    now = service.clock.now()
    tasks = []
    for state in _ranked(board):
        body = task_body(state)
        lease = state.lease
        body["healthStatus"] = None if lease is None else claim_health(lease, now, service.config)
        body["remainingMs"] = None if lease is None else max(0, to_ms(lease.expires_at - now))
        tasks.append(body)
    return {
        "tasks": tasks,
        "sessions": [_card(board, view, now) for view in _sessions(board)],
        "config": config_body(service.config),
        "position": board.position,
        "asOf": iso(now),
    }


def stats(service: ClaimService) -> Body:
    """Seed 002's claim statistics: claims in flight by health, session and agent type."""
    board = service.board()
    now = service.clock.now()
    leases = board.leases()
    health = Counter(claim_health(lease, now, service.config) for _, lease in leases)
    statuses = Counter(t.status for t in board.tasks.values() if t.registered)
    sessions = [view.state for view in board.sessions.values() if view.state.started]
    return {
        "inFlight": sum(1 for _, lease in leases if lease.live_at(now)),
        "byHealth": {name: health.get(name, 0) for name in _HEALTHS},
        "bySession": dict(sorted(Counter(lease.session_id for _, lease in leases).items())),
        "byAgentType": dict(sorted(Counter(lease.agent_type for _, lease in leases).items())),
        "tasks": {"total": sum(statuses.values()), **dict(sorted(statuses.items()))},
        "sessions": {
            "total": len(sessions),
            "active": sum(1 for s in sessions if not s.ended),
        },
        "claimable": len(board.claimable(now)),
        "position": board.position,
        "asOf": iso(now),
    }


def config_body(config: ClaimConfig) -> Body:
    return {
        "defaultTtl": config.default_ttl,
        "minTtl": config.min_ttl,
        "maxTtl": config.max_ttl,
        "heartbeatInterval": config.heartbeat_interval,
        "cleanupInterval": config.cleanup_interval,
        "orphanThreshold": config.orphan_threshold,
        "warningThreshold": config.warning_threshold,
        "expiringThreshold": config.expiring_threshold,
    }


_HEALTHS: tuple[Health, ...] = ("healthy", "stale", "expiring", "expired")


def _ranked(board: Board) -> list[TaskState]:
    tasks = [t for t in board.tasks.values() if t.registered]
    return sorted(tasks, key=lambda t: (-t.roi, t.registered_position))


def _sessions(board: Board) -> list[SessionView]:
    views = [view for view in board.sessions.values() if view.state.started]
    return sorted(views, key=lambda v: (v.state.ended, v.state.session_id))


def _card(board: Board, view: SessionView, now: datetime) -> Body:
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
    card = session_body(view.state)
    card["currentTaskId"] = None if current is None else current[0].task_id
    card["claims"] = len(view.history)
    card["completed"] = sum(1 for e in view.history if e.release_reason == "completed")
    card["lastHeartbeat"] = iso(max(beats)) if beats else None
    return card


# --- as of a position or a time (the dashboard's time control) ----------------------


def board_as_of(service: ClaimService, moment: int | datetime) -> Body:
    """The dashboard's board as it stood at a position or a time (``?asOf=``)."""
    board, now = _board_at(service, moment)
    return board_view(board, now, service.config)


def board_view(board: Board, now: datetime, config: ClaimConfig) -> Body:
    """What ``board_snapshot`` answers, for any board and the ledger time it stands at."""
    tasks = []
    for state in _ranked(board):
        body = task_body(state)
        lease = state.lease
        body["healthStatus"] = None if lease is None else claim_health(lease, now, config)
        body["remainingMs"] = None if lease is None else max(0, to_ms(lease.expires_at - now))
        tasks.append(body)
    return {
        "tasks": tasks,
        "sessions": [_card(board, view, now) for view in _sessions(board)],
        "config": config_body(config),
        "position": board.position,
        "asOf": iso(now),
    }


def session_summary(service: ClaimService, moment: int | datetime | None) -> Body:
    """Seed 002's ``/api/sessions/summary``: each session's card with its current task
    and that claim's health, and the counts across them."""
    board, now = (
        (service.board(), service.clock.now()) if moment is None else _board_at(service, moment)
    )
    cards = []
    for view in _sessions(board):
        card = _card(board, view, now)
        task = board.tasks.get(card["currentTaskId"] or "")
        lease = None if task is None else task.lease
        card["currentTask"] = None if task is None else task_body(task)
        card["claimHealth"] = None if lease is None else claim_health(lease, now, service.config)
        cards.append(card)
    health = Counter(card["claimHealth"] for card in cards if card["claimHealth"])
    return {
        "sessions": cards,
        "summary": {
            "total": len(cards),
            "active": sum(1 for card in cards if card["active"]),
            "working": sum(1 for card in cards if card["currentTaskId"]),
            "byHealth": {name: health.get(name, 0) for name in _HEALTHS},
        },
        "position": board.position,
        "asOf": iso(now),
    }


def _board_at(service: ClaimService, moment: int | datetime) -> tuple[Board, datetime]:
    if isinstance(moment, datetime):
        return service.board_at(when=moment)
    return service.board_at(position=moment)
