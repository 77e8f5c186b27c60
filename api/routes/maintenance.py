"""Seed 002's cleanup: the sweep, on demand (the background sweeper runs it too)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.wire import Ledger, answers, send
from application.bodies import SweepResponse, sweep_body

router = APIRouter(tags=["claims"])


@router.post(
    "/api/tasks/claims/cleanup",
    responses=answers(SweepResponse),
    summary="Record expiries and orphan the claims of dead sessions",
)
async def cleanup(ledger: Ledger) -> Response:
    """A claim is orphaned when its session ended, when the session's registered
    process is gone on this host, or after the orphan threshold without a heartbeat."""
    result = await ledger.write(ledger.service.sweep)
    return send(sweep_body(result))
