"""``claims task add|import|list|show|status``: the backlog."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import click
import msgspec

from application.bodies import TaskList, import_body, task_body, task_created, task_response
from application.views import ranked
from cli.app import app_of
from cli.moments import Moment, as_of_option
from cli.options import common, session_option
from cli.table import printable, render_table
from ledger.commands import ChangeStatus, RegisterTask
from ledger.errors import InvalidInput
from ledger.events import TaskStatus
from ledger.roi import MAX_ROI, check_roi
from ledger.task_import import parse_tasks_json

STATUS_CHOICES = [status for status in get_args(TaskStatus) if status != "in_progress"]


def _checked_roi(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """``--roi`` in the one range every entry point takes (VALIDATION_ERROR outside it)."""
    return check_roi(value)


@click.group()
def task() -> None:
    """Register and inspect tasks."""


def task_spec(
    *, fingerprint_required: bool
) -> Callable[[Callable[[click.Context, RegisterTask], None]], Callable[..., None]]:
    """The options that describe a task (TASK, --title, --priority, --roi, --fingerprint,
    --phase), handed to the command as one ``RegisterTask``."""

    def decorate(func: Callable[[click.Context, RegisterTask], None]) -> Callable[..., None]:
        @functools.wraps(func)
        def command(
            ctx: click.Context,
            /,
            task_id: str,
            title: str,
            priority: str,
            roi: float,
            fingerprint: str | None,
            phase: str | None,
        ) -> None:
            spec = RegisterTask(
                task_id=task_id,
                title=title,
                priority=priority,
                roi=roi,
                fingerprint=fingerprint,
                phase=phase,
            )
            func(ctx, spec)

        options = [
            click.argument("task_id", metavar="TASK"),
            click.option("--title", required=True, help="What the task is."),
            click.option(
                "--priority",
                type=click.Choice(["critical", "high", "medium", "low"]),
                default="medium",
                show_default=True,
            ),
            click.option(
                "--roi",
                type=float,
                default=0.0,
                show_default=True,
                callback=_checked_roi,
                help=f"Estimated ROI, from {-MAX_ROI:g} to {MAX_ROI:g}.",
            ),
            click.option(
                "--fingerprint",
                required=fingerprint_required,
                help="Identity of the work, for de-duplication.",
            ),
            click.option("--phase", default=None, help="e.g. design, implementation, test."),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@task.command("add")
@common
@click.pass_context
@task_spec(fingerprint_required=False)
def add(ctx: click.Context, spec: RegisterTask) -> None:
    """Register TASK in the backlog.

    \b
    claims task add fix-login --title "Fix the login form" --priority high --roi 3
    """
    app = app_of(ctx)
    state = app.service().register_task(spec)
    app.emit(
        task_response(state),
        lambda: click.echo(f"{state.task_id}: registered ({state.priority}, ROI {state.roi:g})"),
    )


@task.command("propose")
@common
@click.pass_context
@task_spec(fingerprint_required=True)
def propose(ctx: click.Context, spec: RegisterTask) -> None:
    """Register TASK unless unfinished work with the same fingerprint exists.

    For ROI auto-pickers (seed 000): a duplicate is answered with exit 15,
    TASK_ALREADY_ACTIVE, naming the active task and its holder. Work that is done
    or dropped frees its fingerprint.

    \b
    claims task propose fix-login-2 --title "Fix login" --fingerprint auth/login --roi 5
    """
    app = app_of(ctx)
    state = app.service().propose_task(spec)
    app.emit(
        task_created(state),
        lambda: click.echo(f"{state.task_id}: proposed and registered ({spec.fingerprint})"),
    )


@task.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@common
@click.pass_context
def import_(ctx: click.Context, /, path: Path) -> None:
    """Register every task of a tasks.json (seed 002's shape); known ids are skipped.

    \b
    claims task import tasks.json
    """
    app = app_of(ctx)
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    result = app.service().import_tasks(parse_tasks_json(raw))

    def human() -> None:
        click.echo(f"imported {len(result.added)} tasks; {len(result.existing)} already present")
        if result.existing:
            shown = ", ".join(printable(task_id) for task_id in result.existing[:10])
            more = f" and {len(result.existing) - 10} more" if len(result.existing) > 10 else ""
            click.echo(
                f"skipped (already registered, by an earlier import that stopped midway or"
                f" otherwise): {shown}{more}"
            )

    app.emit(import_body(result), human)


@task.command("list")
@click.option("--status", type=click.Choice(list(get_args(TaskStatus))), default=None)
@as_of_option
@common
@click.pass_context
def list_(ctx: click.Context, /, status: str | None, as_of: Moment | None) -> None:
    """List tasks, best ROI first (the task board).

    \b
    claims task list --status todo
    claims task list --as-of 2026-11-24T09:30:00Z
    """
    app = app_of(ctx)
    service = app.service()
    board, now = app.board_as_of(as_of) or (service.board(), service.clock.now())
    shown = [t for t in ranked(board) if status is None or t.status == status]
    body = TaskList(tasks=[task_body(t) for t in shown], total=len(shown))

    def human() -> None:
        rows = []
        for t in shown:
            holder = None
            if t.lease is not None:
                live = t.lease.live_at(now)
                holder = t.lease.session_id if live else f"{t.lease.session_id} (expired)"
            rows.append([t.task_id, t.title, t.status, t.priority, t.roi, holder])
        headers = ["TASK", "TITLE", "STATUS", "PRIORITY", "ROI", "CLAIMED BY"]
        click.echo(render_table(headers, rows))

    app.emit(body, human)


@task.command("show")
@click.argument("task_id", metavar="TASK")
@common
@click.pass_context
def show(ctx: click.Context, /, task_id: str) -> None:
    """Show one task and its current claim."""
    app = app_of(ctx)
    state = app.service().task(task_id)
    body = task_body(state)

    def human() -> None:
        for key, value in msgspec.to_builtins(body).items():
            if key != "claim":
                click.echo(f"{key:>12}: {printable(str(value))}")
        claim = body.claim
        if claim:
            click.echo(
                f"{'claim':>12}: {claim.session_id} since {claim.claimed_at},"
                f" expires {claim.expires_at}, token {claim.fencing_token}"
            )

    app.emit(body, human)


@task.command("status")
@click.argument("task_id", metavar="TASK")
@click.argument("status", type=click.Choice(STATUS_CHOICES))
@click.option("--reason", default=None, help="Why, recorded with the change.")
@session_option
@common
@click.pass_context
def status(ctx: click.Context, /, task_id: str, status: TaskStatus, reason: str | None) -> None:
    """Move TASK to todo, done, dropped or blocked (the holder's claim ends with it).

    \b
    claims task status fix-login blocked --reason "waiting on API keys"
    """
    app = app_of(ctx)
    command = ChangeStatus(status=status, session_id=app.session, reason=reason)
    state = app.service().set_status(task_id, command)
    app.emit(
        task_response(state),
        lambda: click.echo(f"{state.task_id}: {state.status}"),
    )
