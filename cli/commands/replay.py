"""``claims replay``: the timeline of a task, a session or the whole log, with state
(read by ``projections.timeline.replay``, which ``GET /api/replay`` serves too)."""

from __future__ import annotations

import click

from application.replay import replay_entries
from cli.app import app_of
from cli.moments import MOMENT, Moment
from cli.options import common
from cli.table import render_table
from ledger.moments import position_of


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
    first = position_of(store, start, after=True)
    last = position_of(store, stop, after=False)
    entries = list(
        replay_entries(store, first=first, last=last, task_id=task_id, session_id=session_id)
    )
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
