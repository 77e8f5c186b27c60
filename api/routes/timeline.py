"""The dashboard's history: claim intervals (``/api/timeline``), the records behind them
with the state after each (``/api/replay``, the CLI's ``claims replay``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from api.wire import Ledger, answers, send
from application.replay import ReplayResponse, replay_entries
from application.service import ClaimService
from ledger.errors import InvalidInput
from ledger.moments import Moment, parse_moment, position_of
from projections.timeline import LaneBy, Timeline, timeline

router = APIRouter(prefix="/api", tags=["history"])

IdQuery = Annotated[str | None, Query(max_length=128)]
MomentQuery = Annotated[
    str | None,
    Query(max_length=64, description="A ledger position, or an RFC 3339 time (ledger clock)"),
]


def moment_of(text: str | None, name: str) -> Moment | None:
    """A query parameter's position or time; a bad one is VALIDATION_ERROR."""
    if text is None:
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", errors=[{"field": name, "message": str(exc)}]) from exc


@router.get(
    "/timeline",
    responses=answers(Timeline),
    summary="Claim intervals: who held what, when",
)
async def claim_timeline(
    ledger: Ledger,
    taskId: IdQuery = None,
    sessionId: IdQuery = None,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    until: MomentQuery = None,
    laneBy: Literal["session", "task"] | None = None,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 2000,
    buckets: Annotated[int, Query(ge=10, le=1000)] = 120,
) -> Response:
    """One bar per claim (claimed to released, expired, orphaned or taken over) with
    its heartbeats, outcome, reason and who ended it, for a task, a session or the
    whole log between ``from`` and ``until`` (positions or times; ``until`` is the
    time control's "as of"). Past ``limit`` claims, each lane comes as ``buckets``
    shares of busy time instead of bars."""
    first, last = moment_of(from_, "from"), moment_of(until, "until")
    answer = await ledger.read(
        _timeline, ledger.service, first, last, taskId, sessionId, laneBy, limit, buckets
    )
    return send(answer)


@router.get(
    "/replay",
    responses=answers(ReplayResponse),
    summary="Records with the state after each",
)
async def replay_records(
    ledger: Ledger,
    taskId: IdQuery = None,
    sessionId: IdQuery = None,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    until: MomentQuery = None,
    last: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """``claims replay --json``: each record from ``from`` to ``until`` of a task, a
    session or the log, with the state after it; ``last=N`` keeps the newest N."""
    first, stop = moment_of(from_, "from"), moment_of(until, "until")
    return send(await ledger.read(_replay, ledger.service, first, stop, taskId, sessionId, last))


def _timeline(
    service: ClaimService,
    first: Moment | None,
    last: Moment | None,
    task_id: str | None,
    session_id: str | None,
    lane_by: LaneBy | None,
    limit: int,
    buckets: int,
) -> Timeline:
    store = service.store
    return timeline(
        store,
        now=service.clock.now(),
        first=position_of(store, first, after=True),
        last=position_of(store, last, after=False),
        task_id=task_id,
        session_id=session_id,
        lane_by=lane_by,
        limit=limit,
        buckets=buckets,
    )


def _replay(
    service: ClaimService,
    first: Moment | None,
    stop: Moment | None,
    task_id: str | None,
    session_id: str | None,
    keep: int | None,
) -> dict[str, Any]:
    store = service.store
    entries = list(
        replay_entries(
            store,
            first=position_of(store, first, after=True),
            last=position_of(store, stop, after=False),
            task_id=task_id,
            session_id=session_id,
        )
    )
    shown = entries[-keep:] if keep is not None else entries
    return {"timeline": shown, "count": len(shown), "total": len(entries)}
