"""``claims guard [TASK]``: refuse work made under a claim that is no longer current."""

from __future__ import annotations

import os

import click

from application.agents import lease_check
from application.bootstrap import open_ledger
from cli import work_record
from cli.app import app_of
from cli.held import records
from cli.options import common
from ledger.errors import ClaimSuperseded, TaskNotClaimed


@click.command()
@click.argument("task_id", metavar="[TASK]", required=False)
@common
@click.pass_context
def guard(ctx: click.Context, /, task_id: str | None) -> None:
    """Exit 0 while this working tree's claims are current; else exit 16.

    The session is CLAIMS_SESSION, else every session whose claim this working tree
    recorded (`.git/claims/`, written by claim, next, takeover, run, the hook and
    the MCP tools). Each recorded claim (of TASK, when given) must still be the
    task's current, unexpired claim with the same fencing token; otherwise exit 16
    (CLAIM_SUPERSEDED) with one line saying what superseded it. Nothing recorded:
    exit 0. `claims hooks install git` runs it before every commit and push.

    \b
    claims guard
    CLAIMS_SESSION=agent-1 claims guard fix-login
    """
    app = app_of(ctx)
    session_id = os.environ.get("CLAIMS_SESSION")
    found = [
        record
        for record in work_record.load_all(records())
        if (session_id is None or record.session_id == session_id)
        and (task_id is None or record.task_id == task_id)
    ]
    if not found and session_id and task_id:
        raise TaskNotClaimed(
            f"this working tree recorded no claim of {task_id!r} by {session_id!r}",
            taskId=task_id,
            sessionId=session_id,
        )
    checked = []
    for record in found:
        ledger = open_ledger(record.store)
        try:
            loss = lease_check(
                ledger.service, record.task_id, record.session_id, record.fencing_token
            )
        finally:
            ledger.close()
        if loss is not None:
            raise ClaimSuperseded(
                loss.line(),
                taskId=record.task_id,
                sessionId=record.session_id,
                fencingToken=record.fencing_token,
                cause=loss.code,
                holder=loss.holder,
            )
        checked.append(
            {
                "taskId": record.task_id,
                "sessionId": record.session_id,
                "fencingToken": record.fencing_token,
            }
        )
    body = {"success": True, "current": checked}
    app.emit(body, lambda: _say(checked))


def _say(checked: list[dict[str, object]]) -> None:
    if not checked:
        click.echo("guard: no claim recorded in this working tree")
    for item in checked:
        click.echo(
            f"guard: {item['taskId']} is held by {item['sessionId']}"
            f" (fencing token {item['fencingToken']})"
        )
