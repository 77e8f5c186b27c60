"""``GET /api/events``: the ledger as ``text/event-stream``, resumable by ``Last-Event-ID``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from starlette.responses import StreamingResponse

from api.wire import Ledger, problems
from ledger.errors import InvalidInput

router = APIRouter(tags=["events"])

RETRY_MS = 2000

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "Server-sent events. Each event's ``id`` is its ledger position and its"
            " ``event`` one of task:registered, task:status-changed, session:started,"
            " session:ended, task:claimed, task:heartbeat, task:released,"
            " task:claim-expired, task:taken-over, task:claim-orphaned, cost:tokens-used;"
            " ``data`` is"
            ' {"type", "position", "stream", "version", "eventId", "occurredAt",'
            ' "recordedAt", "actor", "correlationId", "data": {...}}.'
        ),
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    **problems(),
}


@router.get(
    "/api/events",
    response_class=StreamingResponse,
    responses=_STREAM_DOC,
    summary="Live ledger events, in position order, after commit",
)
async def events(
    ledger: Ledger,
    after: Annotated[int | None, Query(ge=0, description="Start after this position")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Every event after ``Last-Event-ID`` (a reconnecting ``EventSource`` sends it),
    else after ``after``, else from now on: each position exactly once, in order,
    and only once committed. Events written by other server processes on the same
    store arrive too, within the poll interval. A start beyond the head is the head:
    the stream then waits for the next event, whatever its position."""
    named = after is not None or bool(last_event_id and last_event_id.strip())
    default = 0 if named else await ledger.hub.default_start()
    start = _start(last_event_id, after, default)
    if start > ledger.hub.position:
        start = min(start, await ledger.read(ledger.service.store.head_position))
    return StreamingResponse(
        _frames(ledger, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(ledger: Ledger, start: int) -> AsyncIterator[bytes]:
    yield b"retry: %d\n: stream after position %d\n\n" % (RETRY_MS, start)
    async for frame in ledger.hub.stream(start):
        yield frame


def _start(last_event_id: str | None, after: int | None, default: int) -> int:
    if last_event_id is not None and last_event_id.strip():
        value = last_event_id.strip()
        if not value.isdigit() or len(value) > 18:
            raise InvalidInput("Last-Event-ID must be a ledger position", field="Last-Event-ID")
        return int(value)
    return after if after is not None else default
