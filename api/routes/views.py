"""Seed 002's in-flight view and claim statistics, and the dashboard's board."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from api.routes.timeline import MomentQuery, moment_of
from api.wire import Ledger, answers, send
from application.bodies import InFlightResponse, in_flight_body
from application.views import BoardResponse, ClaimStats, board_as_of, board_snapshot, stats

router = APIRouter(tags=["views"])


@router.get(
    "/api/tasks/in-flight",
    responses=answers(InFlightResponse),
    summary="Every claimed task with its holder, lease and health",
)
async def in_flight(
    ledger: Ledger,
    sessionId: Annotated[str | None, Query(max_length=128)] = None,
    includeExpired: Annotated[bool, Query()] = False,
) -> Response:
    """Health: healthy, stale (no heartbeat for the warning threshold), expiring
    (inside the expiring threshold), expired (only with ``includeExpired``)."""
    flight = await ledger.read(
        ledger.service.in_flight, session_id=sessionId, include_expired=includeExpired
    )
    return send(in_flight_body(flight))


@router.get(
    "/api/tasks/claims/stats",
    responses=answers(ClaimStats),
    summary="Claim statistics",
)
async def claim_stats(ledger: Ledger) -> Response:
    """Claims by health, session and agent type; tasks by status; sessions."""
    return send(await ledger.read(stats, ledger.service))


@router.get(
    "/api/board",
    responses=answers(BoardResponse),
    summary="Tasks, sessions and settings as of one position (the dashboard's view)",
)
async def board(ledger: Ledger, asOf: MomentQuery = None) -> Response:
    """Follow it with ``GET /api/events?after=<position>`` to miss nothing. With
    ``asOf`` (a position or a time), the board as it stood then (``--as-of``)."""
    moment = moment_of(asOf, "asOf")
    if moment is None:
        return send(await ledger.read(board_snapshot, ledger.service))
    return send(await ledger.read(board_as_of, ledger.service, moment))
