"""Statistics, audit trails and payout attribution (``claims stats|audit|payout``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from api.wire import Ledger, problems, send
from ledger.errors import InvalidInput

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

IdQuery = Annotated[str | None, Query(max_length=128)]


def _documented(schema: str, *, cost: bool = False) -> dict[int | str, dict[str, Any]]:
    """The answer: the checkpoint it is as of, and the analytics result (``api.openapi``);
    with ``cost``, the measured tokens at that checkpoint in ``cost``."""
    ref = {"$ref": f"#/components/schemas/{schema}"}
    header = {"$ref": "#/components/schemas/AnalyticsHeader"}
    parts: list[dict[str, Any]] = [header, ref]
    if cost:
        costs = {"$ref": "#/components/schemas/CostTotals"}
        parts.append({"type": "object", "required": ["cost"], "properties": {"cost": costs}})
    return {
        200: {
            "description": f"{schema}, as of the ledger position in ``position``",
            "content": {"application/json": {"schema": {"allOf": parts}}},
        },
        **problems(404),
    }


@router.get(
    "/stats", responses=_documented("Stats", cost=True), summary="Claim duration statistics"
)
async def stats(
    ledger: Ledger,
    by: Literal["session", "agent", "task", "day"] = "session",
    taskId: IdQuery = None,
    sessionId: IdQuery = None,
) -> Response:
    """Count, mean, p50, p95 and max of claimed and active time, per session, agent
    type, task or day, with completions, releases, expiries, takeovers and orphans."""
    from projections.analytics import Filter

    where = Filter(task_id=taskId, session_id=sessionId)
    question = ledger.analytics.ask(
        lambda a: a.stats(by=by, where=where), cost=True, task_id=taskId
    )
    return send(await question)


@router.get("/audit", responses=_documented("Trail"), summary="The audit trail of a subject")
async def audit(
    ledger: Ledger,
    taskId: IdQuery = None,
    sessionId: IdQuery = None,
    agentType: Annotated[str | None, Query(max_length=500)] = None,
    heartbeats: bool = True,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """Every record of a task, a session or an agent type, in log order: who, what,
    when, fencing token, reason; forced takeovers and who forced them."""
    from projections.analytics import Subject

    subject = Subject(task_id=taskId, session_id=sessionId, agent_type=agentType)
    if subject.empty():
        raise InvalidInput("audit needs taskId, sessionId or agentType")
    answer = await ledger.analytics.ask(
        lambda a: a.audit(subject, heartbeats=heartbeats, limit=limit)
    )
    return send(answer)


@router.get("/payout", responses=_documented("Payout", cost=True), summary="Payout attribution")
async def payout(ledger: Ledger, taskId: IdQuery = None) -> Response:
    """Per finished task, each worker's share of claimed time and completion credit,
    and beside them (``cost``) the tokens measured on each task and by each worker,
    at the same position; measured tokens never change a share."""
    question = ledger.analytics.ask(lambda a: a.payout(task_id=taskId), cost=True, task_id=taskId)
    return send(await question)
