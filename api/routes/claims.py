"""Seed 002's claim, heartbeat and release, and claim-next and takeover around them.

The routes declare the operations (their pydantic bodies give the OpenAPI document);
what a claim, heartbeat, release or takeover answers is the ``answer_*`` function,
which the hot path (``api.hot_path``) calls as well, with the body as a msgspec
Struct (``api.models.leases``).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.models.leases import ClaimBody, HeartbeatBody, LeaseBody, ReleaseBody, TakeoverBody
from api.models.requests import ClaimRequest, HeartbeatRequest, ReleaseRequest, TakeoverRequest
from api.runtime import Runtime
from api.wire import Ledger, answers, send
from application.bodies import (
    ClaimResponse,
    HeartbeatResponse,
    ReleaseResponse,
    TakeoverResponse,
    claim_body,
    heartbeat_body,
    release_body,
    takeover_body,
)
from ledger.commands import Beat, Claim, Release, Takeover
from ledger.terms import LeaseTerms

router = APIRouter(prefix="/api/tasks", tags=["claims"])


def lease_terms(body: LeaseBody) -> LeaseTerms:
    """The terms a claim or takeover request asks for."""
    return LeaseTerms(
        ttl_ms=body.ttlMs,
        agent_type=body.agentType,
        tier=body.tier,
        scope=tuple(body.scope),
        constraints=tuple(body.constraints),
        metadata=body.metadata,
    )


def claim_command(body: ClaimBody) -> Claim:
    return Claim(session_id=body.sessionId, terms=lease_terms(body), request_id=body.requestId)


@router.post(
    "/claim-next",
    responses=answers(ClaimResponse, 404),
    summary="Claim the best claimable task (ROI auto-pick)",
)
async def claim_next(body: ClaimRequest, ledger: Ledger) -> Response:
    """Claims the claimable task with the highest ROI, then priority; tasks whose
    fingerprint is already being worked on are skipped (seed 000). 404
    NO_TASK_AVAILABLE when nothing is left."""
    result = await ledger.write(ledger.service.claim_next, claim_command(body))
    return send(claim_body(result))


@router.post(
    "/{taskId:path}/claim/heartbeat",
    responses=answers(HeartbeatResponse, 403, 404, 409, 410),
    summary="Extend the holder's lease",
)
async def heartbeat(taskId: str, body: HeartbeatRequest, ledger: Ledger) -> Response:
    """Only the holder may heartbeat; after expiry the answer is 410 CLAIM_EXPIRED."""
    return await answer_heartbeat(ledger, taskId, body)


@router.post(
    "/{taskId:path}/claim",
    responses=answers(ClaimResponse, 404, 409),
    summary="Claim a task for a session",
)
async def claim(taskId: str, body: ClaimRequest, ledger: Ledger) -> Response:
    """A re-claim by the holder extends the lease. 409 TASK_ALREADY_CLAIMED names the
    holder (``claim.sessionId``, ``claimedAt``, ``remainingMs``). The answer carries
    the fencing token and the task stream's version."""
    return await answer_claim(ledger, taskId, body)


@router.post(
    "/{taskId:path}/release",
    responses=answers(ReleaseResponse, 403, 404, 409, 410),
    summary="Release the holder's claim with a reason",
)
async def release(taskId: str, body: ReleaseRequest, ledger: Ledger) -> Response:
    """``completed`` marks the task done; any other reason returns it to the backlog."""
    return await answer_release(ledger, taskId, body)


@router.post(
    "/{taskId:path}/takeover",
    responses=answers(TakeoverResponse, 404, 409),
    summary="Take a task over after expiry, or by force with a reason",
)
async def takeover(taskId: str, body: TakeoverRequest, ledger: Ledger) -> Response:
    """Without ``force`` the lease must have expired (else 409 with the holder). A
    forced takeover needs a ``reason`` and is recorded with who forced it (seed 001)."""
    return await answer_takeover(ledger, taskId, body)


# --- the answers, shared with the hot path -----------------------------------------


async def answer_claim(ledger: Runtime, task_id: str, body: ClaimBody) -> Response:
    result = await ledger.write_stream(ledger.service.claim_steps(task_id, claim_command(body)))
    return send(claim_body(result))


async def answer_heartbeat(ledger: Runtime, task_id: str, body: HeartbeatBody) -> Response:
    command = Beat(
        session_id=body.sessionId, extend_ms=body.extendMs, fencing_token=body.fencingToken
    )
    result = await ledger.write_stream(ledger.service.heartbeat_steps(task_id, command))
    return send(heartbeat_body(result))


async def answer_release(ledger: Runtime, task_id: str, body: ReleaseBody) -> Response:
    command = Release(
        session_id=body.sessionId, reason=body.reason, fencing_token=body.fencingToken
    )
    result = await ledger.write_stream(ledger.service.release_steps(task_id, command))
    return send(release_body(result))


async def answer_takeover(ledger: Runtime, task_id: str, body: TakeoverBody) -> Response:
    command = takeover_command(body)
    result = await ledger.write_stream(ledger.service.takeover_steps(task_id, command))
    return send(takeover_body(result))


def takeover_command(body: TakeoverBody) -> Takeover:
    return Takeover(
        session_id=body.sessionId,
        reason=body.reason,
        force=body.force,
        forced_by=body.forcedBy,
        terms=lease_terms(body),
    )
