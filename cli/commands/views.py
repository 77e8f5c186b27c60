"""``claims in-flight`` and ``claims current-task``: who holds what, and how healthy."""

from __future__ import annotations

import click

from application.bodies import current_task_body, in_flight_body
from cli.app import app_of
from cli.moments import Moment, as_of_option
from cli.options import common, session_option
from cli.table import HEALTH_COLOURS, paint, render_table


@click.command("in-flight")
@click.option("--session", "session_id", default=None, help="Only this session's claims.")
@click.option("--include-expired", is_flag=True, help="Also leases past expiry, not yet swept.")
@as_of_option
@common
@click.pass_context
def in_flight(
    ctx: click.Context, /, session_id: str | None, include_expired: bool, as_of: Moment | None
) -> None:
    """Every claimed task with its holder, lease and health.

    Health: healthy; stale (no heartbeat for the warning threshold); expiring
    (inside the expiring threshold); expired.

    \b
    claims in-flight --include-expired
    """
    app = app_of(ctx)
    flight = app.service().in_flight(
        session_id=session_id, include_expired=include_expired, as_of=app.board_as_of(as_of)
    )
    body = in_flight_body(flight)

    def human() -> None:
        rows = []
        for item in body.in_flight:
            claim = item.claim
            health = claim.health_status
            rows.append(
                [
                    item.task_id,
                    item.task.priority,
                    claim.session_id,
                    claim.agent_type,
                    claim.fencing_token,
                    claim.heartbeat_count,
                    f"{claim.remaining_ms / 1000:.0f}s",
                    paint(health, HEALTH_COLOURS.get(health), enabled=app.colour),
                ]
            )
        headers = ["TASK", "PRIORITY", "SESSION", "AGENT", "TOKEN", "BEATS", "LEFT", "HEALTH"]
        click.echo(render_table(headers, rows))
        by_session = ", ".join(f"{s}: {n}" for s, n in body.summary.by_session.items())
        click.echo(f"{body.summary.total} in flight" + (f" ({by_session})" if by_session else ""))

    app.emit(body, human)


@click.command("current-task")
@click.argument("session_id", metavar="[SESSION]", required=False)
@as_of_option
@session_option
@common
@click.pass_context
def current_task(ctx: click.Context, /, session_id: str | None, as_of: Moment | None) -> None:
    """The task SESSION (default: --session or CLAIMS_SESSION) holds now (its most
    recent live claim).

    \b
    claims current-task agent-1
    CLAIMS_SESSION=agent-1 claims current-task
    """
    app = app_of(ctx)
    session_id = session_id or app.require_session()
    entry = app.service().current_task(session_id, as_of=app.board_as_of(as_of))
    body = current_task_body(session_id, entry)

    def human() -> None:
        current = body.current_task
        if current is None:
            click.echo(f"{session_id}: no current task")
            return
        claim = current.claim
        click.echo(
            f"{session_id}: {current.task_id} ({current.title}), claimed"
            f" {claim.claimed_at}, {claim.remaining_ms / 1000:.0f}s left,"
            f" {claim.health_status}"
        )

    app.emit(body, human)
