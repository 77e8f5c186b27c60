"""``claims replay``: the timeline of a task, a session or the whole log, with state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import click
import msgspec

from application.bodies import session_body, task_body
from cli.app import app_of
from cli.moments import MOMENT, Moment
from cli.options import common
from cli.table import render_table
from ledger.clock import iso
from ledger.codec import to_builtins
from ledger.describe import describe
from ledger.events import SESSION_STREAM_PREFIX, TASK_STREAM_PREFIX, task_of
from ledger.records import Record
from ledger.state import SessionState, TaskState, evolve_session, evolve_task
from ledger.store.protocol import EventStore


@click.command()
@click.option("--task", "task_id", default=None, help="Only this task's stream.")
@click.option("--session", "session_id", default=None, help="Only what this session did.")
@click.option("--from", "start", type=MOMENT, default=None, help="First position or time.")
@click.option("--until", "stop", type=MOMENT, default=None, help="Last position or time.")
@common
@click.pass_context
def replay(
    ctx: click.Context,
    /,
    task_id: str | None,
    session_id: str | None,
    start: Moment | None,
    stop: Moment | None,
) -> None:
    """The timeline of a task, a session or the whole log, with the state after each event.

    \b
    claims replay --task fix-login
    claims replay --session agent-1 --from 2026-11-24T09:00:00Z --until 2026-11-24T10:00:00Z
    claims replay --from 120 --until 180
    """
    app = app_of(ctx)
    store = app.service().store
    first = _position(store, start, after=True)
    last = _position(store, stop, after=False)
    entries = list(_timeline(store, first, last, task_id, session_id))
    body = {"timeline": entries, "count": len(entries)}

    def human() -> None:
        rows = [
            [
                entry["position"],
                entry["recordedAt"],
                entry["type"],
                entry["summary"],
                entry["after"],
            ]
            for entry in entries
        ]
        click.echo(render_table(["POS", "RECORDED AT", "TYPE", "WHAT", "STATE AFTER"], rows))

    app.emit(body, human)


def _position(store: EventStore, moment: Moment | None, *, after: bool) -> int | None:
    """A ``--from``/``--until`` moment as a position (``--from`` is inclusive)."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if after:  # the first record written at or after the moment
            return store.position_at(moment - timedelta(microseconds=1)) + 1
        return store.position_at(moment)
    return moment


def _timeline(
    store: EventStore,
    first: int | None,
    last: int | None,
    task_id: str | None,
    session_id: str | None,
) -> Iterator[dict[str, Any]]:
    tasks: dict[str, TaskState] = {}
    sessions: dict[str, SessionState] = {}
    records = (
        store.read_stream(TASK_STREAM_PREFIX + task_id)
        if task_id is not None
        else store.read_all(until=last)
    )
    for record in records:
        state = _fold(record, tasks, sessions)
        if first is not None and record.position < first:
            continue
        if last is not None and record.position > last:
            return
        if session_id is not None and not _involves(record, session_id):
            continue
        yield _entry(record, state)


def _fold(
    record: Record, tasks: dict[str, TaskState], sessions: dict[str, SessionState]
) -> TaskState | SessionState | None:
    task_id = task_of(record.data)
    if record.stream.startswith(TASK_STREAM_PREFIX) and task_id is not None:
        tasks[task_id] = evolve_task(tasks.get(task_id) or TaskState(task_id=task_id), record)
        return tasks[task_id]
    if record.stream.startswith(SESSION_STREAM_PREFIX):
        name = record.stream.removeprefix(SESSION_STREAM_PREFIX)
        sessions[name] = evolve_session(sessions.get(name) or SessionState(session_id=name), record)
        return sessions[name]
    return None


def _involves(record: Record, session_id: str) -> bool:
    data = to_builtins(record.data)
    return (
        session_id
        in (
            data.get("session_id"),
            data.get("from_session"),
            data.get("to_session"),
        )
        or record.actor == session_id
    )


def _entry(record: Record, state: TaskState | SessionState | None) -> dict[str, Any]:
    body: dict[str, Any] | None = None
    after = "-"
    if isinstance(state, TaskState):
        body = msgspec.to_builtins(task_body(state))
        holder = state.lease.session_id if state.lease else "nobody"
        after = f"{state.status}, held by {holder}"
    elif isinstance(state, SessionState):
        body = msgspec.to_builtins(session_body(state))
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
