"""The bodies of ``claims replay --json`` and ``GET /api/replay``: each record of a task, a
session or the log, with the state after it (folded by ``projections.timeline.replay``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import msgspec

from application.bodies import Body, Time, session_body, task_body
from ledger.clock import iso
from ledger.codec import to_builtins
from ledger.describe import describe
from ledger.records import Record
from ledger.state import SessionState, TaskState
from ledger.store.protocol import EventStore
from projections.timeline import replay


class ReplayEntry(Body, kw_only=True):
    """One record, what it says, and the task or session after it."""

    position: int
    recorded_at: Time
    occurred_at: Time
    stream: str
    version: int
    type: str
    actor: str
    summary: str
    event: dict[str, Any]
    state: Annotated[
        dict[str, Any] | None, msgspec.Meta(description="The task or session after the record")
    ]
    after: str


class ReplayResponse(Body, kw_only=True):
    timeline: list[ReplayEntry]
    count: int
    total: Annotated[
        int, msgspec.Meta(description="Records in the range before ``last`` kept the newest")
    ]


def replay_entries(
    store: EventStore,
    *,
    first: int | None = None,
    last: int | None = None,
    task_id: str | None = None,
    session_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """One entry per record from ``first`` to ``last``, with the state after it."""
    for record, state in replay(
        store, first=first, last=last, task_id=task_id, session_id=session_id
    ):
        yield replay_entry(record, state)


def replay_entry(record: Record, state: TaskState | SessionState | None) -> dict[str, Any]:
    """Where the record sits, what it says, and the task or session after it."""
    body: dict[str, Any] | None = None
    after = "-"
    if isinstance(state, TaskState):
        body = to_builtins(task_body(state))
        holder = state.lease.session_id if state.lease else "nobody"
        after = f"{state.status}, held by {holder}"
    elif isinstance(state, SessionState):
        body = to_builtins(session_body(state))
        after = "active" if body["active"] else "ended"
    return {
        "position": record.position,
        "recordedAt": iso(record.recorded_at),
        "occurredAt": iso(record.occurred_at),
        "stream": record.stream,
        "version": record.version,
        "type": record.type,
        "actor": record.actor,
        "summary": describe(record.data),
        "event": to_builtins(record.data),
        "state": body,
        "after": after,
    }
