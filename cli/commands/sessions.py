"""``claims session start|end|history``: agents and their claim history."""

from __future__ import annotations

import click

from application.bodies import history_body, session_ended, session_response
from cli.app import app_of
from cli.moments import Moment, as_of_option
from cli.options import common, session_option
from cli.table import printable, render_table
from ledger.errors import SessionNotFound


@click.group()
def session() -> None:
    """Start, end and inspect sessions (one per agent, with a stable id)."""


def _session_id(ctx: click.Context, /, given: str | None) -> str:
    return given or app_of(ctx).require_session()


@session.command("start")
@click.argument("session_id", metavar="[SESSION]", required=False)
@click.option("--agent-type", default="cli", show_default=True, help="cli, autonomous, ...")
@click.option("--tier", default=None)
@click.option(
    "--pid",
    type=int,
    default=None,
    help="The agent's long-lived process; when it is gone, its claims are orphaned.",
)
@session_option
@common
@click.pass_context
def start(
    ctx: click.Context,
    /,
    session_id: str | None,
    agent_type: str,
    tier: str | None,
    pid: int | None,
) -> None:
    """Start a session (a claim by an unknown session starts it too).

    \b
    claims session start agent-1 --agent-type autonomous --pid $$
    """
    app = app_of(ctx)
    state = app.service().start_session(
        _session_id(ctx, session_id), agent_type=agent_type, tier=tier, pid=pid
    )
    app.emit(
        session_response(state),
        lambda: click.echo(
            printable(f"{state.session_id}: started ({state.agent_type} on {state.host})")
        ),
    )


@session.command("end")
@click.argument("session_id", metavar="[SESSION]", required=False)
@click.option("--reason", default="ended", show_default=True)
@session_option
@common
@click.pass_context
def end(ctx: click.Context, /, session_id: str | None, reason: str) -> None:
    """End a session; the claims it still holds are orphaned."""
    app = app_of(ctx)
    state, orphaned = app.service().end_session(_session_id(ctx, session_id), reason=reason)
    app.emit(
        session_ended(state, orphaned),
        lambda: click.echo(
            f"{state.session_id}: ended; orphaned {len(orphaned)} claim(s)"
            + (f": {', '.join(orphaned)}" if orphaned else "")
        ),
    )


@session.command("history")
@click.argument("session_id", metavar="SESSION")
@click.option("--limit", type=int, default=10, show_default=True, help="Newest first.")
@click.option("--all", "show_all", is_flag=True, help="The whole history.")
@as_of_option
@common
@click.pass_context
def history(
    ctx: click.Context, /, session_id: str, limit: int, show_all: bool, as_of: Moment | None
) -> None:
    """A session's current task and its claims, newest first, with durations and reasons.

    \b
    claims session history agent-1 --all
    """
    app = app_of(ctx)
    service = app.service()
    service.session(session_id)
    board, now = app.board_as_of(as_of) or (service.board(), service.clock.now())
    view = board.sessions.get(session_id)
    if view is None or not view.state.started:
        raise SessionNotFound(f"session {session_id!r} did not exist then", sessionId=session_id)
    body = history_body(session_id, view, now, None if show_all else limit, board.claims)

    def human() -> None:
        click.echo(f"session {session_id}: current task {body.current_task_id or '-'}")
        rows = [
            [
                entry.task_id,
                entry.claimed_at,
                entry.released_at,
                entry.release_reason or "(holding)",
                f"{entry.duration / 1000:.1f}s",
            ]
            for entry in body.claim_history
        ]
        headers = ["TASK", "CLAIMED AT", "RELEASED AT", "REASON", "DURATION"]
        click.echo(render_table(headers, rows))

    app.emit(body, human)
