"""Sessions: start, end, list, history, and seed 002's current task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from api.models.requests import SessionEndRequest, SessionRequest
from api.routes.timeline import MomentQuery, moment_of
from api.wire import Ledger, answers, send
from application.bodies import (
    CurrentTaskResponse,
    HistoryResponse,
    SessionEndedResponse,
    SessionResponse,
    current_task_body,
    history_body,
    session_ended,
    session_response,
)
from application.service import ClaimService
from application.views import SessionList, SessionSummary, session_cards, session_summary
from ledger.errors import SessionNotFound

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


@router.post(
    "",
    responses=answers(SessionResponse),
    summary="Start (or restart) a session",
)
async def start_session(body: SessionRequest, ledger: Ledger) -> Response:
    """A claim by an unknown session starts it too; start it here to register the
    agent's long-lived process (``pid``), whose death orphans its claims."""
    state = await ledger.write(
        ledger.service.start_session,
        body.sessionId,
        agent_type=body.agentType,
        tier=body.tier,
        pid=body.pid,
        host=body.host,
    )
    return send(session_response(state))


@router.get("", responses=answers(SessionList), summary="Every session")
async def list_sessions(ledger: Ledger) -> Response:
    """Active sessions first, each with its current task and claim counts."""
    return send(await ledger.read(session_cards, ledger.service))


@router.get(
    "/summary",
    responses=answers(SessionSummary),
    summary="Every session with its current task and that claim's health (seed 002)",
)
async def summary(ledger: Ledger, asOf: MomentQuery = None) -> Response:
    """Seed 002's session summary, with each session's ``currentTaskId``, the task and
    its claim's health; ``asOf`` (a position or a time) answers as of then."""
    moment = moment_of(asOf, "asOf")
    return send(await ledger.read(session_summary, ledger.service, moment))


@router.post(
    "/{sessionId:path}/end",
    responses=answers(SessionEndedResponse, 404),
    summary="End a session; the claims it holds are orphaned",
)
async def end_session(sessionId: str, body: SessionEndRequest, ledger: Ledger) -> Response:
    state, orphaned = await ledger.write(ledger.service.end_session, sessionId, reason=body.reason)
    return send(session_ended(state, orphaned))


@router.get(
    "/{sessionId:path}/current-task",
    responses=answers(CurrentTaskResponse, 404),
    summary="The task a session holds now",
)
async def current_task(sessionId: str, ledger: Ledger) -> Response:
    """Its most recent live claim, or ``currentTask: null``."""
    entry = await ledger.read(ledger.service.current_task, sessionId)
    return send(current_task_body(sessionId, entry))


@router.get(
    "/{sessionId:path}/history",
    responses=answers(HistoryResponse, 404),
    summary="A session's claims, newest first, with durations and reasons",
)
async def history(
    sessionId: str,
    ledger: Ledger,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = 10,
) -> Response:
    """Seed 002's ``claimHistory``; ``limit`` bounds it (default 10)."""
    return send(await ledger.read(_history, ledger.service, sessionId, limit))


def _history(service: ClaimService, session_id: str, limit: int | None) -> HistoryResponse:
    service.session(session_id)
    board = service.board()
    view = board.sessions.get(session_id)
    if view is None:
        raise SessionNotFound(f"session {session_id!r} does not exist", sessionId=session_id)
    return history_body(session_id, view, service.clock.now(), limit, board.claims)
